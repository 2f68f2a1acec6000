"""Korean party times and reminder offsets: the examples, then properties against the English forms."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.timeparse import TimeParseError, format_offsets, parse_offsets, parse_when

# Thursday 2026-12-03 08:00 UTC: 17:00 in Seoul, 00:00 in Los Angeles.
NOW = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
SEOUL = ZoneInfo("Asia/Seoul")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
ZONES = [SEOUL, LOS_ANGELES, LONDON, LORD_HOWE, ZoneInfo("America/New_York"), ZoneInfo("UTC")]


def seoul(text: str, now: datetime = NOW) -> str:
    """The parsed instant as Seoul wall-clock time, weekday first."""
    return parse_when(text, now=now, tz=SEOUL).astimezone(SEOUL).strftime("%a %Y-%m-%d %H:%M")


def refusal(text: str, tz: ZoneInfo = SEOUL, now: datetime = NOW) -> str:
    with pytest.raises(TimeParseError) as caught:
        parse_when(text, now=now, tz=tz)
    return str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("내일 오후 8시", "Fri 2026-12-04 20:00"),
        ("오늘 밤 9시", "Thu 2026-12-03 21:00"),
        ("모레 저녁 7시 30분", "Sat 2026-12-05 19:30"),
        ("토요일 21:30", "Sat 2026-12-05 21:30"),
        ("이번 주 토요일 오후 3시", "Sat 2026-12-05 15:00"),
        ("이번주 일요일 오후 3시", "Sun 2026-12-06 15:00"),
        ("다음 주 금요일 오후 7시 30분", "Fri 2026-12-11 19:30"),
        ("다음 주 월요일 오전 10시", "Mon 2026-12-07 10:00"),
        ("12월 5일 20:00", "Sat 2026-12-05 20:00"),
        ("1월 3일 정오", "Sun 2027-01-03 12:00"),
        ("2026년 12월 5일 오후 8시", "Sat 2026-12-05 20:00"),
        ("2시간 후", "Thu 2026-12-03 19:00"),
        ("30분 뒤", "Thu 2026-12-03 17:30"),
        ("1시간 반 후", "Thu 2026-12-03 18:30"),
        ("1시간 30분 후", "Thu 2026-12-03 18:30"),
        ("3일 뒤", "Sun 2026-12-06 17:00"),
        ("세 시간 후", "Thu 2026-12-03 20:00"),
        ("밤 12시", "Fri 2026-12-04 00:00"),
        ("오늘 밤 12시", "Fri 2026-12-04 00:00"),
        ("토요일 밤 12시", "Sun 2026-12-06 00:00"),
        ("토요일 밤 1시", "Sun 2026-12-06 01:00"),
        ("오후 8시 반", "Thu 2026-12-03 20:30"),
        ("새벽 2시", "Fri 2026-12-04 02:00"),
        ("아침 9시", "Fri 2026-12-04 09:00"),
        ("낮 12시", "Fri 2026-12-04 12:00"),
        ("낮 2시", "Fri 2026-12-04 14:00"),
        ("오전 12시", "Fri 2026-12-04 00:00"),
        ("정오", "Fri 2026-12-04 12:00"),
        ("자정", "Fri 2026-12-04 00:00"),
        ("내일 자정", "Sat 2026-12-05 00:00"),
        ("내일오후8시에", "Fri 2026-12-04 20:00"),
        ("내일 오후 여덟 시", "Fri 2026-12-04 20:00"),
        ("밤 열두 시 반", "Fri 2026-12-04 00:30"),
        ("21시", "Thu 2026-12-03 21:00"),
        ("목요일 오후 6시", "Thu 2026-12-03 18:00"),
        ("목요일 오후 4시", "Thu 2026-12-10 16:00"),
    ],
)
def test_korean_party_times_read_in_the_members_zone(text: str, expected: str) -> None:
    assert seoul(text) == expected


def test_korean_time_is_read_in_the_members_own_zone() -> None:
    # 00:00 on Thursday in Los Angeles: tomorrow 8 p.m. there is Saturday 04:00 UTC.
    assert parse_when("내일 오후 8시", now=NOW, tz=LOS_ANGELES) == datetime(2026, 12, 5, 4, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("오늘 오후 3시", ["in the past", "`내일 15:00`"]),
        ("이번 주 화요일 오후 3시", ["in the past"]),
        ("2027년 12월 5일 오후 8시", ["too far ahead", "366 days"]),
        ("8시", ["오전 8시 or 오후 8시", "`20:00`"]),
        ("12시", ["오전 12시 or 오후 12시"]),
        ("내일", ["needs a time of day", "`내일 오후 8시`"]),
        ("다음 주 금요일", ["needs a time of day"]),
        ("2개월 후", ["months or years", "`30일 후`"]),
        ("400일 후", ["too far ahead"]),
        ("오후 21:00", ["24-hour", "`21:00`"]),
        ("오후 13시", ["hour goes from 1 to 12"]),
        ("저녁 12시", ["밤 12시", "낮 12시"]),
        ("내일 오후 8시 61분", ["no minute 61"]),
        ("2월 30일 20:00", ["February has at most 29 days"]),
        ("13월 1일 20:00", ["no month 13"]),
        ("25시", ["no hour 25"]),
    ],
)
def test_korean_input_gets_the_same_refusals(text: str, words: list[str]) -> None:
    message = refusal(text)
    for word in words:
        assert word in message


@pytest.mark.parametrize("text", ["뭐라고", "내일 저녁", "오후 8시 내일", "두 시간 전"])
def test_unreadable_korean_gets_korean_examples(text: str) -> None:
    message = refusal(text)
    assert "I couldn't read" in message
    assert "`내일 오후 8시`" in message and "`2시간 후`" in message and "`12월 11일 20:00`" in message
    assert "tomorrow" not in message


def test_unreadable_english_keeps_english_examples() -> None:
    message = refusal("whenever")
    assert "`tomorrow 8pm`" in message and "내일" not in message


@pytest.mark.parametrize(
    ("text", "tz", "words"),
    [
        ("2027년 3월 14일 새벽 2시 30분", LOS_ANGELES, ["doesn't exist", "America/Los_Angeles", "03:30"]),
        ("2027년 3월 28일 오전 1시 30분", LONDON, ["doesn't exist", "Europe/London", "02:30"]),
        ("2027년 11월 7일 오전 1시 30분", LOS_ANGELES, ["happens twice", "-07:00", "-08:00"]),
        ("2027년 10월 31일 새벽 1시 30분", LONDON, ["happens twice", "+01:00", "+00:00"]),
        # Lord Howe moves its clocks by half an hour.
        ("2027년 10월 3일 새벽 2시 15분", LORD_HOWE, ["doesn't exist", "02:45"]),
        ("2027년 4월 4일 새벽 1시 45분", LORD_HOWE, ["happens twice", "+11:00", "+10:30"]),
    ],
)
def test_korean_times_in_a_dst_gap_or_overlap_are_refused(text: str, tz: ZoneInfo, words: list[str]) -> None:
    message = refusal(text, tz, now=datetime(2027, 1, 1, tzinfo=UTC))
    for word in words:
        assert word in message


# ------------------------------------------------------------------ properties

nows = st.datetimes(min_value=datetime(2001, 1, 1), max_value=datetime(2036, 12, 31), timezones=st.just(UTC))
zones = st.sampled_from(ZONES)


def outcome(text: str, now: datetime, tz: ZoneInfo) -> tuple[str, object]:
    """What a member sees: the instant, or the refusal with their own words taken out."""
    try:
        return "at", parse_when(text, now=now, tz=tz)
    except TimeParseError as error:
        return "refused", str(error).replace(f"“{text}”", "“…”").replace("`내일 ", "`tomorrow ")


@settings(deadline=None)
@given(now=nows, tz=zones, hour=st.integers(1, 12), minute=st.sampled_from([None, 0, 30, 45]))
def test_tomorrow_pm_in_korean_is_the_english_one(now: datetime, tz: ZoneInfo, hour: int, minute: int | None) -> None:
    korean = f"내일 오후 {hour}시" + ("" if minute is None else f" {minute}분")
    english = f"tomorrow {hour}" + ("" if minute is None else f":{minute:02d}") + "pm"
    assert outcome(korean, now, tz) == outcome(english, now, tz)


@settings(deadline=None)
@given(
    now=nows,
    tz=zones,
    hour=st.integers(1, 12),
    pair=st.sampled_from([("오전", "am"), ("새벽", "am"), ("아침", "am"), ("오후", "pm"), ("저녁", "pm")]),
    day=st.sampled_from([("오늘", "today"), ("", "")]),
)
def test_parts_of_the_day_match_am_and_pm(
    now: datetime, tz: ZoneInfo, hour: int, pair: tuple[str, str], day: tuple[str, str]
) -> None:
    if pair[0] == "저녁" and hour == 12:
        return  # ambiguous, refused on its own (see the examples)
    korean = f"{day[0]} {pair[0]} {hour}시".strip()
    english = f"{day[1]} {hour}{pair[1]}".strip()
    assert outcome(korean, now, tz) == outcome(english, now, tz)


@settings(deadline=None)
@given(now=nows, tz=zones, weekday=st.integers(0, 6), hour=st.integers(0, 23), minute=st.integers(0, 59))
def test_a_plain_weekday_is_the_english_one(now: datetime, tz: ZoneInfo, weekday: int, hour: int, minute: int) -> None:
    korean = f"{'월화수목금토일'[weekday]}요일 {hour:02d}:{minute:02d}"
    english = f"{['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'][weekday]} {hour:02d}:{minute:02d}"
    assert outcome(korean, now, tz) == outcome(english, now, tz)


@settings(deadline=None)
@given(now=nows, tz=zones, weekday=st.integers(0, 6), hour=st.integers(1, 11), following=st.booleans())
def test_this_and_next_week_count_from_monday(
    now: datetime, tz: ZoneInfo, weekday: int, hour: int, following: bool
) -> None:
    text = f"{'다음' if following else '이번'} 주 {'월화수목금토일'[weekday]}요일 오후 {hour}시"
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    day = monday + timedelta(days=weekday + (7 if following else 0))
    kind, value = outcome(text, now, tz)
    if kind == "at":
        assert isinstance(value, datetime)
        assert value.astimezone(tz).date() == day
        assert value.astimezone(tz).hour == hour + 12
    else:  # only this week's days already gone by are refused: no zone changes its clocks in the afternoon
        assert not following and day <= today
        assert "in the past" in str(value)


@settings(deadline=None)
@given(now=nows, tz=zones, month=st.integers(1, 12), day=st.integers(1, 31), hour=st.integers(0, 23))
def test_month_and_day_is_the_english_one(now: datetime, tz: ZoneInfo, month: int, day: int, hour: int) -> None:
    name = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"][month - 1]
    assert outcome(f"{month}월 {day}일 {hour:02d}:00", now, tz) == outcome(f"{name} {day} {hour:02d}:00", now, tz)


@settings(deadline=None)
@given(now=nows, tz=zones, hours=st.integers(0, 200), minutes=st.integers(1, 59), word=st.sampled_from(["후", "뒤"]))
def test_a_span_later_is_the_english_in(now: datetime, tz: ZoneInfo, hours: int, minutes: int, word: str) -> None:
    korean = outcome(f"{hours}시간 {minutes}분 {word}", now, tz)
    assert korean == outcome(f"in {hours} hours {minutes} minutes", now, tz)


@settings(deadline=None)
@given(now=nows, tz=zones)
def test_midnight_at_night_starts_the_next_day(now: datetime, tz: ZoneInfo) -> None:
    day_after = now.astimezone(tz).date() + timedelta(days=2)
    expected = outcome(f"{day_after.isoformat()} 00:00", now, tz)
    assert outcome("내일 밤 12시", now, tz) == expected
    assert outcome("내일 자정", now, tz) == expected


@functools.cache
def wall_times_near_transitions(tz: ZoneInfo, year: int) -> tuple[datetime, ...]:
    """Wall-clock times within 90 minutes of each of the zone's clock changes that year."""
    found: list[datetime] = []
    instant = datetime(year, 1, 1, tzinfo=UTC)
    step = timedelta(minutes=30)
    while instant.year == year:
        if (instant + step).astimezone(tz).utcoffset() != instant.astimezone(tz).utcoffset():
            wall = instant.astimezone(tz).replace(tzinfo=None, second=0, microsecond=0)
            found.extend(wall + timedelta(minutes=15 * k) for k in range(-6, 7))
        instant += step
    return tuple(found)


