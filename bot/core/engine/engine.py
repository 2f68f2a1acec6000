"""The reminder engine: settles due reminders into outbox rows and delivers those rows.

Time: what is due is decided by our code with the injected :class:`~bot.core.clock.Clock`.
APScheduler is only the alarm clock: one job whose next run is the next due time translated to
real time (real now + (due - clock now)). APScheduler 3 hands any delay up to
``threading.TIMEOUT_MAX`` (about 292 years) to ``loop.call_later``, which counts monotonic time
while APScheduler checks the wall clock, so a long sleep drifts across suspends and clock
changes; the alarm is therefore capped at ``max_sleep`` and simply re-checks. A jump of a manual
clock re-arms the alarm to ring at once, so tests move time without sleeping.

Delivery: due rows are claimed in batches, committed as 'sending' before any network call, and
handed to a pool of workers; each batch of fanned-out reminders is claimed before the next batch
is fanned out, so the first posts leave while a large fan-out is still being written. Each
message passes the per-channel pacer, then the global rate limiter. All delivery state lives in
the database; nothing here reacts to gateway reconnects.

Several processes: each claim is leased to this run of the process (see
:class:`~bot.core.storage.queue.Claimant`) and renewed every third of the lease while the row is
in hand; each cycle first takes over rows whose lease ran out (their process died) or that an
earlier run of this process left, and looks up which of their messages went out before sending
the rest with the same nonces, exactly as after a restart. A fan-out that wrote rows, and a stop
that released some, is announced to the other processes (PostgreSQL ``NOTIFY``), whose engines
listen and look at once.

Database failures (a locked file, a full disk) never lose a row: a cycle that fails is retried
with a backoff, and a worker whose outcome (sent, failed, retry later) cannot be written keeps
that outcome and writes it again with a backoff, the row still counted in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.clock import Clock
from bot.core.engine.errors import PermanentDeliveryError, RateLimited, TransientDeliveryError
from bot.core.engine.protocols import EventKind, Transport
from bot.core.engine.ratelimit import ChannelPacer, RateLimiter
from bot.core.replies import Reply
from bot.core.storage import (
    Claim,
    Claimant,
    Database,
    Delivery,
    DeliveryQueue,
    ErrorKind,
    FanOut,
    NextDue,
    OutboxRow,
    Platform,
    ReminderOutcome,
    ReminderState,
    Target,
)

log = logging.getLogger(__name__)

_ALARM_JOB = "reminder-engine-alarm"
_DB_RETRY_FIRST = 0.5  # seconds before retrying a failed database step (a locked file, say) ...
_DB_RETRY_MAX = 30.0  # ... doubled after each further failure, up to this
_DETAIL_LIMIT = 300  # characters of an error message kept for the status view
_MIN_CLAIM_WINDOW = 16  # claimed rows in hand at the least (see _claim_window)

_Settle = Callable[[], Awaitable[None]]
"""Records a delivery's outcome in the database; safe to call again if it raised."""


def _db_retry_delay(failures: int) -> float:
    """Seconds to wait after the ``failures``-th database failure in a row (counting from 1)."""
    return min(_DB_RETRY_FIRST * 2.0 ** (failures - 1), _DB_RETRY_MAX)


@dataclass(frozen=True)
class EngineConfig:
    grace: timedelta = timedelta(hours=1)
    """A reminder (or a delivery of it) more overdue than this is skipped, never posted."""
    late_after: timedelta = timedelta(minutes=1)
    """Posts of a reminder settled more overdue than this carry the ``late`` flag."""
    workers: int = 64
    """Concurrent sends: enough to keep the platforms' rates busy despite network latency."""
    batch_size: int = 200
    """Rows per database round; bounds memory and the time between yields to the loop."""
    max_attempts: int = 5
    backoff: timedelta = timedelta(seconds=10)
    """Wait after the first transient failure, doubled after each further one."""
    max_backoff: timedelta = timedelta(minutes=10)
    max_sleep: timedelta = timedelta(hours=1)
    """The alarm rings at least this often, whatever is due."""
    stop_timeout: timedelta = timedelta(seconds=5)
    """How long :meth:`ReminderEngine.stop` lets sends already on the wire finish and be recorded."""
    process: str = "main"
    """This process's name among those sharing the database, kept across its restarts."""
    lease: timedelta = timedelta(seconds=30)
    """How long a claim holds unless renewed: after it, another process takes the row over."""
    claim_ahead: timedelta = timedelta(seconds=2)
    """Where one rate limits every send (Discord's global limit), claim no more rows than that
    rate sends in this time: the rest of a large fan-out is left to the other processes too."""


