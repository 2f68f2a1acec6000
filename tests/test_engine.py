"""The reminder engine with a real SQLite file, real APScheduler and a ManualClock.

Tests move time with the clock; its jump listener rings the engine's alarm at once, so nothing
here sleeps for reminder time. Only the rate-limit tests spend real (sub-second) time. The
transport is a small recording implementation of the platform port.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.engine import (
    ChannelMissing,
    DMsClosed,
    EngineConfig,
    Pacing,
    RateLimited,
    ReleaseKind,
    ReleaseNotice,
    ReleaseRenderer,
    ReminderEngine,
    RequestWindow,
    TransientDeliveryError,
)
from bot.core.replies import Mentions, Reply
from bot.core.storage import Database, Delivery, ErrorKind, OutboxRow, Platform, Store, Target, Via
from tests.fakediscord._util import wait_until

T0 = datetime(2023, 9, 1, 12, tzinfo=UTC)
RELEASE = datetime(2023, 10, 6, 7, tzinfo=UTC)
FILM = "ballerina"
DAY, HOUR, MINUTE = timedelta(days=1), timedelta(hours=1), timedelta(minutes=1)
ROLE = "900"
DM_USERS = ("701", "702")


@dataclass(frozen=True)
class Call:
    target: Target
    target_id: str
    reply: Reply
    nonce: str
    at: float  # the loop's monotonic time when the call started


@dataclass
class RecordingTransport:
    """Records every call; ``errors[target_id]`` yields exceptions to raise (None: succeed)."""

    pacing: Pacing = field(default_factory=lambda: FAST_PACING)
    subscribers_in_thread: bool = False
    latency: float = 0.0
    errors: dict[str, Iterator[Exception | None]] = field(default_factory=dict)
    hold: asyncio.Event | None = None  # when set to an unset event, sends hang (to simulate a crash)
    on_call: Callable[[Call], None] | None = None  # runs as each call starts
    calls: list[Call] = field(default_factory=list)
    sent: list[Call] = field(default_factory=list)
    _called: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def wait_for_calls(self, count: int) -> None:
        async with self._called:
            await asyncio.wait_for(self._called.wait_for(lambda: len(self.calls) >= count), timeout=5)

    async def send_channel(self, channel_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str:
        return await self._send(Target.CHANNEL, channel_id, reply, nonce)

    async def send_dm(self, user_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str:
        return await self._send(Target.DM, user_id, reply, nonce)

    async def find_delivered(self, row: OutboxRow, since: datetime) -> Sequence[str] | None:
        return ()  # a re-send is dropped by its nonce

    async def _send(self, target: Target, target_id: str, reply: Reply, nonce: str) -> str:
        assert len(nonce) <= 25
        call = Call(target, target_id, reply, nonce, asyncio.get_running_loop().time())
        self.calls.append(call)
        if self.on_call is not None:
            self.on_call(call)
        async with self._called:
            self._called.notify_all()
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.hold is not None:
            await self.hold.wait()
        error = next(self.errors.get(target_id, iter(())), None)
        if error is not None:
            raise error
        self.sent.append(call)
        return f"msg-{len(self.sent)}"

    def texts(self, target_id: str | None = None) -> list[str]:
        return [c.reply.content or "" for c in self.sent if target_id is None or c.target_id == target_id]


def render_release(notice: ReleaseNotice) -> Sequence[Reply]:
    ping = f"<@&{notice.settings.ping_role_id}> " if notice.target is Target.CHANNEL else ""
    late = " (posted late: the bot was offline)" if notice.late else ""
    return [Reply(content=f"{ping}{notice.film_id} in {notice.offset}{late}")]


class Bot:
    """Database, store and engine on one database, stopped and restarted like the real process."""

    def __init__(
        self,
        database: str | Path,
        clock: ManualClock,
        transport: RecordingTransport,
        config: EngineConfig,
        render: ReleaseRenderer = render_release,
        busy_timeout: timedelta = timedelta(seconds=5),
    ) -> None:
        self.database, self.clock, self.transport = database, clock, transport
        self.config, self.render, self.busy_timeout = config, render, busy_timeout
        self.db: Database | None = None
        self.engine: ReminderEngine | None = None
        self.store: Store

    async def start(self) -> None:
        _running.add(self)
        self.db = await Database.open(self.database, busy_timeout=self.busy_timeout)
        self.store = Store(self.db, self.clock)
        kinds = [ReleaseKind(self.store, self.render)]
        self.engine = ReminderEngine(self.db, {Platform.DISCORD: self.transport}, kinds, self.clock, self.config)
        await self.engine.start()
        await self.idle()

    async def stop(self, within: timedelta = timedelta(0)) -> None:
        """By default like a crash for sends on the wire: they are cut off, their rows left 'sending'."""
        if self.engine is not None:
            await self.engine.stop(within)
        if self.db is not None:
            await self.db.close()
        self.engine = self.db = None
        _running.discard(self)

    async def restart(self, transport: RecordingTransport | None = None) -> None:
        await self.stop()
        self.transport = transport or self.transport
        await self.start()

    async def idle(self) -> None:
        assert self.engine is not None
        await asyncio.wait_for(self.engine.wait_idle(), timeout=5)

    async def advance_to(self, instant: datetime) -> None:
        self.clock.set(instant)
        await self.idle()

    async def setup_guild(
        self, guild: str = "g1", offsets: tuple[timedelta, ...] = (7 * DAY, DAY, HOUR, timedelta(0))
    ) -> None:
        """A guild with a reminder channel, a ping role, two DM subscribers and one channel one."""
        await self.store.update_guild_settings(
            guild, channel_id=f"chan-{guild}", ping_role_id=ROLE, release_offsets=offsets
        )
        for user in DM_USERS:
            await self.store.subscribe(guild, user, Via.DM)
        await self.store.subscribe(guild, "799", Via.CHANNEL)
        await self.store.set_release(FILM, RELEASE)
        assert self.engine is not None
        self.engine.notify_changed()
        await self.idle()

    async def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        """Rows no public method shows, through the bot's database (opened for it when stopped)."""
        db = self.db or await Database.open(self.database)
        try:
            async with db.read() as session:
                return [tuple(row) for row in await session.fetchall(sql, params)]
        finally:
            if db is not self.db:
                await db.close()


