"""Turn what members type into instants, time zones and reminder schedules.

Every public parser either returns a value or raises :class:`TimeParseError` whose
message is a one-sentence reply the bot can show as is. Nothing here reads the clock:
callers pass ``now`` so results never depend on today's date.

Choices worth knowing:

* A plain weekday (``sat 21:30``) is the soonest occurrence still ahead, today
  included; ``next sat 21:30`` is the first occurrence strictly after today (on a
  Friday that is tomorrow), so it never means today.
* A bare time (``21:30``) is today if still ahead, else tomorrow.
* A month and day without a year (``dec 5 8pm``) is this year, or next year once that
  date has gone by; the same date today at a time already past is refused as past.
* ``midnight`` is 00:00 at the start of the given day.
* Relative forms (``in 3 days``) add elapsed time, so across a DST change the wall
  clock time shifts by the hour the clocks moved.
* Numeric day/month forms (``05/12``) are refused: they mean different dates to
  different members.

Korean input (``내일 오후 8시``, ``다음 주 금요일 오후 7시 30분``, ``2시간 후``) has its own small
grammar read by the same date and time rules and the same refusals; what it adds:

* ``토요일`` alone is the soonest Saturday still ahead, like ``sat``. ``이번 주 토요일`` and
  ``다음 주 토요일`` count weeks from Monday, as Korean calendars do: ``이번 주`` is the
  Monday-to-Sunday week holding today (its Saturday may have gone by, which is refused as past),
  ``다음 주`` the week after it.
* ``오전`` (a.m.), ``새벽`` (small hours) and ``아침`` (morning) read 1–12 as a.m.; ``오후``,
  ``저녁`` (evening) as p.m.; ``낮`` (daytime) 10–12 as morning and noon, 1–9 as p.m.
  ``밤`` (night) 6–11 is p.m., while ``밤 12시`` and ``밤 1시``–``밤 5시`` belong to the night
  after the named day: ``토요일 밤 12시`` is Sunday 00:00. ``자정`` (midnight) likewise ends the
  named day (``오늘 자정`` is tonight at 24:00), unlike English ``midnight``; ``정오`` is noon.
* A bare hour from 1 to 12 (``8시``) needs ``오전`` or ``오후``, as a bare ``8`` needs am/pm;
  ``0시`` and ``13시``–``23시`` are 24-hour times. ``반`` is half past (``8시 반``).
* Hours and counts may be native Korean numerals (``두 시``, ``세 시간 후``), and a final ``에``
  (``8시에``) is allowed.
* Replies stay English for now; a refusal to Hangul input gives Korean examples.
"""

from __future__ import annotations

import calendar
import difflib
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from fractions import Fraction
from zoneinfo import ZoneInfo, available_timezones

from babel import dates

from bot.core.i18n import Word, _, current_language, format_relative, ngettext

__all__ = [
    "TimeParseError",
    "describe_offset",
    "format_offsets",
    "humanize_delta",
    "parse_offsets",
    "parse_timezone",
    "parse_when",
    "span_parts",
    "suggest_timezones",
]


class TimeParseError(ValueError):
    """User input that cannot be used; ``str(error)`` is a reply fit to show the member."""


# --------------------------------------------------------------------------- helpers

_ECHO_LIMIT = 40
_MAX_INPUT = 100
_MINUTE = timedelta(minutes=1)


def _quote(text: str) -> Word:
    """User text made safe to echo: one line, no control characters, no code-span breaks, short;
    a :class:`Word`, so a Korean refusal puts the right particle after it."""
    cleaned = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C") or ch in " \t\n")
    cleaned = " ".join(cleaned.split()).replace("`", "'")
    if len(cleaned) > _ECHO_LIMIT:
        cleaned = cleaned[: _ECHO_LIMIT - 1].rstrip() + "…"
    return Word(f"“{cleaned}”")


def _normalize(text: str) -> str:
    """Lower-case, fold full-width forms (NFKC) and collapse whitespace."""
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def _split_minutes(delta: timedelta) -> tuple[int, int, int, int]:
    """(weeks, days, hours, minutes) of a whole-minute, non-negative span.

    Weeks are used only for 14 days or more in whole weeks: ``7d`` reads better than
    ``1w`` next to ``1d`` in a schedule.
    """
    if delta < timedelta(0) or delta % _MINUTE:
        raise ValueError(f"expected a non-negative whole number of minutes, got {delta!r}")
    total = delta // _MINUTE
    days, rest = divmod(total, 24 * 60)
    hours, minutes = divmod(rest, 60)
    weeks = 0
    if days >= 14 and days % 7 == 0:
        weeks, days = days // 7, 0
    return weeks, days, hours, minutes


def span_parts(days: int, hours: int, minutes: int, *, weeks: int = 0) -> list[str]:
    """Each unit of a span that is not zero, counted in the current language, largest first
    ("2 weeks", "3 days", "1시간")."""
    units = (
        (weeks, ngettext("{count} week", "{count} weeks", weeks)),
        (days, ngettext("{count} day", "{count} days", days)),
        (hours, ngettext("{count} hour", "{count} hours", hours)),
        (minutes, ngettext("{count} minute", "{count} minutes", minutes)),
    )
    return [unit.format(count=n) for n, unit in units if n]


