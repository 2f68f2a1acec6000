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

from bot.core.i18n import N_, _, speaking
from bot.core.languages import language_choices
from bot.core.parties import Parties
from bot.core.reminders import RESET_CONFIRM_ID, ReleaseReminders
from bot.core.replies import Field, error
from bot.core.storage import Platform
from bot.core.timeparse import suggest_timezones
from bot.discord.checks import CANNOT_SEE_CHANNEL, channel_problem, missing_channel_permissions, role_problem
from bot.discord.client import BallerinaBot
from bot.discord.members import GuildRoleGrants
from bot.discord.parties import MANAGE_EVENTS_MISSING, can_manage_events
from bot.discord.render import message_kwargs, respond

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]
NOT_A_MODERATOR = N_("Only members with the Manage Server permission can change the bot's settings here.")


def create_refusal(exc: discord.HTTPException) -> str:
    """Why Discord would not create the role, and what a moderator can do."""
    if isinstance(exc, discord.Forbidden):
        return _(
            "Discord says I lack the Manage Roles permission: grant it to my role and try again. Nothing was changed."
        )
    if exc.text:
        refused = _("Discord refused ({status}: {detail}).").format(status=exc.status, detail=exc.text)
    else:
        refused = _("Discord refused ({status}).").format(status=exc.status)
    return refused + " " + _("Pick an existing role with role: instead, or try again later. Nothing was changed.")


def is_moderator(interaction: Interaction) -> bool:
    return interaction.guild is not None and interaction.permissions.manage_guild


