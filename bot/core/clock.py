"""Time source for everything that depends on "now".

Production code reads time only through a :class:`Clock`, so tests can move time
forward without sleeping and without depending on today's date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""
        ...

    def on_jump(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` whenever time moves other than by itself (manual clocks only)."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def on_jump(self, listener: Callable[[], None]) -> None:
        """Wall-clock time never jumps under our control, so listeners are never called."""


class ManualClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs a timezone-aware start")
        self._now = start.astimezone(UTC)
        self._listeners: list[Callable[[], None]] = []

    def now(self) -> datetime:
        return self._now

    def on_jump(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def set(self, instant: datetime) -> None:
        self._now = instant.astimezone(UTC)
        for listener in self._listeners:
            listener()

    def advance(self, delta: timedelta) -> None:
        self.set(self._now + delta)