_running: set[Bot] = set()


@pytest.fixture(autouse=True)
async def stop_bots_left_running() -> AsyncIterator[None]:
    """A test that fails half-way still closes its database (its thread would keep pytest alive)."""
    yield
    for bot in list(_running):
        await bot.stop()


FAST_PACING = Pacing(rate=10_000, burst=100, channel_limit=5, channel_period=timedelta(milliseconds=1))
FAST = EngineConfig()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def bot(database: str | Path, clock: ManualClock) -> AsyncIterator[Bot]:
    bot = Bot(database, clock, RecordingTransport(), FAST)
    await bot.start()
    yield bot
    await bot.stop()


async def start_bot(
    database: str | Path,
    clock: ManualClock,
    *,
    transport: RecordingTransport | None = None,
    config: EngineConfig = FAST,
    render: ReleaseRenderer = render_release,
    busy_timeout: timedelta = timedelta(seconds=5),
) -> Bot:
    """A bot with its own transport, config, renderer or busy timeout; the test stops it."""
    bot = Bot(database, clock, transport or RecordingTransport(), config, render, busy_timeout)
    await bot.start()
    return bot


# -- firing at the right time ------------------------------------------------------------------


async def test_each_offset_fires_exactly_once_when_the_clock_passes_it(bot: Bot) -> None:
    await bot.setup_guild()
    for count, offset in enumerate((7 * DAY, DAY, HOUR, timedelta(0)), start=1):
        due = RELEASE - offset
        await bot.advance_to(due - timedelta(seconds=1))
        assert len(bot.transport.sent) == 3 * (count - 1), f"{offset} fired early"
        await bot.advance_to(due)
        await bot.advance_to(due + 10 * MINUTE)
        assert len(bot.transport.sent) == 3 * count, f"{offset} did not fire exactly once"
        assert bot.transport.texts("chan-g1")[-1] == f"<@&{ROLE}> {FILM} in {offset}"
        assert {c.target_id for c in bot.transport.sent[-3:]} == {"chan-g1", *DM_USERS}

    await bot.advance_to(RELEASE + 30 * DAY)
    assert len(bot.transport.sent) == 12
    assert len({c.nonce for c in bot.transport.sent}) == 12


