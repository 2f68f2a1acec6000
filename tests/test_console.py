"""The offline console with a real core: typed ids that name no party get a friendly answer."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo

import pytest

from bot.console import ConsoleSession
from bot.core.parties import NOT_FOUND, RSVP
from bot.core.services import Core

NO_PARTY = "I can't find that watch party in this server."
BEYOND_SQLITE = "99999999999999999999"  # 2**63 is about 9.2e18


@pytest.fixture
def console(offline_core: Core) -> ConsoleSession:
    return ConsoleSession(offline_core.facts, ZoneInfo("UTC"), offline_core)


@pytest.mark.parametrize("command", ["info", "going", "maybe", "no", "leave", "cancel"])
@pytest.mark.parametrize("typed", [BEYOND_SQLITE, "9223372036854775808", "²", "-1", "0", "1" * 5000])
async def test_an_id_that_names_no_party_is_a_friendly_no_such_party(
    console: ConsoleSession, command: str, typed: str
) -> None:
    await console.handle('/ballerina party create when:"tomorrow 8pm" title:Kept')
    answer = await console.handle(f"/ballerina party {command} id:{typed}")
    assert answer is not None and NO_PARTY in answer
    listed = await console.handle("/ballerina party list")
    assert listed is not None and "Kept" in listed and "0 going" in listed


async def test_the_largest_sqlite_id_is_looked_up_and_not_found(console: ConsoleSession) -> None:
    answer = await console.handle(f"/ballerina party info id:{2**63 - 1}")
    assert answer is not None and NO_PARTY in answer


async def test_a_click_beyond_sqlite_does_not_fail_the_clicks_batched_with_it(offline_core: Core) -> None:
    """Clicks on different parties share one database trip (GroupCommit): one bad id must not sink the rest."""
    created = await offline_core.parties.create(guild_id="g", host_id="host", channel_id="c", when="tomorrow 8pm")
    assert created.party is not None
    good, bad = await asyncio.gather(
        offline_core.parties.rsvp(guild_id="g", party_id=created.party.id, user_id="ana", choice=RSVP.GOING),
        offline_core.parties.rsvp(guild_id="g", party_id=10**20, user_id="ben", choice=RSVP.GOING),
    )
    assert good.party is not None and good.reply.content is not None and "You're going" in good.reply.content
    assert bad.party is None and bad.reply.content == NOT_FOUND
    assert (await offline_core.parties.parties.attendance(created.party.id, 5)).first_going == ("ana",)


async def test_a_moderator_command_on_a_party_beyond_sqlite_is_refused_kindly(offline_core: Core) -> None:
    for outcome in (
        await offline_core.parties.cancel(guild_id="g", party_id=10**20, user_id="mod", is_moderator=True),
        await offline_core.parties.edit(guild_id="g", party_id=10**20, user_id="mod", is_moderator=True, title="x"),
    ):
        assert outcome.party is None and outcome.reply.content == NOT_FOUND
    assert (await offline_core.parties.info("g", 10**20)).content == NOT_FOUND


async def test_the_console_reads_slacks_key_value_form_too(console: ConsoleSession) -> None:
    created = await console.handle("/ballerina party create when: tomorrow 8pm title: Movie night")
    assert created is not None and "Movie night" in created
    listed = await console.handle("/ballerina party list")
    assert listed is not None and "Movie night" in listed


async def test_a_line_the_console_cannot_read_is_told_kindly(console: ConsoleSession) -> None:
    assert "never closed" in (await console.handle('/ballerina character "Ok-ju') or "")
    assert "twice" in (await console.handle("/ballerina party create when:8pm when:9pm") or "")


async def test_a_party_time_typed_in_korean_schedules_the_party(console: ConsoleSession) -> None:
    created = await console.handle('/ballerina party create when:"내일 오후 8시" title:"영화의 밤"')
    assert created is not None and "Saturday, November 28, 2026, 8:00\u202fPM" in created
    refused = await console.handle('/ballerina party create when:"오늘 오후 3시" title:"늦은 밤"')
    assert refused is not None and "in the past" in refused and "내일 15:00" in refused
    listed = await console.handle("/ballerina party list")
    assert listed is not None and "영화의 밤" in listed and "늦은 밤" not in listed
