"""Delivery of outbox rows on Slack: ``chat.postMessage`` through the SlackBot's one client.

Each post carries message ``metadata`` (``event_type`` ``ballerina_delivery``, the part's nonce in
``event_payload``): ``chat.postMessage`` has no nonce, so after a crash the engine asks
:meth:`SlackTransport.find_delivered`, which reads the channel's history since the claim for
posts carrying the row's nonce. Slack's errors are mapped to the engine's neutral kinds; a 429
becomes :class:`RateLimited` and is waited out by the engine's own limiters. The client has no
rate-limit retry handler (slack_sdk installs none by default), so nothing here retries, and every
post of the engine's (re-sends included) goes through one :class:`RequestWindow`: the workspace's
cap on ``chat.postMessage`` is a sliding second, which the engine's token bucket alone overruns
when posts bunch.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.core.engine.errors import (
    AccountInactive,
    ChannelArchived,
    ChannelMissing,
    DeliveryError,
    DMsClosed,
    MissingPermissions,
    RateLimited,
    TransientDeliveryError,
    UnknownUser,
)
from bot.core.engine.protocols import Pacing, delivered_prefix, part_of
from bot.core.engine.ratelimit import RateLimiter, RequestWindow
from bot.core.i18n import N_, _, speaking
from bot.core.replies import Reply
from bot.core.storage import ErrorKind, OutboxRow, Target
from bot.slack.members import UTC_ZONE
from bot.slack.render import message_kwargs

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger(__name__)

EVENT_TYPE = "ballerina_delivery"
TIER_3_PER_SECOND = 50 / 60  # conversations.open, conversations.history/replies: Tier 3 (50+ a minute)
_HISTORY_PAGE = 200
_CLAIM_MARGIN = 5.0  # seconds before the claim time the history search starts (clock skew)

SLACK_PACING = Pacing(
    # chat.postMessage: about one message a second per channel, short bursts tolerated, and a
    # workspace-wide budget of several hundred a minute (10 a second here).
    rate=10.0,
    burst=10,
    channel_limit=3,
    channel_period=timedelta(seconds=3),
    per_guild=True,
    # conversations.open is paced by the transport under its own tier, and cached.
    dm_requests=1,
)

_PERMANENT: dict[str, type[DeliveryError]] = {
    "channel_not_found": ChannelMissing,
    "not_in_channel": MissingPermissions,
    "is_archived": ChannelArchived,
    "account_inactive": AccountInactive,
    "user_disabled": AccountInactive,
    "user_not_found": UnknownUser,
    "cannot_dm_bot": DMsClosed,
    "messages_tab_disabled": DMsClosed,
}

_DELIVERY_HELP: dict[ErrorKind, str] = {
    ErrorKind.MISSING_CHANNEL: N_("the channel is gone, or private without the bot: /ballerina-admin channel"),
    ErrorKind.FORBIDDEN: N_("the bot is not in the channel: /invite @Ballerina there"),
    ErrorKind.ARCHIVED: N_("the channel was archived: unarchive it or pick another with /ballerina-admin channel"),
    ErrorKind.ACCOUNT_INACTIVE: N_("the member's account was deactivated"),
    ErrorKind.DMS_CLOSED: N_("the member cannot get DMs from the bot (Messages tab off)"),
    ErrorKind.UNKNOWN_USER: N_("Slack knows no such member any more"),
    ErrorKind.POSSIBLY_DUPLICATED: N_(
        "re-sent after a restart without a way to check the channel's history"
        " (the bot needs channels:history, groups:history, im:history): it may show twice"
    ),
}


def delivery_help() -> dict[ErrorKind, str]:
    """What each of the engine's error kinds means on Slack, for /ballerina-admin status, in the
    current language."""
    return {kind: _(help_) for kind, help_ in _DELIVERY_HELP.items()}


def delivery_error(exc: Exception) -> DeliveryError:
    """The engine's (platform-neutral) error for what Slack or the network answered."""
    if isinstance(exc, SlackApiError):
        code = str(exc.response.get("error") or "")
        if exc.response.status_code == 429 or code == "ratelimited":
            retry_after = float(exc.response.headers.get("Retry-After", exc.response.headers.get("retry-after", 1)))
            # Slack limits chat.postMessage per channel: only that channel waits.
            return RateLimited(retry_after, is_global=False)
        if code in _PERMANENT:
            return _PERMANENT[code](code)
        return TransientDeliveryError(f"Slack answered {exc.response.status_code} ({code})")
    return TransientDeliveryError(f"network error: {type(exc).__name__}")


