"""``/ballerina forget-me``: a member deletes what the bot keeps about them, after a confirmation."""

from __future__ import annotations

import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.i18n import N_, _
from bot.core.privacy import FORGET_CONFIRM_ID, MemberData
from bot.core.replies import Reply, error
from bot.discord.client import BallerinaBot
from bot.discord.members import InteractionMemberRoles
from bot.discord.parties import edit_kwargs, update_card
from bot.discord.render import respond

Interaction = discord.Interaction[Any]
SERVER_ONLY = N_("What I keep about you belongs to a server: use this command in a server channel.")


def server_only() -> Reply:
    return error(_(SERVER_ONLY))


async def forget_confirmed(interaction: Interaction, match: re.Match[str]) -> None:
    """The "Forget me" button: whoever clicks it is forgotten, so a forged click forgets only its sender."""
    member = interaction.user
    if not isinstance(member, discord.Member):
        return await respond(interaction, server_only())
    bot: BallerinaBot = interaction.client
    forgotten = await bot.core.members.forget(str(member.guild.id), str(member.id), InteractionMemberRoles(member))
    await interaction.response.edit_message(**edit_kwargs(forgotten.reply))
    for party in forgotten.parties:  # each card is read afresh when edited
        await update_card(bot, bot.core.parties, party)


class MyDataCommands(commands.Cog):
    """Commands mixed into the ``/ballerina`` group cog (see ``cogs/ballerina.py``)."""

    bot: BallerinaBot
    members: MemberData

    async def cog_load(self) -> None:
        await super().cog_load()  # each feature mixin registers its own buttons
        self.bot.buttons.add(re.escape(FORGET_CONFIRM_ID), forget_confirmed)

    async def cog_unload(self) -> None:
        await super().cog_unload()
        self.bot.buttons.remove(re.escape(FORGET_CONFIRM_ID))

    @app_commands.command(name="forget-me", description=N_("Delete what the bot keeps about you (asks first)"))
    async def forget_me(self, interaction: Interaction) -> None:
        if interaction.guild_id is None:
            return await respond(interaction, server_only())
        await respond(interaction, self.members.ask())
