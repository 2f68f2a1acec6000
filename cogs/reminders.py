"""``/ballerina remind on|off|status``: members opt in and out of release reminders."""

from __future__ import annotations

from typing import Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.reminders import ReleaseReminders
from bot.core.replies import error
from bot.core.storage import Via
from bot.discord.members import InteractionMemberRoles
from bot.discord.render import respond

Interaction = discord.Interaction[Any]
SERVER_ONLY = error("Reminders belong to a server: use this command in a server channel.")


class ReminderCommands(commands.Cog):
    """Commands mixed into the ``/ballerina`` group cog (see ``cogs/ballerina.py``)."""

    reminders: ReleaseReminders

    remind = app_commands.Group(name="remind", description="Reminders before the Netflix release")

    @remind.command(name="on", description="Get reminded before the release, in the channel or by DM")
    @app_commands.describe(via="Where to get the reminders (default: the server's reminder channel)")
    async def remind_on(self, interaction: Interaction, via: Literal["channel", "dm"] = "channel") -> None:
        if not isinstance(interaction.user, discord.Member):
            return await respond(interaction, SERVER_ONLY)
        reply = await self.reminders.opt_in(
            str(interaction.user.guild.id), str(interaction.user.id), Via(via), InteractionMemberRoles(interaction.user)
        )
        await respond(interaction, reply)

    @remind.command(name="off", description="Stop release reminders")
    async def remind_off(self, interaction: Interaction) -> None:
        if not isinstance(interaction.user, discord.Member):
            return await respond(interaction, SERVER_ONLY)
        reply = await self.reminders.opt_out(
            str(interaction.user.guild.id), str(interaction.user.id), InteractionMemberRoles(interaction.user)
        )
        await respond(interaction, reply)

    @remind.command(name="status", description="What you'll be reminded of, and when")
    async def remind_status(self, interaction: Interaction) -> None:
        if interaction.guild_id is None:
            return await respond(interaction, SERVER_ONLY)
        await respond(interaction, await self.reminders.status(str(interaction.guild_id), str(interaction.user.id)))