def _span_words(delta: timedelta) -> str:
    """A span in words in the current language ("366 days", "1 hour 30 minutes", "1시간 30분");
    seconds are dropped."""
    weeks, days, hours, minutes = _split_minutes(max(delta, timedelta(0)) // _MINUTE * _MINUTE)
    parts = span_parts(days, hours, minutes, weeks=weeks)
    return " ".join(parts) if parts else ngettext("{count} minute", "{count} minutes", 0).format(count=0)


# --------------------------------------------------------------------- humanize_delta


def humanize_delta(delta: timedelta) -> str:
    """Relative phrasing like Discord's ``<t:…:R>``: positive is the future, negative the past.
    In English our own phrasing; in another language Babel's ("3시간 후", "2일 전")."""
    if current_language() != "en":
        return format_relative(delta)
    seconds = delta.total_seconds()
    future = seconds > 0
    s = abs(seconds)
    if s < 45:
        return "in a few seconds" if future else "just now"
    day = 86400.0
    if s < 90:
        phrase = "a minute"
    elif s < 45 * 60:
        phrase = _plural(round(s / 60), "minute")
    elif s < 90 * 60:
        phrase = "an hour"
    elif s < 22 * 3600:
        phrase = _plural(round(s / 3600), "hour")
    elif s < 36 * 3600:
        phrase = "a day"
    elif s < 26 * day:
        phrase = _plural(round(s / day), "day")
    elif s < 46 * day:
        phrase = "a month"
    elif s < 320 * day:
        phrase = _plural(round(s / (30.436875 * day)), "month")
    elif s < 548 * day:
        phrase = "a year"
    else:
        phrase = _plural(round(s / (365.2425 * day)), "year")
    return f"in {phrase}" if future else f"{phrase} ago"


# ------------------------------------------------------------------------- parse_when

_WEEKDAYS: dict[str, int] = {
    "mon": 0, "monday": 0,
    "tue": 1, "tues": 1, "tuesday": 1,
    "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
_MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTHS: dict[str, int] = {name.lower(): i for i, name in enumerate(_MONTH_NAMES, 1)}
_MONTHS.update({name.lower()[:3]: i for i, name in enumerate(_MONTH_NAMES, 1)})
_MONTHS["sept"] = 9


def _alternation(words: Iterable[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


def _unnamed(pattern: re.Pattern[str]) -> str:
    """The pattern without group names, so several can be combined into one."""
    return re.sub(r"\?P<\w+>", "", pattern.pattern)


_WD = _alternation(_WEEKDAYS)
_MO = _alternation(_MONTHS)
_ORD = r"(?:st|nd|rd|th)?"
_DAY_WORDS = ("today", "tonight", "tomorrow", "tmrw", "tmr")

_WEEKDAY_RE = re.compile(rf"(?:(?P<mod>next|this)\s+)?(?P<name>{_WD})")
_ISO_DATE_RE = re.compile(r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})")
_MONTH_DAY_RE = re.compile(rf"(?P<mo>{_MO})\.?\s*(?P<d>[0-9]{{1,2}}){_ORD}(?:,?\s+(?P<y>[0-9]{{4}}))?")
_DAY_MONTH_RE = re.compile(rf"(?P<d>[0-9]{{1,2}}){_ORD}\s*(?:of\s+)?(?P<mo>{_MO})\.?(?:,?\s+(?P<y>[0-9]{{4}}))?")
_DATE = "|".join([_alternation(_DAY_WORDS), *map(_unnamed, (_WEEKDAY_RE, _ISO_DATE_RE, _MONTH_DAY_RE, _DAY_MONTH_RE))])

_TIME_RE = re.compile(r"(?P<h>[0-9]{1,2})(?::(?P<m>[0-9]{2}))?\s*(?P<ampm>am|pm)?")
_TIME = rf"(?:noon|midnight|{_unnamed(_TIME_RE)})"
_AT = r"(?:(?:at|@)\s*)?"
_SEP = r"(?:\s*,\s*|\s+)"
_DATE_TIME_RE = re.compile(rf"(?:on\s+)?(?P<date>{_DATE}){_SEP}{_AT}(?P<time>{_TIME})")
_TIME_DATE_RE = re.compile(rf"{_AT}(?P<time>{_TIME}){_SEP}(?:on\s+)?(?P<date>{_DATE})")
_DATE_ONLY_RE = re.compile(rf"(?:on\s+)?(?P<date>{_DATE})")
_TIME_ONLY_RE = re.compile(rf"{_AT}(?P<time>{_TIME})")

_ISO_RE = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})(?:t|\s)(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{2})"
    r"(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,6}))?)?"
    r"\s*(?P<off>z|utc|gmt|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_UNIX_RE = re.compile(r"[0-9]{10}")
_DISCORD_RE = re.compile(r"<t:(?P<n>-?[0-9]{1,12})(?::[tdfr])?>")
_RELATIVE_RE = re.compile(r"in\s+(?P<rest>.+)")
_REL_PART_RE = re.compile(r"\s*(?:(?:,|and)\s*)?(?P<n>[0-9]+(?:\.[0-9]+)?|an?)\s*(?P<u>[a-z]+)")
_AMPM_DOTS_RE = re.compile(r"(?<![a-z])([ap])\.\s*m\b\.?")

_UNIT_MINUTES: dict[str, int] = {}
for _names, _minutes in (
    (("m", "min", "mins", "minute", "minutes", "분"), 1),
    (("h", "hr", "hrs", "hour", "hours", "시간"), 60),
    (("d", "day", "days", "일"), 24 * 60),
    (("w", "wk", "wks", "week", "weeks", "주", "주일"), 7 * 24 * 60),
):
    for _name in _names:
        _UNIT_MINUTES[_name] = _minutes
_CALENDAR_UNITS = frozenset({"mo", "mos", "month", "months", "y", "yr", "yrs", "year", "years", "개월", "달", "년"})

# Korean grammar; see the module docstring for what each form means.
_HANGUL_RE = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7a3]")
_KO_NATIVE_NUMBERS = {
    "한": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6,
    "일곱": 7, "여덟": 8, "아홉": 9, "열": 10, "열한": 11, "열두": 12,
}  # fmt: skip
_KO_NATIVE_RE = re.compile(rf"(?<![가-힣])({_alternation(_KO_NATIVE_NUMBERS)})\s*(?=시)")
_KO_WEEKDAYS = {"월": 0, "화": 1, "수": 2, "목": 3, "금": 4, "토": 5, "일": 6}
_KO_DAY_OFFSETS = {"오늘": 0, "내일": 1, "모레": 2, "글피": 3}
_KO_WEEKDAY_RE = re.compile(r"(?:(?P<week>이번|다음)\s*주\s*)?(?P<wd>[월화수목금토일])요일")
_KO_MONTH_DAY_RE = re.compile(r"(?:(?P<y>[0-9]{4})\s*년\s*)?(?P<mo>[0-9]{1,2})\s*월\s*(?P<d>[0-9]{1,2})\s*일")
_KO_DATE = "|".join([_alternation(_KO_DAY_OFFSETS), *map(_unnamed, (_KO_WEEKDAY_RE, _KO_MONTH_DAY_RE))])
_KO_PERIODS = ("오전", "오후", "새벽", "아침", "낮", "저녁", "밤")
_KO_CLOCK_RE = re.compile(
    rf"(?:(?P<period>{_alternation(_KO_PERIODS)})\s*)?"
    r"(?:(?P<h>[0-9]{1,2})\s*시(?:\s*(?:(?P<m>[0-9]{1,2})\s*분|(?P<half>반)))?|(?P<hh>[0-9]{1,2}):(?P<mm>[0-9]{2}))"
)
_KO_WHEN_RE = re.compile(rf"(?:(?P<date>{_KO_DATE})\s*)?(?P<time>정오|자정|{_unnamed(_KO_CLOCK_RE)})\s*에?")
_KO_DATE_ONLY_RE = re.compile(rf"(?P<date>{_KO_DATE})\s*에?")
_KO_RELATIVE_RE = re.compile(r"(?P<rest>.+?)\s*(?:후|뒤)에?")
_KO_REL_PART_RE = re.compile(r"\s*(?P<n>[0-9]+(?:\.[0-9]+)?)\s*(?P<u>[가-힣]+?)(?:\s*(?P<half>반))?(?=\s|[0-9]|$)")


