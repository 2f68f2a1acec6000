"""Rendering of the reply markup (see :mod:`bot.core.replies`) for adapters that are not Discord.

Timestamps are written by :func:`bot.core.i18n.format_instant` (Babel), in the reader's language
and zone: ``2023년 10월 6일 금요일 오후 4:00``, ``3일 후``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

TIMESTAMP = re.compile(r"<t:(-?\d{1,12})(?::([tTdDfFR]))?>")
EMPHASIS = re.compile(r"\*\*(.+?)\*\*|`([^`\n]+)`")


def replace_timestamps(text: str, render: Callable[[datetime, str], str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        instant = datetime.fromtimestamp(int(match.group(1)), UTC)
        return render(instant, match.group(2) or "f")

    return TIMESTAMP.sub(substitute, text)