async def test_channel_posts_ping_only_the_role_and_dms_only_the_recipient(bot: Bot) -> None:
    await bot.setup_guild(offsets=(timedelta(0),))
    await bot.advance_to(RELEASE)
    mentions = {c.target_id: c.reply.mentions for c in bot.transport.sent}
    assert mentions == {
        "chan-g1": Mentions(group_ids=(ROLE,)),
        "701": Mentions(user_ids=("701",)),
        "702": Mentions(user_ids=("702",)),
    }


async def test_a_channel_post_without_a_role_pings_nobody(bot: Bot) -> None:
    await bot.setup_guild(offsets=(timedelta(0),))
    await bot.store.update_guild_settings("g1", ping_role_id=None)
    await bot.advance_to(RELEASE)
    [post] = [c for c in bot.transport.sent if c.target is Target.CHANNEL]
    assert post.reply.mentions == Mentions()


async def test_a_member_who_unsubscribed_before_a_retry_gets_no_dm(bot: Bot) -> None:
    bot.transport.errors = {"702": iter([TransientDeliveryError("502")])}
    await bot.setup_guild(offsets=(timedelta(0),))
    await bot.advance_to(RELEASE)
    await bot.store.unsubscribe("g1", "702")
    await bot.advance_to(RELEASE + MINUTE)
    assert sorted(c.target_id for c in bot.transport.sent) == ["701", "chan-g1"]
    assert await bot.query("SELECT state, error_detail FROM outbox WHERE target_id = '702'") == [
        ("skipped", "nothing to send")
    ]


async def test_restart_mid_schedule_continues_without_repeats(bot: Bot) -> None:
    await bot.setup_guild()
    await bot.advance_to(RELEASE - 7 * DAY)
    assert len(bot.transport.sent) == 3

    await bot.restart()
    assert len(bot.transport.sent) == 3
    await bot.advance_to(RELEASE - DAY)
    assert len(bot.transport.sent) == 6
    assert bot.transport.texts("chan-g1") == [f"<@&{ROLE}> {FILM} in {o}" for o in (7 * DAY, DAY)]


async def test_the_alarm_is_capped_for_far_future_reminders(bot: Bot) -> None:
    await bot.setup_guild()
    assert bot.engine is not None and bot.engine.next_alarm is not None
    assert bot.engine.next_alarm - datetime.now(UTC) <= HOUR


async def test_the_alarm_is_set_for_the_next_due_time_in_real_time(bot: Bot) -> None:
    await bot.setup_guild(offsets=(timedelta(0),))
    bot.clock.set(RELEASE - timedelta(seconds=30))
    await bot.idle()
    assert bot.engine is not None
    await bot.engine.rearm()
    assert bot.engine.next_alarm is not None
    in_real_time = (bot.engine.next_alarm - datetime.now(UTC)).total_seconds()
    assert 28 < in_real_time <= 30


# -- downtime ----------------------------------------------------------------------------------


async def test_downtime_across_one_offset_posts_it_late_and_flagged(bot: Bot) -> None:
    await bot.setup_guild()
    await bot.stop()
    bot.clock.set(RELEASE - 7 * DAY + 10 * MINUTE)
    await bot.start()

    assert len(bot.transport.sent) == 3
    assert bot.transport.texts("chan-g1") == [f"<@&{ROLE}> {FILM} in {7 * DAY} (posted late: the bot was offline)"]
    assert await bot.query("SELECT DISTINCT late FROM outbox") == [(1,)]


async def test_downtime_across_several_offsets_posts_only_the_latest(bot: Bot) -> None:
    await bot.setup_guild(offsets=(HOUR, 30 * MINUTE, timedelta(0)))
    await bot.stop()
    bot.clock.set(RELEASE - 30 * MINUTE + 5 * MINUTE)
    await bot.start()

    assert bot.transport.texts("chan-g1") == [f"<@&{ROLE}> {FILM} in {30 * MINUTE} (posted late: the bot was offline)"]
    states = await bot.query("SELECT offset_s, state, note FROM reminders ORDER BY offset_s DESC")
    assert states == [(3600, "skipped", "superseded"), (1800, "fired", None), (0, "pending", None)]

    await bot.advance_to(RELEASE)
    assert bot.transport.texts("chan-g1")[-1] == f"<@&{ROLE}> {FILM} in 0:00:00"


