"""Storage: migrations, settings, subscriptions, release scheduling, status and data removal.

The migration tests run against real SQLite files in tmp_path (raw ``sqlite3`` builds old-version
databases); the rest run against both back ends, a SQLite file and a real PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.storage import (
    DEFAULT_RELEASE_OFFSETS,
    Database,
    DeliveryQueue,
    ErrorKind,
    FanOut,
    GuildSettings,
    Platform,
    ReminderState,
    SchemaError,
    Store,
    Via,
    load_migrations,
)
from bot.core.storage.parties import DEFAULT_PARTY_OFFSETS, RSVP, PartyStore, RsvpClick

T0 = datetime(2023, 9, 1, 12, tzinfo=UTC)
RELEASE = datetime(2023, 10, 6, 7, tzinfo=UTC)
FILM = "ballerina"
VERSIONS = [migration.version for migration in load_migrations()]
LATEST = VERSIONS[-1]


def query(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchall()


async def rows(db: Database, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows no public method shows, through the database under test (either back end)."""
    async with db.read() as session:
        return [tuple(row) for row in await session.fetchall(sql, params)]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def db(database: str | Path) -> AsyncIterator[Database]:
    opened = await Database.open(database)
    yield opened
    await opened.close()


@pytest.fixture
def store(db: Database, clock: ManualClock) -> Store:
    return Store(db, clock)


# -- migrations --------------------------------------------------------------------------------


async def test_empty_file_is_migrated_to_the_latest_version_and_recorded(path: Path) -> None:
    db = await Database.open(path)
    assert await db.current_version() == LATEST == db.latest_version
    await db.close()

    recorded = query(path, "SELECT version, name, applied_at FROM schema_migrations ORDER BY version")
    assert recorded[0][:2] == (1, "initial")
    assert [row[0] for row in recorded] == VERSIONS
    assert all(isinstance(row[2], int) for row in recorded)


async def test_database_uses_wal_foreign_keys_and_a_busy_timeout(path: Path) -> None:
    db = await Database.open(path)
    async with db.read() as session:
        foreign_keys = await session.fetchone("PRAGMA foreign_keys")
        busy_timeout = await session.fetchone("PRAGMA busy_timeout")
    await db.close()
    assert foreign_keys is not None and foreign_keys[0] == 1
    assert busy_timeout is not None and busy_timeout[0] == 5000
    assert query(path, "PRAGMA journal_mode") == [("wal",)]


# Rows an older release of the bot would have written, keyed by the version whose schema they
# need. A later migration adds its own entry; the upgrade test then covers it automatically.
SEEDS: dict[int, list[str]] = {
    1: [
        "INSERT INTO guild_settings (guild_id, channel_id, ping_role_id, release_offsets, timezone, created_at,"
        " updated_at) VALUES ('g1', 'c1', 'r1', '[86400,0]', 'Europe/Paris', 1, 1)",
        "INSERT INTO subscriptions VALUES ('g1', 'u1', 'dm', 1)",
        "INSERT INTO releases VALUES ('ballerina', 1696575600)",
        "INSERT INTO reminders (guild_id, kind, event_id, offset_s, due_at, state)"
        " VALUES ('g1', 'release', 'ballerina', 86400, 1696489200, 'fired')",
        "INSERT INTO outbox (guild_id, reminder_id, target, target_id, not_before, state, created_at,"
        " updated_at) VALUES ('g1', 1, 'dm', 'u1', 1696489200, 'sent', 1696489200, 1696489200)",
    ],
    2: [
        "UPDATE guild_settings SET party_channel_id = 'c2', party_cap = 3 WHERE guild_id = 'g1'",
        "INSERT INTO parties (guild_id, host_id, title, starts_at, timezone, channel_id, offsets, created_at,"
        " updated_at) VALUES ('g1', 'u1', 'Movie night', 1796500000, 'Asia/Seoul', 'c2', '[3600]', 1, 1)",
        "INSERT INTO rsvps (party_id, user_id, choice, updated_at) VALUES (1, 'u2', 'going', 1)",
        "INSERT INTO user_settings (user_id, timezone, party_via) VALUES ('u2', 'Europe/Paris', 'dm')",
    ],
    3: [
        "INSERT INTO subscriptions VALUES ('g1', 'u3', 'channel', 1)",
        "INSERT INTO role_backfills (guild_id, role_id, last_user_id, failed, started_at, updated_at)"
        " VALUES ('g1', 'r1', 'u2', 1, 1, 1)",
    ],
    4: [
        "INSERT INTO guild_settings (guild_id, release_offsets, timezone, platform, created_at, updated_at)"
        " VALUES ('T1', '[0]', 'UTC', 'slack', 1, 1)",
        "INSERT INTO moderators VALUES ('T1', 'U1', 'U0', 1)",
    ],
}


