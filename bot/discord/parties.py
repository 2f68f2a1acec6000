"""Watch parties on discord.py: the RSVP buttons, the party card and the guild scheduled event.

The core decides everything (who may do what, what the card says); this module only mirrors
its outcomes on Discord. The card's buttons are handled by one :class:`RSVPButton` dynamic item
registered at start-up, so cards posted before a restart keep working with no bookkeeping.

Scheduled events are a bonus: when the bot lacks Manage Events, or Discord refuses, the party
works the same and the failure is only logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import weakref
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import discord

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

EVENT_LOCATION = "Netflix at home"
MANAGE_EVENTS_MISSING = "Manage Events missing: parties won't appear in the server's Events"
SERVER_ONLY = error("Watch parties belong to a server: use this command in a server channel.")


class KeyedLocks:
    """One ``asyncio.Lock`` per key, alive only while someone holds or waits for it."""

    def __init__(self) -> None:
        self._locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def hold(self, key: int) -> AsyncIterator[None]:
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        async with lock:
            yield

    def __len__(self) -> int:
        return len(self._locks)


# Party ids are unique across servers, so one table serves every client in the process.
party_locks = KeyedLocks()


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


# -- the RSVP buttons ------------------------------------------------------------------------------


async def rsvp_clicked(interaction: Interaction, match: re.Match[str]) -> None:
    """Going / Maybe / Not going / Leave on any party card."""
    if interaction.guild_id is None:
        return await respond(interaction, SERVER_ONLY)
    party_id = int(match["party"])
    parties = interaction.client.core.parties
    # Two clicks on one party run one after the other, so the card is edited in order.
    async with party_locks.hold(party_id):
        outcome: PartyOutcome = await parties.rsvp(
            guild_id=str(interaction.guild_id),
            party_id=party_id,
            user_id=str(interaction.user.id),
            choice=None if match["choice"] == "leave" else RSVP(match["choice"]),
        )
        if outcome.card is None:
            return await respond(interaction, outcome.reply)
        await interaction.response.edit_message(**edit_kwargs(outcome.card, interaction.message))
        clicked = interaction.message.id if interaction.message is not None else None
        if outcome.party is not None and outcome.party.card_message_id not in (None, str(clicked)):
            # Answered on a copy of the card (``/ballerina party info``): the posted card follows.
            await _edit_card(interaction.client, outcome.party, outcome.card)


async def cancel_clicked(interaction: Interaction, match: re.Match[str]) -> None:
    """The "Cancel this party" button under the host's confirmation that the party was scheduled."""
    guild = interaction.guild
    if guild is None:
        return await respond(interaction, SERVER_ONLY)
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
    """After an edit or a cancel: the card and the scheduled event follow the party."""
    party = outcome.party
    if party is None:
        return
    if outcome.card is not None:
        await update_card(client, party, outcome.card)
    created = await sync_event(guild, party)
    if created is not None:
        await parties.record_scheduled_event(party.id, created)


# -- the party card --------------------------------------------------------------------------------


async def post_card(channel: discord.abc.Messageable, card: Reply) -> discord.Message | None:
    try:
        return await channel.send(**message_kwargs(card))
    except discord.HTTPException as exc:
        log.warning("could not post a party card: %s", exc)
        return None


async def update_card(client: discord.Client, party: Party, card: Reply) -> None:
    """Put ``card`` in place of the party's card message, wherever it was posted."""
    if party.channel_id is None or party.card_message_id is None:
        return
    async with party_locks.hold(party.id):
        await _edit_card(client, party, card)


async def _edit_card(client: discord.Client, party: Party, card: Reply) -> None:
    """``update_card`` for a caller that already holds the party's lock."""
    if party.channel_id is None or party.card_message_id is None:
        return
    message = client.get_partial_messageable(int(party.channel_id)).get_partial_message(int(party.card_message_id))
    try:
        await message.edit(**edit_kwargs(card))
    except discord.HTTPException as exc:
        log.warning("could not update the card of party %s: %s", party.id, exc)


# -- the guild scheduled event ---------------------------------------------------------------------


def can_manage_events(guild: discord.Guild) -> bool:
    granted = guild.me.guild_permissions
    return granted.manage_events or granted.create_events


def _event_place(guild: discord.Guild, party: Party) -> dict[str, Any]:
    """Where the event happens: the party's voice or stage channel, else "Netflix at home"."""
    place = guild.get_channel(int(party.voice_channel_id)) if party.voice_channel_id else None
    if isinstance(place, discord.StageChannel):
        return {"entity_type": discord.EntityType.stage_instance, "channel": place}
    if isinstance(place, discord.VoiceChannel):
        return {"entity_type": discord.EntityType.voice, "channel": place}
    return {"entity_type": discord.EntityType.external, "location": EVENT_LOCATION}


def _event_fields(guild: discord.Guild, party: Party) -> dict[str, Any]:
    return {
        "name": party.title[:100],
        "start_time": party.starts_at,
        "end_time": party.starts_at + PARTY_LENGTH,
        "description": "A Ballerina watch party: RSVP with the buttons on the party card.",
        **_event_place(guild, party),
    }


async def create_event(guild: discord.Guild, party: Party) -> str | None:
    """The scheduled event's id, or None when the bot can't (or Discord wouldn't) create it."""
    if not can_manage_events(guild):
        return None
    try:
        event = await guild.create_scheduled_event(
            privacy_level=discord.PrivacyLevel.guild_only,
            reason=f"Watch party {party.id} by {party.host_id}",
            **_event_fields(guild, party),
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


async def sync_event(guild: discord.Guild, party: Party) -> str | None:
    """Bring the party's scheduled event in step (created if missing); returns its id if it changed."""
    if party.cancelled:
        await cancel_event(guild, party)
        return None
    if not can_manage_events(guild):
        return None
    event = await _fetch_event(guild, party)
    if event is None:
        return await create_event(guild, party)
    if event.status is not discord.EventStatus.scheduled:
        return None  # running or over: Discord no longer lets its time change
    try:
        await event.edit(reason=f"Watch party {party.id} edited", **_event_fields(guild, party))
    except (discord.HTTPException, TypeError, ValueError) as exc:
        log.warning("could not update the scheduled event of party %s: %s", party.id, exc)
    return None


async def cancel_event(guild: discord.Guild, party: Party) -> None:
    event = await _fetch_event(guild, party) if can_manage_events(guild) else None
    if event is None:
        return
    reason = f"Watch party {party.id} cancelled"
    try:
        if event.status is discord.EventStatus.scheduled:
            await event.cancel(reason=reason)
        elif event.status is discord.EventStatus.active:
            await event.end(reason=reason)
    except (discord.HTTPException, ValueError) as exc:
        log.warning("could not cancel the scheduled event of party %s: %s", party.id, exc)
