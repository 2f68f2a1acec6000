"""Watch parties on discord.py: the RSVP buttons, the party card and the guild scheduled event.

The core decides everything (who may do what, what the card says); this module only mirrors
its outcomes on Discord. The card's buttons are served by their custom id (``bot.discord.buttons``),
so cards posted before a restart keep working with no bookkeeping.

A click must be answered within Discord's 3 seconds, and a busy party gets hundreds at once, each
answer a network round trip. So no click waits for another's round trip. :class:`ClickCardEdits` (the core's
:class:`~bot.core.card_edits.CardEdits` plus the click's own answer) keeps
at most one edit of a card message under way:

* a click on a card that no edit is under way for is answered with the card itself, edited in
  place (``edit_message``, callback type 7): the member sees their answer counted at once;
* a click while an edit is under way is acknowledged at once (``defer``, type 6,
  DEFERRED_UPDATE_MESSAGE) and marks the card stale. When the edit under way lands, the next one
  reads the card afresh from the database: every click of that round trip shares one edit, and
  the last edit carries the latest counts. That edit goes through the webhook of the newest
  answered click on the card (``edit_original_response``): it is exempt from the global rate
  limit the reminders need, and it can edit the private copies of ``/ballerina party info`` as
  well. Those members see their answer on the card a round trip or two after their click.

Changes that come without a click on the card (edit, cancel, forget-me, a click on a private copy)
go through the same queue, as a channel message edit when no click is at hand. Order: the core
records two clicks on one party in order; edits of one card never overlap, and none carries a
card older than the one before it, so the card never goes back to older counts.

Scheduled events are a bonus: when the bot lacks Manage Events, or Discord refuses, the party
works the same and the failure is only logged.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
from collections.abc import Hashable, Iterator
from dataclasses import replace
from typing import Any

import aiohttp
import discord

from bot.core.card_edits import CardEdit, CardEdits, ReadCard
from bot.core.film import Film
from bot.core.i18n import N_, Language, _, current_language, speaking
from bot.core.parties import (
    CANCEL_CUSTOM_ID,
    PARTY_LENGTH,
    RSVP,
    RSVP_CUSTOM_ID,
    Parties,
    Party,
    PartyOutcome,
)
from bot.core.replies import Reply, error
from bot.discord.render import message_kwargs, respond, shows_buttons

log = logging.getLogger(__name__)

Interaction = discord.Interaction[Any]
EDIT_FAILED = (discord.HTTPException, aiohttp.ClientError, TimeoutError)
"""Discord refused an edit, or the network lost it: logged, and the card waits for the next change."""

MANAGE_EVENTS_MISSING = N_("Manage Events missing: parties won't appear in the server's Events")
SERVER_ONLY = N_("Watch parties belong to a server: use this command in a server channel.")


def server_only() -> Reply:
    return error(_(SERVER_ONLY))


def edit_kwargs(reply: Reply, current: discord.Message | None = None) -> dict[str, Any]:
    """Like ``message_kwargs`` but replacing the whole message: a card without buttons drops the old ones.

    Buttons that ``current`` (the message being edited) already shows are left out of the edit,
    which keeps them: an RSVP click then neither builds a view nor sends its components again.
    """
    if current is not None and reply.buttons and shows_buttons(current, reply):
        kwargs = message_kwargs(replace(reply, buttons=()))
    else:
        kwargs = message_kwargs(reply)
        kwargs.setdefault("view", None)
    kwargs.setdefault("embed", None)
    return kwargs


# -- the party card --------------------------------------------------------------------------------


async def read_card(parties: Parties, party: Party) -> Reply | None:
    current = await parties.get(party.guild_id, party.id)
    return await parties.card(current) if current is not None else None


async def read_own_copy(parties: Parties, party: Party, language: Language) -> Reply | None:
    """A member's own copy of the card (``/ballerina party info``), in their ``language``."""
    with speaking(language):
        copy = await parties.info(party.guild_id, party.id)
    return copy if copy.has_card else None  # else the party is gone


def edit_by_click(interaction: Interaction) -> CardEdit:
    """Through the webhook of an acknowledged click on the card message."""

    async def edit(card: Reply) -> None:
        await interaction.edit_original_response(**edit_kwargs(card, interaction.message))

    return edit


def edit_in_channel(client: discord.Client, channel_id: int, message_id: int) -> CardEdit:
    async def edit(card: Reply) -> None:
        message = client.get_partial_messageable(channel_id).get_partial_message(message_id)
        await message.edit(**edit_kwargs(card))

    return edit


