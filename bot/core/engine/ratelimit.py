"""Pacing of outgoing messages on the event loop's monotonic clock.

We keep under the platform's limits ourselves rather than collecting 429s: a global token
bucket in front of every send, and a per-channel window so one busy channel waits on its own
instead of taking the whole budget. A token bucket lets departures bunch (an event-loop stall,
network jitter), so where the platform counts requests in a sliding second, :class:`RequestWindow`
goes around each request as well.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator


class RateLimiter:
    """A token bucket of ``rate`` tokens a second holding at most ``burst``.

    When the bucket is empty a caller borrows a token (the count goes negative) and sleeps until
    it is paid back, so waiters leave at exactly ``rate`` without polling. :meth:`pause` (a global
    429) voids the borrowed tokens: their holders queue again once the pause is over.
    """

    def __init__(self, rate: float, burst: int) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self._rate = rate
        self._burst = burst
        self._tokens = float(burst)
        self._updated: float | None = None
        self._paused_until = 0.0
        self._epoch = 0  # bumped by pause() to void the tokens borrowed before it
        self.waited = 0.0
        """Seconds callers have spent in :meth:`acquire` in all, for the metrics endpoint."""

    def _refill(self, now: float) -> None:
        elapsed = 0.0 if self._updated is None else max(0.0, now - self._updated)
        self._tokens = min(float(self._burst), self._tokens + elapsed * self._rate)
        self._updated = now if self._updated is None else max(self._updated, now)

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await self._take(loop)
        finally:
            self.waited += loop.time() - started

    async def _take(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            now = loop.time()
            if now < self._paused_until:
                await asyncio.sleep(self._paused_until - now)
                continue
            self._refill(now)
            self._tokens -= 1
            if self._tokens >= 0:
                return
            epoch = self._epoch
            await asyncio.sleep(-self._tokens / self._rate)
            if epoch == self._epoch:
                return

    def pause(self, seconds: float) -> None:
        """Nothing passes for ``seconds``; afterwards sending resumes at ``rate``, without a burst."""
        until = asyncio.get_running_loop().time() + seconds
        if until <= self._paused_until:
            return
        self._paused_until = until
        self._tokens = 0.0
        self._updated = until
        self._epoch += 1


class ChannelPacer:
    """At most ``limit`` messages per ``period`` seconds into any one channel (a sliding window).

    Only channels used within the last ``period`` are remembered, so memory does not grow with
    the number of channels ever served.
    """

    _MIN_PRUNE_SIZE = 1024

    def __init__(self, limit: int, period: float) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be at least 1 and period positive")
        self._limit = limit
        self._period = period
        self._sent: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}
        self._prune_at = self._MIN_PRUNE_SIZE

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` may take another message (0.0: right now)."""
        blocked = self._blocked.get(key, now) - now
        times = self._sent.get(key)
        window = 0.0
        if times is not None and len(times) >= self._limit:
            window = times[0] + self._period - now
        return max(blocked, window, 0.0)

    def record(self, key: str, now: float) -> None:
        times = self._sent.get(key)
        if times is None:
            times = self._sent[key] = deque(maxlen=self._limit)
        times.append(now)
        if len(self._sent) >= self._prune_at:
            self._prune(now)

    def block(self, key: str, until: float) -> None:
        """The platform rate-limited this channel: hold it until ``until``."""
        self._blocked[key] = max(until, self._blocked.get(key, until))

    def _prune(self, now: float) -> None:
        self._sent = {key: times for key, times in self._sent.items() if times[-1] + self._period > now}
        self._blocked = {key: until for key, until in self._blocked.items() if until > now}
        # Doubling the threshold keeps pruning amortised O(1) per message.
        self._prune_at = max(self._MIN_PRUNE_SIZE, 2 * len(self._sent))


class RequestWindow:
    """At most ``limit`` requests in any sliding ``period``, each counted from its start until
    ``period`` after it ends.

    The platform sees a request arrive somewhere between its start and its end, so however the
    network delays it, no ``period`` at the platform's end holds more than ``limit`` of them.
    """

    def __init__(self, limit: int, period: float = 1.0) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be at least 1 and period positive")
        self.limit = limit
        self.period = period
        self._slots = asyncio.Semaphore(limit)

    async def acquire(self) -> None:
        """Wait for a slot; call :meth:`release` once the request has ended (or failed)."""
        await self._slots.acquire()

    def release(self) -> None:
        asyncio.get_running_loop().call_later(self.period, self._slots.release)

    @contextlib.asynccontextmanager
    async def request(self) -> AsyncIterator[None]:
        """Holds a slot around one request."""
        await self.acquire()
        try:
            yield
        finally:
            self.release()
