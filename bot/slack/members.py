"""Workspace members as the bot needs them: name, time zone, admin flags, and who moderates.

``users.info`` is Tier 4 (about 100 calls a minute per workspace), so answers are cached for a
while (:data:`CACHE_FOR`) instead of asked per message; it is asked with ``include_locale``, so the
same cached answer gives the member's language (``ko-KR`` → Korean) for every request. Slack
cannot restrict a command to a role, so the bot decides who moderates: workspace admins and
owners, plus the members an admin added (stored in the core's ``moderators`` table).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.clock import Clock
from bot.core.i18n import Language, language_of
from bot.core.replies import Reply
from bot.core.storage import Store
from bot.slack.render import Reader, mentioned_users

log = logging.getLogger(__name__)

CACHE_FOR = timedelta(minutes=5)
UTC_ZONE = ZoneInfo("UTC")


@dataclass(frozen=True)
class SlackMember:
    id: str
    name: str
    zone: ZoneInfo
    is_admin: bool
    """A workspace admin or owner."""
    is_bot: bool
    is_guest: bool
    """A single- or multi-channel guest (``is_restricted``, ``is_ultra_restricted``)."""
    language: Language | None = None
    """The language of the member's Slack (its ``locale``), None when Slack did not say."""


def member_from_user(user: dict[str, object]) -> SlackMember:
    profile = user.get("profile")
    display = profile.get("display_name") if isinstance(profile, dict) else None
    name = str(display or user.get("real_name") or user.get("name") or user["id"])
    try:
        zone = ZoneInfo(str(user.get("tz") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        zone = UTC_ZONE
    return SlackMember(
        id=str(user["id"]),
        name=name,
        zone=zone,
        is_admin=any(bool(user.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner")),
        is_bot=bool(user.get("is_bot")),
        is_guest=bool(user.get("is_restricted") or user.get("is_ultra_restricted")),
        language=language_of(str(user.get("locale") or "")),
    )


class SlackMembers:
    """The workspace's members through one Web API client, cached for :data:`CACHE_FOR`."""

    def __init__(self, client: AsyncWebClient, store: Store, clock: Clock) -> None:
        self.client = client
        self.store = store
        self.clock = clock
        self._cache: dict[str, tuple[datetime, SlackMember | None]] = {}

    async def get(self, user_id: str) -> SlackMember | None:
        """The member, or None when Slack knows no such user (or cannot say right now)."""
        now = self.clock.now()
        cached = self._cache.get(user_id)
        if cached is not None and now - cached[0] < CACHE_FOR:
            return cached[1]
        try:
            answer = await self.client.users_info(user=user_id, include_locale=True)
        except SlackApiError as exc:
            log.info("users.info %s: %s", user_id, exc.response.get("error"))
            if exc.response.get("error") != "user_not_found":
                return None  # not cached: a rate limit or an outage heals
            member = None
        else:
            member = member_from_user(answer["user"])
        self._cache[user_id] = (now, member)
        return member

    async def is_moderator(self, team_id: str, user_id: str) -> bool:
        """Workspace admins and owners, and the members an admin made moderators of the bot."""
        if user_id in await self.store.moderator_ids(team_id):
            return True
        member = await self.get(user_id)
        return member is not None and member.is_admin

    async def reader(self, user_id: str, reply: Reply) -> Reader:
        """How ``reply`` reads for ``user_id``: their zone, and the names of members it names."""
        member = await self.get(user_id)
        return await self.reader_in(member.zone if member else UTC_ZONE, reply)

    async def reader_in(self, zone: tzinfo, reply: Reply) -> Reader:
        """How ``reply`` reads for a channel: fallbacks in ``zone``, and the names of members it names."""
        names = {}
        for mentioned in mentioned_users(reply) - set(reply.mentions.user_ids):
            other = await self.get(mentioned)
            if other is not None:
                names[mentioned] = other.name
        return Reader(zone=zone, now=self.clock.now(), names=names)
