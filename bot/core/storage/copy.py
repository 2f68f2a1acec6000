"""Moving an installation from one database to another (``ballerina-bot db copy``), typically
from the SQLite file to PostgreSQL when the bot outgrows one process.

Every row of every table goes over with its ids, so the outbox keeps its nonces and history,
reminders keep their states, and parties keep the ids their buttons carry. A row whose key is
already in the target is left alone: copying again adds nothing, and a copy that stopped half
way can simply be run again.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.storage.database import Database, SchemaError

_MAX_PARAMETERS = 30_000
"""Bound values in one INSERT: under SQLite's (32,766) and PostgreSQL's (65,535) limits."""


@dataclass(frozen=True)
class TableCopy:
    table: str
    source_rows: int
    added: int
    """Rows the target did not have yet."""
    target_rows: int

    @property
    def matches(self) -> bool:
        return self.source_rows == self.target_rows


async def copy_database(source: Database, target: Database) -> list[TableCopy]:
    """Copy every row of ``source`` into ``target`` (both at this code's schema version) and
    count both sides of each table afterwards."""
    for side, db in (("source", source), ("target", target)):
        version = await db.current_version()
        if version != db.latest_version:
            raise SchemaError(
                f"the {side} database is at V{version}, this code at V{db.latest_version}: run `db upgrade` on it first"
            )
    tables = await source.table_names()
    missing = set(tables) - set(await target.table_names())
    if missing:
        raise SchemaError(f"the target database has no table {', '.join(sorted(missing))}")
    report = [await _copy_table(source, target, table) for table in tables]
    await target.restart_id_sequences(tables)
    return report


async def _copy_table(source: Database, target: Database, table: str) -> TableCopy:
    # Table names come from the source's catalogue, checked to exist in the target.
    async with source.read() as session:
        rows = await session.fetchall(f"SELECT * FROM {table}")
    before = await _count(target, table)
    async with target.transaction() as session:
        if rows:
            columns = rows[0].keys()
            per_insert = max(_MAX_PARAMETERS // len(columns), 1)
            row_marks = "(" + ", ".join(["?"] * len(columns)) + ")"
            for start in range(0, len(rows), per_insert):
                batch = rows[start : start + per_insert]
                await session.write(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                    + ", ".join([row_marks] * len(batch))
                    + " ON CONFLICT DO NOTHING",
                    [value for row in batch for value in row],
                )
    after = await _count(target, table)
    return TableCopy(table, len(rows), after - before, after)


async def _count(db: Database, table: str) -> int:
    async with db.read() as session:
        row = await session.fetchone(f"SELECT COUNT(*) FROM {table}")
    assert row is not None  # an aggregate always yields one row
    return int(row[0])
