"""The PostgreSQL back end (``DATABASE_URL=postgresql://…``): a pool of psycopg connections.

Unlike SQLite's one connection, transactions here run side by side. Where a transaction reads
rows and then writes what it read them for (a host's party count, a guild's settings), it
first takes :meth:`Session.lock` on their keys; queued work is claimed with the dialect's
``claim_rows`` (SKIP LOCKED), so two claimers never take the same row.

Processes tell each other about changes with ``NOTIFY`` on one channel; each listens on a
connection of its own (not from the pool: a listening connection is never handed back), and
connects again if that connection drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg import AsyncConnection, AsyncCursor
from psycopg_pool import AsyncConnectionPool

from bot.core.storage.database import (
    _MIGRATION_LOCK_KEY,
    POSTGRESQL,
    Database,
    Migration,
    Params,
    Row,
    Session,
    load_migrations,
    to_format_placeholders,
)

log = logging.getLogger(__name__)

POOL_SIZE = 8
"""Connections per process: enough for the engine, the click batches and commands at once."""
CHANGES_CHANNEL = "ballerina_changes"
"""The NOTIFY channel of :meth:`PostgresDatabase.announce_change`; the payload names the sender."""
LISTEN_RETRY_FIRST = 0.5  # seconds before connecting the listener again ...
LISTEN_RETRY_MAX = 30.0  # ... doubled after each further failure, up to this


class PgRow:
    """A row readable by column name and by position, like sqlite3.Row."""

    __slots__ = ("_names", "_values")

    def __init__(self, values: Sequence[Any], names: dict[str, int]) -> None:
        self._values = values
        self._names = names

    def __getitem__(self, key: int | str, /) -> Any:
        return self._values[self._names[key] if isinstance(key, str) else key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._names)


def _pg_rows(cursor: AsyncCursor[Any]) -> Any:
    """psycopg row factory building :class:`PgRow` (one name index shared by a result's rows)."""
    names = {column.name: index for index, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(values, names)


class PostgresSession(Session):
    dialect = POSTGRESQL

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(to_format_placeholders(sql), params or None)
        return cursor.rowcount

    async def insert(self, sql: str, params: Params = ()) -> int:
        cursor = await self._conn.execute(to_format_placeholders(sql + " RETURNING id"), params or None)
        row = await cursor.fetchone()
        assert row is not None
        return int(row[0])

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        cursor = await self._conn.execute(to_format_placeholders(sql), params or None)
        return list(await cursor.fetchall())

    async def lock(self, table: str, column: str, keys: Sequence[object]) -> None:
        # Advisory locks rather than row locks: they also hold a row that does not exist yet (a
        # guild's first settings). Taken in one order, so two lockers cannot deadlock.
        names = sorted({f"{table}.{column}={key}" for key in keys})
        await self._conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(name, 0)) FROM unnest(CAST(%s AS text[])) AS name", (names,)
        )


class PostgresDatabase(Database):
    _TABLES_SQL = (
        "SELECT c.relname FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind = 'r' ORDER BY c.oid"
    )

    def __init__(
        self, url: str, pool: AsyncConnectionPool[AsyncConnection[Any]], migrations: Sequence[Migration]
    ) -> None:
        super().__init__(migrations)
        self._url = url
        self._pool = pool
        self._sender = secrets.token_hex(8)  # tells our own announcements from the others'
        self._announcing: asyncio.Task[None] | None = None
        self._announce_again = False

    @classmethod
    async def connect(cls, url: str, *, migrate: bool, migrations: Sequence[Migration] | None) -> PostgresDatabase:
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            url,
            kwargs={"autocommit": True, "row_factory": _pg_rows},
            min_size=1,
            max_size=POOL_SIZE,
            open=False,
        )
        await pool.open(wait=True)
        try:
            db = cls(url, pool, migrations if migrations is not None else load_migrations(dialect=POSTGRESQL))
            await db._start(migrate)
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        if self._announcing is not None:
            await self._announcing  # the last change made here still reaches the others
        await self._pool.close()

    def announce_change(self) -> None:
        """NOTIFY the other processes, from a task of its own: the caller (a command, the engine)
        does not wait. Announcements made while one is on its way are merged into one more."""
        if self._announcing is not None and not self._announcing.done():
            self._announce_again = True
            return
        self._announcing = asyncio.get_running_loop().create_task(self._announce(), name="database-announce")

    async def _announce(self) -> None:
        again = True
        while again:
            self._announce_again = False
            try:
                async with self._pool.connection() as conn:
                    await conn.execute("SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, self._sender))
            except psycopg.Error as exc:
                # Not lost: the other engines find the change at their next alarm.
                log.warning("could not tell the other processes about a change: %s", exc)
            again = self._announce_again

    @asynccontextmanager
    async def listen(self, on_change: Callable[[], None]) -> AsyncIterator[object]:
        listening = asyncio.create_task(self._listen(on_change), name="database-listener")
        try:
            yield listening
        finally:
            listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listening

    async def _listen(self, on_change: Callable[[], None]) -> None:
        """LISTEN on a connection of its own, for as long as the task runs; connect again after
        a failure, with a backoff, and then report a change, since any may have been missed."""
        failures = 0
        while True:
            try:
                async with await AsyncConnection.connect(self._url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANGES_CHANNEL}")
                    if failures:
                        log.info("listening for other processes' changes again")
                        on_change()
                    failures = 0
                    async for notice in conn.notifies():
                        if notice.payload != self._sender:
                            on_change()
                reason = "the connection closed"
            except psycopg.Error as exc:
                reason = str(exc) or type(exc).__name__
            failures += 1
            delay = min(LISTEN_RETRY_FIRST * 2.0 ** (failures - 1), LISTEN_RETRY_MAX)
            log.warning("stopped hearing other processes' changes (%s); listening again in %.1fs", reason, delay)
            await asyncio.sleep(delay)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        async with self._pool.connection() as conn, conn.transaction():
            yield PostgresSession(conn)

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Session]:
        async with self._pool.connection() as conn:
            yield PostgresSession(conn)

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[Database]:
        # Every statement takes a pool connection of its own, and readers never wait for writers.
        yield self

    @asynccontextmanager
    async def _migration_lock(self) -> AsyncIterator[object]:
        # A session-level lock on a connection of its own, held across the version check and
        # every migration: another process starting now waits here, then finds nothing to do.
        async with self._pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK_KEY,))
            try:
                yield conn
            finally:
                await conn.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK_KEY,))

    async def _apply(self, migration: Migration) -> None:
        async with self._pool.connection() as conn, conn.transaction():
            await conn.execute(migration.sql.encode())  # a script: no placeholders, several statements
            await conn.execute(
                "INSERT INTO schema_migrations (version, name, applied_at)"
                " VALUES (%s, %s, CAST(EXTRACT(EPOCH FROM now()) AS BIGINT))",
                (migration.version, migration.name),
            )

    async def restart_id_sequences(self, tables: Sequence[str]) -> None:
        async with self.transaction() as session:
            # The table names come from the catalogue, not from a user.
            with_ids = await session.fetchall(
                "SELECT table_name FROM information_schema.columns"
                " WHERE table_schema = current_schema() AND column_name = 'id' AND is_identity = 'YES'"
            )
            for (table,) in with_ids:
                if table in tables:
                    await session.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false)"
                        f" FROM {table}"
                    )
