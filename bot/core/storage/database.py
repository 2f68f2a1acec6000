"""The database: SQLite (one file, the default) or PostgreSQL (``DATABASE_URL``), its
transactions and the numbered SQL migrations.

Both back ends run the same queries. They are written once, in the SQL the two share, with
SQLite's ``?`` and ``:name`` placeholders (translated for PostgreSQL); the few places where
the dialects differ (JSON arrays, aggregates into JSON, row locks) take a fragment from the
session's :class:`Dialect`.

Migrations are plain SQL files ``migrations/V<n>__<name>.sql`` shipped as package data, one
numbered series for both back ends: where PostgreSQL needs other SQL, a file
``V<n>__<name>.postgresql.sql`` beside it takes its place there. Each runs in its own
transaction together with its ``schema_migrations`` row, so a failing file leaves the database
at the previous version. The numbers ascend but may skip one (branches developed side by side
each take a number): every version not yet recorded is applied, in order, so a lower number
that arrives later is still applied. On PostgreSQL, migrating holds an advisory lock, so several processes
starting at once apply each version once.
"""

from __future__ import annotations

import asyncio
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Protocol, TypeAlias
from urllib.parse import quote

import aiosqlite

log = logging.getLogger(__name__)

Params: TypeAlias = Sequence[object] | Mapping[str, object]

_MIGRATION_FILE = re.compile(r"V(?P<version>[1-9][0-9]*)__(?P<name>[a-z0-9_]+)(?:\.(?P<dialect>[a-z]+))?\.sql")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
# Any fixed number: the key of the advisory lock the PostgreSQL back end migrates under.
_MIGRATION_LOCK_KEY = 0x62616C6C


class SchemaError(RuntimeError):
    """The database schema cannot be brought to the version this code expects."""