class ClickCardEdits(CardEdits):
    """The core's card edits (``bot.core.card_edits``), plus answering a click with the card itself."""

    def __init__(self) -> None:
        super().__init__(EDIT_FAILED)
        self._building = 0
        self._begun_meanwhile: set[Hashable] = set()

    @contextlib.contextmanager
    def building(self) -> Iterator[set[Hashable]]:
        """Around building a card for a click: yields the card messages whose edit began meanwhile
        (or a little before), with their card read when it began. The card built may be older than
        theirs: look in the set before the block ends, and let ``clicked`` read the card again."""
        self._building += 1
        try:
            yield self._begun_meanwhile
        finally:
            self._building -= 1
            if not self._building:
                self._begun_meanwhile.clear()

    def edit_began(self, key: Hashable) -> None:
        if self._building:
            self._begun_meanwhile.add(key)

    async def clicked(
        self, interaction: Interaction, message: discord.Message, card: Reply | None, read: ReadCard
    ) -> None:
        """Answer a click on ``message``: with ``card`` (None: read it) when no edit of it is under
        way, else with an acknowledgement, the card following in the next edit."""
        under_way = self.under_way(message.id)
        if under_way is not None:
            under_way.stale = True  # before answering: whatever becomes of the answer, the card follows
            await interaction.response.defer()
            if self.under_way(message.id) is under_way:
                under_way.edit = edit_by_click(interaction)  # the newest token, good for 15 minutes
            return None
        channel_edit = (
            None if message.flags.ephemeral else edit_in_channel(interaction.client, message.channel.id, message.id)
        )
        entry = self.begin(message.id, read, channel_edit, stale=False)
        try:
            if card is None:
                card = await read()
            self.edit_began(message.id)
            if card is None:  # the party is gone
                await interaction.response.defer()
            else:
                await interaction.response.edit_message(**edit_kwargs(card, message))
                entry.shown = card
            entry.edit = edit_by_click(interaction)
        except EDIT_FAILED as exc:
            log.warning("could not answer a click on card %s with the card: %s", message.id, exc)
            entry.stale = True  # the next edit puts it in place another way
        finally:
            await self.edit_while_stale(message.id, entry)


# Message ids are unique across servers, so one table serves every client in the process.
card_edits = ClickCardEdits()


async def update_card(client: discord.Client, parties: Parties, party: Party) -> None:
    """The party changed: its posted card, wherever it is, follows (read afresh when edited)."""
    if party.channel_id is None or party.card_message_id is None:
        return
    channel_id, message_id = int(party.channel_id), int(party.card_message_id)
    await card_edits.refresh(
        message_id, functools.partial(read_card, parties, party), edit_in_channel(client, channel_id, message_id)
    )


class ChannelCardBoard:
    """The core's :class:`~bot.core.parties.CardBoard` on Discord: the card in ``channel`` (the
    core builds it in the server's language), the server's scheduled event."""

    def __init__(self, guild: discord.Guild, channel: discord.abc.Messageable, parties: Parties) -> None:
        self.guild = guild
        self.channel = channel
        self.parties = parties

    async def post_card(self, party: Party, card: Reply) -> str | None:
        try:
            message = await self.channel.send(**message_kwargs(card))
        except discord.HTTPException as exc:
            log.warning("could not post the card of party %s: %s", party.id, exc)
            return None
        return str(message.id)

    async def create_event(self, party: Party) -> str | None:
        with speaking(await self.parties.languages.for_server(party.guild_id)):
            return await create_event(self.guild, party, self.parties.film)


# -- the buttons -----------------------------------------------------------------------------------


async def rsvp_clicked(interaction: Interaction, match: re.Match[str]) -> None:
    """Going / Maybe / Not going / Leave on any party card."""
    if interaction.guild_id is None:
        return await respond(interaction, server_only())
    message = interaction.message
    assert message is not None  # a button always comes with its message
    parties: Parties = interaction.client.core.parties
    with card_edits.building() as begun_meanwhile:
        # The core records two clicks on one party one after the other, in the order they came.
        outcome: PartyOutcome = await parties.rsvp(
            guild_id=str(interaction.guild_id),
            party_id=int(match["party"]),
            user_id=str(interaction.user.id),
            choice=None if match["choice"] == "leave" else RSVP(match["choice"]),
        )
        # The core's card is the channel's, in the server's language; a member's own copy is theirs.
        own_copy = message.flags.ephemeral
        card = None if message.id in begun_meanwhile or own_copy else outcome.card
    if outcome.card is None or outcome.party is None:
        return await respond(interaction, outcome.reply)
    party = outcome.party
    if own_copy:
        read = functools.partial(read_own_copy, parties, party, current_language())
    else:
        read = functools.partial(read_card, parties, party)
    await card_edits.clicked(interaction, message, card, read)
    if party.card_message_id not in (None, str(message.id)):
        # Answered on a private copy of the card (``/ballerina party info``): the posted card follows.
        await update_card(interaction.client, parties, party)


