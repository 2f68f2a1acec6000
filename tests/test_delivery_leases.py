"""Several delivering processes over one database, in one test process: each engine has a
database connection (pool) of its own and a process name of its own, as separate processes do.

Claims are leased: a starting process leaves the live claims of another alone, a live process
keeps its claims by renewing them, and a claim whose lease ran out is taken over and re-sent with
the same nonce. On PostgreSQL, a change announced by one process wakes the engine of another.
The clock is a ManualClock shared by all, so a lease runs out when a test moves it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.engine import EngineConfig
from bot.core.storage import Database, Store, Via
from bot.settings import Settings, SettingsError
from tests.postgres import PostgresServer
from tests.test_engine import (  # noqa: F401  (stop_bots_left_running: an autouse fixture)
    DM_USERS,
    FILM,
    RELEASE,
    T0,
    Bot,
    RecordingTransport,
    start_bot,
    stop_bots_left_running,
)

LEASE = timedelta(seconds=30)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait (5 s at most) until the database query ``check`` says yes."""
    try:
        async with asyncio.timeout(5):
            while not await check():  # noqa: ASYNC110  (a query to repeat, not an event to wait for)
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise TimeoutError(f"waited 5 s for {what}") from None


def process(name: str, lease: timedelta = LEASE) -> EngineConfig:
    return EngineConfig(process=name, lease=lease)


async def holding_its_claims(database: str | Path, clock: ManualClock, name: str = "a") -> Bot:
    """A process that fanned out the release reminder and hangs on every send (3 rows in flight)."""
    bot = await start_bot(database, clock, transport=RecordingTransport(hold=asyncio.Event()), config=process(name))
    await bot.setup_guild(offsets=(timedelta(0),))
    clock.set(RELEASE)
    await bot.transport.wait_for_calls(3)
    assert await bot.query("SELECT DISTINCT state FROM outbox") == [("sending",)]
    return bot


async def test_a_starting_process_leaves_the_live_claims_of_another_alone(
    database: str | Path, clock: ManualClock
) -> None:
    await holding_its_claims(database, clock)
    second = await start_bot(database, clock, config=process("b"))
    assert second.transport.calls == []
    assert await second.query("SELECT DISTINCT state FROM outbox") == [("sending",)]


async def test_claims_whose_lease_ran_out_are_taken_over_and_resent_with_their_nonces(
    database: str | Path, clock: ManualClock
) -> None:
    first = await holding_its_claims(database, clock)
    nonces = {call.target_id: call.nonce for call in first.transport.calls}
    second = await start_bot(database, clock, config=process("b"))

    await second.advance_to(RELEASE + LEASE + timedelta(seconds=1))  # the first renewed nothing: it hangs
    assert {call.target_id: call.nonce for call in second.transport.sent} == nonces
    assert await second.query("SELECT state, COUNT(*) FROM outbox GROUP BY state") == [("sent", 3)]
    owners = await second.query("SELECT DISTINCT substr(claimed_by, 1, 2) FROM outbox")
    assert owners == [("b#",)]

    # The first process comes back to life: its late outcomes no longer belong to it.
    assert first.transport.hold is not None
    first.transport.hold.set()
    await first.idle()
    assert await second.query("SELECT DISTINCT substr(claimed_by, 1, 2) FROM outbox") == [("b#",)]


async def test_a_live_process_keeps_its_claims_past_the_lease_by_renewing_them(
    database: str | Path, clock: ManualClock
) -> None:
    lease = timedelta(seconds=1)  # renewed every third of a second of real time
    first = await start_bot(
        database, clock, transport=RecordingTransport(hold=asyncio.Event()), config=process("a", lease)
    )
    await first.setup_guild(offsets=(timedelta(0),))
    clock.set(RELEASE)
    await first.transport.wait_for_calls(3)
    clock.set(RELEASE + timedelta(hours=1))
    renewed = (RELEASE + timedelta(hours=1) + lease).timestamp()

    async def leases_renewed() -> bool:
        [(lease_until,)] = await first.query("SELECT MIN(lease_until) FROM outbox")
        assert isinstance(lease_until, int)
        return lease_until >= int(renewed)

    await eventually(leases_renewed, "the leases to be renewed")
    second = await start_bot(database, clock, config=process("b", lease))
    assert second.transport.calls == []


async def test_a_restarted_process_takes_over_its_own_claims_at_once(database: str | Path, clock: ManualClock) -> None:
    first = await holding_its_claims(database, clock)
    nonces = {call.target_id: call.nonce for call in first.transport.calls}
    await first.restart(RecordingTransport())  # same process name, a new run; the lease still runs
    assert {call.target_id: call.nonce for call in first.transport.sent} == nonces