@settings(deadline=None)
@given(tz=st.sampled_from([LOS_ANGELES, LONDON, LORD_HOWE]), year=st.integers(2027, 2030), pick=st.integers(0, 10**6))
def test_times_near_a_clock_change_are_read_or_refused_as_in_english(tz: ZoneInfo, year: int, pick: int) -> None:
    candidates = wall_times_near_transitions(tz, year)
    wall = candidates[pick % len(candidates)]
    now = datetime(year, 1, 1, tzinfo=UTC) - timedelta(days=1)
    korean = f"{wall.year}년 {wall.month}월 {wall.day}일 {wall:%H:%M}"
    assert outcome(korean, now, tz) == outcome(f"{wall:%Y-%m-%d %H:%M}", now, tz)
    period = "오전" if wall.hour < 12 else "오후"
    twelve = wall.hour % 12 or 12
    spoken = f"{wall.year}년 {wall.month}월 {wall.day}일 {period} {twelve}시 {wall.minute}분"
    assert outcome(spoken, now, tz) == outcome(f"{wall:%Y-%m-%d %H:%M}", now, tz)


def test_the_transition_finder_sees_a_gap_and_an_overlap() -> None:
    """The property above is only worth its name if it meets refusals of both kinds."""
    now = datetime(2027, 1, 1, tzinfo=UTC)
    messages = [
        str(outcome(f"{wall:%Y-%m-%d %H:%M}", now, LORD_HOWE)[1])
        for wall in wall_times_near_transitions(LORD_HOWE, 2027)
    ]
    assert any("doesn't exist" in m for m in messages) and any("happens twice" in m for m in messages)


