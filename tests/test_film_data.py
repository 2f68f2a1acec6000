"""The film data file: what the bot states must come from the article or carry a source."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.film import FilmDataError, load_film
from bot.settings import DEFAULT_FILM_FILE

ARTICLE = Path(__file__).resolve().parents[2] / "shared" / "seed" / "ballerina-busan-article.txt"


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


@pytest.mark.skipif(not ARTICLE.is_file(), reason="the shared seed article is not beside this checkout")
def test_every_unsourced_name_appears_in_the_article() -> None:
    article = ARTICLE.read_text(encoding="utf-8")
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