async def test_reminder_missed_beyond_grace_is_skipped_not_posted(bot: Bot) -> None:
    await bot.setup_guild(offsets=(DAY, timedelta(0)))
    await bot.stop()
    bot.clock.set(RELEASE - DAY + 2 * HOUR)
    await bot.start()

    assert bot.transport.sent == []
    assert await bot.query("SELECT offset_s, state, note FROM reminders ORDER BY offset_s DESC") == [
        (86400, "skipped", "missed while offline"),
        (0, "pending", None),
    ]
    assert await bot.query("SELECT COUNT(*) FROM outbox") == [(0,)]


async def test_deliveries_queued_before_a_long_downtime_are_skipped_not_posted(
    database: str | Path, clock: ManualClock
) -> None:
    bot = await start_bot(database, clock, transport=RecordingTransport(hold=asyncio.Event()))
    await bot.setup_guild(offsets=(timedelta(0),))
    clock.set(RELEASE)
    await bot.transport.wait_for_calls(3)
    await bot.stop()  # "crash" with three rows claimed
    clock.set(RELEASE + 2 * HOUR)
    await bot.restart(RecordingTransport())
    assert bot.transport.sent == []
    assert await bot.query("SELECT DISTINCT state, error_detail FROM outbox") == [("skipped", "missed while offline")]
    await bot.stop()


# -- failures ----------------------------------------------------------------------------------


async def test_a_row_left_sending_by_a_crash_is_resent_with_the_same_nonce(
    database: str | Path, clock: ManualClock
) -> None:
    bot = await start_bot(database, clock, transport=RecordingTransport(hold=asyncio.Event()))
    await bot.setup_guild(offsets=(timedelta(0),))
    clock.set(RELEASE)
    await bot.transport.wait_for_calls(3)
    first_nonces = {c.target_id: c.nonce for c in bot.transport.calls}
    assert await bot.query("SELECT DISTINCT state FROM outbox") == [("sending",)]

    await bot.restart(RecordingTransport())
    assert {c.target_id: c.nonce for c in bot.transport.sent} == first_nonces
    assert await bot.query("SELECT DISTINCT state FROM outbox") == [("sent",)]
    await bot.stop()


async def test_permanent_errors_are_recorded_and_never_retried(bot: Bot) -> None:
    bot.transport.errors = {
        "chan-g1": itertools.repeat(ChannelMissing("404 Unknown Channel (10003)")),
        "701": itertools.repeat(DMsClosed("403 Cannot send messages to this user (50007)")),
    }
    await bot.setup_guild(offsets=(timedelta(0),))
    await bot.advance_to(RELEASE)
    await bot.advance_to(RELEASE + DAY)

    assert [c.target_id for c in bot.transport.calls].count("chan-g1") == 1
    assert [c.target_id for c in bot.transport.calls].count("701") == 1
    assert [c.target_id for c in bot.transport.sent] == ["702"]
    problems = await bot.store.delivery_problems("g1")
    assert problems.counts == {ErrorKind.MISSING_CHANNEL: 1, ErrorKind.DMS_CLOSED: 1}


async def test_transient_errors_are_retried_with_backoff_up_to_the_cap(
    database: str | Path, clock: ManualClock
) -> None:
    config = EngineConfig(max_attempts=3, backoff=timedelta(seconds=10))
    transport = RecordingTransport(errors={"701": itertools.repeat(TransientDeliveryError("503"))})
    bot = await start_bot(database, clock, transport=transport, config=config)
    await bot.setup_guild(offsets=(timedelta(0),))
    await bot.advance_to(RELEASE)

    def attempts() -> int:
        return [c.target_id for c in transport.calls].count("701")

    assert attempts() == 1
    await bot.advance_to(RELEASE + timedelta(seconds=9))
    assert attempts() == 1
    await bot.advance_to(RELEASE + timedelta(seconds=10))
    assert attempts() == 2
    await bot.advance_to(RELEASE + timedelta(seconds=29))
    assert attempts() == 2
    await bot.advance_to(RELEASE + timedelta(seconds=30))
    assert attempts() == 3
    await bot.advance_to(RELEASE + HOUR)
    assert attempts() == 3
    assert await bot.query("SELECT state, attempts, error_kind FROM outbox WHERE target_id = '701'") == [
        ("failed", 3, "transient")
    ]
    await bot.stop()