@dataclass(eq=False)
class _Job:
    """A claimed delivery on its way out, possibly paused between parts."""

    delivery: Delivery
    parts: tuple[Reply, ...] | None = None
    message_ids: list[str] = field(default_factory=list)
    calling: bool = False
    """A transport call is under way, or was cut off by stop(): a message may have left."""
    settle: _Settle | None = None
    """The outcome, once known, until the database has recorded it."""
    record_failures: int = 0

    @property
    def row(self) -> OutboxRow:
        return self.delivery.row

    @property
    def channel_key(self) -> str:
        return f"{self.row.platform}:{self.row.target}:{self.row.target_id}"

    @property
    def limiter_key(self) -> str:
        return f"{self.row.platform}:{self.row.guild_id}"


def _detail(exc: BaseException) -> str:
    return (str(exc) or type(exc).__name__)[:_DETAIL_LIMIT]


def _log_reminder(outcome: ReminderOutcome) -> None:
    r = outcome.reminder
    if r.state is ReminderState.FIRED:
        log.info(
            "reminder %d fired: guild %s, %s %s, %s before, %d deliveries%s",
            r.id,
            r.guild_id,
            r.kind,
            r.event_id,
            r.offset,
            outcome.rows,
            " (late)" if outcome.late else "",
        )
    else:
        log.info(
            "reminder %d skipped (%s): guild %s, %s %s, %s before",
            r.id,
            r.note,
            r.guild_id,
            r.kind,
            r.event_id,
            r.offset,
        )


