from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.services import Core
from bot.settings import Settings
from tests.postgres import PostgresServer, PostgresUnavailable
from tests.world import RELEASE, World, world


def database_environ(database: str | Path) -> dict[str, str]:
    """The settings that point the bot at ``database`` (see the ``database`` fixture)."""
    return {"DATABASE_URL": database} if isinstance(database, str) else {"DATABASE_PATH": str(database)}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "world_database" in metafunc.fixturenames and metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("world_database", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture
def world_database(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """The database of the World fixtures: SQLite, and PostgreSQL as well for the tests marked
    ``both_backends`` (see ``pytest_generate_tests``)."""
    if getattr(request, "param", "sqlite") == "sqlite":
        return tmp_path / "bot.sqlite3"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()


@pytest.fixture
async def before_release(tmp_path: Path, world_database: str | Path) -> AsyncIterator[World]:
    """The bot on 2023-09-20, sixteen days before the Netflix release."""
    async with world(tmp_path, RELEASE - timedelta(days=16), database_environ(world_database)) as w:
        yield w


@pytest.fixture
async def after_release(tmp_path: Path, world_database: str | Path) -> AsyncIterator[World]:
    """The bot on 2026-11-27, long after the release."""
    async with world(tmp_path, RELEASE + timedelta(days=1148), database_environ(world_database)) as w:
        yield w


@pytest.fixture
async def offline_core(database: str | Path) -> AsyncIterator[Core]:
    """The core alone, as the console runs it, on each back end; the clock at 2026-11-27 18:00 UTC."""
    settings = Settings.load(environ=database_environ(database), env_file=None)
    core = await Core.open(settings, ManualClock(datetime(2026, 11, 27, 18, 0, tzinfo=UTC)))
    yield core
    await core.close()


# -- the database back ends ----------------------------------------------------------------------
#
# Tests that take ``database`` (a SQLite file or a PostgreSQL URL to open) run once per back end.
# PostgreSQL comes from the pgserver package (PostgreSQL binaries in a wheel, a dev extra): one
# server for the whole run in a temporary folder, a fresh database per test. As root, pgserver
# runs the server as an unprivileged system user of its own ("pgserver", created with useradd),
# since initdb refuses root. Without a server the PostgreSQL half is skipped, loudly; under CI it fails instead.

NO_POSTGRES = "PostgreSQL tests need a server from the pgserver package: pip install -e '.[dev]'"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        message = f"{NO_POSTGRES} ({exc})"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str | Path:
    """Where a test's database lives: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "bot.sqlite3"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.new_database()