async def test_a_transient_error_then_success_is_sent_once(bot: Bot) -> None:
    bot.transport.errors = {"701": iter([TransientDeliveryError("connection reset")])}
    await bot.setup_guild(offsets=(timedelta(0),))
    await bot.advance_to(RELEASE)
    await bot.advance_to(RELEASE + timedelta(seconds=10))
    assert bot.transport.texts("701") == [f"{FILM} in 0:00:00"]
    assert await bot.query("SELECT state, attempts FROM outbox WHERE target_id = '701'") == [("sent", 2)]


async def test_rate_limited_send_pauses_and_retries_without_counting_an_attempt(
    database: str | Path, clock: ManualClock
) -> None:
    transport = RecordingTransport(errors={"701": iter([RateLimited(0.2, is_global=True)])})
    bot = await start_bot(database, clock, transport=transport)
    await bot.setup_guild(offsets=(timedelta(0),))
    await bot.advance_to(RELEASE)

    limited_at = next(c.at for c in transport.calls if c.target_id == "701")
    after = [c for c in transport.calls if c.at > limited_at]
    assert after and all(c.at >= limited_at + 0.19 for c in after)
    assert sorted(c.target_id for c in transport.sent) == sorted(["chan-g1", *DM_USERS])
    assert await bot.query("SELECT state, attempts FROM outbox WHERE target_id = '701'") == [("sent", 1)]
    await bot.stop()


async def test_a_renderer_bug_fails_the_row_without_stopping_others(database: str | Path, clock: ManualClock) -> None:
    def broken_for_dms(notice: ReleaseNotice) -> Sequence[Reply]:
        if notice.target is Target.DM:
            raise KeyError("template")
        return render_release(notice)

    config = EngineConfig(max_attempts=1)
    bot = await start_bot(database, clock, config=config, render=broken_for_dms)
    await bot.setup_guild(offsets=(timedelta(0),))
    await bot.advance_to(RELEASE)
    assert [c.target_id for c in bot.transport.sent] == ["chan-g1"]
    assert await bot.query("SELECT DISTINCT state, error_kind FROM outbox WHERE target = 'dm'") == [
        ("failed", "unexpected")
    ]
    await bot.stop()


# -- the database failing under the engine ---------------------------------------------------