@dataclass(frozen=True)
class _Context:
    """Everything one ``parse_when`` call needs to build its replies."""

    raw: str
    now: datetime
    tz: ZoneInfo
    max_ahead: timedelta

    @property
    def quoted(self) -> Word:
        return _quote(self.raw)

    @property
    def zone_name(self) -> str:
        return self.tz.key

    @property
    def korean(self) -> bool:
        """Hangul in the input: it is read by the Korean grammar."""
        return _HANGUL_RE.search(self.raw) is not None

    @property
    def korean_examples(self) -> bool:
        """Examples in replies are Korean ones for Korean input or a Korean reader."""
        return self.korean or current_language() == "ko"

    @property
    def tomorrow_word(self) -> str:
        return "내일" if self.korean_examples else "tomorrow"

    @property
    def hint(self) -> str:
        ahead = (self.now.astimezone(self.tz) + timedelta(days=8)).date()
        if self.korean_examples:
            return _("Try `{month}월 {day}일 20:00`, `내일 오후 8시`, `토요일 21:30` or `2시간 후`.").format(
                month=ahead.month, day=ahead.day
            )
        return _("Try `{date} 20:00`, `tomorrow 8pm`, `sat 21:30` or `in 2 hours`.").format(date=ahead.isoformat())

    def unreadable(self) -> TimeParseError:
        return TimeParseError(_("I couldn't read {text} as a time. {hint}").format(text=self.quoted, hint=self.hint))

    def out_of_range(self) -> TimeParseError:
        return TimeParseError(
            _("{text} is far outside what I can schedule — pick a time within the next {span}.").format(
                text=self.quoted, span=_span_words(self.max_ahead)
            )
        )


