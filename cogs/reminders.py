"""``/ballerina remind on|off|status``: members opt in and out of release reminders."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.i18n import N_, _
from bot.core.reminders import ReleaseReminders
from bot.core.replies import Reply, error
from bot.core.storage import Via
from bot.discord.members import InteractionMemberRoles
from bot.discord.render import respond

Interaction = discord.Interaction[Any]
SERVER_ONLY = N_("Reminders belong to a server: use this command in a server channel.")
VIA_CHOICES = [
    # TRANSLATORS: the choices of the via option: reminders in the server's channel, or by DM.
    app_commands.Choice(name=N_("channel"), value=Via.CHANNEL.value),
    app_commands.Choice(name=N_("dm"), value=Via.DM.value),
]


def server_only() -> Reply:
    return error(_(SERVER_ONLY))


class ReminderCommands(commands.Cog):
    """Commands mixed into the ``/ballerina`` group cog (see ``cogs/ballerina.py``)."""

    reminders: ReleaseReminders

    remind = app_commands.Group(name="remind", description=N_("Reminders before the Netflix release"))

    @remind.command(name="on", description=N_("Get reminded before the release, in the channel or by DM"))
    @app_commands.describe(via=N_("Where to get the reminders (default: the server's reminder channel)"))
    @app_commands.choices(via=VIA_CHOICES)
    async def remind_on(self, interaction: Interaction, via: str = Via.CHANNEL.value) -> None:
        if not isinstance(interaction.user, discord.Member):
            return await respond(interaction, server_only())
        if via not in tuple(Via):
            return await respond(interaction, error(_("Choose `channel` or `dm`.")))
        reply = await self.reminders.opt_in(
            str(interaction.user.guild.id), str(interaction.user.id), Via(via), InteractionMemberRoles(interaction.user)
        )
        await respond(interaction, reply)

    @remind.command(name="off", description=N_("Stop release reminders"))
    async def remind_off(self, interaction: Interaction) -> None:
        if not isinstance(interaction.user, discord.Member):
            return await respond(interaction, server_only())
        reply = await self.reminders.opt_out(
            str(interaction.user.guild.id), str(interaction.user.id), InteractionMemberRoles(interaction.user)
        )
        await respond(interaction, reply)

    @remind.command(name="status", description=N_("What you'll be reminded of, and when"))
    async def remind_status(self, interaction: Interaction) -> None:
        if interaction.guild_id is None:
            return await respond(interaction, server_only())
        await respond(interaction, await self.reminders.status(str(interaction.guild_id), str(interaction.user.id)))
