"""The core's replies and notices in Korean: no English left, the right particles and counts,
and English unchanged. Through the real core on a SQLite file, the language set as an adapter sets it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.film_commands import countdown
from bot.core.i18n import speaking
from bot.core.replies import Reply
from bot.core.services import Core
from bot.core.storage import Target, Via
from bot.core.timeparse import describe_offset
from bot.settings import Settings
from tests.leftover_english import english_words, reply_texts

RELEASE = datetime(2023, 10, 6, 7, 0, tzinfo=UTC)


def korean_only(reply: Reply, allowed: tuple[str, ...] = ()) -> None:
    for text in reply_texts(reply):
        assert english_words(text, allowed) == [], text


async def open_core(tmp_path: Path, now: datetime) -> Core:
    settings = Settings.load(environ={"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, env_file=None)
    return await Core.open(settings, ManualClock(now))


@pytest.fixture
async def before(tmp_path: Path) -> AsyncIterator[Core]:
    """The core sixteen days before the Netflix release."""
    core = await open_core(tmp_path, RELEASE - timedelta(days=16, hours=3))
    yield core
    await core.close()


@pytest.fixture
async def after(tmp_path: Path) -> AsyncIterator[Core]:
    """The core long after the release."""
    core = await open_core(tmp_path, datetime(2026, 11, 27, 18, 0, tzinfo=UTC))
    yield core
    await core.close()


# -- film facts ------------------------------------------------------------------------------------


async def test_every_film_fact_reply_is_korean_for_a_korean_reader(before: Core, after: Core) -> None:
    for core in (before, after):
        facts = core.facts
        with speaking("ko"):
            replies = [facts.help(), facts.cast(), facts.director(), facts.about(), facts.release()]
            replies += [facts.character("옥주"), facts.character("Choi Pro"), facts.character("nobody")]
        for reply in replies:
            korean_only(reply, allowed=("nobody",))


async def test_film_facts_name_people_as_korean_fans_do(before: Core) -> None:
    with speaking("ko"):
        cast = before.facts.cast()
        director = before.facts.director()
        release = before.facts.release()
        character = before.facts.character("Ok-ju")
    assert [field.name for field in cast.fields] == ["전종서 (옥주 역)", "김지훈 (최프로 역)", "박유림 (민희 역)"]
    assert cast.title == "발레리나 출연진"
    assert director.title == "이충현 감독"
    assert release.title == "발레리나가 Netflix에 찾아와요"  # 발레리나 ends in a vowel: 가
    assert character.title == "옥주" and character.fields[0].value == "전종서"


async def test_english_film_facts_are_unchanged(before: Core) -> None:
    cast = before.facts.cast()
    assert cast.title == "Ballerina: the cast"
    assert cast.fields[0].name == "Jeon Jong-seo as Ok-ju"
    assert before.facts.release().title == "Ballerina arrives on Netflix"
    assert before.facts.director().title == "Directed by Lee Chung-hyun"


@pytest.mark.parametrize(
    ("language", "query", "choices"),
    [
        ("ko", "Ok", ["옥주"]),
        ("ko", "옥", ["옥주"]),
        ("ko", "김지", ["최프로"]),
        ("en", "옥", ["Ok-ju"]),
        ("en", "Ok", ["Ok-ju"]),
        ("ko", "", ["옥주", "최프로", "민희"]),
    ],
)
async def test_character_autocomplete_offers_names_in_the_readers_language(
    before: Core, language: str, query: str, choices: list[str]
) -> None:
    with speaking(language):  # type: ignore[arg-type]
        assert before.facts.character_choices(query) == choices


@pytest.mark.parametrize(
    ("remaining", "english", "korean"),
    [
        (timedelta(days=1), "1 day", "1일"),
        (timedelta(days=3, hours=1, minutes=2), "3 days, 1 hour and 2 minutes", "3일 1시간 2분"),
        (timedelta(hours=2, minutes=1), "2 hours and 1 minute", "2시간 1분"),
        (timedelta(seconds=30), "less than a minute", "1분도 안 돼요"),
    ],
)
def test_countdown_counts_in_both_languages(remaining: timedelta, english: str, korean: str) -> None:
    assert countdown(remaining) == english
    with speaking("ko"):
        assert countdown(remaining) == korean


@pytest.mark.parametrize(
    ("offset", "english", "korean"),
    [
        (timedelta(days=7), "7 days before", "7일 전"),
        (timedelta(days=1), "1 day before", "1일 전"),
        (timedelta(hours=1, minutes=30), "1 hour 30 minutes before", "1시간 30분 전"),
        (timedelta(weeks=2), "2 weeks before", "2주 전"),
        (timedelta(0), "at the start", "시작 시각"),
    ],
)
def test_describe_offset_in_the_readers_language(offset: timedelta, english: str, korean: str) -> None:
    assert describe_offset(offset) == english
    with speaking("ko"):
        assert describe_offset(offset) == korean


# -- release reminders -------------------------------------------------------------------------------


async def test_release_reminder_posts_are_korean(before: Core) -> None:
    settings = await before.store.get_guild_settings("g1")
    with speaking("ko"):
        week = before.reminders.reminder_post(timedelta(days=7), Target.CHANNEL, settings, late=True)
        now = before.reminders.reminder_post(timedelta(0), Target.DM, settings, late=False)
    assert week.title == "7일 뒤 발레리나가 Netflix에 공개돼요"
    assert now.title == "발레리나가 지금 Netflix에 공개됐어요"
    for reply in (week, now):
        korean_only(reply)


async def test_release_reminder_commands_answer_in_korean(before: Core, after: Core) -> None:
    with speaking("ko"):
        replies = [
            await before.reminders.status("g1", "u1"),
            await before.reminders.opt_out("g1", "u1", None),
            await before.reminders.opt_in("g1", "u1", Via.CHANNEL, None),
            await before.reminders.status("g1", "u1"),
            await before.reminders.opt_in("g1", "u2", Via.DM, None),
            await before.reminders.status("g1", "u2"),
            await before.reminders.opt_out("g1", "u2", None),
            await after.reminders.opt_in("g1", "u1", Via.DM, None),
        ]
    for reply in replies:
        korean_only(reply)
    assert "공개 기준 7일 전, 1일 전, 1시간 전, 시작 시각" in (replies[4].description or "")
    assert (replies[-1].content or "").startswith("발레리나는 이미 Netflix에서")  # 은/는 after a vowel
