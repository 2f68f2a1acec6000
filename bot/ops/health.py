"""``/healthz``: is the bot connected, its database answering and its reminder engine moving?"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from bot.core.services import Core
from bot.core.storage.queue import DeliveryQueue

DATABASE_TIMEOUT = 5.0
"""Seconds the database may take to answer a probe before it counts as unreachable."""


class PlatformConnection(Protocol):
    """The adapter's live link to its platform (Discord's gateway, Slack's socket)."""

    @property
    def connected(self) -> bool: ...

    @property
    def latency(self) -> float:
        """Seconds between a heartbeat and its acknowledgement; NaN or infinite while unknown."""
        ...


@dataclass(frozen=True)
class HealthReport:
    """What ``/healthz`` answers: healthy when no reason to worry was found."""

    connected: bool
    latency: float
    database_reachable: bool
    engine_running: bool
    delivering: bool
    """False with ``DELIVERY=off``: no engine is expected here, other processes deliver."""
    oldest_due_age: timedelta | None
    """How long the longest-waiting due reminder or delivery has waited; None if unknown."""
    reasons: tuple[str, ...] = field(default=())

    @property
    def healthy(self) -> bool:
        return not self.reasons

    def as_json(self) -> dict[str, object]:
        age = self.oldest_due_age
        return {
            "status": "ok" if self.healthy else "unhealthy",
            "reasons": list(self.reasons),
            "gateway": {
                "connected": self.connected,
                "latency_seconds": round(self.latency, 4) if math.isfinite(self.latency) else None,
            },
            "database": {"reachable": self.database_reachable},
            "engine": {"running": self.engine_running, "delivery": "on" if self.delivering else "off"},
            "oldest_due_seconds": None if age is None else round(age.total_seconds(), 3),
        }


class HealthCheck:
    def __init__(self, core: Core, connection: PlatformConnection, database_timeout: float = DATABASE_TIMEOUT) -> None:
        self._core = core
        self._connection = connection
        self._queue = DeliveryQueue(core.db)
        self._database_timeout = database_timeout

    async def check(self) -> HealthReport:
        core = self._core
        reasons: list[str] = []
        connected = self._connection.connected
        if not connected:
            reasons.append("not connected to the platform's gateway")
        now = core.clock.now()
        database_reachable, age = True, None
        try:
            # The probe is a real query on the bot's own connection: it waits behind the bot's
            # transactions like any command would.
            due = await asyncio.wait_for(self._queue.oldest_due(now), self._database_timeout)
        except TimeoutError:
            database_reachable = False
            reasons.append(f"database unreachable: no answer within {self._database_timeout:g} s")
        except Exception as exc:
            database_reachable = False
            reasons.append(f"database unreachable: {type(exc).__name__}: {exc}")
        else:
            age = max(now - due, timedelta(0)) if due is not None else timedelta(0)
            limit = core.settings.health_max_due_age
            if age > limit:
                reasons.append(f"due reminders have waited {_minutes(age)}, longer than {_minutes(limit)}")
        engine_running = core.engine is not None and core.engine.running
        delivering = core.settings.delivery
        if delivering and not engine_running:
            reasons.append("the reminder engine is not running")
        return HealthReport(
            connected, self._connection.latency, database_reachable, engine_running, delivering, age, tuple(reasons)
        )


def _minutes(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 60:.1f} min"
