"""The core's replies and notices in Korean: no English left, the right particles and counts,
and English unchanged. Through the real core on a SQLite file, the language set as an adapter sets it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.clock import ManualClock
from bot.core.commandline import CommandLineError, parse_options, split_words
from bot.core.film_commands import countdown
from bot.core.i18n import speaking
from bot.core.parties import RSVP, PartyReminders
from bot.core.reminders import describe_backfill
from bot.core.replies import Reply
from bot.core.services import Core
from bot.core.storage import BackfillState, Platform, RoleBackfill, Target, Via
from bot.core.timeparse import TimeParseError, describe_offset, humanize_delta, parse_when
from bot.settings import Settings
from tests.leftover_english import english_words, reply_texts
from tests.test_engine import RecordingTransport

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


def test_the_film_is_translated_once_per_language(before: Core) -> None:
    translations = before.facts.translations
    assert translations["ko"] is translations["ko"]  # not copied again for every reply
    assert translations["en"] is before.facts.film
    assert translations["ko"].director.name == "이충현"


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


# -- watch parties ---------------------------------------------------------------------------------


async def _party(core: Core, title: str | None = "영화의 밤", language: str = "ko") -> int:
    with speaking(language):  # type: ignore[arg-type]
        outcome = await core.parties.create(
            guild_id="g1", host_id="host", channel_id="c1", when="내일 오후 8시", title=title, timezone="Asia/Seoul"
        )
    assert outcome.party is not None, outcome.reply
    return outcome.party.id


async def test_every_party_command_answers_in_korean(after: Core) -> None:
    titles = ("영화의 밤", "발레리나 파티")
    await after.languages.choose_for_server("g1", Platform.DISCORD, "ko")  # the cards are the channel's
    with speaking("ko"):
        create = await after.parties.create(
            guild_id="g1", host_id="host", channel_id="c1", when="내일 오후 8시", title=titles[0], timezone="Asia/Seoul"
        )
        assert create.party is not None and create.card is not None
        party_id = create.party.id
        replies = [create.reply, create.card]
        for choice in (RSVP.GOING, RSVP.GOING, RSVP.MAYBE, RSVP.NOT_GOING, None, None):
            outcome = await after.parties.rsvp(guild_id="g1", party_id=party_id, user_id="u1", choice=choice)
            replies += [outcome.reply, *([outcome.card] if outcome.card else [])]
        replies += [
            await after.parties.list_upcoming("g1"),
            await after.parties.list_upcoming("g-empty"),
            await after.parties.info("g1", party_id),
            await after.parties.info("g1", 999),
            await after.parties.of_member("g1", "host"),
            await after.parties.of_member("g1", "nobody"),
            await after.parties.set_member_timezone(guild_id="g1", user_id="u1", name="Asia/Seoul"),
            await after.parties.set_member_timezone(guild_id="g1", user_id="u1", name="Mars/Olympus"),
            await after.parties.set_reminder_via(guild_id="g1", user_id="u1", via="dm"),
            await after.parties.set_reminder_via(guild_id="g1", user_id="u1", via="pigeon"),
            await after.parties.configure(guild_id="g1", remind="1일, 1시간, 0", cap=3),
            await after.parties.configure(guild_id="g1", cap=500),
        ]
        edits = [
            await after.parties.edit(guild_id="g1", party_id=party_id, user_id="u1", is_moderator=False, title="x"),
            await after.parties.edit(guild_id="g1", party_id=party_id, user_id="host", is_moderator=False),
            await after.parties.edit(
                guild_id="g1",
                party_id=party_id,
                user_id="host",
                is_moderator=False,
                title=titles[1],
                when="모레 오후 9시",
            ),
            await after.parties.cancel(guild_id="g1", party_id=party_id, user_id="host", is_moderator=False),
            await after.parties.rsvp(guild_id="g1", party_id=party_id, user_id="u1", choice=RSVP.GOING),
        ]
        replies += [edit.reply for edit in edits] + [edit.card for edit in edits if edit.card]
        for bad_when in ("어제 오후 8시", "언젠가", "2시간 반 전", "13월 5일 20:00", "오후 13시", "3개월 후"):
            bad = await after.parties.create(guild_id="g1", host_id="host", channel_id="c1", when=bad_when)
            assert bad.party is None
            replies.append(bad.reply)
    for reply in replies:
        korean_only(reply, allowed=(*titles, "Mars/Olympus", "pigeon"))  # what the member typed
    assert edits[2].reply.content is not None and edits[2].reply.content.startswith("“발레리나 파티”를 수정했어요.")
    assert edits[3].reply.content is not None and edits[3].reply.content.startswith("“발레리나 파티”를 취소했어요.")
    assert edits[4].reply.content == "“발레리나 파티”는 취소된 모임이에요."


async def test_a_party_card_is_in_the_servers_language_whoever_clicks(after: Core) -> None:
    party_id = await _party(after)  # a Korean host in an English server
    with speaking("ko"):
        click = await after.parties.rsvp(guild_id="g1", party_id=party_id, user_id="u1", choice=RSVP.GOING)
        own_copy = await after.parties.info("g1", party_id)
    assert (
        click.reply.content
        == "“영화의 밤”에 참석으로 응답했어요. 모임 채널에서 알려 드릴게요(시작 전 1일,1시간,10분,0)."
    )
    assert click.card is not None and [field.name for field in click.card.fields] == [
        "Going (1)",
        "Maybe (0)",
        "Not going (0)",
    ]
    assert [button.label for button in own_copy.buttons] == ["참석", "미정", "불참", "응답 취소"]
    await after.languages.choose_for_server("g1", Platform.DISCORD, "ko")
    english_click = await after.parties.rsvp(guild_id="g1", party_id=party_id, user_id="u2", choice=RSVP.MAYBE)
    assert english_click.reply.content == "You might come to “영화의 밤”."
    assert english_click.card is not None and english_click.card.fields[1].name == "미정 (1)"


@pytest.mark.parametrize(
    ("title", "starts", "moved"),
    [
        ("영화의 밤", "1시간 뒤 영화의 밤이 시작해요", "영화의 밤 일정이 바뀌었어요"),  # ends in a consonant: 이
        ("발레리나 파티", "1시간 뒤 발레리나 파티가 시작해요", "발레리나 파티 일정이 바뀌었어요"),  # a vowel: 가
    ],
)
async def test_party_reminders_put_the_right_particle_after_the_title(
    after: Core, title: str, starts: str, moved: str
) -> None:
    party = await after.parties.get("g1", await _party(after, title))
    assert party is not None
    reminders = PartyReminders(after.parties)
    with speaking("ko"):
        card = reminders.reminder_card(party, timedelta(hours=1), late=True)
        now = reminders.reminder_card(party, timedelta(0), late=False)
    assert card.title == starts
    assert now.title == f"{title}{'이' if title.endswith('밤') else '가'} 지금 시작해요!"
    for reply in (card, now):
        korean_only(reply, allowed=(title,))
    english = reminders.reminder_card(party, timedelta(hours=1), late=False)
    assert english.title == f"{title} starts in 1 hour"


async def test_a_party_without_a_title_is_named_in_its_hosts_language(after: Core) -> None:
    korean = await after.parties.get("g1", await _party(after, None, "ko"))
    english = await after.parties.get("g1", await _party(after, None, "en"))
    assert korean is not None and korean.title == "발레리나 같이 보기 모임"
    assert english is not None and english.title == "Ballerina watch party"


async def test_party_autocomplete_shows_the_start_in_the_readers_language(after: Core) -> None:
    party_id = await _party(after)
    with speaking("ko"):
        korean = await after.parties.suggest("g1", "")
    english = await after.parties.suggest("g1", "")
    assert korean == [(f"#{party_id} 영화의 밤 · 11월 29일 (일) 20:00", party_id)]
    assert english == [(f"#{party_id} 영화의 밤 · Sun 29 Nov 20:00", party_id)]


# -- moderators, forget-me, typed options ------------------------------------------------------------


async def test_moderator_commands_answer_in_korean(before: Core) -> None:
    await before.languages.choose_for_server("g1", Platform.DISCORD, "ko")  # so the preview's post is Korean too
    with speaking("ko"):
        replies = [
            await before.reminders.set_channel("g1", "c1", None),
            await before.reminders.set_channel("g1", "c2", "권한이 없어요."),
            await before.reminders.set_role("g1", "r1", None),
            await before.reminders.set_role("g1", None, None),
            await before.reminders.set_ping_group("g1", "s1"),
            await before.reminders.set_ping_group("g1", None),
            await before.reminders.set_schedule("g1", "7일, 1일, 1시간, 0"),
            await before.reminders.set_schedule("g1", "7d, 1d, 1h, 0"),
            await before.reminders.set_schedule("g1", "7x"),
            await before.reminders.set_schedule("g1", "-1일"),
            await before.reminders.set_schedule("g1", "5"),
            await before.reminders.set_timezone("g1", "Asia/Seoul"),
            await before.reminders.set_timezone("g1", "Asia/Seul"),
            await before.reminders.admin_status("g1"),
            await before.reminders.admin_status("g1", ping_groups=False),
            await before.reminders.preview("g1"),
            before.reminders.reset_prompt(),
            await before.reminders.reset("g1"),
        ]
    for reply in replies:
        korean_only(reply, allowed=("Asia/Seoul", "Asia/Seul", "7x"))  # the zone field shows its IANA name
    assert (
        replies[6].content == "알림 일정을 바꿨어요: `7일,1일,1시간,0` (공개 기준 7일 전, 1일 전, 1시간 전, 시작 시각)."
    )
    assert replies[7].content == replies[6].content  # English units read the same, shown in Korean ones


async def test_admin_status_and_preview_show_the_servers_language(before: Core) -> None:
    def language_field(reply: Reply) -> str:
        return next(field.value for field in reply.fields if field.name in ("Language", "언어"))

    assert language_field(await before.reminders.admin_status("g1")) == "English (server default)"
    with speaking("ko"):
        assert language_field(await before.reminders.admin_status("g1")) == "영어 (서버 기본값)"
    await before.languages.for_server("g1", Platform.DISCORD, "ko")  # the platform reports a Korean server
    with speaking("ko"):
        assert language_field(await before.reminders.admin_status("g1")) == "한국어 (서버 기본값)"
    await before.languages.choose_for_server("g1", Platform.DISCORD, "en")
    assert language_field(await before.reminders.admin_status("g1")) == "English (chosen by moderators)"
    await before.languages.choose_for_server("g1", Platform.DISCORD, "ko")
    preview = await before.reminders.preview("g1")  # an English moderator of a Korean server
    assert preview.title == "7일 뒤 발레리나가 Netflix에 공개돼요"  # the post as the channel will read it
    assert (
        preview.footer == "Preview of the next reminder post, in 한국어 (chosen by moderators); only you can see this."
    )


async def test_forget_me_in_korean_counts_the_parties(after: Core) -> None:
    first, second = await _party(after, "영화의 밤"), await _party(after, "발레리나 파티")
    for party_id in (first, second):
        await after.parties.rsvp(guild_id="g1", party_id=party_id, user_id="u1", choice=RSVP.GOING)
    with speaking("ko"):
        ask = after.members.ask()
        forgotten = await after.members.forget("g1", "u1", None)
    for reply in (ask, forgotten.reply):
        korean_only(reply)
    assert "같이 보기 모임 2개에 남긴 참석 응답을 지웠어요." in (forgotten.reply.description or "")
    await after.parties.rsvp(guild_id="g1", party_id=first, user_id="u2", choice=RSVP.GOING)
    english = await after.members.forget("g1", "u2", None)
    assert "Your answers to 1 watch party are gone." in (english.reply.description or "")


@pytest.mark.parametrize(
    ("count", "english", "korean"),
    [
        (1, "You already host 1 upcoming watch party here", "이미 이 서버에서 다가오는 같이 보기 모임을 1개 주최"),
        (2, "You already host 2 upcoming watch parties here", "이미 이 서버에서 다가오는 같이 보기 모임을 2개 주최"),
    ],
)
async def test_the_hosting_cap_counts_in_both_languages(after: Core, count: int, english: str, korean: str) -> None:
    await after.parties.configure(guild_id="g1", cap=count)
    for _ in range(count):
        await _party(after)
    refused = await after.parties.create(guild_id="g1", host_id="host", channel_id="c1", when="tomorrow 8pm")
    with speaking("ko"):
        refused_ko = await after.parties.create(guild_id="g1", host_id="host", channel_id="c1", when="내일 오후 9시")
    assert (refused.reply.content or "").startswith(english)
    assert (refused_ko.reply.content or "").startswith(korean)
    korean_only(refused_ko.reply)


@pytest.mark.parametrize(
    "line",
    [
        'party create title: "영화의 밤',
        "party create when: 내일 when: 모레",
        "party create nope: 1",
        "party create when:",
    ],
)
def test_typed_option_refusals_are_korean(line: str) -> None:
    with speaking("ko"), pytest.raises(CommandLineError) as refused:
        words = split_words(line)
        parse_options(words[2:], known={"when", "title"})
    assert english_words(str(refused.value)) == [], str(refused.value)


@pytest.mark.parametrize(
    ("typed", "korean"),
    [
        ("오늘 오전 1시", "“오늘 오전 1시”는 이미 지난 시간이에요"),
        ("언젠가", "“언젠가”는 시간으로 읽지 못했어요."),
        ("tomorrow 25:00", "25시는 없어요. 시는 0부터 23까지예요."),
        ("someday", "“someday”는 시간으로 읽지 못했어요."),
        ("2월 30일 20:00", "2월 30일은 없어요. 2월은 길어야 29일까지 있어요."),
        ("오후 8", "“오후 8”은 시간으로 읽지 못했어요."),
        ("3개월 후", "“3개월 후”처럼 달이나 해 단위로는 셀 수 없어요."),
    ],
)
def test_time_refusals_are_korean_with_korean_examples(typed: str, korean: str) -> None:
    now = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    with speaking("ko"), pytest.raises(TimeParseError) as refused:
        parse_when(typed, now=now, tz=ZoneInfo("Asia/Seoul"))
    message = str(refused.value)
    assert message.startswith(korean), message
    assert english_words(message, allowed=(typed,)) == [], message
    assert "tomorrow" not in message  # the examples are Korean ones


def test_time_refusals_stay_english_for_an_english_reader() -> None:
    with pytest.raises(TimeParseError) as refused:
        parse_when("someday", now=datetime(2026, 11, 27, 18, 0, tzinfo=UTC), tz=ZoneInfo("UTC"))
    assert str(refused.value).startswith("I couldn't read “someday” as a time. Try `2026-12-05 20:00`, `tomorrow 8pm`")


# -- what the engine sends: each reader's language ---------------------------------------------------


async def test_party_notices_and_reminders_come_in_each_readers_language(after: Core) -> None:
    """A Korean server's channel posts are Korean; an English member's DMs there stay English."""
    await after.languages.choose_for_server("g1", Platform.DISCORD, "ko")
    await after.languages.choose_for_member("101", "en")
    party_id = await _party(after, "영화의 밤")
    await after.parties.set_reminder_via(guild_id="g1", user_id="101", via="dm")
    for user in ("101", "202"):
        await after.parties.rsvp(guild_id="g1", party_id=party_id, user_id=user, choice=RSVP.GOING)
    transport = RecordingTransport()
    await after.start({Platform.DISCORD: transport})
    assert after.engine is not None
    with speaking("ko"):
        await after.parties.edit(
            guild_id="g1", party_id=party_id, user_id="host", is_moderator=False, when="모레 오후 8시"
        )
    await after.engine.wait_idle()
    party = await after.parties.get("g1", party_id)
    assert party is not None
    assert isinstance(after.clock, ManualClock)
    after.clock.set(party.starts_at - timedelta(hours=1))
    await after.engine.wait_idle()
    await after.parties.cancel(guild_id="g1", party_id=party_id, user_id="host", is_moderator=False)
    await after.engine.wait_idle()

    channel = [call.reply.title for call in transport.sent if call.target is Target.CHANNEL]
    dm = [call.reply.title for call in transport.sent if call.target is Target.DM]
    assert channel == ["영화의 밤 일정이 바뀌었어요", "1시간 뒤 영화의 밤이 시작해요", "취소됨: 영화의 밤"]
    assert dm == ["영화의 밤 has moved", "영화의 밤 starts in 1 hour", "Cancelled: 영화의 밤"]
    for call in transport.sent:
        if call.target is Target.CHANNEL:
            korean_only(call.reply, allowed=("영화의 밤",))


@pytest.mark.parametrize(
    ("state", "failed", "korean"),
    [
        (BackfillState.RUNNING, 0, "지금까지 10명 중 4명 완료했어요."),
        (BackfillState.DONE, 2, "완료: 먼저 알림을 받기로 한 멤버 모두에게 역할을 줬어요. 2명에게는 오류 때문에"),
        (BackfillState.STOPPED, 0, "10명 중 4명에서 멈췄어요: 권한이 없어요. 문제를 해결한 뒤"),
    ],
)
def test_the_ping_role_back_fill_is_described_in_korean(state: BackfillState, failed: int, korean: str) -> None:
    backfill = RoleBackfill(1, "g1", "r1", "u4", failed, state, "권한이 없어요.", 4, 10)
    with speaking("ko"):
        described = describe_backfill(backfill)
    assert described.startswith(korean), described
    assert english_words(described) == []


@pytest.mark.parametrize(
    ("delta", "english", "korean"),
    [(timedelta(hours=-2), "2 hours ago", "2시간 전"), (timedelta(days=3), "in 3 days", "3일 후")],
)
def test_relative_times_in_the_readers_language(delta: timedelta, english: str, korean: str) -> None:
    assert humanize_delta(delta) == english
    with speaking("ko"):
        assert humanize_delta(delta) == korean