def parse_when(text: str, *, now: datetime, tz: ZoneInfo, max_ahead: timedelta = timedelta(days=366)) -> datetime:
    """Read a future instant typed by a member; wall-clock forms are read in ``tz``.

    Returns an aware UTC datetime strictly after ``now`` and at most ``max_ahead`` later.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    ctx = _Context(raw=text, now=now.astimezone(UTC), tz=tz, max_ahead=max_ahead)
    norm = _normalize(text)
    if not norm:
        raise TimeParseError(_("Tell me when! {hint}").format(hint=ctx.hint))
    if len(norm) > _MAX_INPUT:
        raise ctx.unreadable()
    norm = _AMPM_DOTS_RE.sub(r"\1m", norm)
    try:
        result = _parse_instant(norm, ctx)
    except OverflowError:
        raise ctx.out_of_range() from None
    return _check_range(result, ctx)


def _parse_instant(norm: str, ctx: _Context) -> datetime:
    if m := _ISO_RE.fullmatch(norm):
        return _from_iso(m, ctx)
    if m := _RELATIVE_RE.fullmatch(norm):
        return ctx.now + _relative_delta(m["rest"], ctx)
    if m := _DISCORD_RE.fullmatch(norm):
        return _from_unix(int(m["n"]), ctx)
    if _UNIX_RE.fullmatch(norm):
        return _from_unix(int(norm), ctx)

    today = ctx.now.astimezone(ctx.tz).date()
    if ctx.korean:
        return _parse_korean(norm, today, ctx)
    if m := (_DATE_TIME_RE.fullmatch(norm) or _TIME_DATE_RE.fullmatch(norm)):
        return _at_local(_date_candidates(m["date"], today), _read_time(m["time"]), ctx)
    if m := _DATE_ONLY_RE.fullmatch(norm):
        raise _needs_time_of_day(m["date"], "8pm")
    if m := _TIME_ONLY_RE.fullmatch(norm):
        return _at_local([today, today + timedelta(days=1)], _read_time(m["time"]), ctx)
    raise ctx.unreadable()


def _needs_time_of_day(day: str, evening: str) -> TimeParseError:
    return TimeParseError(
        _("“{day}” needs a time of day too — try `{day} 20:00` or `{day} {evening}`.").format(day=day, evening=evening)
    )


def _parse_korean(norm: str, today: date, ctx: _Context) -> datetime:
    """The Korean forms (module docstring); the same refusals as the English ones."""
    norm = _KO_NATIVE_RE.sub(lambda m: str(_KO_NATIVE_NUMBERS[m[1]]), norm)
    if m := _KO_RELATIVE_RE.fullmatch(norm):
        return ctx.now + _relative_delta(m["rest"], ctx, _KO_REL_PART_RE)
    if m := _KO_WHEN_RE.fullmatch(norm):
        at, next_day = _read_korean_time(m["time"])
        if m["date"] is None:
            return _at_local([today, today + timedelta(days=1)], at, ctx)
        shift = timedelta(days=int(next_day))
        return _at_local([day + shift for day in _korean_date_candidates(m["date"], today)], at, ctx)
    if m := _KO_DATE_ONLY_RE.fullmatch(norm):
        raise _needs_time_of_day(m["date"], "오후 8시")
    raise ctx.unreadable()


def _korean_date_candidates(text: str, today: date) -> list[date]:
    """Like :func:`_date_candidates`, for ``내일``, ``(이번 주|다음 주) 토요일`` and ``(2026년) 12월 5일``."""
    if text in _KO_DAY_OFFSETS:
        return [today + timedelta(days=_KO_DAY_OFFSETS[text])]
    if m := _KO_WEEKDAY_RE.fullmatch(text):
        weekday = _KO_WEEKDAYS[m["wd"]]
        if m["week"] is None:
            ahead = (weekday - today.weekday()) % 7
            first = today + timedelta(days=ahead)
            return [first, first + timedelta(days=7)] if ahead == 0 else [first]
        monday = today - timedelta(days=today.weekday())
        weeks = 1 if m["week"] == "다음" else 0
        return [monday + timedelta(days=7 * weeks + weekday)]
    m = _KO_MONTH_DAY_RE.fullmatch(text)
    if m is None:  # pragma: no cover - the grammar only hands over matching text
        raise TimeParseError(_("I couldn't read “{text}” as a date.").format(text=text))
    return _month_day_candidates(int(m["mo"]), int(m["d"]), m["y"], today)


def _read_korean_time(text: str) -> tuple[time, bool]:
    """The time of day, and whether it falls in the night after the named day (``밤 12시``)."""
    if text == "정오":
        return time(12, 0), False
    if text == "자정":
        return time(0, 0), True
    m = _KO_CLOCK_RE.fullmatch(text)
    if m is None:  # pragma: no cover - the grammar only hands over matching text
        raise TimeParseError(_("I couldn't read “{text}” as a time of day.").format(text=text))
    period = m["period"]
    if m["hh"] is not None:
        hour, minute = int(m["hh"]), int(m["mm"])
        if period is None or hour > 12:
            if period is not None:
                raise TimeParseError(
                    _("“{text}” mixes {period} with a 24-hour time — write `{time}`.").format(
                        text=text, period=Word(period), time=f"{hour:02d}:{minute:02d}"
                    )
                )
            return _make_time(hour, minute), False
    else:
        hour, minute = int(m["h"]), 30 if m["half"] else int(m["m"] or 0)
        if minute > 59:
            raise _no_minute(minute)
        if period is None:
            if 1 <= hour <= 12:
                evening = hour + 12 if hour < 12 else hour
                raise TimeParseError(
                    _("Is “{text}” 오전 {hour}시 or 오후 {hour}시? Add 오전/오후 or write it as `{evening}`.").format(
                        text=text, hour=hour, evening=f"{evening:02d}:00"
                    )
                )
            return _make_time(hour, minute), False
    if not 1 <= hour <= 12:
        raise TimeParseError(
            _("“{text}” isn't a time — with {period} the hour goes from 1 to 12.").format(text=text, period=period)
        )
    return _korean_period_time(period, hour, minute)


def _korean_period_time(period: str, hour: int, minute: int) -> tuple[time, bool]:
    """An hour from 1 to 12 read in its part of the day (module docstring)."""
    if period in ("오전", "새벽", "아침"):
        return time(hour % 12, minute), False
    if period == "밤":
        if hour == 12 or hour <= 5:
            return time(hour % 12, minute), True
        return time(hour + 12 if hour < 12 else hour, minute), False
    if period == "낮" and hour >= 10:
        return time(hour, minute), False
    if period == "저녁" and hour == 12:
        raise TimeParseError(_("“저녁 12시” is ambiguous — write `밤 12시` (midnight) or `낮 12시` (noon)."))
    return time(hour % 12 + 12, minute), False


def _check_range(result: datetime, ctx: _Context) -> datetime:
    ahead = result - ctx.now
    if ahead <= timedelta(0):
        local = result.astimezone(ctx.tz).strftime("%H:%M")
        raise TimeParseError(
            _("{text} is in the past ({relative}) — try `{example}` or another time still to come.").format(
                text=ctx.quoted, relative=humanize_delta(ahead), example=f"{ctx.tomorrow_word} {local}"
            )
        )
    if ahead > ctx.max_ahead:
        raise TimeParseError(
            _("{text} is too far ahead ({relative}) — I can only schedule up to {span} ahead.").format(
                text=ctx.quoted, relative=humanize_delta(ahead), span=_span_words(ctx.max_ahead)
            )
        )
    return result


def _from_unix(seconds: int, ctx: _Context) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, ValueError, OSError):
        raise ctx.out_of_range() from None


def _relative_delta(rest: str, ctx: _Context, part_re: re.Pattern[str] = _REL_PART_RE) -> timedelta:
    """The span of ``3 hours 30 minutes`` (or, with the Korean ``part_re``, ``3시간 반``)."""
    minutes = Fraction(0)
    pos = 0
    while pos < len(rest):
        m = part_re.match(rest, pos)
        if m is None:
            raise ctx.unreadable()
        unit = m["u"]
        if unit in _CALENDAR_UNITS:
            example = "`30일 후`" if ctx.korean_examples else "`in 30 days`"
            raise TimeParseError(
                _("I can't count in months or years for {text} — use days or weeks, like {example}.").format(
                    text=ctx.quoted, example=example
                )
            )
        if unit not in _UNIT_MINUTES:
            raise ctx.unreadable()
        amount = Fraction(1) if m["n"] in ("a", "an") else Fraction(m["n"])
        if m.groupdict().get("half"):
            amount += Fraction(1, 2)
        minutes += amount * _UNIT_MINUTES[unit]
        pos = m.end()
    # Compare before building a timedelta so absurd amounts cannot overflow.
    if minutes * 60 > Fraction(ctx.max_ahead.total_seconds()):
        raise TimeParseError(
            _("{text} is too far ahead — I can only schedule up to {span} ahead.").format(
                text=ctx.quoted, span=_span_words(ctx.max_ahead)
            )
        )
    return timedelta(seconds=round(minutes * 60))


def _from_iso(m: re.Match[str], ctx: _Context) -> datetime:
    day = _make_date(int(m["y"]), int(m["mo"]), int(m["d"]))
    second = int(m["s"] or 0)
    if second > 59:
        raise TimeParseError(_("There's no second {second} — seconds go from 00 to 59.").format(second=second))
    micro = int((m["f"] or "0").ljust(6, "0"))
    naive = datetime.combine(day, _make_time(int(m["h"]), int(m["mi"]))).replace(second=second, microsecond=micro)
    offset = m["off"]
    if offset is None:
        return _localize(naive, ctx)
    if offset in ("z", "utc", "gmt"):
        return naive.replace(tzinfo=UTC)
    sign = -1 if offset[0] == "-" else 1
    digits = offset[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 23 or minutes > 59:
        raise TimeParseError(
            _("The offset in {text} isn't valid — offsets look like `+01:00` or `-04:00`.").format(text=ctx.quoted)
        )
    zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _no_hour(hour: int) -> TimeParseError:
    return TimeParseError(_("There's no hour {hour} on the clock — hours go from 0 to 23.").format(hour=hour))


def _no_minute(minute: int) -> TimeParseError:
    return TimeParseError(_("There's no minute {minute} — minutes go from 00 to 59.").format(minute=minute))


def _make_time(hour: int, minute: int) -> time:
    if hour > 23:
        raise _no_hour(hour)
    if minute > 59:
        raise _no_minute(minute)
    return time(hour, minute)


def _read_time(text: str) -> time:
    if text == "noon":
        return time(12, 0)
    if text == "midnight":
        return time(0, 0)
    m = _TIME_RE.fullmatch(text)
    if m is None:  # pragma: no cover - the grammar only hands over matching text
        raise TimeParseError(_("I couldn't read “{text}” as a time of day.").format(text=text))
    hour, minute, ampm = int(m["h"]), int(m["m"] or 0), m["ampm"]
    if ampm is None:
        if m["m"] is None:
            if hour > 23:
                raise _no_hour(hour)
            if hour > 12 or hour == 0:
                raise TimeParseError(
                    _("Did you mean `{time}`? Add the minutes so I know it's a time.").format(time=f"{hour:02d}:00")
                )
            evening = hour + 12 if hour < 12 else hour
            raise TimeParseError(
                _("Is “{hour}” {hour}am or {hour}pm? Add am/pm or write it as `{evening}`.").format(
                    hour=hour, evening=f"{evening:02d}:00"
                )
            )
        return _make_time(hour, minute)
    if not 1 <= hour <= 12:
        raise TimeParseError(_("“{text}” isn't a time — with am/pm the hour goes from 1 to 12.").format(text=text))
    if minute > 59:
        raise _no_minute(minute)
    return time(hour % 12 + (12 if ampm == "pm" else 0), minute)


def _no_month(month: int) -> TimeParseError:
    return TimeParseError(_("There's no month {month} — months go from 1 to 12.").format(month=month))


def _month_name(month: int) -> str:
    """The month's name in the current language ("February", "2월")."""
    return str(dates.get_month_names("wide", locale=current_language())[month])


