"""``/ballerina-admin``: moderators configure release reminders for their server.

Discord hides the group from members without Manage Server (``default_permissions``), but
server owners can override command visibility, so every command checks again here.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.parties import Parties
from bot.core.reminders import RESET_CONFIRM_ID, ReleaseReminders
from bot.core.replies import Field, error
from bot.core.timeparse import suggest_timezones
from bot.discord.checks import channel_problem, missing_channel_permissions, role_problem
from bot.discord.client import BallerinaBot
from bot.discord.members import GuildRoleGrants
from bot.discord.parties import MANAGE_EVENTS_MISSING, can_manage_events
from bot.discord.render import message_kwargs, respond

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]
NOT_A_MODERATOR = error("Only members with the Manage Server permission can change the bot's settings here.")
CREATED_ROLE_NAME = "Ballerina reminders"


def create_refusal(exc: discord.HTTPException) -> str:
    """Why Discord would not create the role, and what a moderator can do."""
    if isinstance(exc, discord.Forbidden):
        return (
            "Discord says I lack the Manage Roles permission: grant it to my role and try again. Nothing was changed."
        )
    detail = f": {exc.text}" if exc.text else ""
    return (
        f"Discord refused ({exc.status}{detail}). Pick an existing role with role: instead, "
        "or try again later. Nothing was changed."
    )


def is_moderator(interaction: Interaction) -> bool:
    return interaction.guild is not None and interaction.permissions.manage_guild


async def refuse_non_moderators(interaction: Interaction) -> bool:
    if is_moderator(interaction):
        return True
    await respond(interaction, NOT_A_MODERATOR)
    return False


async def reset_confirmed(interaction: Interaction, match: re.Match[str]) -> None:
    """The confirmation of ``/ballerina-admin reset``; works after a restart too."""
    if not await refuse_non_moderators(interaction):
        return
    assert interaction.guild_id is not None  # refuse_non_moderators let only server members through
    bot: BallerinaBot = interaction.client
    reply = await bot.core.reminders.reset(str(interaction.guild_id))
    await interaction.response.edit_message(view=None, **message_kwargs(reply))


@app_commands.default_permissions(manage_guild=True)
@app_commands.guild_only()
class Admin(commands.GroupCog, group_name="ballerina-admin", group_description="Configure the Ballerina bot"):
    def __init__(self, bot: BallerinaBot) -> None:
        self.bot = bot
        self.reminders: ReleaseReminders = bot.core.reminders
        self.parties: Parties = bot.core.parties
        super().__init__()

    async def cog_load(self) -> None:
        self.bot.buttons.add(re.escape(RESET_CONFIRM_ID), reset_confirmed)
        if self.bot.serving:
            # A fifth of the request budget: reminder posts and commands keep the rest.
            rate = self.bot.core.settings.global_rate_limit / 5
            members, directory = self.bot.core.members, self.bot.directory
            await self.reminders.role_backfills.start(
                GuildRoleGrants(self.bot), rate, on_left=lambda guild, user: members.departed(guild, user, directory)
            )

    async def cog_unload(self) -> None:
        self.bot.buttons.remove(re.escape(RESET_CONFIRM_ID))
        await self.reminders.role_backfills.stop()

    async def interaction_check(self, interaction: Interaction) -> bool:
        return await refuse_non_moderators(interaction)

    @staticmethod
    def _guild(interaction: Interaction) -> discord.Guild:
        assert interaction.guild is not None  # interaction_check let only server members through
        return interaction.guild

    @app_commands.command(name="channel", description="Where reminder posts go")
    @app_commands.describe(channel="A text channel the bot can see and post in")
    async def channel(self, interaction: Interaction, channel: discord.TextChannel) -> None:
        guild = self._guild(interaction)
        cached = guild.get_channel(channel.id)
        if cached is None:
            return await respond(interaction, error("I can't see that channel at all. Nothing was changed."))
        problem = channel_problem(cached, guild.me)
        await respond(interaction, await self.reminders.set_channel(str(guild.id), str(channel.id), problem))

    @app_commands.command(name="role", description="The role pinged by reminder posts (empty clears it)")
    @app_commands.describe(role="An existing role", create="Let the bot create a role for this")
    async def role(self, interaction: Interaction, role: discord.Role | None = None, create: bool = False) -> None:
        guild = self._guild(interaction)
        if role is not None and create:
            return await respond(
                interaction, error("Pick a role or ask me to create one, not both. Nothing was changed.")
            )
        if create:
            if not guild.me.guild_permissions.manage_roles:
                return await respond(interaction, error("I need the Manage Roles permission to create the ping role."))
            try:
                role = await guild.create_role(
                    name=CREATED_ROLE_NAME, mentionable=True, reason=f"Requested by moderator {interaction.user.id}"
                )
            except discord.HTTPException as exc:
                log.warning("server %s: could not create the ping role: %s %s", guild.id, exc.status, exc.code)
                return await respond(interaction, error(f"I couldn't create the ping role. {create_refusal(exc)}"))
        problem = role_problem(role, guild.me) if role is not None else None
        role_id = str(role.id) if role is not None else None
        await respond(interaction, await self.reminders.set_role(str(guild.id), role_id, problem))

    @app_commands.command(name="schedule", description="When reminders go out, e.g. 7d,1d,1h,0")
    @app_commands.describe(offsets="Times before the release: m, h, d, w; 0 = at release; at most 10")
    async def schedule(self, interaction: Interaction, offsets: app_commands.Range[str, 1, 200]) -> None:
        await respond(interaction, await self.reminders.set_schedule(str(self._guild(interaction).id), offsets))

    @app_commands.command(name="timezone", description="The server's time zone, for times written as text")
    @app_commands.describe(name="An IANA time zone, e.g. Europe/Paris")
    async def timezone(self, interaction: Interaction, name: app_commands.Range[str, 1, 64]) -> None:
        await respond(interaction, await self.reminders.set_timezone(str(self._guild(interaction).id), name))

    @timezone.autocomplete("name")
    async def timezone_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=zone, value=zone) for zone in suggest_timezones(current)]

    @app_commands.command(name="status", description="The whole configuration, next posts and delivery problems")
    async def status(self, interaction: Interaction) -> None:
        guild = self._guild(interaction)
        reply = await self.reminders.admin_status(str(guild.id))
        if not can_manage_events(guild):
            reply = dataclasses.replace(
                reply, fields=(*reply.fields, Field(name="Watch parties", value=MANAGE_EVENTS_MISSING))
            )
        await respond(interaction, reply)

    @app_commands.command(
        name="party-settings", description="Watch parties: default channel, reminders, cap per member"
    )
    @app_commands.describe(
        channel="Where party cards and reminders go when the host picks no channel",
        clear_channel="Forget the party channel: cards go where the command is run",
        remind="Default reminders before each party, e.g. 1d,1h,10m,0",
        cap="How many upcoming parties one member may host at a time",
    )
    async def party_settings(
        self,
        interaction: Interaction,
        channel: discord.TextChannel | None = None,
        clear_channel: bool = False,
        remind: app_commands.Range[str, 1, 200] | None = None,
        cap: app_commands.Range[int, 1, 100] | None = None,
    ) -> None:
        guild = self._guild(interaction)
        if channel is not None:
            cached = guild.get_channel(channel.id)
            if cached is None:
                return await respond(interaction, error("I can't see that channel at all. Nothing was changed."))
            missing = missing_channel_permissions(cached, guild.me)
            if missing:
                return await respond(
                    interaction,
                    error(
                        f"I can't post party cards in <#{channel.id}>: I'm missing {', '.join(missing)} there. "
                        "Grant them (channel settings → Permissions) and run this again. Nothing was changed."
                    ),
                )
        reply = await self.parties.configure(
            guild_id=str(guild.id),
            channel_id=str(channel.id) if channel is not None else None,
            clear_channel=clear_channel,
            remind=remind,
            cap=cap,
        )
        await respond(interaction, reply)

    @app_commands.command(name="preview", description="See the next reminder post (only you)")
    async def preview(self, interaction: Interaction) -> None:
        await respond(interaction, await self.reminders.preview(str(self._guild(interaction).id)))

    @app_commands.command(name="reset", description="Back to the default settings (asks first)")
    async def reset(self, interaction: Interaction) -> None:
        await respond(interaction, self.reminders.reset_prompt())


async def setup(bot: BallerinaBot) -> None:
    await bot.add_cog(Admin(bot))
