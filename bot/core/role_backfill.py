"""Giving the ping role to the members who opted in before a moderator set it.

Opting in gives the role at once, but members who opted in (in the channel) before there was a
role never got it, so reminder posts would not ping them. When a role is set, one background
task per guild gives it to them one member at a time, all of them together at most at the rate
the adapter allows (a share of the platform's request budget, so reminder posts and commands
keep theirs); the platform's own limits stay the adapter's business (discord.py waits out a
429). Each guild's progress is in the database, so a restart continues where it stopped.

A member the platform reports gone from the server is forgotten there (``on_left``), as when a
DM finds them gone. A member who opts out meanwhile never gets the role: giving it and opting out take the same
per-member lock, and the task checks the sign-up again under it.

Changing the role does not take the previous one back: members may have had it before the bot
gave it to them, and taking it could cost them access elsewhere in the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from bot.core.engine.ratelimit import RateLimiter
from bot.core.storage import BackfillState, Store, Via

log = logging.getLogger(__name__)


class Grant(Enum):
    GIVEN = "given"
    LEFT = "left"  # the member left the server: they are forgotten there
    SKIPPED = "skipped"  # opted out, or switched to DMs, since the back-fill read them
    FAILED = "failed"  # an error for this member only; counted, and the back-fill goes on


class GrantRefused(Exception):
    """No member can be given the role now (lost permission, role gone): the back-fill stops.

    The message says why, in words for moderators.
    """


class RoleGrants(Protocol):
    """Gives a guild's ping role to any of its members (a platform port)."""

    async def give(self, guild_id: str, user_id: str, role_id: str) -> Grant:
        """Raises :class:`GrantRefused` when the platform refuses the role to everyone."""
        ...


@dataclass
class _Held:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class RoleBackfills:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._grants: RoleGrants | None = None
        self._on_left: Callable[[str, str], Awaitable[None]] | None = None
        self._pace: RateLimiter | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._locks: dict[tuple[str, str], _Held] = {}

    @contextlib.asynccontextmanager
    async def member_lock(self, guild_id: str, user_id: str) -> AsyncIterator[None]:
        """Held while a member's role or sign-up changes, so a grant never races an opt-out."""
        key = (guild_id, user_id)
        held = self._locks.setdefault(key, _Held())
        held.users += 1
        try:
            async with held.lock:
                yield
        finally:
            held.users -= 1
            if held.users == 0:
                del self._locks[key]

    async def start(
        self, grants: RoleGrants, rate: float, on_left: Callable[[str, str], Awaitable[None]] | None = None
    ) -> None:
        """Resume every back-fill left running, and run new ones through ``grants`` from now on,
        at most ``rate`` grants a second in all; ``on_left(guild_id, user_id)`` for a member found
        gone from the server."""
        self._grants = grants
        self._on_left = on_left
        self._pace = RateLimiter(rate, burst=max(1, int(rate)))
        for guild_id in await self.store.running_role_backfills():
            self._spawn(guild_id)

    async def stop(self) -> None:
        """Stop the tasks; their progress is saved, and the next ``start`` resumes them."""
        self._grants = None
        for guild_id in list(self._tasks):
            await self._cancel(guild_id)

    async def restart(self, guild_id: str) -> None:
        """Run the guild's back-fill as now stored (after the ping role changed)."""
        await self._cancel(guild_id)
        if self._grants is not None:
            self._spawn(guild_id)

    async def wait_idle(self) -> None:
        """Wait until every back-fill has finished or stopped."""
        while self._tasks:
            await asyncio.wait(list(self._tasks.values()))

    async def _cancel(self, guild_id: str) -> None:
        task = self._tasks.pop(guild_id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _spawn(self, guild_id: str) -> None:
        task = asyncio.create_task(self._run(guild_id), name=f"role-backfill:{guild_id}")
        self._tasks[guild_id] = task
        task.add_done_callback(lambda done: self._finished(guild_id, done))

    def _finished(self, guild_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(guild_id) is task:
            del self._tasks[guild_id]
        if not task.cancelled() and task.exception() is not None:
            log.error("the ping role back-fill of guild %s failed", guild_id, exc_info=task.exception())

    async def _run(self, guild_id: str) -> None:
        grants, pace = self._grants, self._pace
        assert grants is not None and pace is not None  # _spawn runs only between start and stop
        while True:
            backfill = await self.store.role_backfill(guild_id)
            if backfill is None or backfill.state is not BackfillState.RUNNING:
                return
            user_id = await self.store.next_channel_subscriber(guild_id, backfill.last_user_id)
            if user_id is None:
                await self.store.end_role_backfill(backfill.id, BackfillState.DONE)
                log.info("guild %s: gave the ping role to the members who opted in before it", guild_id)
                return
            await pace.acquire()  # before the lock: an opt-out never waits for the pace
            async with self.member_lock(guild_id, user_id):
                subscription = await self.store.get_subscription(guild_id, user_id)
                outcome = Grant.SKIPPED
                if subscription is not None and subscription.via is Via.CHANNEL:
                    try:
                        outcome = await grants.give(guild_id, user_id, backfill.role_id)
                    except GrantRefused as exc:
                        await self.store.end_role_backfill(backfill.id, BackfillState.STOPPED, str(exc))
                        log.warning("guild %s: the ping role back-fill stopped: %s", guild_id, exc)
                        return
                await self.store.advance_role_backfill(backfill.id, user_id, failed=outcome is Grant.FAILED)
            if outcome is Grant.LEFT and self._on_left is not None:
                await self._on_left(guild_id, user_id)