async def refuse_non_moderators(interaction: Interaction) -> bool:
    if is_moderator(interaction):
        return True
    await respond(interaction, error(_(NOT_A_MODERATOR)))
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
class Admin(commands.GroupCog, group_name="ballerina-admin", group_description=N_("Configure the Ballerina bot")):
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
                GuildRoleGrants(self.bot, self.bot.core.languages),
                rate,
                on_left=lambda guild, user: members.departed(guild, user, directory),
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

    @app_commands.command(name="channel", description=N_("Where reminder posts go"))
    @app_commands.describe(channel=N_("A text channel the bot can see and post in"))
    async def channel(self, interaction: Interaction, channel: discord.TextChannel) -> None:
        guild = self._guild(interaction)
        cached = guild.get_channel(channel.id)
        if cached is None:
            return await respond(interaction, error(_(CANNOT_SEE_CHANNEL)))
        problem = channel_problem(cached, guild.me)
        await respond(interaction, await self.reminders.set_channel(str(guild.id), str(channel.id), problem))

    @app_commands.command(name="role", description=N_("The role pinged by reminder posts (empty clears it)"))
    @app_commands.describe(role=N_("An existing role"), create=N_("Let the bot create a role for this"))
    async def role(self, interaction: Interaction, role: discord.Role | None = None, create: bool = False) -> None:
        guild = self._guild(interaction)
        if role is not None and create:
            return await respond(
                interaction, error(_("Pick a role or ask me to create one, not both. Nothing was changed."))
            )
        if create:
            if not guild.me.guild_permissions.manage_roles:
                return await respond(
                    interaction, error(_("I need the Manage Roles permission to create the ping role."))
                )
            try:
                role = await guild.create_role(
                    name=await self._created_role_name(str(guild.id)),
                    mentionable=True,
                    reason=_("Requested by moderator {user}").format(user=interaction.user.id),
                )
            except discord.HTTPException as exc:
                log.warning("server %s: could not create the ping role: %s %s", guild.id, exc.status, exc.code)
                refusal = _("I couldn't create the ping role. {why}").format(why=create_refusal(exc))
                return await respond(interaction, error(refusal))
        problem = role_problem(role, guild.me) if role is not None else None
        role_id = str(role.id) if role is not None else None
        await respond(interaction, await self.reminders.set_role(str(guild.id), role_id, problem))

    @app_commands.command(name="schedule", description=N_("When reminders go out, e.g. 7d,1d,1h,0"))
    @app_commands.describe(offsets=N_("Times before the release: m, h, d, w; 0 = at release; at most 10"))
    async def schedule(self, interaction: Interaction, offsets: app_commands.Range[str, 1, 200]) -> None:
        await respond(interaction, await self.reminders.set_schedule(str(self._guild(interaction).id), offsets))

    @app_commands.command(name="timezone", description=N_("The server's time zone, for times written as text"))
    @app_commands.describe(name=N_("An IANA time zone, e.g. Europe/Paris"))
    async def timezone(self, interaction: Interaction, name: app_commands.Range[str, 1, 64]) -> None:
        await respond(interaction, await self.reminders.set_timezone(str(self._guild(interaction).id), name))

    @timezone.autocomplete("name")
    async def timezone_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=zone, value=zone) for zone in suggest_timezones(current)]

    @app_commands.command(name="status", description=N_("The whole configuration, next posts and delivery problems"))
    async def status(self, interaction: Interaction) -> None:
        guild = self._guild(interaction)
        reply = await self.reminders.admin_status(str(guild.id))
        if not can_manage_events(guild):
            missing = Field(name=_("Watch parties"), value=_(MANAGE_EVENTS_MISSING))
            reply = dataclasses.replace(reply, fields=(*reply.fields, missing))
        await respond(interaction, reply)

    @app_commands.command(name="language", description=N_("The language of this server's channel posts"))
    @app_commands.describe(language=N_("English, Korean, or automatic: the server's own default language"))
    @app_commands.choices(language=[app_commands.Choice(name=name, value=value) for name, value in language_choices()])
    async def language(self, interaction: Interaction, language: str) -> None:
        languages = self.bot.core.languages
        reply = await languages.server_command(str(self._guild(interaction).id), Platform.DISCORD, language)
        await respond(interaction, reply)

    @app_commands.command(
        name="party-settings", description=N_("Watch parties: default channel, reminders, cap per member")
    )
    @app_commands.describe(
        channel=N_("Where party cards and reminders go when the host picks no channel"),
        clear_channel=N_("Forget the party channel: cards go where the command is run"),
        remind=N_("Default reminders before each party, e.g. 1d,1h,10m,0"),
        cap=N_("How many upcoming parties one member may host at a time"),
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
                return await respond(interaction, error(_(CANNOT_SEE_CHANNEL)))
            missing = missing_channel_permissions(cached, guild.me)
            if missing:
                refusal = _(
                    "I can't post party cards in {channel}: I'm missing {permissions} there. "
                    "Grant them (channel settings → Permissions) and run this again. Nothing was changed."
                ).format(channel=f"<#{channel.id}>", permissions=", ".join(missing))
                return await respond(interaction, error(refusal))
        reply = await self.parties.configure(
            guild_id=str(guild.id),
            channel_id=str(channel.id) if channel is not None else None,
            clear_channel=clear_channel,
            remind=remind,
            cap=cap,
        )
        await respond(interaction, reply)

    @app_commands.command(name="preview", description=N_("See the next reminder post (only you)"))
    async def preview(self, interaction: Interaction) -> None:
        await respond(interaction, await self.reminders.preview(str(self._guild(interaction).id)))

    @app_commands.command(name="reset", description=N_("Back to the default settings (asks first)"))
    async def reset(self, interaction: Interaction) -> None:
        await respond(interaction, self.reminders.reset_prompt())

    async def _created_role_name(self, guild_id: str) -> str:
        """The ping role the bot creates, named in the server's language (every member sees it)."""
        language = await self.bot.core.languages.for_server(guild_id)
        with speaking(language):
            return _("{title} reminders").format(title=self.reminders.film.localized(language).title)


async def setup(bot: BallerinaBot) -> None:
    await bot.add_cog(Admin(bot))