@pytest.mark.parametrize("start", VERSIONS)
async def test_upgrade_from_every_earlier_version_keeps_the_data(path: Path, clock: ManualClock, start: int) -> None:
    old = await Database.open(path, migrate=False)
    await old.migrate(start)
    await old.close()
    with sqlite3.connect(path) as conn:
        for version in range(1, start + 1):
            for statement in SEEDS.get(version, []):
                conn.execute(statement)

    db = await Database.open(path)
    assert await db.current_version() == LATEST
    store = Store(db, clock)
    assert await store.get_guild_settings("g1") == GuildSettings(
        "g1", "c1", "r1", (timedelta(days=1), timedelta(0)), "Europe/Paris"
    )
    subscription = await store.get_subscription("g1", "u1")
    assert subscription is not None and subscription.via is Via.DM
    assert [r.offset for r in await store.upcoming_reminders("g1")] == []  # the one reminder fired
    parties = PartyStore(db)
    settings = await parties.party_settings("g1")
    if start >= 2:
        assert (settings.channel_id, settings.cap) == ("c2", 3)
        party = await parties.get("g1", 1)
        assert party is not None and party.title == "Movie night"
        assert (await parties.attendance(1, 5)).first_going == ("u2",)
        assert (await parties.user_settings("u2")).party_via is Via.DM
    else:  # upgraded from V1: the party settings start at their defaults
        assert (settings.channel_id, settings.cap, settings.offsets) == (None, 5, DEFAULT_PARTY_OFFSETS)
    backfill = await store.role_backfill("g1")
    if start >= 3:
        assert backfill is not None and (backfill.role_id, backfill.failed, backfill.state) == ("r1", 1, "running")
        assert (backfill.handled, backfill.total) == (0, 1)  # u3 comes after u2: still to do
        assert await store.running_role_backfills() == ["g1"]
    else:  # upgraded from V2 or earlier: no back-fill was ever started
        assert backfill is None and await store.running_role_backfills() == []
    assert (await store.get_guild_settings("g1")).platform is Platform.DISCORD  # every guild before V4
    if start >= 4:
        assert (await store.get_guild_settings("T1")).platform is Platform.SLACK
        assert await store.moderator_ids("T1") == {"U1"}
    await db.close()
    assert query(path, "SELECT state, nonce, platform FROM outbox")[0][::2] == ("sent", "discord")


def write_migrations(folder: Path, extra: dict[str, str]) -> Path:
    folder.mkdir()
    for migration in load_migrations():
        (folder / f"V{migration.version}__{migration.name}.sql").write_text(migration.sql)
    for name, sql in extra.items():
        (folder / name).write_text(sql)
    return folder


async def test_pending_migrations_apply_in_order_and_a_failing_one_rolls_back(
    path: Path, tmp_path: Path, clock: ManualClock
) -> None:
    db = await Database.open(path)
    await Store(db, clock).update_guild_settings("g1", channel_id="c1")
    await db.close()

    folder = write_migrations(
        tmp_path / "migrations",
        {
            f"V{LATEST + 1}__screenings.sql": "CREATE TABLE screenings (id INTEGER PRIMARY KEY, guild_id TEXT);\n"
            "INSERT INTO screenings (guild_id) SELECT guild_id FROM guild_settings;",
            f"V{LATEST + 2}__broken.sql": "CREATE TABLE half_done (x);\nINSERT INTO no_such_table VALUES (1);",
        },
    )
    with pytest.raises(sqlite3.OperationalError, match="no_such_table"):
        await Database.open(path, migrations=load_migrations(folder))

    assert query(path, "SELECT MAX(version) FROM schema_migrations") == [(LATEST + 1,)]
    assert query(path, "SELECT guild_id FROM screenings") == [("g1",)]
    assert query(path, "SELECT name FROM sqlite_master WHERE name = 'half_done'") == []