def _make_date(year: int, month: int, day: int) -> date:
    if not 1 <= month <= 12:
        raise _no_month(month)
    if day < 1:
        raise TimeParseError(_("There's no day 0 in a month — days start at 1."))
    if year < 1:
        raise TimeParseError(_("The year {year} is far outside what I can schedule.").format(year=year))
    last = calendar.monthrange(year, month)[1]
    if day > last:
        raise TimeParseError(
            _("{name} {year} only has {last} days, so there's no {name} {day}.").format(
                name=_month_name(month), year=year, last=last, day=day
            )
        )
    return date(year, month, day)


def _date_candidates(text: str, today: date) -> list[date]:
    """Dates the text may mean, soonest first; the first one still ahead wins."""
    one_day = timedelta(days=1)
    if text in ("today", "tonight"):
        return [today]
    if text in ("tomorrow", "tmrw", "tmr"):
        return [today + one_day]
    if m := _WEEKDAY_RE.fullmatch(text):
        ahead = (_WEEKDAYS[m["name"]] - today.weekday()) % 7
        if m["mod"] == "next":
            return [today + (ahead or 7) * one_day]
        first = today + ahead * one_day
        return [first, first + 7 * one_day] if ahead == 0 else [first]
    if m := _ISO_DATE_RE.fullmatch(text):
        return [_make_date(int(m["y"]), int(m["mo"]), int(m["d"]))]
    m = _MONTH_DAY_RE.fullmatch(text) or _DAY_MONTH_RE.fullmatch(text)
    if m is None:  # pragma: no cover - the grammar only hands over matching text
        raise TimeParseError(_("I couldn't read “{text}” as a date.").format(text=text))
    return _month_day_candidates(_MONTHS[m["mo"]], int(m["d"]), m["y"], today)


