"""English and Korean: gettext catalogs managed with Babel, and the language of the text being built.

Every user-facing string goes through :func:`_` (or :func:`ngettext` when it counts something).
They translate into the *current language*, a context variable that each adapter sets for the
reader before it builds a reply: the member's language for their own replies, the server's for a
channel post, the member's stored language for a DM. The engine sets it for each outbox row it
renders. Strings defined at import time are marked with :func:`N_` and translated where used.

The Korean catalog is ``bot/locales/ko/LC_MESSAGES/messages.po``; it is compiled in memory at
start-up (:func:`load_catalogs`), so a source checkout needs no build step. ``messages.pot`` is
extracted from the source by ``python -m bot.catalogs update`` (Babel's extractor); a test fails
when it is stale, when a message has no Korean, or when placeholders differ.
"""

from __future__ import annotations

import contextvars
import functools
import gettext as _gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Final, Literal

from babel import Locale, dates
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.core.korean import with_particle

Language = Literal["en", "ko"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "ko")
DEFAULT_LANGUAGE: Final[Language] = "en"
LANGUAGE_NAMES: Final[dict[Language, str]] = {"en": "English", "ko": "한국어"}
"""Each language in its own words, as a member choosing one looks for it."""

LOCALES_DIR: Final = Path(__file__).resolve().parent.parent / "locales"
DOMAIN: Final = "messages"

_current: contextvars.ContextVar[Language] = contextvars.ContextVar("language", default=DEFAULT_LANGUAGE)


def language_of(tag: str | None) -> Language | None:
    """Our language for a platform's locale tag (``ko``, ``ko-KR``, ``ko_KR.UTF-8``, ``en-US``); None
    when there is no tag. Korean tags give Korean, any other tag English."""
    if not tag:
        return None
    return "ko" if tag.replace("_", "-").split("-")[0].split(".")[0].lower() == "ko" else "en"


def parse_language(text: str) -> Language | None:
    """A language a member typed (``en``, ``ko``, ``english``, ``한국어`` …), or None if it is not one."""
    word = text.strip().lower()
    if word in ("en", "english", "영어"):
        return "en"
    if word in ("ko", "korean", "한국어", "한국말", "korean (한국어)"):
        return "ko"
    return None


def current_language() -> Language:
    return _current.get()


def set_language(language: Language) -> None:
    """Speak ``language`` for the rest of the current task (an adapter's handler of one interaction)."""
    _current.set(language)


@contextmanager
def speaking(language: Language) -> Iterator[None]:
    """Speak ``language`` inside the block (the engine rendering one row, a test)."""
    token = _current.set(language)
    try:
        yield
    finally:
        _current.reset(token)


@functools.cache
def _translations(language: Language) -> _gettext.NullTranslations:
    if language == DEFAULT_LANGUAGE:
        return _gettext.NullTranslations()
    po_path = LOCALES_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def load_catalogs() -> tuple[Language, ...]:
    """Compile every catalog now (start-up), so a broken ``.po`` fails at once; the languages loaded."""
    for language in LANGUAGES:
        _translations(language)
    return LANGUAGES


def _(message: str) -> str:
    """``message`` in the current language."""
    return _translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a counted message for ``count`` in the current language (Korean has one form)."""
    return _translations(_current.get()).ngettext(singular, plural, count)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it yet: for constants built at import
    time, translated with :func:`_` where they are shown."""
    return message


class Word(str):
    """A word known only at run time (a title, a name) put into a message: a Korean translation
    writes the particle after it as a format spec, ``{title:을/를}``, and gets the one that fits
    how the word ends (``발레리나를``, ``김지훈을``; see :mod:`bot.core.korean`)."""

    __slots__ = ()

    def __format__(self, spec: str) -> str:
        return with_particle(str(self), spec) if spec else str(self)


def translate(message: str, language: Language) -> str:
    """``message`` in ``language``, whatever the current one (Discord command metadata at sync)."""
    return _translations(language).gettext(message)


def _locale() -> Locale:
    return Locale.parse(_current.get())


def format_instant(instant: datetime, style: str, zone: tzinfo, now: datetime) -> str:
    """An instant as the reader's locale writes it, in ``zone``; the styles of the reply markup's
    timestamps: ``F`` full date and time, ``f`` date and time, ``D`` date, ``d`` short date, ``t``
    time, ``T`` time with seconds, ``R`` relative to ``now`` ("in 3 days", "3일 후")."""
    locale = _locale()
    if style == "R":
        return format_relative(instant - now)
    local = instant.astimezone(zone)
    if style in ("t", "T"):
        return dates.format_time(local, "short" if style == "t" else "medium", locale=locale)
    date = dates.format_date(local, {"F": "full", "f": "long", "D": "long", "d": "short"}[style], locale=locale)
    if style in ("D", "d"):
        return date
    time = dates.format_time(local, "short", locale=locale)
    return str(dates.get_datetime_format("full" if style == "F" else "long", locale=locale)).format(time, date)


def format_relative(delta: timedelta) -> str:
    """``delta`` from now as a relative phrase in the reader's language ("in 3 days", "3일 후")."""
    return dates.format_timedelta(delta, add_direction=True, locale=_locale())