async def test_migrate_stops_at_the_target_version(path: Path, tmp_path: Path) -> None:
    folder = write_migrations(tmp_path / "migrations", {f"V{LATEST + 1}__more.sql": "CREATE TABLE more (x);"})
    db = await Database.open(path, migrate=False, migrations=load_migrations(folder))
    assert await db.current_version() == 0
    applied = await db.migrate(LATEST)
    assert [m.version for m in applied] == VERSIONS
    assert await db.current_version() == LATEST
    assert [m.name for m in await db.migrate()] == ["more"]
    await db.close()


async def test_database_newer_than_the_code_is_refused(path: Path, tmp_path: Path) -> None:
    folder = write_migrations(tmp_path / "migrations", {f"V{LATEST + 1}__future.sql": "CREATE TABLE f (x);"})
    newer = await Database.open(path, migrations=load_migrations(folder))
    await newer.close()
    with pytest.raises(SchemaError, match="newer than this code"):
        await Database.open(path)


async def test_downgrading_is_refused(db: Database) -> None:
    with pytest.raises(SchemaError, match="not supported"):
        await db.migrate(0)


async def test_a_skipped_number_is_allowed_and_a_lower_one_arriving_later_is_still_applied(
    path: Path, tmp_path: Path
) -> None:
    # Branches developed side by side each take a number; the one merged second may be lower.
    folder = write_migrations(tmp_path / "migrations", {f"V{LATEST + 2}__second.sql": "CREATE TABLE second (x);"})
    db = await Database.open(path, migrations=load_migrations(folder))
    assert await db.current_version() == LATEST + 2
    await db.close()
    (folder / f"V{LATEST + 1}__first.sql").write_text("CREATE TABLE first (x);")
    db = await Database.open(path, migrations=load_migrations(folder))
    await db.close()
    assert query(path, "SELECT version FROM schema_migrations WHERE version > ? ORDER BY version", LATEST) == [
        (LATEST + 1,),
        (LATEST + 2,),
    ]
    assert query(path, "SELECT name FROM sqlite_master WHERE name = 'first'") == [("first",)]


def test_migrations_ship_inside_the_package() -> None:
    first = load_migrations()[0]
    assert (first.version, first.name) == (1, "initial")
    assert "CREATE TABLE outbox" in first.sql


# -- guild settings ----------------------------------------------------------------------------


async def test_a_guild_without_settings_gets_the_defaults(store: Store) -> None:
    assert await store.find_guild_settings("g1") is None
    settings = await store.get_guild_settings("g1")
    assert settings == GuildSettings("g1", None, None, DEFAULT_RELEASE_OFFSETS, "UTC")


async def test_partial_update_changes_only_the_given_settings(store: Store) -> None:
    await store.update_guild_settings("g1", channel_id="c1", ping_role_id="r1")
    updated = await store.update_guild_settings(
        "g1", release_offsets=(timedelta(0), timedelta(hours=1), timedelta(hours=1)), timezone="Asia/Seoul"
    )
    assert updated == GuildSettings("g1", "c1", "r1", (timedelta(hours=1), timedelta(0)), "Asia/Seoul")
    assert await store.get_guild_settings("g1") == updated

    cleared = await store.update_guild_settings("g1", ping_role_id=None)
    assert (cleared.channel_id, cleared.ping_role_id, cleared.timezone) == ("c1", None, "Asia/Seoul")


async def test_concurrent_changes_of_different_settings_all_stay(store: Store) -> None:
    # On PostgreSQL transactions run side by side: each change must see the one before it, even
    # the first ones, before the guild has a settings row.
    await asyncio.gather(
        store.update_guild_settings("g1", channel_id="c1"),
        store.update_guild_settings("g1", timezone="Asia/Seoul"),
        store.update_guild_settings("g1", ping_role_id="r1"),
        store.update_guild_settings("g1", release_offsets=(timedelta(hours=2),)),
    )
    assert await store.get_guild_settings("g1") == GuildSettings("g1", "c1", "r1", (timedelta(hours=2),), "Asia/Seoul")