def _month_day_candidates(month: int, day: int, year: str | None, today: date) -> list[date]:
    """A month and day in the given year, else this year, or next year once that date has gone by."""
    if year is not None:
        return [_make_date(int(year), month, day)]
    if not 1 <= month <= 12:
        raise _no_month(month)
    longest = calendar.monthrange(2000, month)[1]  # 2000 is a leap year: February may have 29 days
    if not 1 <= day <= longest:
        raise TimeParseError(
            _("There's no {name} {day} — {name} has at most {longest} days.").format(
                name=_month_name(month), day=day, longest=longest
            )
        )
    soonest = today.year if (month, day) >= (today.month, today.day) else today.year + 1
    return [_make_date(soonest, month, day)]


def _at_local(candidates: list[date], at: time, ctx: _Context) -> datetime:
    for day in candidates[:-1]:
        naive = datetime.combine(day, at)
        # fold=0 is good enough to decide "still ahead"; the pick is checked strictly below.
        if naive.replace(tzinfo=ctx.tz).astimezone(UTC) > ctx.now:
            return _localize(naive, ctx)
    return _localize(datetime.combine(candidates[-1], at), ctx)


def _format_offset(offset: timedelta | None) -> str:
    total = int((offset or timedelta(0)).total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    hours, minutes = divmod(abs(total), 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def _localize(naive: datetime, ctx: _Context) -> datetime:
    """Wall-clock time in ``ctx.tz`` to UTC, refusing times that don't exist or happen twice.

    zoneinfo resolves both fold values silently; when they disagree the time is either
    skipped (the result does not round-trip back to the same wall time) or repeated.
    """
    early = naive.replace(tzinfo=ctx.tz, fold=0)
    late = naive.replace(tzinfo=ctx.tz, fold=1)
    early_utc, late_utc = early.astimezone(UTC), late.astimezone(UTC)
    if early_utc == late_utc:
        return early_utc
    shown = naive.strftime("%Y-%m-%d %H:%M")
    if early_utc.astimezone(ctx.tz).replace(tzinfo=None) != naive:
        later = early_utc.astimezone(ctx.tz).strftime("%Y-%m-%d %H:%M")
        raise TimeParseError(
            _(
                "{time} doesn't exist in {zone} because clocks jump forward that night — try `{later}` or another time."
            ).format(time=shown, zone=ctx.zone_name, later=later)
        )
    iso = naive.strftime("%Y-%m-%dT%H:%M")
    first, second = _format_offset(early.utcoffset()), _format_offset(late.utcoffset())
    raise TimeParseError(
        _(
            "{time} happens twice in {zone} because clocks go back that night — add an offset "
            "like `{first}` (the first one) or `{second}` (the second), or pick another time."
        ).format(time=shown, zone=ctx.zone_name, first=f"{iso}{first}", second=f"{iso}{second}")
    )


# ---------------------------------------------------------------------- time zones

_POPULAR_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Africa/Johannesburg",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)
# "localtime" follows the server's configuration and "Factory" is a placeholder.
_HIDDEN_ZONES = frozenset({"localtime", "Factory"})
_LEGACY_AREAS = frozenset({"US", "Canada", "Brazil", "Mexico", "Chile", "Etc"})
_ZONE_CHARS_RE = re.compile(r"[a-z0-9_+\-/]+")


@functools.cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones() - _HIDDEN_ZONES))


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    names = {name.lower(): name for name in _zone_names()}
    names["z"] = "UTC"
    return names


