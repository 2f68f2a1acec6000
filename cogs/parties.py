"""``/ballerina party …`` and ``/ballerina timezone``: watch parties, their cards and RSVP buttons.

The core (``bot.core.parties``) holds every rule; these commands pick the channel, check what
the bot may do there, and mirror the core's outcome on Discord: the ephemeral reply, the party
card (posted once, then edited in place) and the server's scheduled event.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.i18n import N_, _
from bot.core.parties import Parties
from bot.core.replies import error
from bot.core.timeparse import suggest_timezones
from bot.discord.checks import CANNOT_SEE_CHANNEL, missing_channel_permissions
from bot.discord.client import BallerinaBot
from bot.discord.parties import BUTTONS, ChannelCardBoard, mirror, server_only
from bot.discord.render import respond
from cogs.reminders import VIA_CHOICES

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]
CHOICE_NAME_LIMIT = 100  # Discord's limit on an autocomplete choice's name
CHOICES_LIMIT = 25
PartyId = app_commands.Range[int, 1, 2**53 - 1]


NOT_HERE = N_("Party cards can't go in this channel: pick one with the channel option. Nothing was changed.")


def _cannot_post(channel_id: int, missing: list[str]) -> str:
    return _(
        "I can't post the party card in {channel}: I'm missing {permissions} there. "
        "Grant them (channel settings → Permissions) or pick another channel. Nothing was changed."
    ).format(channel=f"<#{channel_id}>", permissions=", ".join(missing))


class PartyCommands(commands.Cog):
    """Commands mixed into the ``/ballerina`` group cog (see ``cogs/ballerina.py``)."""

    bot: BallerinaBot
    parties: Parties

    party = app_commands.Group(name="party", description=N_("Watch parties: plan one, RSVP, get reminded"))

    async def cog_load(self) -> None:
        await super().cog_load()  # each feature mixin registers its own buttons
        for pattern, handler in BUTTONS:
            self.bot.buttons.add(pattern, handler)

    async def cog_unload(self) -> None:
        await super().cog_unload()
        for pattern, _handler in BUTTONS:
            self.bot.buttons.remove(pattern)

    # -- helpers ---------------------------------------------------------------------------------

    async def _card_channel(
        self, interaction: Interaction, guild: discord.Guild, chosen: discord.TextChannel | None
    ) -> discord.abc.GuildChannel | str:
        """The channel for the card: the option, else the server's party channel, else here; or why not."""
        if chosen is not None:
            channel_id: int | None = chosen.id
        else:
            default = await self.parties.default_channel(str(guild.id))
            channel_id = int(default) if default is not None else interaction.channel_id
        channel = guild.get_channel(channel_id) if channel_id is not None else None
        if channel is None:
            if chosen is not None:
                return _(CANNOT_SEE_CHANNEL)
            if channel_id != interaction.channel_id:
                return _(
                    "The server's party channel no longer exists: pick a channel with the channel option, "
                    "or ask a moderator to set a new one with /ballerina-admin party-settings. Nothing was changed."
                )
            return _(NOT_HERE)
        if not isinstance(channel, discord.abc.Messageable):
            return _(NOT_HERE)
        missing = missing_channel_permissions(channel, guild.me)
        if missing:
            return _cannot_post(channel.id, missing)
        return channel

    async def _suggest(self, interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
        if interaction.guild_id is None:
            return []
        found = await self.parties.suggest(str(interaction.guild_id), current)
        return [
            app_commands.Choice(name=label[:CHOICE_NAME_LIMIT], value=party_id)
            for label, party_id in found[:CHOICES_LIMIT]
        ]

    # -- commands --------------------------------------------------------------------------------

    @party.command(name="create", description=N_("Plan a watch party; members RSVP with the buttons on its card"))
    @app_commands.describe(
        when=N_("When it starts, e.g. 2026-12-05 20:00, tomorrow 8pm, sat 21:30, in 2 hours"),
        title=N_("What to call it (default: Ballerina watch party)"),
        channel=N_("Where to post the party card and reminders (default: the server's party channel, else here)"),
        voice_channel=N_("A voice or stage channel to meet in (default: everyone at home on Netflix)"),
        timezone=N_("Your time zone for the time you typed, e.g. Europe/Paris (default: yours, else the server's)"),
        remind=N_("When to remind attendees, e.g. 1d,1h,0 (default: the server's party reminders)"),
    )
    async def party_create(
        self,
        interaction: Interaction,
        when: app_commands.Range[str, 1, 100],
        title: app_commands.Range[str, 1, 300] | None = None,
        channel: discord.TextChannel | None = None,
        voice_channel: discord.VoiceChannel | discord.StageChannel | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        remind: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        guild = interaction.guild
        if guild is None:
            return await respond(interaction, server_only())
        target = await self._card_channel(interaction, guild, channel)
        if isinstance(target, str):
            return await respond(interaction, error(target))
        outcome = await self.parties.create(
            guild_id=str(guild.id),
            host_id=str(interaction.user.id),
            channel_id=str(target.id),
            when=when,
            title=title,
            voice_channel_id=str(voice_channel.id) if voice_channel is not None else None,
            timezone=timezone,
            remind=remind,
        )
        await respond(interaction, outcome.reply)
        party = outcome.party
        if party is None or outcome.card is None:
            return
        assert isinstance(target, discord.abc.Messageable)  # checked by _card_channel
        problem = await self.parties.publish(party, outcome.card, ChannelCardBoard(guild, target, self.parties))
        if problem is not None:
            await respond(interaction, problem)

    @party_create.autocomplete("timezone")
    async def party_timezone_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=zone, value=zone) for zone in suggest_timezones(current)]

    @party.command(name="list", description=N_("This server's upcoming watch parties"))
    async def party_list(self, interaction: Interaction) -> None:
        if interaction.guild_id is None:
            return await respond(interaction, server_only())
        await respond(interaction, await self.parties.list_upcoming(str(interaction.guild_id)))

    @party.command(name="info", description=N_("One watch party: when, where, who's going"))
    @app_commands.describe(id=N_("The party (start typing its title)"))
    async def party_info(self, interaction: Interaction, id: PartyId) -> None:
        if interaction.guild_id is None:
            return await respond(interaction, server_only())
        await respond(interaction, await self.parties.info(str(interaction.guild_id), id))

    @party.command(name="edit", description=N_("Change your party's time, title or voice channel (host or moderator)"))
    @app_commands.describe(
        id=N_("The party (start typing its title)"),
        when=N_("The new start time"),
        title=N_("The new title"),
        voice_channel=N_("A voice or stage channel to meet in"),
        clear_voice=N_("Meet at home on Netflix instead of in a voice channel"),
    )
    async def party_edit(
        self,
        interaction: Interaction,
        id: PartyId,
        when: app_commands.Range[str, 1, 100] | None = None,
        title: app_commands.Range[str, 1, 300] | None = None,
        voice_channel: discord.VoiceChannel | discord.StageChannel | None = None,
        clear_voice: bool = False,
    ) -> None:
        guild = interaction.guild
        if guild is None:
            return await respond(interaction, server_only())
        outcome = await self.parties.edit(
            guild_id=str(guild.id),
            party_id=id,
            user_id=str(interaction.user.id),
            is_moderator=interaction.permissions.manage_guild,
            when=when,
            title=title,
            voice_channel_id=str(voice_channel.id) if voice_channel is not None else None,
            clear_voice_channel=clear_voice,
        )
        await respond(interaction, outcome.reply)
        await mirror(self.bot, guild, self.parties, outcome)

    @party.command(name="cancel", description=N_("Call off your party; attendees are told (host or moderator)"))
    @app_commands.describe(id=N_("The party (start typing its title)"))
    async def party_cancel(self, interaction: Interaction, id: PartyId) -> None:
        guild = interaction.guild
        if guild is None:
            return await respond(interaction, server_only())
        outcome = await self.parties.cancel(
            guild_id=str(guild.id),
            party_id=id,
            user_id=str(interaction.user.id),
            is_moderator=interaction.permissions.manage_guild,
        )
        await respond(interaction, outcome.reply)
        await mirror(self.bot, guild, self.parties, outcome)

    @party_info.autocomplete("id")
    @party_edit.autocomplete("id")
    @party_cancel.autocomplete("id")
    async def party_id_autocomplete(self, interaction: Interaction, current: str) -> list[app_commands.Choice[int]]:
        return await self._suggest(interaction, current)

    @party.command(name="reminders", description=N_("Get your party reminders pinged in the party channel or by DM"))
    @app_commands.describe(via=N_("Where your reminders go, for every party you RSVP to in this server"))
    @app_commands.choices(via=VIA_CHOICES)
    async def party_reminders(self, interaction: Interaction, via: str) -> None:
        if interaction.guild_id is None:
            return await respond(interaction, server_only())
        reply = await self.parties.set_reminder_via(
            guild_id=str(interaction.guild_id), user_id=str(interaction.user.id), via=via
        )
        await respond(interaction, reply)

    @app_commands.command(name="timezone", description=N_("Your own time zone, for party times you type"))
    @app_commands.describe(name=N_("An IANA time zone, e.g. Europe/Paris"))
    async def member_timezone(self, interaction: Interaction, name: app_commands.Range[str, 1, 64]) -> None:
        if interaction.guild_id is None:
            return await respond(interaction, server_only())
        reply = await self.parties.set_member_timezone(
            guild_id=str(interaction.guild_id), user_id=str(interaction.user.id), name=name
        )
        await respond(interaction, reply)

    @member_timezone.autocomplete("name")
    async def member_timezone_autocomplete(
        self, interaction: Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=zone, value=zone) for zone in suggest_timezones(current)]