async def test_invalid_settings_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="time zone"):
        await store.update_guild_settings("g1", timezone="Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="negative"):
        await store.update_guild_settings("g1", release_offsets=(timedelta(hours=-1),))
    assert await store.find_guild_settings("g1") is None


async def test_reset_restores_the_defaults_and_keeps_subscriptions(store: Store) -> None:
    await store.update_guild_settings("g1", channel_id="c1", timezone="Asia/Seoul")
    await store.subscribe("g1", "u1", Via.DM)
    assert await store.reset_guild_settings("g1") == GuildSettings("g1")
    assert await store.get_guild_settings("g1") == GuildSettings("g1")
    assert await store.get_subscription("g1", "u1") is not None


# -- subscriptions -----------------------------------------------------------------------------


async def test_subscribe_switch_and_unsubscribe(store: Store, clock: ManualClock) -> None:
    assert await store.subscribe("g1", "u1", Via.CHANNEL) is None
    assert await store.subscribe("g1", "u1", Via.DM) is Via.CHANNEL
    await store.subscribe("g1", "u2", Via.DM)
    await store.subscribe("g1", "u3", Via.CHANNEL)
    await store.subscribe("g2", "u1", Via.CHANNEL)

    subscription = await store.get_subscription("g1", "u1")
    assert subscription is not None
    assert (subscription.via, subscription.created_at) == (Via.DM, clock.now())
    assert await store.count_subscribers("g1") == {Via.CHANNEL: 1, Via.DM: 2}

    assert await store.unsubscribe("g1", "u1") is True
    assert await store.unsubscribe("g1", "u1") is False
    assert await store.get_subscription("g1", "u1") is None
    assert await store.count_subscribers("g1") == {Via.CHANNEL: 1, Via.DM: 1}
    assert await store.count_subscribers("nowhere") == {Via.CHANNEL: 0, Via.DM: 0}


# -- release reminders -------------------------------------------------------------------------


async def test_setting_the_release_schedules_every_guild_and_skips_offsets_already_past(
    store: Store, clock: ManualClock, db: Database
) -> None:
    await store.update_guild_settings("g1", channel_id="c1")
    await store.subscribe("g2", "u1", Via.DM)  # a guild seen only through a subscription
    clock.set(RELEASE - timedelta(days=3))
    await store.set_release(FILM, RELEASE)

    for guild in ("g1", "g2"):
        upcoming = await store.upcoming_reminders(guild)
        assert [r.offset for r in upcoming] == [timedelta(days=1), timedelta(hours=1), timedelta(0)]
        assert [r.due_at for r in upcoming] == [RELEASE - r.offset for r in upcoming]
        assert {(r.kind, r.event_id) for r in upcoming} == {("release", FILM)}
    assert await rows(db, "SELECT DISTINCT offset_s, state, note FROM reminders WHERE offset_s = 604800") == [
        (604800, "skipped", "already past when scheduled")
    ]


async def test_changing_offsets_cancels_dropped_reminders_and_schedules_new_ones(store: Store, db: Database) -> None:
    await store.set_release(FILM, RELEASE)
    await store.update_guild_settings("g1", release_offsets=(timedelta(days=1), timedelta(hours=1)))
    await store.update_guild_settings("g1", release_offsets=(timedelta(hours=1), timedelta(minutes=10)))
    assert [r.offset for r in await store.upcoming_reminders("g1")] == [
        timedelta(hours=1),
        timedelta(minutes=10),
    ]
    cancelled = await rows(db, "SELECT offset_s, note FROM reminders WHERE state = 'cancelled'")
    assert cancelled == [(86400, "offset removed from settings")]
    # Adding an offset back revives its reminder rather than duplicating it.
    await store.update_guild_settings("g1", release_offsets=(timedelta(days=1),))
    assert [r.offset for r in await store.upcoming_reminders("g1")] == [timedelta(days=1)]
    assert await rows(db, "SELECT COUNT(*) FROM reminders WHERE offset_s = 86400") == [(1,)]


async def test_moving_the_release_moves_pending_reminders(store: Store) -> None:
    await store.update_guild_settings("g1", release_offsets=(timedelta(hours=1),))
    await store.set_release(FILM, RELEASE)
    later = RELEASE + timedelta(days=2)
    await store.set_release(FILM, later)
    [reminder] = await store.upcoming_reminders("g1")
    assert reminder.due_at == later - timedelta(hours=1)


# -- status and data removal -------------------------------------------------------------------


async def fan_out_everything(fan: FanOut) -> None:
    await fan.to_guild_channel()
    await fan.dm_subscribers()


async def deliver_and_fail(db: Database, clock: ManualClock, errors: dict[str, ErrorKind]) -> None:
    """Fire what is due and fail the deliveries named in ``errors`` (by target id)."""
    queue = DeliveryQueue(db)
    now = clock.now()
    await queue.fire_due_reminders(now, now, 100, fan_out_everything)
    claim = await queue.claim_deliveries(now, now - timedelta(hours=1), 100, list(Platform))
    for delivery in claim.deliveries:
        kind = errors.get(delivery.row.target_id)
        if kind is None:
            await queue.mark_sent(delivery.row.id, "m1", now)
        else:
            await queue.mark_failed(delivery.row.id, kind, f"{kind} for {delivery.row.target_id}", now)


async def test_delivery_problems_are_counted_by_error_kind(store: Store, db: Database, clock: ManualClock) -> None:
    await store.update_guild_settings("g1", channel_id="c1", release_offsets=(timedelta(0),))
    for user in ("u1", "u2", "u3"):
        await store.subscribe("g1", user, Via.DM)
    await store.set_release(FILM, RELEASE)
    clock.set(RELEASE)
    await deliver_and_fail(
        db, clock, {"c1": ErrorKind.MISSING_CHANNEL, "u1": ErrorKind.DMS_CLOSED, "u2": ErrorKind.DMS_CLOSED}
    )

    problems = await store.delivery_problems("g1")
    assert problems.counts == {ErrorKind.MISSING_CHANNEL: 1, ErrorKind.DMS_CLOSED: 2}
    assert problems.total == 3
    assert {row.target_id for row in problems.recent} == {"c1", "u1", "u2"}
    assert all(row.error_detail for row in problems.recent)

    clock.advance(timedelta(days=8))
    assert (await store.delivery_problems("g1")).total == 0


async def test_forget_guild_purges_everything_of_that_guild_only(
    store: Store, db: Database, clock: ManualClock
) -> None:
    for guild in ("g1", "g2"):
        await store.update_guild_settings(guild, channel_id=f"c-{guild}", release_offsets=(timedelta(0),))
        await store.subscribe(guild, "u1", Via.DM)
    await store.set_release(FILM, RELEASE + timedelta(days=1))  # leaves one pending reminder each
    await store.set_release("other", RELEASE)
    clock.set(RELEASE)
    await deliver_and_fail(db, clock, {})

    assert await store.forget_guild("g1") is True
    assert await store.forget_guild("g1") is False
    assert await store.find_guild_settings("g1") is None
    assert await store.get_subscription("g1", "u1") is None
    assert await store.upcoming_reminders("g1") == []
    for table in ("guild_settings", "subscriptions", "reminders", "outbox"):
        assert await rows(db, f"SELECT COUNT(*) FROM {table} WHERE guild_id = 'g1'") == [(0,)], table
        assert await rows(db, f"SELECT COUNT(*) FROM {table} WHERE guild_id = 'g2'") != [(0,)], table


async def test_forget_member_deletes_their_sign_up_answers_dms_and_settings_in_that_guild(
    store: Store, db: Database, clock: ManualClock
) -> None:
    await store.update_guild_settings("g1", channel_id="c1", release_offsets=(timedelta(0),))
    await store.subscribe("g1", "u1", Via.DM)
    await store.subscribe("g1", "u2", Via.DM)
    await store.set_release(FILM, RELEASE)
    clock.set(RELEASE)
    await deliver_and_fail(db, clock, {})

    parties = PartyStore(db)
    await store.ensure_guild("g2")
    common = {
        "host_id": "u2",
        "title": "Night",
        "timezone": "UTC",
        "channel_id": "c1",
        "voice_channel_id": None,
        "cap": 5,
    }
    starts = {"starts_at": clock.now() + timedelta(days=1), "offsets": (), "now": clock.now()}
    ours = [await parties.create(guild_id="g1", **common, **starts) for _ in range(2)]
    theirs = await parties.create(guild_id="g2", **common, **starts)
    clicks = [RsvpClick(p.guild_id, p.id, user, RSVP.GOING) for p in (*ours, theirs) for user in ("u1", "u2")]
    for click in clicks:  # one by one: one batch takes one click per party
        await parties.answer([click], 5, clock.now(), lambda party: True)
    await parties.set_user_timezone("u1", "Europe/Paris")

    assert await store.forget_member("g1", "u1") == [party.id for party in ours]
    assert await store.get_subscription("g1", "u1") is None
    assert await rows(db, "SELECT target_id FROM outbox ORDER BY target_id") == [("c1",), ("u2",)]
    assert await rows(db, "SELECT party_id, user_id FROM rsvps WHERE user_id = 'u1'") == [(theirs.id, "u1")]
    assert await rows(db, "SELECT COUNT(*) FROM rsvps WHERE user_id = 'u2'") == [(3,)]
    assert (await parties.user_settings("u1")).timezone is None
    assert len(await rows(db, "SELECT id FROM parties")) == 3  # the parties stay, whoever answered


async def test_reminder_state_after_fan_out_is_recorded(store: Store, db: Database, clock: ManualClock) -> None:
    await store.update_guild_settings("g1", channel_id="c1", release_offsets=(timedelta(0),))
    await store.set_release(FILM, RELEASE)
    clock.set(RELEASE)
    outcomes = await DeliveryQueue(db).fire_due_reminders(
        clock.now(), clock.now() - timedelta(minutes=1), 10, fan_out_everything
    )
    assert [(o.reminder.state, o.rows, o.late) for o in outcomes] == [(ReminderState.FIRED, 1, False)]


async def test_a_failing_fan_out_skips_its_reminder_and_writes_nothing(
    store: Store, db: Database, clock: ManualClock
) -> None:
    await store.update_guild_settings("g1", channel_id="c1", release_offsets=(timedelta(0),))
    await store.update_guild_settings("g2", channel_id="c2", release_offsets=(timedelta(0),))
    await store.set_release(FILM, RELEASE)
    clock.set(RELEASE)

    async def broken_for_g1(fan: FanOut) -> None:
        await fan.to_guild_channel()
        if fan.reminder.guild_id == "g1":
            raise RuntimeError("renderer bug")

    outcomes = await DeliveryQueue(db).fire_due_reminders(clock.now(), clock.now(), 10, broken_for_g1)
    states = {o.reminder.guild_id: (o.reminder.state, o.reminder.note, o.rows) for o in outcomes}
    assert states == {"g1": (ReminderState.SKIPPED, "fan-out failed", 0), "g2": (ReminderState.FIRED, None, 1)}
    assert await rows(db, "SELECT guild_id FROM outbox") == [("g2",)]


# -- RSVPs in batches ----------------------------------------------------------------------------


async def test_one_batch_of_clicks_answers_each_in_its_own_server_only(
    db: Database, store: Store, clock: ManualClock
) -> None:
    parties = PartyStore(db)
    for guild_id in ("g1", "g2"):
        await store.ensure_guild(guild_id)
    common = {
        "title": "Night",
        "timezone": "UTC",
        "channel_id": "c",
        "voice_channel_id": None,
        "now": clock.now(),
        "cap": 5,
    }
    ours = await parties.create(guild_id="g1", host_id="h", starts_at=T0 + timedelta(days=1), offsets=(), **common)
    closed = await parties.create(guild_id="g1", host_id="h", starts_at=T0 + timedelta(days=2), offsets=(), **common)
    theirs = await parties.create(guild_id="g2", host_id="h", starts_at=T0 + timedelta(days=1), offsets=(), **common)
    await parties.answer([RsvpClick("g1", ours.id, "u1", RSVP.GOING)], 5, clock.now(), lambda party: True)

    clock.advance(timedelta(minutes=1))
    clicks = [
        RsvpClick("g1", ours.id, "u1", RSVP.GOING),  # the same answer again
        RsvpClick("g1", ours.id, "u2", RSVP.MAYBE),
        RsvpClick("g1", theirs.id, "u3", RSVP.GOING),  # another server's party id
        RsvpClick("g1", closed.id, "u4", RSVP.GOING),  # a party that takes no answers
        RsvpClick("g2", theirs.id, "u1", None),  # leaving a party one never answered
    ]
    contexts = await parties.answer(clicks, 5, clock.now(), lambda party: party.id != closed.id)

    assert [c.answer if c else "refused" for c in contexts] == [RSVP.GOING, None, "refused", None, None]
    first = contexts[0]
    assert first is not None and first.party == ours and first.attendance.first_going == ("u1",)
    assert await rows(db, "SELECT party_id, user_id, choice, updated_at FROM rsvps ORDER BY user_id") == [
        (ours.id, "u1", "going", int(T0.timestamp())),  # untouched: it changed nothing
        (ours.id, "u2", "maybe", int(clock.now().timestamp())),
    ]

    # A member's own upcoming parties: hosted, or answered (in this server only).
    mine = await parties.upcoming_of_member("g1", "u2", clock.now(), limit=10)
    assert [(p.party.id, p.answer) for p in mine] == [(ours.id, RSVP.MAYBE)]
    hosted = await parties.upcoming_of_member("g1", "h", clock.now(), limit=10)
    assert [(p.party.id, p.answer) for p in hosted] == [(ours.id, None), (closed.id, None)]


async def test_the_ping_role_back_fill_counts_channel_opt_ins_and_goes_with_the_guild(store: Store) -> None:
    for user in ("u1", "u2", "u3"):
        await store.subscribe("g1", user, Via.CHANNEL)
    await store.subscribe("g1", "u4", Via.DM)  # DMs ping nobody: no role for them
    backfill = await store.set_ping_role("g1", "r1")
    assert backfill is not None and (backfill.handled, backfill.total, backfill.state) == (0, 3, "running")
    assert await store.next_channel_subscriber("g1", None) == "u1"
    await store.advance_role_backfill(backfill.id, "u1", failed=False)
    await store.advance_role_backfill(backfill.id, "u2", failed=True)
    progress = await store.role_backfill("g1")
    assert progress is not None and (progress.handled, progress.failed) == (2, 1)
    assert await store.next_channel_subscriber("g1", "u2") == "u3"
    assert await store.next_channel_subscriber("g1", "u3") is None

    await store.forget_guild("g1")
    assert await store.role_backfill("g1") is None


async def test_setting_a_role_with_nobody_opted_in_in_the_channel_starts_no_back_fill(store: Store) -> None:
    await store.subscribe("g1", "u1", Via.DM)
    assert await store.set_ping_role("g1", "r1") is None
    assert (await store.get_guild_settings("g1")).ping_role_id == "r1"


# -- platforms ---------------------------------------------------------------------------------


async def test_fan_outs_copy_each_guilds_platform_into_its_outbox_rows(
    store: Store, db: Database, clock: ManualClock
) -> None:
    await store.ensure_guild("T1", Platform.SLACK)
    for guild, channel, user in (("T1", "C1", "U1"), ("g1", "c1", "u1")):
        await store.update_guild_settings(guild, channel_id=channel, release_offsets=(timedelta(0),))
        await store.subscribe(guild, user, Via.DM)
    await store.set_release(FILM, RELEASE)
    clock.set(RELEASE)
    queue = DeliveryQueue(db)
    await queue.fire_due_reminders(clock.now(), clock.now(), 100, fan_out_everything)
    claim = await queue.claim_deliveries(clock.now(), clock.now() - timedelta(hours=1), 100, list(Platform))
    assert {(d.row.target_id, d.row.platform) for d in claim.deliveries} == {
        ("C1", Platform.SLACK),
        ("U1", Platform.SLACK),
        ("c1", Platform.DISCORD),
        ("u1", Platform.DISCORD),
    }


async def test_a_guilds_platform_is_kept_by_later_writes_and_a_reset(store: Store) -> None:
    await store.ensure_guild("T1", Platform.SLACK)
    await store.ensure_guild("T1")  # a later call does not change it
    await store.update_guild_settings("T1", timezone="Asia/Seoul")
    await store.reset_guild_settings("T1")
    assert (await store.get_guild_settings("T1")).platform is Platform.SLACK
    await store.update_guild_settings("g2", timezone="Asia/Seoul")
    assert (await store.get_guild_settings("g2")).platform is Platform.DISCORD


async def test_moderators_are_added_once_removed_and_forgotten_with_their_workspace(store: Store) -> None:
    await store.ensure_guild("T1", Platform.SLACK)
    assert await store.add_moderator("T1", "U2", added_by="U1")
    assert not await store.add_moderator("T1", "U2", added_by="U1")
    assert await store.moderator_ids("T1") == {"U2"}
    assert await store.moderator_ids("T2") == set()
    assert await store.remove_moderator("T1", "U2") and not await store.remove_moderator("T1", "U2")
    await store.add_moderator("T1", "U3", added_by="U1")
    assert await store.forget_guild("T1")
    assert await store.moderator_ids("T1") == set()