# ---------------------------------------------------------------- reminder offsets


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("7일, 1일, 1시간, 0", "7d,1d,1h,0"),
        ("7일 1일 1시간 0", "7d,1d,1h,0"),
        ("30분", "30m"),
        ("2주", "2w"),
        ("1주일", "7d"),
        ("1시간 30분, 0", "1h30m,0"),
        ("1시간30분", "1h30m"),
        ("3 분", "3m"),
        ("1d, 12시간", "1d,12h"),
    ],
)
def test_reminder_offsets_accept_korean_units(text: str, canonical: str) -> None:
    assert format_offsets(parse_offsets(text)) == canonical


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("100일", ["too long before the start", "90 days"]),
        ("3개월", ["unit “개월”", "분, 시간, 일 or 주"]),
        ("일곱일", ["`7일, 1일, 1시간, 0`"]),
        ("1일, 24시간", ["listed twice"]),
        ("1분,2분,3분,4분,5분,6분,7분,8분,9분,10분,11분", ["the most I can keep is 10"]),
        ("0.5분", ["whole number of minutes"]),
    ],
)
def test_korean_offsets_keep_the_same_limits(text: str, words: list[str]) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_offsets(text)
    for word in words:
        assert word in str(caught.value)


def test_the_examples_start_on_a_thursday_in_seoul() -> None:
    """Guards the fixture: NOW is a Thursday in Seoul, as the examples assume."""
    assert NOW.astimezone(SEOUL).date() == date(2026, 12, 3) and NOW.astimezone(SEOUL).weekday() == 3
