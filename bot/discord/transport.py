"""Delivery of outbox rows through discord.py, with Discord's errors mapped to the engine's, and
the member lookups that keep DMs to members still in the server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import aiohttp
import discord

from bot.core.clock import Clock
from bot.core.engine.errors import (
    ChannelMissing,
    DeliveryError,
    DMsClosed,
    MissingPermissions,
    RecipientLeft,
    TransientDeliveryError,
    UnknownUser,
)
from bot.core.engine.protocols import Pacing, delivered_prefix, part_of
from bot.core.engine.ratelimit import RateLimiter
from bot.core.parties import Parties, Party
from bot.core.replies import Reply
from bot.core.storage import OutboxRow, Target
from bot.discord.parties import update_card
from bot.discord.render import message_kwargs

log = logging.getLogger(__name__)

# https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
UNKNOWN_CHANNEL = 10003
UNKNOWN_MEMBER = 10007
UNKNOWN_USER = 10013
CANNOT_DM_USER = 50007  # DMs closed, or no server shared with the bot: not the same as leaving one

NONCE_TRUSTED_FOR = timedelta(minutes=4)  # Discord honours a nonce for "a few minutes"
REFERENCE = "#"  # before a delivery's nonce in a card's footer: a sign, the same in every language
_CLAIM_MARGIN = timedelta(seconds=5)
_HISTORY_LIMIT = 100
MEMBERSHIP_TTL = 300.0  # seconds a lookup is trusted: a party's last reminders share one
_MIN_PRUNE_SIZE = 1024


def delivery_error(exc: Exception) -> DeliveryError:
    """The engine's (platform-neutral) error for what Discord or the network answered."""
    if isinstance(exc, discord.NotFound):
        if exc.code == UNKNOWN_USER:
            return UnknownUser(f"unknown user ({exc.code})")
        if exc.code == UNKNOWN_MEMBER:
            return RecipientLeft(f"the member left the server ({exc.code})")
        return ChannelMissing(f"channel not found ({exc.code})")
    if isinstance(exc, discord.Forbidden):
        if exc.code == CANNOT_DM_USER:
            return DMsClosed("the member does not accept DMs from this server")
        return MissingPermissions(f"missing access or permissions ({exc.code})")
    if isinstance(exc, discord.HTTPException):
        return TransientDeliveryError(f"Discord answered {exc.status} ({exc.code})")
    return TransientDeliveryError(f"network error: {type(exc).__name__}")


def discord_pacing(global_rate: float) -> Pacing:
    """Discord's limits: ``global_rate`` requests a second for the whole bot (50 by default), and
    5 messages per 5 seconds into one channel."""
    return Pacing(rate=global_rate, burst=5, channel_limit=5, channel_period=timedelta(seconds=5))


class DiscordTransport:
    """The engine's Transport on discord.py; 429s are waited out by discord.py itself.

    Discord has no threads under a message the way Slack has, so a follow-up part is simply the
    next message in the channel."""

    subscribers_in_thread = False  # channel subscribers hold the ping role

    def __init__(self, client: discord.Client, global_rate: float, clock: Clock) -> None:
        self.client = client
        self.pacing = discord_pacing(global_rate)
        self.clock = clock

    async def send_channel(self, channel_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str:
        channel = self.client.get_partial_messageable(int(channel_id))
        return await self._send(channel, reply, nonce)

    async def find_delivered(self, row: OutboxRow, since: datetime) -> Sequence[str] | None:
        """Within Discord's nonce window a re-send returns the message already posted; after it,
        the channel's messages from the bot since the claim are read (Read Message History) for
        the delivery reference each card carries in its footer."""
        if self.clock.now() - since < NONCE_TRUSTED_FOR:
            return ()
        try:
            if row.target is Target.CHANNEL:
                channel_id = int(row.target_id)
            else:
                channel_id = (await self.client.create_dm(discord.Object(int(row.target_id)))).id
            after = discord.utils.time_snowflake(since - _CLAIM_MARGIN)
            messages = await self.client.http.logs_from(channel_id, _HISTORY_LIMIT, after=after)
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as exc:
            log.warning("delivery %d: cannot look up whether it went out (%s); re-sending", row.id, exc)
            return None
        bot_id = str(self.client.user.id) if self.client.user is not None else None
        found: dict[int, str] = {}
        for message in messages:
            if message["author"]["id"] != bot_id:
                continue
            for embed in message.get("embeds") or []:
                footer = embed.get("footer")
                index = part_of(footer["text"], row.nonce) if footer is not None else None
                if index is not None:
                    found[index] = str(message["id"])
        return delivered_prefix(found)

    async def send_dm(self, user_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str:
        try:
            channel = await self.client.create_dm(discord.Object(int(user_id)))
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as exc:
            raise delivery_error(exc) from None
        return await self._send(channel, reply, nonce)

    @staticmethod
    async def _send(channel: discord.abc.Messageable, reply: Reply, nonce: str) -> str:
        if reply.has_card:  # a reference history shows, for recovery after the nonce window
            reply = replace(reply, footer=f"{reply.footer} · {REFERENCE}{nonce}" if reply.footer else REFERENCE + nonce)
        try:
            # discord.py sends enforce_nonce with every nonce: a re-send after a crash returns
            # the message already posted instead of posting it again.
            message = await channel.send(nonce=nonce, **message_kwargs(reply))
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as exc:
            raise delivery_error(exc) from None
        return str(message.id)


class DiscordMemberDirectory:
    """The core's MemberDirectory on Discord, by REST: without the privileged members intent the
    bot hears of no departures, so it asks (GET /guilds/{guild}/members/{user}) before a DM.

    Answers are cached for MEMBERSHIP_TTL, and lookups are paced to ``lookups_per_second``: the
    DMs they guard need the rest of the request budget.
    """

    def __init__(self, client: discord.Client, parties: Parties, *, lookups_per_second: float) -> None:
        self.client = client
        self.parties = parties
        self._pace = RateLimiter(lookups_per_second, burst=5)
        self._known: dict[tuple[str, str], tuple[float, bool]] = {}  # -> (trusted until, is a member)
        self._prune_at = _MIN_PRUNE_SIZE

    async def is_member(self, guild_id: str, user_id: str) -> bool:
        loop = asyncio.get_running_loop()
        key = (guild_id, user_id)
        known = self._known.get(key)
        if known is not None and known[0] > loop.time():
            return known[1]
        await self._pace.acquire()
        try:
            await self.client.http.get_member(int(guild_id), int(user_id))
            present = True
        except discord.NotFound as exc:
            # 10007: not (or no longer) in the server; 10013: the account is gone altogether.
            present = exc.code not in (UNKNOWN_MEMBER, UNKNOWN_USER)
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as exc:
            log.warning("could not look up member %s of server %s (%s); sending anyway", user_id, guild_id, exc)
            return True
        self._remember(key, present, loop.time())
        return present

    def _remember(self, key: tuple[str, str], present: bool, now: float) -> None:
        if len(self._known) >= self._prune_at:
            self._known = {k: v for k, v in self._known.items() if v[0] > now}
            self._prune_at = max(_MIN_PRUNE_SIZE, 2 * len(self._known))
        self._known[key] = (now + MEMBERSHIP_TTL, present)

    async def refresh_card(self, party: Party) -> None:
        await update_card(self.client, self.parties, party)