async def cancel_clicked(interaction: Interaction, match: re.Match[str]) -> None:
    """The "Cancel this party" button under the host's confirmation that the party was scheduled."""
    guild = interaction.guild
    if guild is None:
        return await respond(interaction, server_only())
    parties: Parties = interaction.client.core.parties
    outcome = await parties.cancel(
        guild_id=str(guild.id),
        party_id=int(match["party"]),
        user_id=str(interaction.user.id),
        is_moderator=interaction.permissions.manage_guild,
    )
    if outcome.party is None:
        return await respond(interaction, outcome.reply)
    await interaction.response.edit_message(**edit_kwargs(outcome.reply))
    await mirror(interaction.client, guild, parties, outcome)


BUTTONS = ((RSVP_CUSTOM_ID, rsvp_clicked), (CANCEL_CUSTOM_ID, cancel_clicked))


async def mirror(client: discord.Client, guild: discord.Guild, parties: Parties, outcome: PartyOutcome) -> None:
    """After an edit or a cancel: the card and the scheduled event follow the party (the event in
    the server's language, as the card)."""
    party = outcome.party
    if party is None:
        return
    if outcome.card is not None:
        await update_card(client, parties, party)
    with speaking(await parties.languages.for_server(party.guild_id)):
        created = await sync_event(guild, party, parties.film)
    if created is not None:
        await parties.record_scheduled_event(party.id, created)


# -- the guild scheduled event ---------------------------------------------------------------------


def can_manage_events(guild: discord.Guild) -> bool:
    granted = guild.me.guild_permissions
    return granted.manage_events or granted.create_events


def _event_place(guild: discord.Guild, party: Party, film: Film) -> dict[str, Any]:
    """Where the event happens: the party's voice or stage channel, else "Netflix at home"."""
    place = guild.get_channel(int(party.voice_channel_id)) if party.voice_channel_id else None
    if isinstance(place, discord.StageChannel):
        return {"entity_type": discord.EntityType.stage_instance, "channel": place}
    if isinstance(place, discord.VoiceChannel):
        return {"entity_type": discord.EntityType.voice, "channel": place}
    location = _("{platform} at home").format(platform=film.release.platform)
    return {"entity_type": discord.EntityType.external, "location": location}


def _event_fields(guild: discord.Guild, party: Party, film: Film) -> dict[str, Any]:
    """The event as the server's members read it (called in the server's language)."""
    title = film.localized(current_language()).title
    return {
        "name": party.title[:100],
        "start_time": party.starts_at,
        "end_time": party.starts_at + PARTY_LENGTH,
        "description": _("A {title} watch party: RSVP with the buttons on the party card.").format(title=title),
        **_event_place(guild, party, film),
    }


async def create_event(guild: discord.Guild, party: Party, film: Film) -> str | None:
    """The scheduled event's id, or None when the bot can't (or Discord wouldn't) create it."""
    if not can_manage_events(guild):
        return None
    try:
        event = await guild.create_scheduled_event(
            privacy_level=discord.PrivacyLevel.guild_only,
            reason=_("Watch party {party} by {host}").format(party=party.id, host=party.host_id),
            **_event_fields(guild, party, film),
        )
    except (discord.HTTPException, TypeError, ValueError) as exc:
        log.warning("could not create the scheduled event of party %s: %s", party.id, exc)
        return None
    return str(event.id)


async def _fetch_event(guild: discord.Guild, party: Party) -> discord.ScheduledEvent | None:
    if party.scheduled_event_id is None:
        return None
    try:
        return await guild.fetch_scheduled_event(int(party.scheduled_event_id), with_counts=False)
    except discord.HTTPException as exc:
        log.warning("scheduled event %s of party %s is gone: %s", party.scheduled_event_id, party.id, exc)
        return None


async def sync_event(guild: discord.Guild, party: Party, film: Film) -> str | None:
    """Bring the party's scheduled event in step (created if missing); returns its id if it changed."""
    if party.cancelled:
        await cancel_event(guild, party)
        return None
    if not can_manage_events(guild):
        return None
    event = await _fetch_event(guild, party)
    if event is None:
        return await create_event(guild, party, film)
    if event.status is not discord.EventStatus.scheduled:
        return None  # running or over: Discord no longer lets its time change
    try:
        reason = _("Watch party {party} edited").format(party=party.id)
        await event.edit(reason=reason, **_event_fields(guild, party, film))
    except (discord.HTTPException, TypeError, ValueError) as exc:
        log.warning("could not update the scheduled event of party %s: %s", party.id, exc)
    return None


async def cancel_event(guild: discord.Guild, party: Party) -> None:
    event = await _fetch_event(guild, party) if can_manage_events(guild) else None
    if event is None:
        return
    reason = _("Watch party {party} cancelled").format(party=party.id)
    try:
        if event.status is discord.EventStatus.scheduled:
            await event.cancel(reason=reason)
        elif event.status is discord.EventStatus.active:
            await event.end(reason=reason)
    except (discord.HTTPException, ValueError) as exc:
        log.warning("could not cancel the scheduled event of party %s: %s", party.id, exc)