class WriteLock:
    """Another connection holding SQLite's write lock, as a backup or a second process can
    (SQLite only: PostgreSQL has no lock of the whole database).

    Readers go on (WAL); every write of the bot waits its busy timeout, then fails with
    'database is locked'. Tests release it once the bot's log shows a write failed.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.taken = 0

    def take(self) -> None:
        self._conn.execute("BEGIN EXCLUSIVE")
        self.taken += 1

    async def take_when_free(self) -> None:
        """Take it off the event loop: a write of the bot under way must be able to finish first."""
        await asyncio.to_thread(self.take)

    def release(self) -> None:
        self._conn.execute("ROLLBACK")

    def on_first_call_to(self, target_id: str) -> Callable[[Call], None]:
        """A transport hook: lock the database as the first message to ``target_id`` leaves."""

        def hook(call: Call) -> None:
            if call.target_id == target_id and not self.taken:
                self.take()

        return hook

    async def release_after_a_failed_write(self, caplog: pytest.LogCaptureFixture, message: str) -> None:
        await wait_until(lambda: message in caplog.text, 5, f"a log saying {message!r}")
        self.release()

    def close(self) -> None:
        self._conn.close()


@pytest.fixture
def write_lock(tmp_path: Path) -> Iterator[WriteLock]:
    lock = WriteLock(tmp_path / "bot.sqlite3")
    yield lock
    lock.close()


SHORT_BUSY = timedelta(milliseconds=50)
RECORDING_FAILED = "could not be recorded"


async def test_a_sent_message_whose_recording_fails_is_recorded_as_sent_not_resent(
    clock: ManualClock, write_lock: WriteLock, caplog: pytest.LogCaptureFixture
) -> None:
    transport = RecordingTransport(on_call=write_lock.on_first_call_to("701"))
    bot = await start_bot(write_lock.path, clock, transport=transport, busy_timeout=SHORT_BUSY)
    await bot.setup_guild(offsets=(timedelta(0),))
    clock.set(RELEASE)
    await write_lock.release_after_a_failed_write(caplog, RECORDING_FAILED)
    await bot.idle()  # the same running engine: no restart

    assert sorted(c.target_id for c in transport.calls) == ["701", "702", "chan-g1"]
    assert await bot.query("SELECT DISTINCT state, attempts FROM outbox") == [("sent", 1)]
    await bot.stop()


async def test_a_failed_send_whose_recording_fails_is_retried_later_with_its_nonce(
    clock: ManualClock, write_lock: WriteLock, caplog: pytest.LogCaptureFixture
) -> None:
    transport = RecordingTransport(
        errors={"701": iter([TransientDeliveryError("502")])}, on_call=write_lock.on_first_call_to("701")
    )
    bot = await start_bot(write_lock.path, clock, transport=transport, busy_timeout=SHORT_BUSY)
    await bot.setup_guild(offsets=(timedelta(0),))
    clock.set(RELEASE)
    await write_lock.release_after_a_failed_write(caplog, RECORDING_FAILED)
    await bot.idle()
    assert await bot.query("SELECT state, attempts FROM outbox WHERE target_id = '701'") == [("pending", 1)]

    await bot.advance_to(RELEASE + timedelta(seconds=10))  # the engine's first backoff
    first, second = [c for c in transport.calls if c.target_id == "701"]
    assert first.nonce == second.nonce
    assert transport.texts("701") == [f"{FILM} in 0:00:00"]
    assert await bot.query("SELECT state, attempts FROM outbox WHERE target_id = '701'") == [("sent", 2)]
    await bot.stop()


async def test_a_cycle_that_finds_the_database_locked_is_retried_in_the_running_engine(
    clock: ManualClock, write_lock: WriteLock, caplog: pytest.LogCaptureFixture
) -> None:
    bot = await start_bot(write_lock.path, clock, busy_timeout=SHORT_BUSY)
    await bot.setup_guild(offsets=(timedelta(0),))
    write_lock.take()  # the fan-out at the release finds the database locked
    clock.set(RELEASE)
    await write_lock.release_after_a_failed_write(caplog, "cycle failed")
    await bot.idle()

    assert sorted(c.target_id for c in bot.transport.sent) == ["701", "702", "chan-g1"]
    assert await bot.query("SELECT DISTINCT state FROM outbox") == [("sent",)]
    await bot.stop()


# -- rate limits -------------------------------------------------------------------------------


async def test_the_request_window_counts_each_request_until_a_period_after_it_ends() -> None:
    """However long requests take, no ``period`` holds more than ``limit`` of them starting."""
    loop = asyncio.get_running_loop()
    window, period = RequestWindow(limit=3, period=0.2), 0.2
    started: list[float] = []
    ended: list[float] = []

    async def request(duration: float) -> None:
        async with window.request():
            started.append(loop.time())
            await asyncio.sleep(duration)
            ended.append(loop.time())

    await asyncio.gather(*(request(0.05 * (i % 3)) for i in range(9)))
    assert len(started) == 9
    # The (i + limit)-th request starts no sooner than a period after the i-th ended: slots are
    # handed out in order of release, so compare each start with the ends it waited for.
    ends = sorted(ended)
    starts = sorted(started)
    assert all(starts[i + 3] >= ends[i] + period - 0.002 for i in range(6))
    assert all(starts[i + 3] - starts[i] >= period - 0.002 for i in range(6))


async def test_the_global_rate_limiter_spaces_a_burst_of_sends(database: str | Path, clock: ManualClock) -> None:
    rate, burst, guilds = 100.0, 5, 30
    pacing = Pacing(rate=rate, burst=burst, channel_limit=5, channel_period=timedelta(milliseconds=1))
    bot = await start_bot(database, clock, transport=RecordingTransport(pacing=pacing))
    for i in range(guilds):
        await bot.store.update_guild_settings(f"g{i}", channel_id=f"c{i}", release_offsets=(timedelta(0),))
    await bot.store.set_release(FILM, RELEASE)
    await bot.advance_to(RELEASE)

    times = sorted(c.at for c in bot.transport.sent)
    assert len(times) == guilds
    # A token bucket lets the i-th send go no sooner than (i + 1 - burst) / rate after the first.
    slack = 0.002
    assert all(t - times[0] >= (i + 1 - burst) / rate - slack for i, t in enumerate(times))
    await bot.stop()


async def test_a_busy_channel_is_paced_without_holding_up_other_channels(
    database: str | Path, clock: ManualClock
) -> None:
    def five_parts_for_g0(notice: ReleaseNotice) -> Sequence[Reply]:
        count = 5 if notice.settings.guild_id == "g0" else 1
        return [Reply(content=f"part {i}") for i in range(count)]

    pacing = Pacing(rate=10_000, burst=100, channel_limit=2, channel_period=timedelta(seconds=0.2))
    bot = await start_bot(database, clock, transport=RecordingTransport(pacing=pacing), render=five_parts_for_g0)
    for i in range(4):
        await bot.store.update_guild_settings(f"g{i}", channel_id=f"c{i}", release_offsets=(timedelta(0),))
    await bot.store.set_release(FILM, RELEASE)
    await bot.advance_to(RELEASE)

    busy = [c for c in bot.transport.sent if c.target_id == "c0"]
    assert [c.reply.content for c in busy] == [f"part {i}" for i in range(5)]
    assert len({c.nonce.rsplit(".", 1)[0] for c in busy}) == 1
    assert [c.nonce.rsplit(".", 1)[1] for c in busy] == ["0", "1", "2", "3", "4"]
    assert all(busy[i].at - busy[i - 2].at >= 0.19 for i in range(2, 5))
    others = [c.at for c in bot.transport.sent if c.target_id != "c0"]
    assert len(others) == 3 and max(others) < busy[2].at
    assert (await bot.query("SELECT state, message_id FROM outbox WHERE target_id = 'c0'"))[0][0] == "sent"
    await bot.stop()


async def test_a_fan_out_larger_than_the_claim_window_sends_every_row_exactly_once(
    database: str | Path, clock: ManualClock
) -> None:
    # 1,001 rows: several database batches and more than the engine holds in memory at once
    # (2 x batch_size), so the backlog is claimed as workers free up. Speed and event-loop
    # stalls are measured by the benchmarks (python -m bench fanout scale), not here.
    pacing = Pacing(rate=1_000_000, burst=1_000, channel_limit=5, channel_period=timedelta(milliseconds=1))
    bot = await start_bot(database, clock, transport=RecordingTransport(pacing=pacing))
    await bot.store.update_guild_settings("g1", channel_id="c1", release_offsets=(timedelta(0),))
    await bot.store.set_release(FILM, RELEASE)
    assert bot.db is not None and bot.engine is not None
    async with bot.db.transaction() as session:  # 1,000 subscribers in one go keeps the test fast
        await session.execute(
            "INSERT INTO subscriptions (guild_id, user_id, via, created_at)"
            " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)"
            " SELECT 'g1', 'u' || i, 'dm', 0 FROM n"
        )

    clock.set(RELEASE)
    await asyncio.wait_for(bot.engine.wait_idle(), timeout=120)  # a guard against hangs, not a timing
    targets = [c.target_id for c in bot.transport.sent]
    assert len(targets) == 1001
    assert set(targets) == {"c1", *(f"u{i}" for i in range(1, 1001))}
    assert await bot.query("SELECT state, COUNT(*) FROM outbox GROUP BY state") == [("sent", 1001)]
    await bot.stop()


async def test_posts_start_while_later_reminders_are_still_being_fanned_out(tmp_path: Path, clock: ManualClock) -> None:
    guilds, batch = 30, 5
    pending_at_first_send: list[int] = []
    path = tmp_path / "bot.sqlite3"  # SQLite only: the transport's hook looks without awaiting
    bot = await start_bot(path, clock, config=EngineConfig(batch_size=batch))

    def count_unfanned(call: Call) -> None:
        if not pending_at_first_send:
            with sqlite3.connect(path) as conn:
                [(pending,)] = conn.execute("SELECT COUNT(*) FROM reminders WHERE state = 'pending'").fetchall()
            pending_at_first_send.append(int(pending))

    bot.transport.on_call = count_unfanned
    for i in range(guilds):
        await bot.store.update_guild_settings(f"g{i}", channel_id=f"c{i}", release_offsets=(timedelta(0),))
    await bot.store.set_release(FILM, RELEASE)
    await bot.advance_to(RELEASE)

    assert sorted(c.target_id for c in bot.transport.sent) == sorted(f"c{i}" for i in range(guilds))
    assert pending_at_first_send[0] >= batch, "the first post waited for the whole fan-out"
    await bot.stop()


# -- life cycle --------------------------------------------------------------------------------


async def test_stop_leaves_no_task_behind(database: str | Path, clock: ManualClock) -> None:
    before = asyncio.all_tasks()
    bot = await start_bot(database, clock, transport=RecordingTransport(hold=asyncio.Event()))
    await bot.setup_guild(offsets=(timedelta(0),))
    clock.set(RELEASE)
    await bot.transport.wait_for_calls(3)
    await bot.stop()
    assert asyncio.all_tasks() == before


async def test_a_forgotten_guild_gets_nothing(bot: Bot) -> None:
    await bot.setup_guild(offsets=(timedelta(0),))
    await bot.store.forget_guild("g1")
    await bot.advance_to(RELEASE)
    assert bot.transport.calls == []


async def test_delivered_rows_are_freed_at_once_not_left_to_the_garbage_collector(
    database: str | Path, clock: ManualClock
) -> None:
    # Reference cycles per delivery would pile up between collections; each full collection
    # then walks them all, a pause of the event loop during a large fan-out. (One worker: it
    # keeps its last job until the next, the others must be freed.)
    bot = await start_bot(database, clock, config=EngineConfig(workers=1))
    await bot.setup_guild(offsets=(timedelta(0),))
    gc.collect()
    gc.disable()
    try:
        await bot.advance_to(RELEASE)
        gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable lands in gc.garbage
        gc.collect()
        cyclic_garbage = [o for o in gc.garbage if isinstance(o, Delivery)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert len(bot.transport.sent) == 3
    assert cyclic_garbage == []
    await bot.stop()


async def test_a_graceful_stop_finishes_sends_on_the_wire_and_releases_the_rest(
    database: str | Path, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    config = EngineConfig(workers=2)
    bot = await start_bot(database, clock, transport=RecordingTransport(latency=0.2), config=config)
    await bot.setup_guild(offsets=(timedelta(0),))
    clock.set(RELEASE)
    await bot.transport.wait_for_calls(2)  # two workers: two rows on the wire, one still queued
    on_the_wire = {c.target_id for c in bot.transport.calls}
    caplog.set_level(logging.INFO, logger="bot.core.engine.engine")
    await bot.stop(within=timedelta(seconds=5))

    assert {c.target_id for c in bot.transport.sent} == on_the_wire
    states = await bot.query("SELECT target_id, state, attempts FROM outbox ORDER BY target_id")
    assert sorted((t, s, a) for t, s, a in states if t in on_the_wire) == [(t, "sent", 1) for t in sorted(on_the_wire)]
    [(released, state, attempts)] = [row for row in states if row[0] not in on_the_wire]
    assert (state, attempts) == ("pending", 0)
    assert "2 deliveries finished, 1 unsent released to pending, 0 left 'sending'" in caplog.text

    await bot.restart(RecordingTransport())
    assert [c.target_id for c in bot.transport.sent] == [released]
    assert await bot.query("SELECT DISTINCT state, attempts FROM outbox") == [("sent", 1)]
    await bot.stop()


async def test_rows_of_a_platform_this_process_does_not_serve_wait_for_one_that_does(
    database: str | Path, clock: ManualClock
) -> None:
    bot = await start_bot(database, clock)  # serves Discord only
    await bot.store.ensure_guild("T1", Platform.SLACK)
    await bot.store.update_guild_settings("T1", channel_id="C1", release_offsets=(timedelta(0),))
    await bot.setup_guild(offsets=(timedelta(0),))
    await bot.advance_to(RELEASE)
    assert sorted(c.target_id for c in bot.transport.sent) == ["701", "702", "chan-g1"]
    assert await bot.query("SELECT platform, state FROM outbox WHERE guild_id = 'T1'") == [("slack", "pending")]
    assert bot.engine is not None and bot.engine.next_alarm is not None
    # The waiting row does not keep the alarm ringing: it is armed for the long sleep, not now.
    assert (bot.engine.next_alarm - datetime.now(UTC)) > timedelta(minutes=30)
    await bot.stop()
