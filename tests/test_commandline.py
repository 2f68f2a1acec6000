"""One option parser for the console's ``name:value`` and Slack's ``key: value`` forms."""

from __future__ import annotations

import pytest

from bot.core.commandline import CommandLineError, Word, parse_options, split_words

PARTY = ("when", "title", "timezone", "remind", "channel")


@pytest.mark.parametrize(
    ("line", "known", "expected"),
    [
        ("Ok-ju", None, {"name": "Ok-ju"}),
        ("Kim Ok-ju", None, {"name": "Kim Ok-ju"}),
        ("name:Ok-ju", None, {"name": "Ok-ju"}),
        ("when:tomorrow title:Fun", PARTY, {"when": "tomorrow", "title": "Fun"}),
        ("when: tomorrow 8pm title: Movie night", PARTY, {"when": "tomorrow 8pm", "title": "Movie night"}),
        ("title: Movie night when: tomorrow 8pm", PARTY, {"when": "tomorrow 8pm", "title": "Movie night"}),
        ("when:tomorrow 8pm", PARTY, {"when": "tomorrow 8pm"}),
        ("title: \"Ballerina: the night\" when:'8pm'", PARTY, {"title": "Ballerina: the night", "when": "8pm"}),
        ('title:"when: not an option"', PARTY, {"title": "when: not an option"}),
        ("title: “Smart quotes”", PARTY, {"title": "Smart quotes"}),
        ("title: Ballerina: the movie", PARTY, {"title": "Ballerina: the movie"}),
        ("title: Ok-ju's party", PARTY, {"title": "Ok-ju's party"}),
        ("when: 8:30pm", PARTY, {"when": "8:30pm"}),
        ("title: see https://example.com/x", PARTY, {"title": "see https://example.com/x"}),
        ("TITLE: Caps", PARTY, {"title": "Caps"}),
        ("  when:   tomorrow   ", PARTY, {"when": "tomorrow"}),
        ("tomorrow 8pm title: Fun", PARTY, {"name": "tomorrow 8pm", "title": "Fun"}),
        (":tada: party", None, {"name": ":tada: party"}),
        ("", PARTY, {}),
    ],
)
def test_reads_both_forms(line: str, known: tuple[str, ...] | None, expected: dict[str, str]) -> None:
    assert parse_options(line, known) == expected


@pytest.mark.parametrize(
    ("line", "known", "bare", "complaint"),
    [
        ('title: "never closed', PARTY, "name", "never closed"),
        ("title: “never closed", PARTY, "name", "never closed"),
        ("when: 1 when: 2", PARTY, "name", "twice"),
        ("when:", PARTY, "name", "needs a value"),
        ("when: title: Fun", PARTY, "name", "needs a value"),
        ("nmae: Ok-ju", ("name",), "name", "no option nmae"),
        ("Ok-ju", ("name",), None, "name the option first"),
    ],
)
def test_refuses_what_it_cannot_read(line: str, known: tuple[str, ...], bare: str | None, complaint: str) -> None:
    with pytest.raises(CommandLineError, match=complaint):
        parse_options(line, known, bare)


def test_quoted_words_are_never_keys() -> None:
    assert split_words('a "b: c" d') == [Word("a"), Word("b: c", quoted=True), Word("d")]
    assert parse_options([Word("title:", quoted=True), Word("x")], PARTY) == {"name": "title: x"}


def test_a_refusal_quotes_little_of_a_long_word() -> None:
    with pytest.raises(CommandLineError) as caught:
        parse_options("x" * 5000, (), None)
    assert len(str(caught.value)) < 120
