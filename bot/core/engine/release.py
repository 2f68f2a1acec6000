"""The 'release' event kind: reminders before a film comes out.

Fan-out: one post to the guild's reminder channel (if set) and one DM per member subscribed by
DM. The text comes from a renderer injected by the film layer; this module only decides who may
be pinged: channel posts the guild's ping group, DMs the recipient, nobody else. On a platform
that hands subscribers no ping role, a channel post without a ping group pings nobody itself and
names the channel subscribers in follow-ups in its thread, each of them exactly once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.core.replies import Mentions, Reply, thread_mentions
from bot.core.storage import (
    RELEASE_KIND,
    FanOut,
    GuildSettings,
    OutboxRow,
    Platform,
    Reminder,
    Store,
    Target,
    Via,
)


@dataclass(frozen=True)
class ReleaseNotice:
    """Everything a release reminder's text may depend on, read when it is sent."""

    film_id: str
    release_at: datetime
    offset: timedelta  # how long before the release this reminder is
    target: Target
    late: bool  # posted late because the bot was offline
    settings: GuildSettings


ReleaseRenderer = Callable[[ReleaseNotice], Sequence[Reply]]


class ReleaseKind:
    name = RELEASE_KIND

    def __init__(
        self, store: Store, render_text: ReleaseRenderer, subscribers_in_thread: Collection[Platform] = ()
    ) -> None:
        self._store = store
        self._render_text = render_text
        self._subscribers_in_thread = frozenset(subscribers_in_thread)

    async def fan_out(self, fan: FanOut) -> None:
        await fan.to_guild_channel()
        await fan.dm_subscribers()

    async def render(self, reminder: Reminder, row: OutboxRow) -> Sequence[Reply]:
        settings = await self._store.find_guild_settings(reminder.guild_id)
        if settings is None:  # the guild was forgotten since the fan-out
            return ()
        follow_ups: list[Reply] = []
        if row.target is Target.DM:
            subscription = await self._store.get_subscription(reminder.guild_id, row.target_id)
            if subscription is None or subscription.via is not Via.DM:  # changed their mind since
                return ()
            mentions = Mentions(user_ids=(row.target_id,))
        else:
            mentions = Mentions(group_ids=(settings.ping_role_id,) if settings.ping_role_id else ())
            if settings.ping_role_id is None and row.platform in self._subscribers_in_thread:
                follow_ups = thread_mentions(await self._store.channel_subscribers(reminder.guild_id))
        notice = ReleaseNotice(
            film_id=reminder.event_id,
            release_at=reminder.event_at,
            offset=reminder.offset,
            target=row.target,
            late=row.late,
            settings=settings,
        )
        return tuple(replace(reply, mentions=mentions) for reply in self._render_text(notice)) + tuple(follow_ups)
