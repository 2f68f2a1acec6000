from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.timeparse import (
    TimeParseError,
    describe_offset,
    format_offsets,
    humanize_delta,
    parse_offsets,
    parse_timezone,
    parse_when,
    suggest_timezones,
)

# Friday 2026-11-27 15:00 UTC: 10:00 in New York, 16:00 in Paris, already Saturday 00:00 in Seoul.
NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
UTC_TZ = ZoneInfo("UTC")
NEW_YORK = ZoneInfo("America/New_York")
PARIS = ZoneInfo("Europe/Paris")
SEOUL = ZoneInfo("Asia/Seoul")


def when(text: str, tz: ZoneInfo = UTC_TZ, **kwargs: timedelta) -> datetime:
    return parse_when(text, now=NOW, tz=tz, **kwargs)


def local(tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """An expected wall-clock time in ``tz``, as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


def refusal(text: str, tz: ZoneInfo = UTC_TZ, **kwargs: timedelta) -> str:
    with pytest.raises(TimeParseError) as caught:
        when(text, tz, **kwargs)
    return str(caught.value)


# ------------------------------------------------------------------------- parse_when


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05 20:00", (2026, 12, 5, 20, 0)),
        ("2026-12-05 8pm", (2026, 12, 5, 20, 0)),
        ("2026-12-05 8:30 pm", (2026, 12, 5, 20, 30)),
        ("  2026-12-05    8:30PM ", (2026, 12, 5, 20, 30)),
        ("dec 5 8pm", (2026, 12, 5, 20, 0)),
        ("5 dec 20:00", (2026, 12, 5, 20, 0)),
        ("december 5 at 8pm", (2026, 12, 5, 20, 0)),
        ("Dec 5th, 2026 8 p.m.", (2026, 12, 5, 20, 0)),
        ("5th of December 20:00", (2026, 12, 5, 20, 0)),
        ("8pm on dec 5", (2026, 12, 5, 20, 0)),
        ("jan 3 noon", (2027, 1, 3, 12, 0)),
        ("tomorrow 8pm", (2026, 11, 28, 20, 0)),
        ("TOMORROW 8PM", (2026, 11, 28, 20, 0)),
        ("today 21:00", (2026, 11, 27, 21, 0)),
        ("tonight 9pm", (2026, 11, 27, 21, 0)),
        ("tomorrow at 20:30", (2026, 11, 28, 20, 30)),
        ("8pm tomorrow", (2026, 11, 28, 20, 0)),
        ("tomorrow noon", (2026, 11, 28, 12, 0)),
        ("tomorrow midnight", (2026, 11, 28, 0, 0)),
        ("12am tomorrow", (2026, 11, 28, 0, 0)),
        ("tomorrow 12pm", (2026, 11, 28, 12, 0)),
        ("2026-12-05T19:00", (2026, 12, 5, 19, 0)),
    ],
)
@pytest.mark.parametrize("tz", [UTC_TZ, NEW_YORK, PARIS], ids=lambda z: z.key)
def test_wall_clock_forms_are_read_in_the_members_zone(
    text: str, expected: tuple[int, int, int, int, int], tz: ZoneInfo
) -> None:
    result = when(text, tz)
    assert result == local(tz, *expected)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sat 21:30", (2026, 11, 28, 21, 30)),
        ("saturday 9:30pm", (2026, 11, 28, 21, 30)),
        ("next saturday 9pm", (2026, 11, 28, 21, 0)),
        ("this sat 9pm", (2026, 11, 28, 21, 0)),
        ("on sunday at 18:00", (2026, 11, 29, 18, 0)),
        ("fri 16:00", (2026, 11, 27, 16, 0)),
        ("fri 14:00", (2026, 12, 4, 14, 0)),
        ("next fri 16:00", (2026, 12, 4, 16, 0)),
        ("thurs 8pm", (2026, 12, 3, 20, 0)),
    ],
)
def test_weekday_form_picks_soonest_future_occurrence(text: str, expected: tuple[int, int, int, int, int]) -> None:
    assert when(text) == local(UTC_TZ, *expected)


def test_weekday_form_picks_next_saturday_from_the_members_own_today() -> None:
    # In Seoul it is already Saturday 00:00, so "sat 21:30" is tonight there ...
    assert when("sat 21:30", SEOUL) == local(SEOUL, 2026, 11, 28, 21, 30)
    # ... while "next sat" is never today.
    assert when("next sat 21:30", SEOUL) == local(SEOUL, 2026, 12, 5, 21, 30)
    assert when("tomorrow 8pm", SEOUL) == local(SEOUL, 2026, 11, 29, 20, 0)


@pytest.mark.parametrize(
    ("text", "tz", "expected"),
    [
        ("21:30", UTC_TZ, (2026, 11, 27, 21, 30)),
        ("9pm", UTC_TZ, (2026, 11, 27, 21, 0)),
        ("at 9pm", UTC_TZ, (2026, 11, 27, 21, 0)),
        ("14:00", UTC_TZ, (2026, 11, 28, 14, 0)),
        ("noon", UTC_TZ, (2026, 11, 28, 12, 0)),
        ("noon", NEW_YORK, (2026, 11, 27, 12, 0)),
        ("midnight", NEW_YORK, (2026, 11, 28, 0, 0)),
        ("9:59", NEW_YORK, (2026, 11, 28, 9, 59)),
        ("10:01", NEW_YORK, (2026, 11, 27, 10, 1)),
    ],
)
def test_bare_time_is_today_if_still_ahead_else_tomorrow(
    text: str, tz: ZoneInfo, expected: tuple[int, int, int, int, int]
) -> None:
    assert when(text, tz) == local(tz, *expected)


def test_month_and_day_without_year_rolls_over_to_next_year_once_past() -> None:
    assert when("nov 26 8pm") == local(UTC_TZ, 2027, 11, 26, 20, 0)
    assert when("nov 27 4pm") == local(UTC_TZ, 2026, 11, 27, 16, 0)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("in 2 hours", timedelta(hours=2)),
        ("in 90 minutes", timedelta(minutes=90)),
        ("in 1h30m", timedelta(minutes=90)),
        ("in 1 hour and 30 minutes", timedelta(minutes=90)),
        ("in 2h", timedelta(hours=2)),
        ("in 3 days", timedelta(days=3)),
        ("in 1 week", timedelta(weeks=1)),
        ("in 45 min", timedelta(minutes=45)),
        ("in an hour", timedelta(hours=1)),
        ("in 1.5 hours", timedelta(minutes=90)),
        ("IN  2 HOURS", timedelta(hours=2)),
    ],
)
@pytest.mark.parametrize("tz", [UTC_TZ, SEOUL], ids=lambda z: z.key)
def test_relative_forms_count_from_now(text: str, delta: timedelta, tz: ZoneInfo) -> None:
    assert when(text, tz) == NOW + delta


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-05T20:00:00+01:00", datetime(2026, 12, 5, 19, 0, tzinfo=UTC)),
        ("2026-12-05T19:00Z", datetime(2026, 12, 5, 19, 0, tzinfo=UTC)),
        ("2026-12-05 20:00 +0100", datetime(2026, 12, 5, 19, 0, tzinfo=UTC)),
        ("2026-12-05T14:00:30.5-05:00", datetime(2026, 12, 5, 19, 0, 30, 500000, tzinfo=UTC)),
        ("1796500000", datetime(2026, 12, 5, 19, 46, 40, tzinfo=UTC)),
        ("<t:1796500000>", datetime(2026, 12, 5, 19, 46, 40, tzinfo=UTC)),
        ("<t:1796500000:F>", datetime(2026, 12, 5, 19, 46, 40, tzinfo=UTC)),
        ("<t:1796500000:R>", datetime(2026, 12, 5, 19, 46, 40, tzinfo=UTC)),
    ],
)
@pytest.mark.parametrize("tz", [UTC_TZ, NEW_YORK, SEOUL], ids=lambda z: z.key)
def test_absolute_instants_ignore_the_members_zone(text: str, expected: datetime, tz: ZoneInfo) -> None:
    assert when(text, tz) == expected


def test_iso_without_offset_is_local_time() -> None:
    assert when("2026-12-05T19:00", NEW_YORK) == datetime(2026, 12, 6, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "tz", "words"),
    [
        ("2027-03-14 02:30", NEW_YORK, ["doesn't exist", "America/New_York", "jump forward", "03:30"]),
        ("mar 14 2:30am", NEW_YORK, ["doesn't exist", "America/New_York", "jump forward"]),
        ("2027-03-28 02:30", PARIS, ["doesn't exist", "Europe/Paris", "jump forward", "03:30"]),
    ],
)
def test_local_time_in_a_dst_gap_is_refused(text: str, tz: ZoneInfo, words: list[str]) -> None:
    message = refusal(text, tz)
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    ("text", "tz", "offsets"),
    [
        ("2026-11-01 01:30", NEW_YORK, ("-04:00", "-05:00")),
        ("2027-11-07 01:30", NEW_YORK, ("-04:00", "-05:00")),
        ("2027-10-31 02:30", PARIS, ("+02:00", "+01:00")),
    ],
)
def test_local_time_in_a_dst_overlap_is_ambiguous(text: str, tz: ZoneInfo, offsets: tuple[str, str]) -> None:
    message = refusal(text, tz)
    assert "happens twice" in message
    assert tz.key in message
    for offset in offsets:
        assert offset in message


def test_offset_suggested_for_an_ambiguous_time_is_accepted() -> None:
    first = when("2027-11-07T01:30-04:00", NEW_YORK)
    second = when("2027-11-07T01:30-05:00", NEW_YORK)
    assert second - first == timedelta(hours=1)
    assert first.astimezone(NEW_YORK).fold == 0 and second.astimezone(NEW_YORK).fold == 1


def test_wall_clock_either_side_of_a_dst_change_is_fine() -> None:
    assert when("2027-03-14 03:30", NEW_YORK) == datetime(2027, 3, 14, 7, 30, tzinfo=UTC)
    assert when("2027-10-31 03:30", PARIS) == datetime(2027, 10, 31, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("today 9am", ["in the past", "6 hours ago", "tomorrow 09:00"]),
        ("today 14:59", ["in the past", "a minute ago", "tomorrow"]),
        ("2025-12-05 20:00", ["in the past", "a year ago", "tomorrow 20:00"]),
        ("nov 27 2pm", ["in the past", "an hour ago", "tomorrow 14:00"]),
        ("1700000000", ["in the past", "3 years ago"]),
        ("in 0 minutes", ["in the past", "just now"]),
    ],
)
def test_past_times_are_refused_with_how_long_ago(text: str, words: list[str]) -> None:
    message = refusal(text)
    for word in words:
        assert word in message


@pytest.mark.parametrize("text", ["2028-01-01 20:00", "in 400 days", "in 60 weeks", "9999-12-31 23:59"])
def test_times_beyond_max_ahead_are_refused(text: str) -> None:
    assert "366 days" in refusal(text, NEW_YORK)


def test_max_ahead_is_configurable() -> None:
    message = refusal("in 3 days", max_ahead=timedelta(days=2))
    assert "too far ahead" in message and "2 days" in message
    assert when("in 3 days", max_ahead=timedelta(days=4)) == NOW + timedelta(days=3)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["Tell me when", "tomorrow 8pm"]),
        ("   ", ["Tell me when"]),
        ("2026-12-05", ["needs a time", "2026-12-05 20:00"]),
        ("tomorrow", ["needs a time", "tomorrow 20:00"]),
        ("next saturday", ["needs a time"]),
        ("feb 30 8pm", ["no February 30"]),
        ("2027-02-29 20:00", ["February 2027", "28 days"]),
        ("2027-04-31 8pm", ["April 2027", "30 days"]),
        ("2026-13-01 20:00", ["no month 13"]),
        ("25:00", ["no hour 25"]),
        ("tomorrow 24:00", ["no hour 24"]),
        ("tomorrow 20:75", ["no minute 75"]),
        ("tomorrow 8:60pm", ["no minute 60"]),
        ("13pm", ["13pm", "1 to 12"]),
        ("0am", ["1 to 12"]),
        ("tomorrow 8", ["8am or 8pm"]),
        ("tomorrow 20", ["20:00"]),
        ("in 2 months", ["months", "days or weeks"]),
        ("2026-12-05T20:00+25:00", ["offset"]),
        ("<t:99999999999>", ["too far ahead"]),
        ("<t:999999999999>", ["far outside"]),
    ],
)
def test_unusable_input_gets_a_specific_reply(text: str, words: list[str]) -> None:
    message = refusal(text)
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    "text",
    [
        "blurp",
        "05/12",
        "05/12 20:00",
        "12/05/2026 8pm",
        "5.12. 20:00",
        "tomorrow 8:5",
        "in 2 fortnights",
        "now",
        "2030",
    ],
)
def test_unreadable_input_gets_the_usual_hint(text: str) -> None:
    message = refusal(text)
    assert message.startswith("I couldn't read")
    assert "tomorrow 8pm" in message and "in 2 hours" in message
    assert "2026-12-05 20:00" in message  # the example date follows `now`, a week ahead


def test_long_or_nasty_input_is_echoed_short_and_on_one_line() -> None:
    message = refusal("blurp " * 100 + "\n`@everyone`\u202e")
    assert "…" in message
    assert "\n" not in message and "\u202e" not in message
    quoted = message.split("“", 1)[1].split("”", 1)[0]
    assert len(quoted) <= 40
    control = refusal("blurp\n`x`\u0000")
    assert "“blurp 'x'”" in control


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_when("tomorrow 8pm", now=datetime(2026, 11, 27, 15, 0), tz=UTC_TZ)


# --------------------------------------------------------------------- time zones


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Europe/Paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("  ASIA/SEOUL ", "Asia/Seoul"),
        ("america/new york", "America/New_York"),
        ("America / New York", "America/New_York"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("GMT", "GMT"),
        ("z", "UTC"),
        ("Etc/GMT+5", "Etc/GMT+5"),
    ],
)
def test_timezone_names_are_read_case_insensitively(text: str, key: str) -> None:
    assert parse_timezone(text).key == key


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["Tell me a time zone"]),
        ("   ", ["Tell me a time zone"]),
        ("paris", ["don't know", "`Europe/Paris`"]),
        ("America/New_Yrok", ["don't know", "`America/New_York`"]),
        ("Mars/Olympus", ["don't know", "Europe/Paris"]),
        ("../../etc/passwd", ["isn't a time zone name"]),
        ("/usr/share/zoneinfo/UTC", ["isn't a time zone name"]),
        ("Europe\\Paris", ["isn't a time zone name"]),
        ("localtime", ["don't know"]),
        ("Factory", ["don't know"]),
    ],
)
def test_unknown_timezones_are_refused_with_suggestions(text: str, words: list[str]) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_timezone(text)
    for word in words:
        assert word in str(caught.value)


def test_timezone_refusal_offers_at_most_three_suggestions() -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_timezone("america/n")
    assert str(caught.value).count("`") == 6


def test_empty_suggestion_query_lists_popular_zones() -> None:
    popular = suggest_timezones("")
    assert popular[0] == "UTC"
    for key in ("America/Los_Angeles", "America/New_York", "Europe/London", "Europe/Paris", "Asia/Seoul"):
        assert key in popular
    assert suggest_timezones("  ", limit=3) == popular[:3]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("seoul", "Asia/Seoul"),
        ("SEOUL", "Asia/Seoul"),
        ("paris", "Europe/Paris"),
        ("new york", "America/New_York"),
        ("new", "America/New_York"),
        ("york", "America/New_York"),
        ("europe/pa", "Europe/Paris"),
        ("utc", "UTC"),
        ("america", "America/Los_Angeles"),
        ("seol", "Asia/Seoul"),
    ],
)
def test_suggestions_rank_the_best_match_first(query: str, first: str) -> None:
    assert suggest_timezones(query)[0] == first


def test_prefix_matches_rank_before_substring_matches() -> None:
    # City prefix (Anguilla) before word prefix (Los_Angeles) before substring (Bangkok).
    results = suggest_timezones("ang")
    assert results.index("America/Anguilla") < results.index("America/Los_Angeles") < results.index("Asia/Bangkok")
    assert suggest_timezones("lon")[:2] == ["Europe/London", "Arctic/Longyearbyen"]
    assert all("ris" in name.lower() for name in suggest_timezones("ris"))


def test_canonical_names_rank_before_legacy_aliases() -> None:
    # An exact city match wins even for an alias; among prefix matches canonical names lead.
    assert suggest_timezones("east") == [
        "Brazil/East",
        "Pacific/Easter",
        "Canada/Eastern",
        "Chile/EasterIsland",
        "US/East-Indiana",
        "US/Eastern",
    ]
    assert suggest_timezones("utc")[:2] == ["UTC", "Etc/UTC"]


def test_suggestions_respect_the_limit() -> None:
    assert len(suggest_timezones("america")) == 25
    assert len(suggest_timezones("a", limit=5)) == 5
    assert suggest_timezones("a", limit=0) == []
    assert suggest_timezones("zzzzzz") == []


# ------------------------------------------------------------------ reminder offsets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7d,1d,1h,0", ("7d", "1d", "1h", "0")),
        ("7d 1d 1h 0", ("7d", "1d", "1h", "0")),
        ("0, 1h, 7d, 1d", ("7d", "1d", "1h", "0")),
        ("30m", ("30m",)),
        ("2w", ("2w",)),
        ("1h30m", ("1h30m",)),
        ("90m", ("1h30m",)),
        ("1h 30m, 0", ("1h30m", "0")),
        ("1 hour, 2 days", ("2d", "1h")),
        ("1.5h", ("1h30m",)),
        ("1w", ("7d",)),
        ("7D;1D", ("7d", "1d")),
    ],
)
def test_offsets_are_parsed_earliest_reminder_first(text: str, expected: tuple[str, ...]) -> None:
    offsets = parse_offsets(text)
    assert format_offsets(offsets) == ",".join(expected)
    assert list(offsets) == sorted(offsets, reverse=True)


def test_offsets_values() -> None:
    assert parse_offsets("7d,1d,1h,0") == (
        timedelta(days=7),
        timedelta(days=1),
        timedelta(hours=1),
        timedelta(0),
    )


@pytest.mark.parametrize(
    "offsets",
    [
        (timedelta(days=7), timedelta(days=1), timedelta(hours=1), timedelta(0)),
        (timedelta(weeks=2),),
        (timedelta(weeks=3), timedelta(days=10), timedelta(days=1, hours=2, minutes=5)),
        (timedelta(minutes=90), timedelta(minutes=1)),
        (timedelta(days=90),),
    ],
)
def test_offsets_round_trip_through_their_canonical_form(offsets: tuple[timedelta, ...]) -> None:
    assert parse_offsets(format_offsets(offsets)) == offsets


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", ["Tell me when to remind"]),
        (" , ", ["Tell me when to remind"]),
        ("60m,1h", ["1h is listed twice"]),
        ("1d 24h", ["1d is listed twice"]),
        ("-1h", ["negative"]),
        ("5x", ["unit", "“x”"]),
        ("2mo", ["unit", "“mo”"]),
        ("5", ["needs a unit"]),
        ("0.5m", ["whole number of minutes"]),
        ("120d", ["“120d”", "90 days"]),
        ("13w", ["“13w”", "90 days"]),
        ("1 2 3 4 5 6 7 8 9 10 11", ["11 reminders", "10"]),
        ("abc", ["couldn't read", "7d,1d,1h,0"]),
        ("1h-30m", ["couldn't read"]),
    ],
)
def test_bad_offsets_are_refused(text: str, words: list[str]) -> None:
    with pytest.raises(TimeParseError) as caught:
        parse_offsets(text)
    for word in words:
        assert word in str(caught.value)


def test_offset_limits_are_configurable() -> None:
    assert parse_offsets("1d,1h", max_count=2, max_offset=timedelta(days=1)) == (
        timedelta(days=1),
        timedelta(hours=1),
    )
    with pytest.raises(TimeParseError, match="3 reminders"):
        parse_offsets("1d,1h,0", max_count=2)
    with pytest.raises(TimeParseError, match="1 day"):
        parse_offsets("2d", max_offset=timedelta(days=1))


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "at the start"),
        (timedelta(days=7), "7 days before"),
        (timedelta(days=1), "1 day before"),
        (timedelta(hours=1), "1 hour before"),
        (timedelta(minutes=90), "1 hour 30 minutes before"),
        (timedelta(weeks=2), "2 weeks before"),
        (timedelta(minutes=1), "1 minute before"),
    ],
)
def test_offsets_are_described_in_words(delta: timedelta, text: str) -> None:
    assert describe_offset(delta) == text


@pytest.mark.parametrize("delta", [timedelta(minutes=-5), timedelta(seconds=30)])
def test_formatting_rejects_offsets_parse_offsets_never_returns(delta: timedelta) -> None:
    with pytest.raises(ValueError):
        format_offsets((delta,))
    with pytest.raises(ValueError):
        describe_offset(delta)


# ------------------------------------------------------------------- humanize_delta


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "just now"),
        (timedelta(seconds=10), "in a few seconds"),
        (timedelta(seconds=-10), "just now"),
        (timedelta(seconds=60), "in a minute"),
        (timedelta(minutes=5), "in 5 minutes"),
        (timedelta(minutes=-5), "5 minutes ago"),
        (timedelta(minutes=60), "in an hour"),
        (timedelta(hours=-2), "2 hours ago"),
        (timedelta(hours=24), "in a day"),
        (timedelta(days=3), "in 3 days"),
        (timedelta(days=-40), "a month ago"),
        (timedelta(days=100), "in 3 months"),
        (timedelta(days=365), "in a year"),
        (timedelta(days=-3 * 365), "3 years ago"),
    ],
)
def test_humanize_delta_reads_like_discord_relative_timestamps(delta: timedelta, text: str) -> None:
    assert humanize_delta(delta) == text