async def test_two_processes_fan_out_and_deliver_every_reminder_exactly_once(
    database: str | Path, clock: ManualClock
) -> None:
    bots = [await start_bot(database, clock, config=process(name)) for name in ("a", "b")]
    guilds = [f"g{n}" for n in range(40)]
    for guild in guilds:
        await bots[0].setup_guild(guild, offsets=(timedelta(0),))
    clock.set(RELEASE)
    for bot in bots:
        await bot.idle()
    await asyncio.sleep(0.2)  # anything sent twice would have gone out by now
    await asyncio.gather(*(bot.idle() for bot in bots))
    rows = len(guilds) * (1 + len(DM_USERS))  # a channel post and a DM to each subscriber
    sends = Counter(call.nonce for bot in bots for call in bot.transport.sent)  # a re-send keeps its nonce
    assert len(sends) == rows and set(sends.values()) == {1}
    fired = await bots[0].query("SELECT COUNT(*) FROM reminders WHERE state = 'fired'")
    assert fired == [(len(guilds),)]
    states = await bots[0].query("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    assert states == [("sent", rows)]


# -- wake-ups across processes (PostgreSQL's LISTEN/NOTIFY) ---------------------------------------


async def a_release_due_now_written_by_another_process(url: str, clock: ManualClock, guild: str) -> Database:
    """Settings and subscribers of ``guild``, with the release due now, written through a
    connection of another process, which announces the change; returns that database."""
    other = await Database.open(url)
    store = Store(other, clock)
    await store.update_guild_settings(guild, channel_id=f"chan-{guild}", release_offsets=(timedelta(0),))
    await store.subscribe(guild, DM_USERS[0], Via.DM)
    await store.set_release(FILM, RELEASE)
    other.announce_change()
    return other


@pytest.fixture
async def idle_on_postgres(postgres_server: PostgresServer, clock: ManualClock) -> tuple[str, Bot]:
    """A fresh PostgreSQL database, and an engine on it with nothing due for an hour."""
    url = postgres_server.new_database()
    clock.set(RELEASE)
    return url, await start_bot(url, clock, config=EngineConfig(max_sleep=timedelta(hours=1)))


async def test_a_change_announced_by_another_process_wakes_the_engine_at_once(
    idle_on_postgres: tuple[str, Bot], clock: ManualClock
) -> None:
    url, bot = idle_on_postgres
    other = await a_release_due_now_written_by_another_process(url, clock, "g1")
    try:
        await bot.transport.wait_for_calls(2)  # within 5 s; the alarm was an hour away
    finally:
        await other.close()


async def test_the_engine_listens_again_after_its_listening_connection_drops(
    idle_on_postgres: tuple[str, Bot], clock: ManualClock
) -> None:
    url, bot = idle_on_postgres
    admin = await Database.open(url)
    try:
        async with admin.read() as session:
            killed = await session.fetchall(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
            )
        assert [tuple(row) for row in killed] == [(True,)]

        async def listening_again() -> bool:
            async with admin.read() as session:
                rows = await session.fetchall("SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN %'")
            return bool(rows[0][0])

        await eventually(listening_again, "the engine to listen again")
        other = await a_release_due_now_written_by_another_process(url, clock, "g2")
        await bot.transport.wait_for_calls(2)
        await other.close()
    finally:
        await admin.close()


# -- the settings -----------------------------------------------------------------------------------


def load(**environ: str) -> Settings:
    return Settings.load(environ=environ, env_file=None)


def test_every_process_delivers_under_a_30_second_lease_by_default_named_by_its_shards() -> None:
    settings = load()
    assert (settings.delivery, settings.delivery_lease, settings.process_name) == (True, LEASE, "main")
    assert load(SHARD_COUNT="4", SHARD_IDS="2, 3").process_name == "shards-2-3"
    assert load(PROCESS_NAME="slack-1", SHARD_COUNT="4", SHARD_IDS="2").process_name == "slack-1"
    assert load(DELIVERY="off", DELIVERY_LEASE_SECONDS="5").delivery_lease == timedelta(seconds=5)
    assert load(DELIVERY="off").delivery is False


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"DELIVERY": "sometimes"}, r"DELIVERY must be yes or no \(on or off\)"),
        ({"DELIVERY_LEASE_SECONDS": "0"}, "DELIVERY_LEASE_SECONDS must be greater than 0"),
        ({"PROCESS_NAME": "a#1"}, "PROCESS_NAME must be 1 to 64 letters"),
    ],
)
def test_invalid_delivery_settings_are_errors_naming_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load(**environ)
