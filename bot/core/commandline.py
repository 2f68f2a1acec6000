"""Typed command options, shared by the platforms where members type them (the console, Slack).

One line holds the subcommand's words and then its options, in any of these forms::

    character Ok-ju                          bare words: the command's one obvious option
    party create when:tomorrow title:Fun     the console's name:value
    party create when: tomorrow 8pm title: Movie night    Slack's "key: value", values of several words
    party create title: "Ballerina: night" when:'8pm'     quoted values ("…", '…', “…”, ‘…’)

A value runs until the next ``key:`` whose key the command knows, so a colon inside a value
(``title: Ballerina: the movie``) stays text; quotes keep anything literal. A quote opens only at
the start of a word, so apostrophes (``Ok-ju's party``) need none.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from bot.core.i18n import _

QUOTES = {'"': '"', "'": "'", "“": "”", "‘": "’"}
_KEY = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,31}):(.*)", re.DOTALL)
_WORD_CAP = 40  # how much of a bad word a refusal quotes back


class CommandLineError(ValueError):
    """The line cannot be read; the message says why, in words for the member."""


@dataclass(frozen=True)
class Word:
    text: str
    quoted: bool = False


def split_words(text: str) -> list[Word]:
    """The line's words; a quoted stretch is one word, quotes removed."""
    words: list[Word] = []
    position, end = 0, len(text)
    while position < end:
        if text[position].isspace():
            position += 1
            continue
        opener = text[position]
        if opener in QUOTES:
            close = _closing_quote(text, position + 1, QUOTES[opener])
            if close < 0:
                raise CommandLineError(_("A quote ({quote}) is never closed: check the quotes.").format(quote=opener))
            words.append(Word(text[position + 1 : close], quoted=True))
            position = close + 1
            continue
        stop = position
        while stop < end and not text[stop].isspace():
            stop += 1
        word = text[position:stop]
        key = _KEY.fullmatch(word)
        if key and key.group(2)[:1] in QUOTES:
            # key:"quoted value": the key, then the quoted stretch read as its own word
            words.append(Word(key.group(1) + ":"))
            position += len(key.group(1)) + 1
            continue
        words.append(Word(word))
        position = stop
    return words


def _closing_quote(text: str, start: int, closer: str) -> int:
    """Where the quote closes: a closing quote followed by a space or the end, or -1."""
    index = text.find(closer, start)
    while index >= 0:
        if index + 1 == len(text) or text[index + 1].isspace():
            return index
        index = text.find(closer, index + 1)
    return -1


def parse_options(
    words: Sequence[Word] | str, known: Collection[str] | None = None, bare: str | None = "name"
) -> dict[str, str]:
    """``{option: value}`` from the words after a subcommand.

    ``known``: the command's option names (None: any name is an option, as the console had it);
    an unknown ``key:`` at the start is refused, later it is text of the value before it.
    ``bare``: the option that words before any ``key:`` fill; None refuses them.
    """
    if isinstance(words, str):
        words = split_words(words)
    options: dict[str, str] = {}
    current: str | None = None
    pieces: dict[str, list[str]] = {}
    for word in words:
        key = None if word.quoted else _KEY.fullmatch(word.text)
        name = key.group(1).lower() if key else None
        if key and name is not None and (known is None or name in known):
            if name in pieces:
                raise CommandLineError(_("You gave {option}: twice; give each option once.").format(option=name))
            current = name
            pieces[name] = [key.group(2)] if key.group(2) else []
            continue
        if current is None:
            if key and name is not None and known is not None:
                raise CommandLineError(_("There is no option {option}: here.").format(option=name[:_WORD_CAP]))
            if bare is None:
                raise CommandLineError(
                    _("I don't know what “{word}” is for: name the option first.").format(word=word.text[:_WORD_CAP])
                )
            current = bare
            pieces.setdefault(bare, [])
        pieces[current].append(word.text)
    for name, parts in pieces.items():
        value = " ".join(parts).strip()
        if not value:
            raise CommandLineError(_("{option}: needs a value after it.").format(option=name))
        options[name] = value
    return options
