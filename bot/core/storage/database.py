"""The SQLite connection, its transactions and the numbered SQL migrations.

Migrations are plain SQL files ``migrations/V<n>__<name>.sql`` shipped as package data. Each
runs in its own transaction together with its ``schema_migrations`` row, so a failing file
leaves the database at the previous version. Foreign keys stay on while they run: a file that
rebuilds a table must copy its rows before dropping the old one.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TypeAlias
from urllib.parse import quote

import aiosqlite

log = logging.getLogger(__name__)

Params: TypeAlias = Sequence[object] | Mapping[str, object]

_MIGRATION_FILE = re.compile(r"V(?P<version>[1-9][0-9]*)__(?P<name>[a-z0-9_]+)\.sql")


class SchemaError(RuntimeError):
    """The database schema cannot be brought to the version this code expects."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(folder: Traversable | None = None) -> tuple[Migration, ...]:
    """The migrations in ``folder`` (default: the packaged ones), checked to run 1, 2, 3… without gaps."""
    source = folder if folder is not None else resources.files(__package__).joinpath("migrations")
    found: list[Migration] = []
    for entry in source.iterdir():
        match = _MIGRATION_FILE.fullmatch(entry.name)
        if match is None:
            if entry.name.endswith(".sql"):
                raise SchemaError(f"migration file {entry.name!r} is not named V<n>__<name>.sql")
            continue
        found.append(Migration(int(match["version"]), match["name"], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda migration: migration.version)
    versions = [migration.version for migration in found]
    if versions != list(range(1, len(found) + 1)):
        raise SchemaError(f"migration versions must be 1..n without gaps or repeats, got {versions}")
    return tuple(found)


class Session:
    """Statements on the shared connection, valid while the caller holds the database lock."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        async with self._conn.execute(sql, params) as cursor:
            return cursor.rowcount

    async def write(self, sql: str, params: Params = ()) -> None:
        """Run one statement whose row count nobody needs: one trip to the database thread, not two."""
        await self._conn.execute_fetchall(sql, params)

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT; returns the new row's id."""
        async with self._conn.execute(sql, params) as cursor:
            assert cursor.lastrowid is not None  # an INSERT into a rowid table always sets it
            return cursor.lastrowid

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        return list(await self._conn.execute_fetchall(sql, params))

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None


class Database:
    """One SQLite file (WAL, foreign keys on) shared by the whole bot through one connection.

    Every statement goes through :meth:`transaction` or :meth:`read`, which serialise on one
    lock: a single connection has a single transaction, so two tasks must never interleave
    statements on it.
    """

    def __init__(self, conn: aiosqlite.Connection, migrations: Sequence[Migration]) -> None:
        self._conn = conn
        self._migrations = tuple(migrations)
        self._lock = asyncio.Lock()

    @classmethod
    async def open(
        cls,
        path: str | Path,
        *,
        migrate: bool = True,
        migrations: Sequence[Migration] | None = None,
        busy_timeout: timedelta = timedelta(seconds=5),
    ) -> Database:
        """Open (creating if needed) the database file and, unless ``migrate`` is false, upgrade it."""
        # isolation_level=None: we issue BEGIN/COMMIT ourselves instead of sqlite3's implicit ones.
        conn = await aiosqlite.connect(path, isolation_level=None)
        try:
            conn.row_factory = aiosqlite.Row
            session = Session(conn)
            # PRAGMAs take no bound parameters; the value is an int we computed.
            await session.execute(f"PRAGMA busy_timeout = {int(busy_timeout.total_seconds() * 1000)}")
            mode = await session.fetchone("PRAGMA journal_mode = WAL")
            if mode is None or str(mode[0]).lower() != "wal":
                log.warning("SQLite refused WAL mode for %s; running with journal mode %s", path, mode)
            await session.execute("PRAGMA foreign_keys = ON")
            # Safe with WAL: a killed process loses nothing committed; only power loss may.
            await session.execute("PRAGMA synchronous = NORMAL")
            await session.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
            )
            db = cls(conn, migrations if migrations is not None else load_migrations())
            if migrate:
                await db.migrate()
            else:
                await db.current_version()  # still refuse a database newer than this code
        except BaseException:
            await conn.close()
            raise
        return db

    @classmethod
    async def open_read_only(cls, path: str | Path) -> Database:
        """A read-only connection of its own to an existing file; never creates one.

        For reports that scan whole tables (the metrics): in WAL mode they read a consistent
        snapshot without holding the lock the bot's own connection serialises on.
        """
        # Checked first for a plain message (and no connection thread started for nothing).
        if not await asyncio.to_thread(Path(path).is_file):
            raise FileNotFoundError(f"no database at {path}")
        conn = await aiosqlite.connect(f"file:{quote(str(path))}?mode=ro", uri=True)
        conn.row_factory = aiosqlite.Row
        return cls(conn, ())

    async def close(self) -> None:
        async with self._lock:
            await self._conn.close()

    @property
    def latest_version(self) -> int:
        return len(self._migrations)

    async def current_version(self) -> int:
        async with self.read() as session:
            row = await session.fetchone("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        version = int(row[0]) if row is not None else 0
        if version > self.latest_version:
            raise SchemaError(f"the database is at V{version}, newer than this code (V{self.latest_version})")
        return version

    async def migrate(self, target: int | None = None) -> tuple[Migration, ...]:
        """Apply pending migrations up to ``target`` (default: the latest); returns those applied."""
        goal = self.latest_version if target is None else target
        if not 0 <= goal <= self.latest_version:
            raise SchemaError(f"no migration V{goal}; this code knows V1..V{self.latest_version}")
        current = await self.current_version()
        if goal < current:
            raise SchemaError(f"the database is at V{current}; downgrading to V{goal} is not supported")
        applied = self._migrations[current:goal]
        for migration in applied:
            await self._apply(migration)
            log.info("database migrated to V%d (%s)", migration.version, migration.name)
        return applied

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
            session = Session(self._conn)
            await session.write("BEGIN IMMEDIATE")
            try:
                yield session
            except BaseException:
                await self._conn.rollback()
                raise
            await self._conn.commit()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Session]:
        """Statements outside a transaction (each one commits on its own)."""
        async with self._lock:
            yield Session(self._conn)
