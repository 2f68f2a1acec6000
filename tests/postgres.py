"""A real PostgreSQL server for the tests, from the pgserver package (binaries in a wheel)."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here."""


@dataclass
class PostgresServer:
    handle: Any
    folder: Path
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls) -> PostgresServer:
        try:
            import pgserver  # type: ignore[import-untyped]
        except ImportError as exc:
            raise PostgresUnavailable("pgserver is not installed") from exc
        # Not under pytest's own temporary folder: pytest keeps that private to its user (0700),
        # even while this run uses it, and the server runs as another user (see conftest.py).
        folder = Path(tempfile.mkdtemp(prefix="ballerina-postgres-"))
        try:
            server = cls(pgserver.get_server(folder / "data", cleanup_mode="delete"), folder)
        except Exception as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresUnavailable(f"pgserver could not start a server: {exc}") from exc
        with psycopg.connect(server.url(), autocommit=True) as conn:
            # A throwaway server: nothing to keep through a power cut, so no waiting for the disk.
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                conn.execute(f"ALTER SYSTEM SET {setting} = off")
            conn.execute("SELECT pg_reload_conf()")
        return server

    def url(self, database: str = "postgres") -> str:
        return str(self.handle.get_uri(database))

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        self.handle.__exit__(None, None, None)  # the last handle: stops the server, deletes its data
        shutil.rmtree(self.folder, ignore_errors=True)
