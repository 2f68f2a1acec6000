from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.services import Core
from bot.settings import Settings
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