class Row(Protocol):
    """A result row, by column name or position (sqlite3.Row, or the PostgreSQL rows below)."""

    def __getitem__(self, key: int | str, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def __len__(self) -> int: ...
    def keys(self) -> list[str]: ...


@dataclass(frozen=True)
class Dialect:
    """The SQL fragments where SQLite and PostgreSQL differ; everything else is written once."""

    name: str
    _array_elements: str
    _json_array_agg: str
    _json_object_agg: str
    _json_array: str
    _contains: str
    _claim_rows: str

    def array_elements(self, document: str) -> str:
        """A table function over the items of a JSON array (for ``FROM``), one ``value`` column.
        PostgreSQL gives the items as text: cast them where used (``CAST(j.value AS BIGINT)``)."""
        return self._array_elements.format(document)

    def json_array_agg(self, value: str) -> str:
        """The values of a group as a JSON array; ``[]`` for none."""
        return self._json_array_agg.format(value)

    def json_object_agg(self, key: str, value: str) -> str:
        """The pairs of a group as a JSON object; ``{}`` for none."""
        return self._json_object_agg.format(key, value)

    def json_array(self, *values: str) -> str:
        return self._json_array.format(", ".join(values))

    def contains(self, haystack: str, needle: str) -> str:
        """True where the text ``needle`` occurs in ``haystack``."""
        return self._contains.format(haystack, needle)

    def claim_rows(self, table: str) -> str:
        """Appended to a SELECT of queued rows of ``table`` about to be taken: locks them until
        the transaction ends and passes over rows another transaction holds. SQLite needs
        nothing: its write transaction already excludes every other writer."""
        return self._claim_rows.format(table)


SQLITE = Dialect(
    name="sqlite",
    _array_elements="json_each({})",
    _json_array_agg="json_group_array({})",
    _json_object_agg="json_group_object({}, {})",
    _json_array="json_array({})",
    _contains="instr({}, {}) > 0",
    _claim_rows="",
)
POSTGRESQL = Dialect(
    name="postgresql",
    _array_elements="jsonb_array_elements_text(CAST({} AS jsonb))",
    _json_array_agg="COALESCE(json_agg({}), '[]')",
    _json_object_agg="COALESCE(json_object_agg({}, {}), '{{}}')",
    _json_array="json_build_array({})",
    _contains="strpos({}, {}) > 0",
    _claim_rows=" FOR UPDATE OF {} SKIP LOCKED",
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(folder: Traversable | None = None, dialect: Dialect = SQLITE) -> tuple[Migration, ...]:
    """The migrations in ``folder`` (default: the packaged ones) for ``dialect``, in version order;
    a ``V<n>__<name>.<dialect>.sql`` file replaces ``V<n>__<name>.sql``."""
    source = folder if folder is not None else resources.files(__package__).joinpath("migrations")
    shared: dict[int, Migration] = {}
    own: dict[int, Migration] = {}
    for entry in source.iterdir():
        match = _MIGRATION_FILE.fullmatch(entry.name)
        if match is None:
            if entry.name.endswith(".sql"):
                raise SchemaError(f"migration file {entry.name!r} is not named V<n>__<name>.sql")
            continue
        migration = Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8"))
        if match["dialect"] is None:
            if migration.version in shared:
                raise SchemaError(f"two migration files for V{migration.version}")
            shared[migration.version] = migration
        elif match["dialect"] == dialect.name:
            own[migration.version] = migration
    for version, migration in own.items():
        if version not in shared or shared[version].name != migration.name:
            raise SchemaError(f"{dialect.name} migration V{version}__{migration.name} has no shared file of that name")
    return tuple(sorted((shared | own).values(), key=lambda migration: migration.version))


def is_postgres_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


class Session(ABC):
    """Statements inside one transaction (or, from :meth:`Database.read`, each on its own)."""

    dialect: Dialect

    @abstractmethod
    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""

    async def write(self, sql: str, params: Params = ()) -> None:
        """Run one statement whose row count nobody needs."""
        await self.execute(sql, params)

    @abstractmethod
    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT into a table with an ``id`` key; returns the new row's id."""

    @abstractmethod
    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]: ...

    @abstractmethod
    async def lock(self, table: str, column: str, keys: Sequence[object]) -> None:
        """Hold the rows of ``table`` whose ``column`` is one of ``keys`` (existing or not) until
        the transaction ends, before reading what a write depends on (e.g. counting a host's
        parties): another transaction locking any of them waits until this one ends."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


class SqliteSession(Session):
    """Statements on the shared connection, valid while the caller holds the database lock."""

    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        async with self._conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def write(self, sql: str, params: Params = ()) -> None:
        # One trip to the database thread, not two.
        await self._conn.execute_fetchall(sql, params)

    async def insert(self, sql: str, params: Params = ()) -> int:
        async with self._conn.execute(sql, params) as cursor:
            assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
            return cursor.lastrowid

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def lock(self, table: str, column: str, keys: Sequence[object]) -> None:
        """Nothing to do: a SQLite write transaction already excludes every other writer."""


class Database(ABC):
    """The bot's storage, shared by the whole process; open it with :meth:`open`.

    Every statement goes through :meth:`transaction` or :meth:`read`.
    """

    _TABLES_SQL: str
    """Lists the tables in the order they were created (parents before the tables that refer to them)."""

    def __init__(self, migrations: Sequence[Migration]) -> None:
        self._migrations = tuple(migrations)

    @staticmethod
    async def open(
        target: str | Path,
        *,
        migrate: bool = True,
        migrations: Sequence[Migration] | None = None,
        busy_timeout: timedelta = timedelta(seconds=5),
    ) -> Database:
        """Open ``target`` (a SQLite file, created if needed, or a ``postgresql://`` URL) and,
        unless ``migrate`` is false, upgrade it."""
        if is_postgres_url(target):
            from bot.core.storage.postgres import PostgresDatabase

            assert isinstance(target, str)
            return await PostgresDatabase.connect(target, migrate=migrate, migrations=migrations)
        return await SqliteDatabase.connect(target, migrate=migrate, migrations=migrations, busy_timeout=busy_timeout)

    async def _start(self, migrate: bool) -> None:
        async with self._migration_lock():
            await self._create_version_table()
            if migrate:
                await self._migrate_locked(None)
            else:
                await self.current_version()  # still refuse a database newer than this code

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    def transaction(self) -> AbstractAsyncContextManager[Session]:
        """A write transaction, committed unless the block raises."""

    @abstractmethod
    def read(self) -> AbstractAsyncContextManager[Session]:
        """Statements outside a transaction (each one commits on its own)."""

    @abstractmethod
    def reader(self) -> AbstractAsyncContextManager[Database]:
        """The database for reports that scan whole tables (the metrics), through a connection
        that does not hold up the bot's own statements meanwhile."""

    @abstractmethod
    async def restart_id_sequences(self, tables: Sequence[str]) -> None:
        """After rows were copied in with their ids: new ids go on after the largest."""

    @abstractmethod
    def announce_change(self) -> None:
        """Tell the other processes sharing this database that due work may have changed (a new
        reminder, new outbox rows), so that their engines look at once rather than at their next
        alarm. Returns at once."""

    def listen(self, on_change: Callable[[], None]) -> AbstractAsyncContextManager[object]:
        """While inside: ``on_change`` runs whenever another process announces a change (and once
        after any interruption of the listening, for the changes it may have missed). Nobody
        else shares a SQLite file: nothing to listen to there."""
        return nullcontext()

    async def _create_version_table(self) -> None:
        async with self.read() as session:
            await session.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)"
            )

    @abstractmethod
    async def _apply(self, migration: Migration) -> None:
        """Run one migration and record it, in one transaction."""

    def _migration_lock(self) -> AbstractAsyncContextManager[object]:
        """Held while the schema is read and changed, against other processes doing the same."""
        return nullcontext()

    @property
    def latest_version(self) -> int:
        return self._migrations[-1].version if self._migrations else 0

    async def current_version(self) -> int:
        """The highest version applied (0 for none); refuses a database newer than this code."""
        applied = await self._applied_versions()
        version = max(applied, default=0)
        if version > self.latest_version:
            raise SchemaError(f"the database is at V{version}, newer than this code (V{self.latest_version})")
        return version

    async def _applied_versions(self) -> set[int]:
        async with self.read() as session:
            rows = await session.fetchall("SELECT version FROM schema_migrations")
        return {int(row[0]) for row in rows}

    async def migrate(self, target: int | None = None) -> tuple[Migration, ...]:
        """Apply pending migrations up to ``target`` (default: the latest); returns those applied."""
        async with self._migration_lock():
            return await self._migrate_locked(target)

    async def _migrate_locked(self, target: int | None) -> tuple[Migration, ...]:
        goal = self.latest_version if target is None else target
        if not 0 <= goal <= self.latest_version:
            raise SchemaError(f"no migration V{goal}; this code knows V1..V{self.latest_version}")
        current = await self.current_version()
        if goal < current:
            raise SchemaError(f"the database is at V{current}; downgrading to V{goal} is not supported")
        done = await self._applied_versions()
        applied = tuple(m for m in self._migrations if m.version <= goal and m.version not in done)
        for migration in applied:
            await self._apply(migration)
            log.info("database migrated to V%d (%s)", migration.version, migration.name)
        return applied

    async def table_names(self) -> list[str]:
        """The application's tables (not the migration record), in the order they were created."""
        async with self.read() as session:
            rows = await session.fetchall(self._TABLES_SQL)
        return [row[0] for row in rows if row[0] != "schema_migrations"]


