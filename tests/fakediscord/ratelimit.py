"""Rate limiting as Discord does it: a global per-second limit and fixed-window per-route buckets."""

from __future__ import annotations

import hashlib
import math
import time
from collections import deque
from dataclasses import dataclass

VIA_HEADER = "1.1 google"


def bucket_hash(route_key: str) -> str:
    return hashlib.sha1(route_key.encode()).hexdigest()[:16]


@dataclass
class BucketState:
    limit: int
    per: float
    window_start: float = -math.inf
    count: int = 0

    def _roll(self, now: float) -> None:
        if now >= self.window_start + self.per:
            self.window_start = now
            self.count = 0

    def try_acquire(self, now: float) -> bool:
        self._roll(now)
        if self.count >= self.limit:
            return False
        self.count += 1
        return True

    def remaining(self, now: float) -> int:
        self._roll(now)
        return max(0, self.limit - self.count)

    def reset_after(self, now: float) -> float:
        return max(0.0, self.window_start + self.per - now)


class GlobalLimiter:
    """At most ``limit`` requests in any sliding one-second window."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._hits: deque[float] = deque()

    def try_acquire(self, now: float) -> float | None:
        """None when allowed (and counted), else the seconds to wait."""
        while self._hits and self._hits[0] <= now - 1.0:
            self._hits.popleft()
        if len(self._hits) >= self.limit:
            return max(0.001, self._hits[0] + 1.0 - now)
        self._hits.append(now)
        return None


def success_headers(bucket: str, limit: int, remaining: int, reset_after: float) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket,
    }


def route_429_headers(bucket: str, limit: int, retry_after: float, scope: str = "user") -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
        "X-RateLimit-Reset-After": f"{retry_after:.3f}",
        "X-RateLimit-Bucket": bucket,
        "X-RateLimit-Scope": scope,
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "Via": VIA_HEADER,
    }


def global_429_headers(retry_after: float) -> dict[str, str]:
    return {
        "X-RateLimit-Global": "true",
        "X-RateLimit-Scope": "global",
        "Retry-After": str(max(1, math.ceil(retry_after))),
        "Via": VIA_HEADER,
    }