class SlackTransport:
    """The engine's Transport on Slack; DM channel ids from ``conversations.open`` are cached."""

    subscribers_in_thread = True  # Slack has no roles to hand out

    def __init__(self, bot: SlackBot, pacing: Pacing = SLACK_PACING) -> None:
        """``pacing``: Slack's budget for posts differs by workspace; the default stays well under it."""
        self.bot = bot
        self.pacing = pacing
        self._dm_channels: dict[str, str] = {}
        self._tier3 = RateLimiter(TIER_3_PER_SECOND, burst=20)
        self._posts = RequestWindow(max(1, int(pacing.rate)))

    async def send_channel(self, channel_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str:
        """The engine rendered ``reply`` in the workspace's language: its Slack wording follows."""
        with speaking(await self.bot.core.languages.for_server(await self.bot.own_team_id())):
            reader = await self.bot.members.reader_in(UTC_ZONE, reply)  # <!date> shows each reader's zone
            message = message_kwargs(reply, reader)
        return await self._post(channel_id, message, nonce, thread_of)

    async def send_dm(self, user_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str:
        """The engine rendered ``reply`` in the member's language: its Slack wording follows."""
        channel = await self._dm_channel(user_id)
        team_id = await self.bot.own_team_id()
        with speaking(await self.bot.core.languages.for_member(user_id, None, team_id)):
            message = message_kwargs(reply, await self.bot.members.reader(user_id, reply))
        return await self._post(channel, message, nonce, thread_of)

    async def _post(self, channel: str, message: dict[str, Any], nonce: str, thread_of: str | None) -> str:
        try:
            async with self._posts.request():
                answer = await self.bot.client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_of,
                    metadata={"event_type": EVENT_TYPE, "event_payload": {"nonce": nonce}},
                    unfurl_links=False,
                    unfurl_media=False,
                    **message,
                )
        except (SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            raise delivery_error(exc) from None
        return str(answer["ts"])

    async def _dm_channel(self, user_id: str) -> str:
        known = self._dm_channels.get(user_id)
        if known is not None:
            return known
        await self._tier3.acquire()
        try:
            answer = await self.bot.client.conversations_open(users=user_id)
        except SlackApiError as exc:
            error = delivery_error(exc)
            if isinstance(error, RateLimited):  # a workspace-wide method tier: everyone waits
                error = RateLimited(error.retry_after, is_global=True)
            raise error from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise delivery_error(exc) from None
        channel = self._dm_channels[user_id] = str(answer["channel"]["id"])
        return channel

    async def find_delivered(self, row: OutboxRow, since: datetime) -> Sequence[str] | None:
        """The row's posts since its claim, found by their metadata: the first in the channel's
        history, the follow-ups in its thread. None when Slack cannot be asked (no history scope,
        rate limited, not in the channel)."""
        try:
            channel = row.target_id if row.target is Target.CHANNEL else await self._dm_channel(row.target_id)
            found = await self._find(channel, row.nonce, since.timestamp() - _CLAIM_MARGIN)
        except (DeliveryError, SlackApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("delivery %d: cannot look up whether it went out (%s); re-sending", row.id, exc)
            return None
        return delivered_prefix(found)

    async def _find(self, channel: str, nonce: str, oldest: float) -> dict[int, str]:
        found: dict[int, str] = {}
        cursor: str | None = None
        while True:
            await self._tier3.acquire()
            page = await self.bot.client.conversations_history(
                channel=channel, oldest=f"{oldest:.6f}", include_all_metadata=True, limit=_HISTORY_PAGE, cursor=cursor
            )
            for message in page.get("messages") or []:
                if (index := _part_of(message, nonce)) is not None:
                    found[index] = str(message["ts"])
                    if message.get("reply_count"):
                        await self._find_in_thread(channel, str(message["ts"]), nonce, found)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return found

    async def _find_in_thread(self, channel: str, ts: str, nonce: str, found: dict[int, str]) -> None:
        cursor: str | None = None
        while True:
            await self._tier3.acquire()
            page = await self.bot.client.conversations_replies(
                channel=channel, ts=ts, include_all_metadata=True, limit=_HISTORY_PAGE, cursor=cursor
            )
            for message in page.get("messages") or []:
                if (index := _part_of(message, nonce)) is not None:
                    found.setdefault(index, str(message["ts"]))
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if cursor is None:
                return


def _part_of(message: dict[str, Any], nonce: str) -> int | None:
    """Which part of the row with ``nonce`` this message is, if it is one of them (by its metadata)."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != EVENT_TYPE:
        return None
    return part_of(str((metadata.get("event_payload") or {}).get("nonce", "")), nonce)
