"""The cap on upcoming parties one member may host holds under concurrent creates."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.services import Core
from bot.settings import Settings

NOW = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
CAP = 3


@pytest.fixture
async def core(tmp_path: Path) -> AsyncIterator[Core]:
    settings = Settings.load(environ={"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, env_file=None)
    core = await Core.open(settings, ManualClock(NOW))
    yield core
    await core.close()


async def test_concurrent_creates_by_one_member_stop_exactly_at_the_cap(core: Core) -> None:
    await core.parties.configure(guild_id="g", cap=CAP)
    outcomes = await asyncio.gather(
        *(
            core.parties.create(guild_id="g", host_id="ana", channel_id="c", when=f"in {hours} hours")
            for hours in range(1, 11)
        )
    )
    created = [outcome for outcome in outcomes if outcome.party is not None]
    refused = [outcome.reply.content for outcome in outcomes if outcome.party is None]
    assert len(created) == CAP
    assert refused == [
        f"You already host {CAP} upcoming watch parties here, this server's limit. "
        "Cancel one (/ballerina party cancel) or wait until one has happened."
    ] * (10 - CAP)
    assert len(await core.parties.parties.upcoming("g", NOW)) == CAP


async def test_the_cap_is_per_member_and_frees_a_place_when_a_party_is_cancelled(core: Core) -> None:
    await core.parties.configure(guild_id="g", cap=1)
    first = await core.parties.create(guild_id="g", host_id="ana", channel_id="c", when="in 1 hour")
    assert first.party is not None
    assert (await core.parties.create(guild_id="g", host_id="ana", channel_id="c", when="in 2 hours")).party is None
    assert (await core.parties.create(guild_id="g", host_id="ben", channel_id="c", when="in 2 hours")).party
    await core.parties.cancel(guild_id="g", party_id=first.party.id, user_id="ana", is_moderator=False)
    assert (await core.parties.create(guild_id="g", host_id="ana", channel_id="c", when="in 3 hours")).party