class ReminderEngine:
    """Runs on the event loop between :meth:`start` and :meth:`stop`; one per database file."""

    def __init__(
        self,
        db: Database,
        transports: Mapping[Platform, Transport],
        kinds: Iterable[EventKind],
        clock: Clock,
        config: EngineConfig | None = None,
        on_recipient_left: Callable[[OutboxRow], Awaitable[None]] | None = None,
    ) -> None:
        """``transports``: one per platform this process serves; rows of other platforms wait.
        ``on_recipient_left`` runs when a DM failed because the member left the guild."""
        if not transports:
            raise ValueError("the engine needs at least one transport")
        self._db = db
        self._queue = DeliveryQueue(db)  # replaced at each start: a claimant for that run
        self._transports = dict(transports)
        self._pacers = {
            platform: ChannelPacer(t.pacing.channel_limit, t.pacing.channel_period.total_seconds())
            for platform, t in self._transports.items()
        }
        self._limiters: dict[str, RateLimiter] = {}
        self._unverified: set[int] = set()  # rows re-sent after a crash without a way to check
        self._on_recipient_left = on_recipient_left
        self._kinds: dict[str, EventKind] = {}
        for kind in kinds:
            if kind.name in self._kinds:
                raise ValueError(f"two handlers for event kind {kind.name!r}")
            self._kinds[kind.name] = kind
        self._clock = clock
        self._config = config = config or EngineConfig()
        self._max_inflight = self._claim_window()
        self._scheduler: AsyncIOScheduler | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._jobs: asyncio.Queue[_Job] = asyncio.Queue()
        self._deferred: dict[int, tuple[asyncio.TimerHandle, _Job]] = {}
        # Claimed rows not yet recorded, by id: queued, sending, deferred or waiting to be recorded.
        self._claimed: dict[int, _Job] = {}
        self._backlog = False  # due rows were left unclaimed for want of room
        self._cycle_failures = 0  # failed cycles in a row, for the backoff
        self._stopping = False
        self._drained = asyncio.Event()  # while stopping: the last claimed row was settled or set aside
        self._set_aside: list[_Job] = []  # claimed rows stop() took back before they were sent
        self._finished_while_stopping = 0
        self._generation = 0  # bumped by notify_changed(), so a cycle knows it ran on old data
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._next_alarm: datetime | None = None
        self._listening: contextlib.AsyncExitStack | None = None
        clock.on_jump(self.notify_changed)

    def _claim_window(self) -> int:
        """Claimed rows held at most: enough for the workers and the next batch; but where one
        rate limits every send (not per guild), only the next ``claim_ahead`` of sending at it
        (``_MIN_CLAIM_WINDOW`` at the least), so that every process sharing the database keeps
        busy until a fan-out ends."""
        cfg = self._config
        window = max(2 * cfg.batch_size, cfg.workers)
        pacings = [transport.pacing for transport in self._transports.values()]
        if any(pacing.per_guild for pacing in pacings):
            return window
        ahead = math.ceil(sum(pacing.rate for pacing in pacings) * cfg.claim_ahead.total_seconds())
        return min(window, max(ahead, _MIN_CLAIM_WINDOW))

    # -- life cycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start processing whatever is due, beginning with the deliveries the last run left
        'sending' (re-sent with the same nonce), and listen for other processes' changes."""
        if self._scheduler is not None:
            raise RuntimeError("the reminder engine is already running")
        self._idle.clear()  # a restarted engine is not idle until its first cycle says so
        self._stopping = False
        self._queue = DeliveryQueue(self._db, Claimant(self._config.process, self._config.lease))
        await self._queue.flag_late(self._clock.now() - self._config.late_after)
        self._listening = contextlib.AsyncExitStack()
        await self._listening.enter_async_context(self._db.listen(self.notify_changed))
        max_sleep = self._config.max_sleep.total_seconds()
        # MemoryJobStore: the alarm is rebuilt from the database at every start, never pickled.
        scheduler = AsyncIOScheduler(jobstores={"default": MemoryJobStore()}, timezone=UTC)
        self._next_alarm = datetime.now(UTC)
        scheduler.add_job(
            self._on_alarm,
            IntervalTrigger(seconds=max_sleep, timezone=UTC),
            id=_ALARM_JOB,
            next_run_time=self._next_alarm,
            # APScheduler's defaults drop a run more than 1 s late and refuse overlapping runs;
            # the alarm only sets an event, so late runs must happen and overlaps are harmless.
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1_000,
        )
        scheduler.start()
        self._scheduler = scheduler
        self._pump_task = asyncio.create_task(self._pump(), name="reminder-engine-pump")
        self._tasks = [self._pump_task, asyncio.create_task(self._renew_leases(), name="reminder-engine-leases")]
        self._tasks += [
            asyncio.create_task(self._worker(), name=f"reminder-engine-worker-{i}") for i in range(self._config.workers)
        ]
        log.info("reminder engine started (%d workers; %s)", self._config.workers, ", ".join(self._transports))

    async def _look_up_sent(self, row: OutboxRow) -> list[str]:
        """Ask the row's transport which of its messages went out before the run that claimed it
        ended, so the re-send posts only the rest; a row it cannot tell about is re-sent and flagged."""
        try:
            found = await self._transports[row.platform].find_delivered(row, row.updated_at)
        except Exception:
            log.exception("delivery %d: could not look up whether it went out", row.id)
            found = None
        if found is None:
            self._unverified.add(row.id)
            return []
        if found:
            log.info("delivery %d: %d message(s) had gone out before the restart", row.id, len(found))
        return list(found)

    async def _renew_leases(self) -> None:
        """Every third of the lease, extend the leases of the rows in hand, so that no other
        process takes them over while this one lives. A renewal that fails is tried at the next
        turn; should the lease run out meanwhile, the row is re-sent with its nonce elsewhere."""
        interval = self._config.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)
            if not self._claimed:
                continue
            try:
                await self._queue.renew_leases(self._clock.now())
            except Exception as exc:
                log.warning("could not renew the leases of %d deliveries: %s", len(self._claimed), _detail(exc))

    async def stop(self, within: timedelta | None = None) -> None:
        """Stop claiming; let sends on the wire finish and be recorded; release the unsent rows.

        Waits at most ``within`` (default: the config's ``stop_timeout``). Claimed rows that
        never reached the transport go back to pending, so the next start sends them at once.
        A send still unfinished at the deadline is cut off and its row stays 'sending': the
        next start re-sends it with the same nonce, as after a crash (``within=timedelta(0)``
        cuts off every send on the wire at once).
        """
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        scheduler.shutdown(wait=False)
        self._stopping = True
        self._wake.set()  # the pump leaves at its next step
        # Paced jobs and outcomes waiting to be recorded go back to the workers now.
        for handle, job in self._deferred.values():
            handle.cancel()
            self._jobs.put_nowait(job)
        self._deferred.clear()
        limit = (within if within is not None else self._config.stop_timeout).total_seconds()
        if limit > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._drain(), limit)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self._pump_task = None
        for handle, _ in self._deferred.values():
            handle.cancel()
        self._deferred.clear()
        in_hand = list(self._claimed.values())
        released = await self._release(self._set_aside + [job for job in in_hand if self._unsent_at_stop(job)])
        if released:
            self._db.announce_change()  # another process may send them now
        if self._listening is not None:
            await self._listening.aclose()
            self._listening = None
        log.info(
            "reminder engine stopped: %d deliveries finished, %d unsent released to pending,"
            " %d left 'sending' for the next start",
            self._finished_while_stopping,
            released,
            len(self._set_aside) + len(in_hand) - released,
        )
        self._jobs = asyncio.Queue()
        self._claimed.clear()
        self._set_aside = []
        self._finished_while_stopping = 0
        self._backlog = False
        self._next_alarm = None
        # AsyncIOScheduler shuts down on the next loop iteration, cancelling any alarm run; the
        # one after lets that run finish, so no task outlives stop().
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    async def _drain(self) -> None:
        """Wait until the pump has left (so nothing more is claimed) and no claimed row is in hand."""
        assert self._pump_task is not None
        await self._pump_task
        while self._claimed:
            self._drained.clear()
            await self._drained.wait()

    def _unsent_at_stop(self, job: _Job) -> bool:
        """While stopping: the job never reached the transport, so its row can go back to pending."""
        return self._stopping and job.settle is None and not job.message_ids and not job.calling

    async def _release(self, jobs: Sequence[_Job]) -> int:
        """Put the rows of unsent jobs back to pending; returns how many were released."""
        if not jobs:
            return 0
        try:
            return await self._queue.release([job.row.id for job in jobs], self._clock.now())
        except Exception:
            log.exception("could not release %d unsent deliveries; the next start sends them", len(jobs))
            return 0

    async def wait_idle(self) -> None:
        """Return once nothing is due by the clock and no delivery is in flight (for tests)."""
        await self._idle.wait()

    # -- the alarm -----------------------------------------------------------------------------

    @property
    def next_alarm(self) -> datetime | None:
        """When (real time) the alarm rings next, if the engine runs."""
        return self._next_alarm

    @property
    def running(self) -> bool:
        """Started, and neither the pump nor any worker has died (for the health endpoint)."""
        return self._scheduler is not None and not any(task.done() for task in self._tasks)

    @property
    def limiter_waited(self) -> float:
        """Seconds sends have waited for the rate limiters in all, reported as a metric."""
        return sum(limiter.waited for limiter in self._limiters.values())

    def _limiter(self, row: OutboxRow) -> RateLimiter:
        pacing = self._transports[row.platform].pacing
        key = f"{row.platform}:{row.guild_id}" if pacing.per_guild else str(row.platform)
        limiter = self._limiters.get(key)
        if limiter is None:
            limiter = self._limiters[key] = RateLimiter(pacing.rate, pacing.burst)
        return limiter

    def notify_changed(self) -> None:
        """Something may be due earlier than planned (new settings, a clock jump): look at once.

        Cheap and synchronous, so it can be called from anywhere on the loop.
        """
        if self._scheduler is None:
            return
        self._generation += 1
        self._idle.clear()
        self._arm_in(0.0)

    async def rearm(self) -> None:
        """Point the alarm at the earliest due reminder or delivery in the database."""
        await self._rearm(self._generation)

    async def _on_alarm(self) -> None:
        self._wake_up()

    def _wake_up(self) -> None:
        self._idle.clear()
        self._wake.set()

    def _arm_in(self, seconds: float) -> None:
        if self._scheduler is None:
            return
        self._next_alarm = datetime.now(UTC) + timedelta(seconds=seconds)
        self._scheduler.modify_job(_ALARM_JOB, next_run_time=self._next_alarm)

    async def _rearm(self, generation: int) -> bool:
        """Arm for the next due time; returns whether something is due right now."""
        due = await self._queue.next_due(self._transports)
        if generation != self._generation:
            # notify_changed() ran while we read: our view may be stale, so look again at once.
            self._arm_in(0.0)
            return True
        now = self._clock.now()
        next_due = self._next_due(due, now)
        delay = self._config.max_sleep.total_seconds()
        if next_due is not None:
            delay = min(max((next_due - now).total_seconds(), 0.0), delay)
        self._arm_in(delay)
        return next_due is not None and next_due <= now

    def _next_due(self, due: NextDue, now: datetime) -> datetime | None:
        times = [due.reminder] if due.reminder is not None else []
        # Rows already due (or claims already ended) but left unclaimed for want of room are
        # fetched when a worker frees up (see _job_done); arming for them would only spin.
        for rows_due in (due.outbox, due.lease_expiry):
            if rows_due is not None and not (self._backlog and rows_due <= now):
                times.append(rows_due)
        return min(times, default=None)

    # -- settling reminders --------------------------------------------------------------------

    async def _pump(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._stopping:
                return
            generation = self._generation
            try:
                await self._cycle(self._clock.now())
                due_now = await self._rearm(generation)
            except Exception:
                # Nothing is lost: each step commits whole or not at all. Try again soon.
                self._cycle_failures += 1
                delay = _db_retry_delay(self._cycle_failures)
                log.exception("reminder engine cycle failed; trying again in %.1fs", delay)
                self._arm_in(delay)
                continue
            self._cycle_failures = 0
            if not due_now and not self._claimed and not self._wake.is_set():
                self._idle.set()

    async def _cycle(self, now: datetime) -> None:
        """Skip the too-old, then the superseded, then fan out the rest, a batch at a time.

        Each batch's rows are claimed for the workers before the next batch is fanned out, so
        the first posts go out while later reminders are still being fanned out.
        """
        cfg = self._config
        await self._take_over(now)
        await self._in_batches(partial(self._queue.skip_missed_reminders, now, now - cfg.grace, cfg.batch_size))
        await self._in_batches(partial(self._queue.skip_superseded_reminders, now, cfg.batch_size))
        await self._in_batches(partial(self._fire_due, now), then=partial(self._dispatch, now))

    async def _fire_due(self, now: datetime) -> list[ReminderOutcome]:
        cfg = self._config
        outcomes = await self._queue.fire_due_reminders(now, now - cfg.late_after, cfg.batch_size, self._fan_out)
        if any(outcome.rows for outcome in outcomes):
            self._db.announce_change()  # the other processes take their share of the new rows
        return outcomes

    async def _in_batches(
        self,
        stage: Callable[[], Awaitable[list[ReminderOutcome]]],
        then: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Run ``stage`` (and ``then``) until it settles less than a batch, or the engine stops."""
        while not self._stopping:
            outcomes = await stage()
            for outcome in outcomes:
                _log_reminder(outcome)
            if then is not None:
                await then()
            if len(outcomes) < self._config.batch_size:
                return

    async def _fan_out(self, fan: FanOut) -> None:
        kind = self._kinds.get(fan.reminder.kind)
        if kind is None:
            fan.skip(f"no handler for event kind {fan.reminder.kind!r}")
        else:
            await kind.fan_out(fan)

    # -- delivering ----------------------------------------------------------------------------

    async def _take_over(self, now: datetime) -> None:
        """Claim rows left 'sending' by a run that can no longer send them, look up which of
        their messages went out, and hand them to the workers to send the rest."""
        room = min(self._max_inflight - len(self._claimed), self._config.batch_size)
        if self._stopping or room <= 0:
            return
        claim = await self._queue.take_over(now, now - self._config.grace, room, self._transports)
        if claim.deliveries:
            log.info("took over %d deliveries left in flight by a stopped process", len(claim.deliveries))
        sent = await asyncio.gather(*(self._look_up_sent(delivery.row) for delivery in claim.deliveries))
        self._hand_out(claim, sent)

    def _hand_out(self, claim: Claim, sent: Sequence[list[str]] | None = None) -> None:
        """Queue the claimed rows for the workers; ``sent``: each one's messages already out."""
        for row in claim.skipped:
            log.info("delivery %d skipped (missed while offline): %s %s", row.id, row.target, row.target_id)
        for index, delivery in enumerate(claim.deliveries):
            job = self._claimed[delivery.row.id] = _Job(delivery, message_ids=sent[index] if sent else [])
            self._jobs.put_nowait(job)

    async def _dispatch(self, now: datetime) -> None:
        """Claim due rows for the workers, as many as there is room for."""
        cfg = self._config
        while not self._stopping and (room := self._max_inflight - len(self._claimed)) > 0:
            limit = min(room, cfg.batch_size)
            claim = await self._queue.claim_deliveries(now, now - cfg.grace, limit, self._transports)
            self._hand_out(claim)
            if claim.size < limit:
                self._backlog = False
                return
        self._backlog = True

    async def _worker(self) -> None:
        while True:
            job = await self._jobs.get()
            if job.settle is None:
                job.settle = await self._attempt(job)
            if job.settle is not None:
                await self._record(job)

    async def _record(self, job: _Job) -> None:
        """Write the job's outcome; if the database fails, keep the outcome and write it later.

        The row stays 'sending' and counted in flight meanwhile, so it is neither claimed again
        nor lost: a message that went out is recorded as sent, one that did not is retried with
        its nonce.
        """
        assert job.settle is not None
        try:
            await job.settle()
        except Exception as exc:
            job.record_failures += 1
            delay = _db_retry_delay(job.record_failures)
            log.warning(
                "delivery %d: its outcome could not be recorded (%s); trying again in %.1fs",
                job.row.id,
                _detail(exc),
                delay,
                exc_info=job.record_failures == 1,
            )
            self._defer(job, delay)
            return
        if self._stopping:
            self._finished_while_stopping += 1
        self._job_done(job)

    def _job_done(self, job: _Job) -> None:
        """The job left our hands: recorded, or set aside by stop()."""
        del self._claimed[job.row.id]
        if self._stopping:
            if not self._claimed:
                self._drained.set()
        elif not self._claimed or (self._backlog and len(self._claimed) == self._max_inflight // 2):
            self._wake_up()

    async def _attempt(self, job: _Job) -> _Settle | None:
        """Send the job's remaining parts; returns how to record the outcome (None: not now)."""
        row, reminder = job.row, job.delivery.reminder
        try:
            if job.parts is None:
                if self._hold_back(job):
                    return None
                kind = self._kinds.get(reminder.kind)
                job.parts = tuple(await kind.render(reminder, row)) if kind is not None else ()
            if not job.parts:
                return partial(self._record_skipped, row)
            while len(job.message_ids) < len(job.parts):
                if not await self._send_next_part(job):
                    return None
        except PermanentDeliveryError as exc:
            if exc.kind is ErrorKind.RECIPIENT_LEFT and self._on_recipient_left is not None:
                return partial(self._record_left, row, _detail(exc))
            return partial(self._record_failed, row, exc.kind, _detail(exc))
        except TransientDeliveryError as exc:
            return partial(self._retry_or_fail, row, ErrorKind.TRANSIENT, _detail(exc))
        except Exception as exc:
            # A bug in a renderer or an adapter must not stop the other deliveries.
            log.exception("delivery %d raised an unexpected error", row.id)
            return partial(self._retry_or_fail, row, ErrorKind.UNEXPECTED, _detail(exc))
        # The outcome holds what it records, not the job: a job holding its outcome holding the
        # job would be a reference cycle, left for the garbage collector instead of freed at once.
        if len(job.message_ids) < len(job.parts):  # the parts shrank since the crash: all are out
            job.message_ids = job.message_ids[: len(job.parts)]
        return partial(self._record_sent, row, job.message_ids[0], len(job.message_ids))

    def _hold_back(self, job: _Job) -> bool:
        """Take the job off its worker if stop() takes it back unsent, or its channel is busy."""
        if self._unsent_at_stop(job):
            self._set_aside.append(job)
            self._job_done(job)
            return True
        pacer = self._pacers[job.row.platform]
        if (wait := pacer.wait(job.channel_key, asyncio.get_running_loop().time())) > 0:
            self._defer(job, wait)
            return True
        return False

    async def _send_next_part(self, job: _Job) -> bool:
        """Send one part, honouring both limiters; False if the job left the worker instead."""
        assert job.parts is not None
        loop = asyncio.get_running_loop()
        index = len(job.message_ids)
        transport = self._transports[job.row.platform]
        limiter, pacer = self._limiter(job.row), self._pacers[job.row.platform]
        part = job.parts[index]
        thread_of = job.message_ids[0] if part.in_thread and job.message_ids else None
        while True:
            if self._hold_back(job):
                return False
            for _ in range(transport.pacing.dm_requests if job.row.target is Target.DM else 1):
                await limiter.acquire()
            # Another worker may have used the channel, or stop() come, while we waited.
            if self._hold_back(job):
                return False
            pacer.record(job.channel_key, loop.time())
            job.calling = True
            try:
                if job.row.target is Target.CHANNEL:
                    message_id = await transport.send_channel(
                        job.row.target_id, part, f"{job.row.nonce}.{index}", thread_of
                    )
                else:
                    message_id = await transport.send_dm(job.row.target_id, part, f"{job.row.nonce}.{index}", thread_of)
            except RateLimited as exc:
                job.calling = False  # refused: nothing went out
                log.info("delivery %d: %s", job.row.id, exc)
                # Honoured here, by the engine's own limiters: the transport never retries itself.
                if exc.is_global:
                    limiter.pause(exc.retry_after)
                else:
                    pacer.block(job.channel_key, loop.time() + exc.retry_after)
                continue
            job.calling = False
            job.message_ids.append(message_id)
            return True

    def _defer(self, job: _Job, seconds: float) -> None:
        """Park a job (a busy channel, a failed write), freeing the worker for other jobs."""
        handle = asyncio.get_running_loop().call_later(seconds, self._resume, job)
        self._deferred[job.row.id] = (handle, job)

    def _resume(self, job: _Job) -> None:
        del self._deferred[job.row.id]
        self._jobs.put_nowait(job)

    # -- recording outcomes: each may run again if the database failed it ----------------------

    async def _record_sent(self, row: OutboxRow, message_id: str, messages: int) -> None:
        await self._queue.mark_sent(row.id, message_id, self._clock.now(), unverified=row.id in self._unverified)
        self._unverified.discard(row.id)
        log.info(
            "delivery %d sent to %s %s (%d message(s), attempt %d%s)",
            row.id,
            row.target,
            row.target_id,
            messages,
            row.attempts,
            ", late" if row.late else "",
        )

    async def _record_skipped(self, row: OutboxRow) -> None:
        await self._queue.mark_skipped(row.id, "nothing to send", self._clock.now())
        log.info("delivery %d skipped: nothing to send", row.id)

    async def _record_failed(self, row: OutboxRow, kind: ErrorKind, detail: str) -> None:
        await self._queue.mark_failed(row.id, kind, detail, self._clock.now())
        log.warning("delivery %d to %s %s failed: %s (%s)", row.id, row.target, row.target_id, kind, detail)

    async def _record_left(self, row: OutboxRow, detail: str) -> None:
        """The member left the guild: record it, then forget their data there (as on any departure)."""
        await self._record_failed(row, ErrorKind.RECIPIENT_LEFT, detail)
        assert self._on_recipient_left is not None
        try:
            await self._on_recipient_left(row)
        except Exception:
            log.exception("delivery %d: could not forget the member who left", row.id)

    async def _retry_or_fail(self, row: OutboxRow, kind: ErrorKind, detail: str) -> None:
        now, cfg = self._clock.now(), self._config
        if row.attempts >= cfg.max_attempts:
            await self._queue.mark_failed(row.id, kind, detail, now)
            log.warning("delivery %d failed after %d attempts: %s", row.id, row.attempts, detail)
            return
        delay = min(cfg.backoff * 2 ** (row.attempts - 1), cfg.max_backoff)
        await self._queue.retry_later(row.id, now + delay, kind, detail, now)
        log.info(
            "delivery %d: attempt %d of %d failed (%s); retrying in %s",
            row.id,
            row.attempts,
            cfg.max_attempts,
            detail,
            delay,
        )
