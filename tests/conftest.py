from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

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
