"""The film data file: what the bot states must come from the article or carry a source."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.film import FilmDataError, load_film
from bot.core.film_commands import FilmFacts
from bot.settings import DEFAULT_FILM_FILE

ARTICLE_IN_SHARED = Path("shared", "seed", "ballerina-busan-article.txt")
ARTICLE_ENV = "BALLERINA_SEED_ARTICLE"
"""Where the article is, when the CI script (``.ci/run``) or a developer says so."""


def find_article(starts: Iterable[Path], environ: Mapping[str, str]) -> Path | None:
    """The seed article: named by ``ARTICLE_ENV``, else ``shared/seed/…`` in a parent of a start.

    Each start is searched as given and with its symlinks resolved: a checkout reached through a
    symlink has two sets of parents, and the shared folder may sit beside either.
    """
    if named := environ.get(ARTICLE_ENV):
        return Path(named) if Path(named).is_file() else None
    for start in starts:
        for folder in dict.fromkeys([*start.absolute().parents, *start.resolve().parents]):
            if (folder / ARTICLE_IN_SHARED).is_file():
                return folder / ARTICLE_IN_SHARED
    return None


def read_article(starts: Iterable[Path], environ: Mapping[str, str]) -> str:
    """The article's text; in CI (``CI`` set) a missing article fails the test instead of skipping it."""
    found = find_article(starts, environ)
    if found is None:
        where = environ.get(ARTICLE_ENV) or f"{ARTICLE_IN_SHARED} in a parent folder"
        if environ.get("CI"):
            pytest.fail(f"CI must check the film facts against the seed article, but it is not at {where}")
        pytest.skip(f"NOT CHECKED against the seed article: it is not at {where}")
    return found.read_text(encoding="utf-8")


@pytest.fixture
def article() -> str:
    return read_article([Path(__file__), Path(os.environ.get("PWD", "."))], os.environ)


@pytest.fixture
def film_text() -> str:
    return DEFAULT_FILM_FILE.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "film.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_film_file_loads_with_release_at_midnight_pacific() -> None:
    film = load_film(DEFAULT_FILM_FILE)
    assert film.title == "Ballerina"
    assert film.director.name == "Lee Chung-hyun"
    assert film.release.instant == datetime(2023, 10, 6, 7, 0, tzinfo=UTC)
    assert [(m.actor, m.character) for m in film.cast][:2] == [("Jeon Jong-seo", "Ok-ju"), ("Kim Ji-hoon", "Choi Pro")]


def test_every_unsourced_name_appears_in_the_article(article: str) -> None:
    film = load_film(DEFAULT_FILM_FILE)
    assert film.premiere.festival in article
    assert film.premiere.section in article
    assert film.director.name in article
    for member in film.cast:
        if member.source is None:
            assert member.actor in article and member.character in article
    assert film.release.source, "the release year and hour are not in the article, so they need a source"


def test_missing_field_is_named(tmp_path: Path, film_text: str) -> None:
    broken = film_text.replace('character = "Choi Pro"\n', "")
    with pytest.raises(FilmDataError, match=r"film\.toml: field `cast\[1\]\.character`: Field required"):
        load_film(write(tmp_path, broken))


def test_unknown_key_is_an_error_naming_it(tmp_path: Path, film_text: str) -> None:
    broken = film_text.replace('genre = "', 'genere = "typo"\ngenre = "')
    with pytest.raises(FilmDataError, match=r"field `genere`: unknown key"):
        load_film(write(tmp_path, broken))


def test_malformed_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(FilmDataError, match=r"film\.toml: not valid TOML"):
        load_film(write(tmp_path, 'title = "Ballerina\n'))


def test_unknown_time_zone_is_refused(tmp_path: Path, film_text: str) -> None:
    broken = film_text.replace('"America/Los_Angeles"', '"Mars/Olympus"')
    with pytest.raises(FilmDataError, match=r"field `release\.timezone`: .*unknown IANA time zone 'Mars/Olympus'"):
        load_film(write(tmp_path, broken))


def test_release_with_an_offset_is_refused(tmp_path: Path, film_text: str) -> None:
    broken = film_text.replace("local_time = 2023-10-06T00:00:00", "local_time = 2023-10-06T00:00:00Z")
    with pytest.raises(FilmDataError, match=r"field `release\.local_time`"):
        load_film(write(tmp_path, broken))


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(FilmDataError, match="FILM_FILE"):
        load_film(tmp_path / "nope.toml")


def test_article_is_found_beside_a_checkout_reached_through_a_symlink(tmp_path: Path) -> None:
    """As in CI: the clone's parent folder has shared/, but the clone's real folder is elsewhere."""
    real = tmp_path / "elsewhere" / "clone"
    (real / "tests").mkdir(parents=True)
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "clone").symlink_to(real, target_is_directory=True)
    article = tmp_path / "ci" / ARTICLE_IN_SHARED
    article.parent.mkdir(parents=True)
    article.write_text("Busan", encoding="utf-8")
    assert find_article([tmp_path / "ci" / "clone" / "tests" / "test_film_data.py"], {}) == article


def test_article_named_by_the_environment_wins(tmp_path: Path) -> None:
    named = tmp_path / "article.txt"
    named.write_text("Busan", encoding="utf-8")
    assert read_article([tmp_path / "checkout" / "tests" / "x.py"], {ARTICLE_ENV: str(named)}) == "Busan"


def test_missing_article_fails_in_ci_and_skips_elsewhere(tmp_path: Path) -> None:
    nowhere = [tmp_path / "checkout" / "tests" / "x.py"]
    with pytest.raises(pytest.fail.Exception, match="CI must check the film facts"):
        read_article(nowhere, {"CI": "1"})
    with pytest.raises(pytest.skip.Exception, match="NOT CHECKED"):
        read_article(nowhere, {})


