"""Rendering of the reply markup (see :mod:`bot.core.replies`) for adapters that are not Discord."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

TIMESTAMP = re.compile(r"<t:(-?\d{1,12})(?::([tTdDfFR]))?>")
EMPHASIS = re.compile(r"\*\*(.+?)\*\*|`([^`\n]+)`")

_STRFTIME = {
    "t": "%H:%M",
    "T": "%H:%M:%S",
    "d": "%Y-%m-%d",
    "D": "%-d %B %Y",
    "f": "%-d %B %Y %H:%M",
    "F": "%A, %-d %B %Y %H:%M %Z",
}


def format_instant(instant: datetime, style: str, zone: tzinfo, now: datetime, relative: Callable[..., str]) -> str:
    """One timestamp as plain text, in ``zone``; ``relative`` phrases style ``R`` from the delta to now."""
    if style == "R":
        return relative(instant - now)
    return instant.astimezone(zone).strftime(_STRFTIME[style])


def replace_timestamps(text: str, render: Callable[[datetime, str], str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        instant = datetime.fromtimestamp(int(match.group(1)), UTC)
        return render(instant, match.group(2) or "f")

    return TIMESTAMP.sub(substitute, text)
