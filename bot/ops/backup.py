"""``ballerina-bot db backup``: a consistent copy of the live database, taken while the bot runs.

SQLite's online backup API copies the pages under one read transaction. In WAL mode a reader
blocks no writer, so the bot keeps serving; copying everything in one step (rather than a few
pages at a time) means the bot's writes cannot restart the copy over and over.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from contextlib import closing
from pathlib import Path


class BackupError(Exception):
    """The backup cannot be made; the message says why."""


async def backup_database(source: Path, target: Path) -> int:
    """Copy ``source`` to ``target`` (which must not exist); returns the schema version copied.

    The copy is written beside ``target`` and renamed into place once checked, so a file at
    ``target`` is always a complete backup.
    """
    return await asyncio.to_thread(_copy, source, target)


def _copy(source: Path, target: Path) -> int:
    if not source.is_file():
        raise BackupError(f"there is no database at {source}")
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name")
    if not target.parent.is_dir():
        raise BackupError(f"the folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        # mode=rw: never create an empty database where the real one should have been.
        with closing(sqlite3.connect(f"{source.resolve().as_uri()}?mode=rw", uri=True)) as live:
            with closing(sqlite3.connect(partial)) as copy:
                live.backup(copy)  # pages=-1: all of it under one read transaction
                # A single self-contained file: no -wal beside it to lose when it is moved.
                copy.execute("PRAGMA journal_mode = DELETE")
                (check,) = copy.execute("PRAGMA quick_check").fetchone()
                if check != "ok":
                    raise BackupError(f"the copy failed its integrity check: {check}")
                (version,) = copy.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return int(version)