@functools.cache
def _popular() -> tuple[str, ...]:
    known = set(_zone_names())
    return tuple(name for name in _POPULAR_ZONES if name in known)


def _zone_query(text: str) -> str:
    """Lower-case with spaces as underscores and no spaces around slashes."""
    norm = _normalize(text)
    norm = re.sub(r"\s*/\s*", "/", norm)
    return norm.replace(" ", "_")


def _is_legacy(name: str) -> bool:
    """Old aliases (``US/Eastern``, ``EST5EDT``, ``Etc/GMT+5``) rank after ``Area/City`` names."""
    return "/" not in name or name.split("/", 1)[0] in _LEGACY_AREAS


def _rank(name: str, query: str) -> tuple[int, int, int, str] | None:
    lower = name.lower()
    city = lower.rsplit("/", 1)[-1]
    if query in (lower, city):
        tier = 0
    elif lower.startswith(query) or city.startswith(query):
        tier = 1
    elif any(word.startswith(query) for word in re.split(r"[/_\-]", lower)):
        tier = 2
    elif query in lower:
        tier = 3
    else:
        return None
    popular = _popular()
    popularity = popular.index(name) if name in popular else len(popular)
    return tier, int(_is_legacy(name)), popularity, name


def suggest_timezones(query: str, limit: int = 25) -> list[str]:
    """Time zone names for autocomplete, best first.

    Exact and prefix matches of the full name or the city rank before word and
    substring matches; canonical ``Area/City`` names before legacy aliases. When
    nothing matches, close spellings (``seol`` → Asia/Seoul) are offered instead.
    """
    if limit <= 0:
        return []
    q = _zone_query(query)[:_MAX_INPUT]
    if not q:
        return list(_popular()[:limit])
    ranked = sorted(r for name in _zone_names() if (r := _rank(name, q)) is not None)
    if ranked:
        return [r[-1] for r in ranked[:limit]]
    by_lower = _zones_by_lower_name()
    if "/" in q:
        close = difflib.get_close_matches(q, list(by_lower), n=limit, cutoff=0.8)
        return [by_lower[name] for name in close]
    cities: dict[str, list[str]] = {}
    for name in _zone_names():
        cities.setdefault(name.lower().rsplit("/", 1)[-1], []).append(name)
    found: list[str] = []
    for city in difflib.get_close_matches(q, list(cities), n=limit, cutoff=0.7):
        found.extend(sorted(cities[city], key=lambda n: (_is_legacy(n), n)))
    return found[:limit]


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA time zone from what a member typed (``europe/paris``, ``america/new york``, ``UTC``)."""
    query = _zone_query(name)
    if not query:
        raise TimeParseError(_("Tell me a time zone, like `Europe/Paris`, `America/New_York` or `UTC`."))
    quoted = _quote(name)
    if len(query) > 64 or ".." in query or query.startswith("/") or not _ZONE_CHARS_RE.fullmatch(query):
        raise TimeParseError(
            _("{text} isn't a time zone name — use one like `Europe/Paris` or `America/New_York`.").format(text=quoted)
        )
    canonical = _zones_by_lower_name().get(query)
    if canonical is None:
        suggestions = suggest_timezones(query, limit=3)
        if suggestions:
            options = ", ".join(f"`{s}`" for s in suggestions)
            raise TimeParseError(
                _("I don't know the time zone {text} — did you mean {options}?").format(text=quoted, options=options)
            )
        raise TimeParseError(
            _("I don't know the time zone {text} — use a name like `Europe/Paris` or `America/New_York`.").format(
                text=quoted
            )
        )
    return ZoneInfo(canonical)


# ------------------------------------------------------------------- reminder offsets

# Units are English letters (m, h, d, w) or Korean words (분, 시간, 일, 주).
_OFFSET_TOKEN_RE = re.compile(r"(?:[0-9]+(?:\.[0-9]+)?(?:[a-z]+|[가-힣]+))+")
_OFFSET_PART_RE = re.compile(r"(?P<n>[0-9]+(?:\.[0-9]+)?)(?P<u>[a-z]+|[가-힣]+)")
_BARE_NUMBER_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _offset_example(korean: bool) -> str:
    """An example schedule, in Korean units for Korean input or a Korean reader."""
    return "`7일, 1일, 1시간, 0`" if korean or current_language() == "ko" else "`7d,1d,1h,0`"


def _parse_offset_token(token: str) -> timedelta:
    quoted = _quote(token)
    korean = _HANGUL_RE.search(token) is not None
    if token.startswith("-"):
        raise TimeParseError(
            _("{text} is negative — reminders can only come before the start (use `0` for the moment itself).").format(
                text=quoted
            )
        )
    if _BARE_NUMBER_RE.fullmatch(token):
        if Fraction(token) == 0:
            return timedelta(0)
        if korean or current_language() == "ko":
            raise TimeParseError(
                _("{text} needs a unit — 분, 시간, 일 or 주, like `{minutes}` or `{hours}`.").format(
                    text=quoted, minutes=f"{token}분", hours=f"{token}시간"
                )
            )
        raise TimeParseError(
            _("{text} needs a unit — m, h, d or w, like `{minutes}` or `{hours}`.").format(
                text=quoted, minutes=f"{token}m", hours=f"{token}h"
            )
        )
    if not _OFFSET_TOKEN_RE.fullmatch(token):
        raise TimeParseError(
            _("I couldn't read {text} as a reminder time — try {example}.").format(
                text=quoted, example=_offset_example(korean)
            )
        )
    minutes = Fraction(0)
    for part in _OFFSET_PART_RE.finditer(token):
        unit = part["u"]
        if unit not in _UNIT_MINUTES:
            refusal = (
                _("I don't know the unit {unit} in {text} — use 분, 시간, 일 or 주 (minutes, hours, days, weeks).")
                if korean or current_language() == "ko"
                else _("I don't know the unit {unit} in {text} — use m, h, d or w (minutes, hours, days, weeks).")
            )
            raise TimeParseError(refusal.format(unit=_quote(unit), text=quoted))
        minutes += Fraction(part["n"]) * _UNIT_MINUTES[unit]
    if minutes.denominator != 1:
        raise TimeParseError(
            _("{text} isn't a whole number of minutes — reminders go to the minute.").format(text=quoted)
        )
    if minutes > 10**9:
        raise TimeParseError(_("{text} is far too long before the start.").format(text=quoted))
    return timedelta(minutes=int(minutes))


def parse_offsets(
    text: str, *, max_count: int = 10, max_offset: timedelta = timedelta(days=90)
) -> tuple[timedelta, ...]:
    """Reminder times before an event (``7d,1d,1h,0`` or ``7일, 1일, 1시간, 0``), earliest reminder first.

    Items are separated by commas or spaces. With commas, spaces inside an item are
    ignored (``1h 30m, 0``); without, a number and its unit may still be spaced (``1 h``).
    """
    norm = _normalize(text).replace(";", ",")
    if len(norm) > 20 * max(max_count, 1) + 100:
        raise TimeParseError(_("That's too many reminders — the most I can keep is {count}.").format(count=max_count))
    if "," in norm:
        tokens = [item.replace(" ", "") for item in norm.split(",")]
    else:
        tokens = re.sub(r"(?<=[0-9])\s+(?=[a-z가-힣])", "", norm).split(" ")
    tokens = [t for t in tokens if t]
    if not tokens:
        raise TimeParseError(
            _("Tell me when to remind, like {example} (7 days, 1 day and 1 hour before, and at the start).").format(
                example=_offset_example(_HANGUL_RE.search(text) is not None)
            )
        )
    if len(tokens) > max_count:
        raise TimeParseError(
            _("That's {given} reminders — the most I can keep is {count}.").format(given=len(tokens), count=max_count)
        )
    seen: set[timedelta] = set()
    for token in tokens:
        offset = _parse_offset_token(token)
        if offset > max_offset:
            raise TimeParseError(
                _("{text} is too long before the start — the furthest a reminder can be is {span}.").format(
                    text=_quote(token), span=_span_words(max_offset)
                )
            )
        if offset in seen:
            raise TimeParseError(_("{offset} is listed twice.").format(offset=Word(format_offsets((offset,)))))
        seen.add(offset)
    return tuple(sorted(seen, reverse=True))


_OFFSET_UNITS: dict[str, tuple[str, str, str, str]] = {"en": ("w", "d", "h", "m"), "ko": ("주", "일", "시간", "분")}
"""The compact units of weeks, days, hours and minutes in each language; :func:`parse_offsets` reads both."""


def format_offsets(offsets: tuple[timedelta, ...]) -> str:
    """Canonical compact form that :func:`parse_offsets` reads back, in the current language's
    units: ``7d,1d,1h30m,0``, ``7일,1일,1시간30분,0``."""
    return _format_offsets(offsets, current_language())


@functools.lru_cache(maxsize=256)
def _format_offsets(offsets: tuple[timedelta, ...], language: str) -> str:
    # Cached: every party card and RSVP reply shows its party's schedule, and schedules repeat.
    units = _OFFSET_UNITS.get(language, _OFFSET_UNITS["en"])
    parts: list[str] = []
    for offset in offsets:
        text = "".join(f"{n}{u}" for n, u in zip(_split_minutes(offset), units, strict=True) if n)
        parts.append(text or "0")
    return ",".join(parts)


def describe_offset(delta: timedelta) -> str:
    """Human text for one reminder in the current language: "1 hour 30 minutes before", "at the start"."""
    if delta == timedelta(0):
        return _("at the start")
    _split_minutes(delta)  # rejects negative and sub-minute values
    return _("{span} before").format(span=_span_words(delta))
