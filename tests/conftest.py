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


@pytest.fixture
async def before_release(tmp_path: Path) -> AsyncIterator[World]:
    """The bot on 2023-09-20, sixteen days before the Netflix release."""
    async with world(tmp_path, RELEASE - timedelta(days=16)) as w:
        yield w


@pytest.fixture
async def after_release(tmp_path: Path) -> AsyncIterator[World]:
    """The bot on 2026-11-27, long after the release."""
    async with world(tmp_path, RELEASE + timedelta(days=1148)) as w:
        yield w


@pytest.fixture
async def offline_core(tmp_path: Path) -> AsyncIterator[Core]:
    """The core alone, as the console runs it: a real SQLite file, the clock at 2026-11-27 18:00 UTC."""
    settings = Settings.load(environ={"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, env_file=None)
    core = await Core.open(settings, ManualClock(datetime(2026, 11, 27, 18, 0, tzinfo=UTC)))
    yield core
    await core.close()


# -- the database back ends ----------------------------------------------------------------------
#
# Tests that take ``database`` (a SQLite file or a PostgreSQL URL to open) run once per back end.
# PostgreSQL comes from the pgserver package (PostgreSQL binaries in a wheel, a dev extra): one
# server for the whole run in a temporary folder, a fresh database per test. As root, pgserver
# runs the server as an unprivileged system user of its own ("pgserver"), since initdb refuses
# root. Without a server the PostgreSQL half is skipped, loudly; under CI it fails instead.

NO_POSTGRES = "PostgreSQL tests need the pgserver package: pip install -e '.[dev]'"


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresServer]:
    try:
        server = PostgresServer.start(tmp_path_factory.mktemp("postgres"))
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
