"""Rate limits as Slack applies them: per-method tiers per workspace, chat.postMessage per channel.

Slack answers an over-limit call with HTTP 429, ``Retry-After: <whole seconds>`` and
``{"ok": false, "error": "ratelimited"}``; slack_sdk's ``AsyncRateLimitErrorRetryHandler`` sleeps
``int(Retry-After)`` (+ jitter) and retries, otherwise the caller gets a ``SlackApiError``.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

TIER_LIMITS: dict[int, int] = {1: 1, 2: 20, 3: 50, 4: 100}
"""Calls per minute of each of Slack's documented tiers (the "+" of "20+" left out)."""

METHOD_TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "usergroups.list": 2,
    "conversations.history": 3,
    "conversations.replies": 3,
    "conversations.info": 3,
    "conversations.open": 3,
    "chat.update": 3,
    "chat.delete": 3,
    "conversations.members": 4,
    "users.info": 4,
    "chat.postEphemeral": 4,
    "views.open": 4,
    "views.update": 4,
    "views.push": 4,
    "views.publish": 4,
}
"""Tiers of the methods the fake answers, from each method's reference page. auth.test,
chat.postMessage and chat.getPermalink are "special" (postMessage: per channel, below)."""


class SlidingWindow:
    """At most ``limit`` calls in any window of ``per`` seconds."""

    def __init__(self, limit: int, per: float) -> None:
        self.limit = limit
        self.per = per
        self._hits: deque[float] = deque()

    def try_acquire(self, now: float) -> float | None:
        """None when allowed (and counted), else the seconds until a call would be."""
        while self._hits and self._hits[0] <= now - self.per:
            self._hits.popleft()
        if len(self._hits) >= self.limit:
            return self._hits[0] + self.per - now
        self._hits.append(now)
        return None


class TokenBucket:
    """``rate`` calls per second on average with bursts of up to ``burst``: Slack's "1 message per
    second per channel, short bursts allowed"."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._last: float | None = None

    def try_acquire(self, now: float) -> float | None:
        if self._last is not None:
            self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return (1.0 - self._tokens) / self.rate


@dataclass
class RateLimitStorm:
    """The next ``remaining`` calls of ``method`` (of ``team_id``, or any) get a 429."""

    method: str
    remaining: int
    retry_after: int
    team_id: str | None = None
    served: int = 0

    def matches(self, method: str, team_id: str | None) -> bool:
        return self.remaining > 0 and self.method == method and self.team_id in (None, team_id)


def retry_after_header(seconds: float) -> str:
    """Slack's Retry-After is whole seconds, never below 1."""
    return str(max(1, math.ceil(seconds)))