class SqliteDatabase(Database):
    """One SQLite file (WAL, foreign keys on) shared by the whole bot through one connection.

    :meth:`transaction` and :meth:`read` serialise on one lock: a single connection has a
    single transaction, so two tasks must never interleave statements on it.
    """

    _TABLES_SQL = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid"

    def __init__(self, conn: aiosqlite.Connection, migrations: Sequence[Migration], path: Path | None) -> None:
        super().__init__(migrations)
        self._conn = conn
        self._path = path
        self._lock = asyncio.Lock()

    @classmethod
    async def connect(
        cls,
        path: str | Path,
        *,
        migrate: bool,
        migrations: Sequence[Migration] | None,
        busy_timeout: timedelta,
    ) -> SqliteDatabase:
        # isolation_level=None: we issue BEGIN/COMMIT ourselves instead of sqlite3's implicit ones.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            session = SqliteSession(conn)
            # PRAGMAs take no bound parameters; the value is an int we computed.
            await session.execute(f"PRAGMA busy_timeout = {int(busy_timeout.total_seconds() * 1000)}")
            mode = await session.fetchone("PRAGMA journal_mode = WAL")
            if mode is None or str(mode[0]).lower() != "wal":
                log.warning("SQLite refused WAL mode for %s; running with journal mode %s", path, mode)
            await session.execute("PRAGMA foreign_keys = ON")
            # Safe with WAL: a killed process loses nothing committed; only power loss may.
            await session.execute("PRAGMA synchronous = NORMAL")
            db = cls(conn, migrations if migrations is not None else load_migrations(), Path(path))
            await db._start(migrate)
        except BaseException:
            await conn.close()
            raise
        return db

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Database]:
        """A read-only connection of its own to the same file.

        In WAL mode it reads a consistent snapshot without holding the lock the bot's own
        connection serialises on.
        """
        assert self._path is not None, "a read-only connection has no reader of its own"
        conn = await aiosqlite.connect(f"file:{quote(str(self._path))}?mode=ro", uri=True)
        conn.row_factory = aiosqlite.Row
        try:
            yield SqliteDatabase(conn, (), None)
        finally:
            await conn.close()

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    async def restart_id_sequences(self, tables: Sequence[str]) -> None:
        """Nothing to do: a new rowid is always one past the largest in its table."""

    def announce_change(self) -> None:
        """Nothing to do: one process alone uses a SQLite file."""

    async def _apply(self, migration: Migration) -> None:
        # executescript() commits any open transaction before it starts, so the BEGIN and the
        # version row travel inside the script. The name is [a-z0-9_]+, safe to inline.
        script = (
            f"BEGIN IMMEDIATE;\n{migration.sql}\n;\n"
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES "
            f"({migration.version}, '{migration.name}', CAST(strftime('%s', 'now') AS INTEGER));\n"
            "COMMIT;"
        )
        async with self._lock:
            try:
                async with self._conn.executescript(script):
                    pass
            except BaseException:
                if self._conn.in_transaction:
                    await self._conn.rollback()
                raise

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """An immediate (write-locking) transaction, committed unless the block raises."""
        async with self._lock:
            session = SqliteSession(self._conn)
            await session.write("BEGIN IMMEDIATE")
            try:
                yield session
            except BaseException:
                await self._conn.rollback()
                raise
            await self._conn.commit()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Session]:
        async with self._lock:
            yield SqliteSession(self._conn)


# A quoted string (left alone), a ``?``, a ``:name`` (not a ``::`` cast) or a literal ``%``.
_SQL_TOKEN = re.compile(r"'(?:[^']|'')*'|\?|(?<![:\w]):([A-Za-z_]\w*)|%")


@lru_cache(maxsize=512)
def to_format_placeholders(sql: str) -> str:
    """SQLite's ``?`` and ``:name`` as the ``%s`` and ``%(name)s`` of PostgreSQL's driver."""

    def replace(match: re.Match[str]) -> str:
        token = match[0]
        if token == "?":
            return "%s"
        if token == "%":
            return "%%"
        if match[1] is not None:
            return f"%({match[1]})s"
        return token

    return _SQL_TOKEN.sub(replace, sql)
