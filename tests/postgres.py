"""A real PostgreSQL server for the tests, from the pgserver package (binaries in a wheel)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be started here."""


@dataclass
class PostgresServer:
    handle: Any
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @classmethod
    def start(cls, folder: Path) -> PostgresServer:
        try:
            import pgserver  # type: ignore[import-untyped]
        except ImportError as exc:
            raise PostgresUnavailable("pgserver is not installed") from exc
        try:
            return cls(pgserver.get_server(folder / "data", cleanup_mode="delete"))
        except Exception as exc:
            raise PostgresUnavailable(f"pgserver could not start a server: {exc}") from exc

    def url(self, database: str = "postgres") -> str:
        return str(self.handle.get_uri(database))

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        name = f"test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        self.handle.__exit__(None, None, None)  # the last handle: stops the server, deletes its folder
