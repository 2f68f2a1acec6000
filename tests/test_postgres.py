"""PostgreSQL on its own: start-ups racing to migrate, and moving an installation over with
``ballerina-bot db copy`` (a real subprocess, a real SQLite file, a real PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.clock import ManualClock
from bot.core.storage import Database, DeliveryQueue, FanOut, Platform, Store, Via, load_migrations
from bot.core.storage.parties import RSVP, PartyStore, RsvpClick
from bot.core.storage.postgres import POSTGRESQL
from tests.postgres import PostgresServer
from tests.test_cli import ballerina_bot

T0 = datetime(2023, 9, 1, 12, tzinfo=UTC)
RELEASE = datetime(2023, 10, 6, 7, tzinfo=UTC)


async def test_processes_starting_at_once_on_a_fresh_database_migrate_it_once(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.new_database()
    # Each open is a pool of its own: to PostgreSQL, as separate as separate processes.
    opened = await asyncio.gather(*(Database.open(url) for _ in range(6)))
    try:
        async with opened[0].read() as session:
            versions = [row[0] for row in await session.fetchall("SELECT version FROM schema_migrations")]
        assert sorted(versions) == [migration.version for migration in load_migrations(dialect=POSTGRESQL)]
    finally:
        await asyncio.gather(*(db.close() for db in opened))


async def fill(path: Path) -> dict[str, int]:
    """An installation with something in every table; returns the row count of each."""
    clock = ManualClock(T0)
    db = await Database.open(path)
    store, parties = Store(db, clock), PartyStore(db)
    await store.set_release("ballerina", RELEASE)
    for guild in ("g1", "g2"):
        await store.update_guild_settings(guild, channel_id=f"{guild}-c", timezone="Asia/Seoul")
        await store.subscribe(guild, "u1", Via.DM)
        await store.subscribe(guild, "u2", Via.CHANNEL)
    await store.set_ping_role("g1", "role")
    await store.add_moderator("g1", "u2", added_by="u1")
    await store.set_state("commands", "hash")
    await parties.set_user_party_via("u1", Via.DM)
    party = await parties.create(
        guild_id="g1", host_id="u1", title="Premiere", starts_at=T0 + timedelta(hours=2), timezone="UTC",
        channel_id="g1-c", voice_channel_id=None, offsets=[timedelta(hours=1)], now=T0, cap=5,
    )  # fmt: skip
    await parties.answer([RsvpClick("g1", party.id, "u1", RSVP.GOING)], 3, T0, lambda _: True)
    await parties.cancel(party, T0)  # a notice, due now

    async def fan_out(fan: FanOut) -> None:
        await fan.to_guild_channel()
        await fan.dm_subscribers()

    queue = DeliveryQueue(db)
    await queue.fire_due_reminders(T0, T0, 100, fan_out)
    claim = await queue.claim_deliveries(T0, T0 - timedelta(days=1), 1, list(Platform))
    await queue.mark_sent(claim.deliveries[0].row.id, "m1", T0)
    counts = {}
    for table in await db.table_names():
        async with db.read() as session:
            row = await session.fetchone(f"SELECT COUNT(*) FROM {table}")
        assert row is not None
        counts[table] = row[0]
    await db.close()
    return counts


async def test_db_copy_moves_everything_once_and_checks_the_counts(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    source = tmp_path / "bot.sqlite3"
    counts = await fill(source)
    assert all(counts.values()), counts  # every table has something to move
    url = postgres_server.new_database()

    first = ballerina_bot("db", "copy", "--from", f"sqlite:{source}", "--to", url, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    for table, rows in counts.items():
        assert f"{table}: {rows} rows, {rows} copied now, ok" in first.stdout
    assert first.stdout.strip().endswith("every table's count matches")

    again = ballerina_bot("db", "copy", "--from", f"sqlite:{source}", "--to", url, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith("nothing to copy: the target already holds every row")
    for table, rows in counts.items():
        assert f"{table}: {rows} rows, 0 copied now, ok" in again.stdout

    # The copy is the installation: same settings, same outbox history, and new rows go on
    # after the copied ids.
    db = await Database.open(url)
    try:
        store, parties = Store(db, ManualClock(T0)), PartyStore(db)
        settings = await store.get_guild_settings("g1")
        assert (settings.channel_id, settings.ping_role_id, settings.timezone) == ("g1-c", "role", "Asia/Seoul")
        assert await store.get_subscription("g2", "u1") is not None
        async with db.read() as session:
            sent = await session.fetchall("SELECT message_id FROM outbox WHERE state = 'sent'")
        assert [row[0] for row in sent] == ["m1"]
        party = await parties.create(
            guild_id="g2", host_id="u2", title="Encore", starts_at=T0 + timedelta(days=1), timezone="UTC",
            channel_id=None, voice_channel_id=None, offsets=[], now=T0, cap=5,
        )  # fmt: skip
        assert party.id == counts["parties"] + 1
    finally:
        await db.close()


def test_db_copy_refuses_a_missing_source_file(tmp_path: Path) -> None:
    result = ballerina_bot(
        "db", "copy", "--from", f"sqlite:{tmp_path / 'none.sqlite3'}", "--to", "postgresql://x/y", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "no database file at" in result.stderr


def test_db_current_and_upgrade_work_on_the_database_url(tmp_path: Path, postgres_server: PostgresServer) -> None:
    env = {"DATABASE_URL": postgres_server.new_database()}
    before = ballerina_bot("db", "current", env=env, cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip().startswith("schema version 0 (this code: ")
    upgraded = ballerina_bot("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.stdout.startswith("applied: V1 initial, V2 watch_parties")
    again = ballerina_bot("db", "upgrade", env=env, cwd=tmp_path)
    assert again.stdout.strip() == "already up to date"


async def test_db_copy_into_a_database_holding_other_data_reports_the_mismatch(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    source = tmp_path / "bot.sqlite3"
    await fill(source)
    url = postgres_server.new_database()
    other = await Database.open(url)
    await Store(other, ManualClock(T0)).ensure_guild("g-elsewhere")
    await other.close()

    result = ballerina_bot("db", "copy", "--from", f"sqlite:{source}", "--to", url, cwd=tmp_path)
    assert result.returncode == 1
    assert "guild_settings: 2 rows, 2 copied now, MISMATCH: the target has 3" in result.stdout
    assert "the row counts differ" in result.stderr


def test_db_backup_on_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://bot@localhost/ballerina"}
    result = ballerina_bot("db", "backup", str(tmp_path / "copy.sqlite3"), env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "use pg_dump" in result.stderr
    assert not (tmp_path / "copy.sqlite3").exists()
