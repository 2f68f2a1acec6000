"""``/metrics``: the bot's figures in Prometheus' text format, in a registry of its own.

Counted in the process (reset by a restart, as Prometheus counters may be): commands served and
their latency, 429 answers from the platform, seconds the send limiter held messages back.

Read from the database at each scrape (they survive restarts): outbox rows by state, settled
deliveries by outcome, and the age of the oldest due work. The outbox is the delivery record the
moderators' status view reads too, so the metrics can never disagree with it; rows of a server
that removed the bot are deleted with it, so these figures are gauges, not counters. Counting them
scans the outbox (about 80 ms per 100,000 rows here), so a scrape reads on a read-only connection
of its own and never holds the lock the bot's commands and deliveries wait on.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Iterable
from enum import StrEnum

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from bot.core.services import Core
from bot.core.storage.models import OutboxState
from bot.core.storage.queue import DeliveryQueue, OutboxCount
from bot.ops.health import DATABASE_TIMEOUT, PlatformConnection

log = logging.getLogger(__name__)

# Discord wants an answer to an interaction within 3 s: the buckets are dense below that.
COMMAND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
RATE_LIMIT_SCOPES = frozenset({"global", "user", "shared"})


class CommandOutcome(StrEnum):
    OK = "ok"
    REFUSED = "refused"  # a check or an option the member may not use: answered, nothing done
    ERROR = "error"  # a bug: the member was told something went wrong


class BotMetrics:
    """The figures of one bot; several bots in one process (tests) each keep their own."""

    def __init__(self, core: Core, connection: PlatformConnection) -> None:
        self.registry = CollectorRegistry()
        self._commands = Counter(
            "ballerina_commands", "Commands served, by command and outcome.", ["command", "outcome"],
            registry=self.registry,
        )  # fmt: skip
        self._command_seconds = Histogram(
            "ballerina_command_duration_seconds", "Time from a command's arrival to the end of its answer.",
            ["command"], buckets=COMMAND_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self._rate_limited = Counter(
            "ballerina_rate_limited", "429 answers from the platform, by scope.", ["scope"], registry=self.registry
        )
        gateway = Gauge(
            "ballerina_gateway_latency_seconds", "Heartbeat round trip to the platform's gateway.",
            registry=self.registry,
        )  # fmt: skip
        # Unknown (before the first heartbeat is acknowledged) is NaN, not discord.py's infinity.
        gateway.set_function(lambda: connection.latency if math.isfinite(connection.latency) else math.nan)
        self._database = _DatabaseFigures(core)
        self.registry.register(self._database)
        self.registry.register(_LimiterFigures(core))

    def command_served(self, command: str, outcome: CommandOutcome, started: float | None) -> None:
        """Record one command; ``started`` is a ``time.perf_counter()`` reading from its arrival."""
        self._commands.labels(command, outcome.value).inc()
        if started is not None:
            self._command_seconds.labels(command).observe(time.perf_counter() - started)

    def rate_limited(self, scope: str) -> None:
        """The platform answered 429; ``scope`` as it said (global, user, shared), else 'other'."""
        self._rate_limited.labels(scope if scope in RATE_LIMIT_SCOPES else "other").inc()

    async def exposition(self) -> bytes:
        """The text a scrape receives, with the database figures read just now."""
        await self._database.refresh()
        return generate_latest(self.registry)


class _DatabaseFigures(Collector):
    """Figures read from the database when scraped; omitted when the database does not answer."""

    def __init__(self, core: Core) -> None:
        self._core = core
        self._counts: list[OutboxCount] | None = None
        self._oldest_due_age = 0.0

    async def refresh(self) -> None:
        now = self._core.clock.now()
        try:
            async with asyncio.timeout(DATABASE_TIMEOUT):
                async with self._core.db.reader() as reader:
                    queue = DeliveryQueue(reader)
                    self._counts = await queue.counts()
                    due = await queue.oldest_due(now)
        except Exception as exc:
            log.warning("metrics: the database did not answer (%s: %s)", type(exc).__name__, exc)
            self._counts = None
            return
        self._oldest_due_age = max((now - due).total_seconds(), 0.0) if due is not None else 0.0

    def collect(self) -> Iterable[GaugeMetricFamily]:
        counts = self._counts
        if counts is None:
            return
        rows = GaugeMetricFamily("ballerina_outbox_rows", "Outbox rows (posts and DMs) by state.", labels=["state"])
        for state in OutboxState:
            rows.add_metric([state.value], sum(c.rows for c in counts if c.state is state))
        yield rows
        outcomes = GaugeMetricFamily(
            "ballerina_deliveries",
            "Settled deliveries in the outbox: sent on time, sent late, skipped, failed (by reason).",
            labels=["outcome", "reason"],
        )
        by_outcome: dict[tuple[str, str], int] = {("sent", ""): 0, ("late", ""): 0, ("skipped", ""): 0}
        for count in counts:
            key = _outcome(count)
            if key is not None:
                by_outcome[key] = by_outcome.get(key, 0) + count.rows
        for (outcome, reason), total in sorted(by_outcome.items()):
            outcomes.add_metric([outcome, reason], total)
        yield outcomes
        yield GaugeMetricFamily(
            "ballerina_oldest_due_seconds",
            "How long the longest-waiting due reminder or delivery has waited (0: nothing due).",
            value=self._oldest_due_age,
        )


def _outcome(count: OutboxCount) -> tuple[str, str] | None:
    if count.state is OutboxState.SENT:
        return ("late" if count.late else "sent", "")
    if count.state is OutboxState.SKIPPED:
        return ("skipped", "")
    if count.state is OutboxState.FAILED:
        return ("failed", count.error_kind.value if count.error_kind is not None else "unknown")
    return None  # not settled yet


class _LimiterFigures(Collector):
    """The engine's send limiter, read when scraped (a restarted engine starts from zero)."""

    def __init__(self, core: Core) -> None:
        self._core = core

    def collect(self) -> Iterable[CounterMetricFamily]:
        engine = self._core.engine
        yield CounterMetricFamily(
            "ballerina_send_limiter_wait_seconds",
            "Seconds reminder deliveries waited for the global send limiter, in all.",
            value=engine.limiter_waited if engine is not None else 0.0,
        )