# ------------------------------------------------------------------ Korean


def test_shipped_film_file_speaks_korean_too() -> None:
    film = load_film(DEFAULT_FILM_FILE)
    assert film.languages == ("en", "ko")
    korean = film.localized("ko")
    assert korean.title == "발레리나"
    assert korean.director.name == "이충현"
    assert [(m.actor, m.character) for m in korean.cast] == [
        ("전종서", "옥주"),
        ("김지훈", "최프로"),
        ("박유림", "민희"),
    ]
    assert korean.premiere.festival == "제28회 부산국제영화제"
    assert korean.release == film.release  # an instant and a platform name: nothing to translate


def test_english_facts_are_unchanged_and_the_default() -> None:
    film = load_film(DEFAULT_FILM_FILE)
    assert film.localized("en") is film
    assert film.localized("fr") is film  # a language the file does not declare falls back to English
    assert film.title == "Ballerina" and film.cast[0].description.startswith("A former bodyguard")


def test_korean_prose_is_korean_and_polite() -> None:
    """Written for Korean fans: no English left in it, and sentences to the reader in 해요체."""
    korean = load_film(DEFAULT_FILM_FILE).localized("ko")
    prose = [korean.synopsis, korean.director.vision, *korean.highlights, *(m.description for m in korean.cast)]
    for text in prose:
        assert re.search(r"[A-Za-z]", text) is None, text
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]
        for sentence in sentences:
            assert re.search(r"(요|죠)[.!?]$", sentence), sentence


def test_every_korean_name_translates_an_english_one(article: str) -> None:
    """The Korean tables add no fact: each Korean record sits on an English one that is in the article or sourced."""
    film = load_film(DEFAULT_FILM_FILE)
    for member in film.cast:
        assert member.ko is not None
        assert member.source is not None or (member.actor in article and member.character in article)


def without_table(text: str, header: str, occurrence: int = 0) -> str:
    """The file text without one ``[header]`` table (its ``occurrence``-th), up to the next table."""
    starts = [m.start() for m in re.finditer(re.escape(f"\n[{header}]\n"), text)]
    begin = starts[occurrence]
    following = text.find("\n[", begin + 1)
    return text[:begin] + ("\n" + text[following:] if following != -1 else "\n")


@pytest.mark.parametrize(
    ("header", "occurrence", "field"),
    [
        ("ko", 0, "ko"),
        ("director.ko", 0, "director.ko"),
        ("premiere.ko", 0, "premiere.ko"),
        ("cast.ko", 2, "cast[2].ko"),
    ],
)
def test_a_declared_language_missing_a_record_is_named(
    tmp_path: Path, film_text: str, header: str, occurrence: int, field: str
) -> None:
    with pytest.raises(FilmDataError) as caught:
        load_film(write(tmp_path, without_table(film_text, header, occurrence)))
    assert f"field `{field}`: missing — `languages` declares ko (Korean)" in str(caught.value)


def test_a_file_without_korean_still_loads(tmp_path: Path, film_text: str) -> None:
    english_only = film_text.replace('languages = ["en", "ko"]\n', "")
    for header, count in (("ko", 1), ("director.ko", 1), ("premiere.ko", 1), ("cast.ko", 3)):
        for _ in range(count):
            english_only = without_table(english_only, header)
    film = load_film(write(tmp_path, english_only))
    assert film.languages == ("en",) and film.ko is None
    assert film.localized("ko") is film


@pytest.mark.parametrize(
    ("old", "new", "refusal"),
    [
        ('title = "발레리나"\n', "", r"field `ko\.title`: Field required"),
        ('character = "민희"\n', "", r"field `cast\[2\]\.ko\.character`: Field required"),
        ('languages = ["en", "ko"]', 'languages = ["en"]', r"field `ko`: given, but `languages` does not declare ko"),
        ('languages = ["en", "ko"]', 'languages = ["en", "fr"]', r"field `languages\[1\]`"),
        ('languages = ["en", "ko"]', 'languages = ["ko"]', r"field `languages`: must include en"),
    ],
)
def test_broken_language_data_is_refused_naming_the_field(
    tmp_path: Path, film_text: str, old: str, new: str, refusal: str
) -> None:
    assert old in film_text
    with pytest.raises(FilmDataError, match=refusal):
        load_film(write(tmp_path, film_text.replace(old, new)))


@pytest.mark.parametrize(
    ("typed", "found"),
    [("Ok-ju", "Ok-ju"), ("옥주", "Ok-ju"), (" 최프로 ", "Choi Pro"), ("전종서", "Ok-ju"), ("박유림", "Min-hee")],
)
def test_characters_are_found_in_either_script(typed: str, found: str) -> None:
    member = load_film(DEFAULT_FILM_FILE).find_character(typed)
    assert member is not None and member.character == found


@pytest.mark.parametrize(
    ("query", "choices"),
    [
        ("옥", ["Ok-ju"]),
        ("ok", ["Ok-ju"]),
        ("프로", ["Choi Pro"]),
        ("김지", ["Choi Pro"]),
        ("", ["Ok-ju", "Choi Pro", "Min-hee"]),
        ("없는", []),
    ],
)
def test_character_choices_match_either_script(query: str, choices: list[str]) -> None:
    facts = FilmFacts(load_film(DEFAULT_FILM_FILE), ManualClock(datetime(2026, 1, 1, tzinfo=UTC)))
    assert facts.character_choices(query) == choices
