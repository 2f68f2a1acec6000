"""The film's facts: a strict schema and the loader that validates the data file at start-up.

The facts are written in English; each language the file declares in ``languages`` besides
English adds a table of the same name on every record that holds text (``[ko]``,
``[director.ko]``, ``[premiere.ko]``, ``[cast.ko]`` under each ``[[cast]]``), so a fact and its
translation sit side by side. A declared language missing anywhere is an error naming where.
"""

from __future__ import annotations

import tomllib
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Language = Literal["en", "ko"]
LANGUAGE_NAMES: dict[str, str] = {"en": "English", "ko": "Korean"}
TRANSLATED: tuple[Language, ...] = ("ko",)
"""Languages given as tables beside the English facts (English is the facts themselves)."""


class _Strict(BaseModel):
    # Unknown keys are errors: a typo in the data file must not silently drop a fact.
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Localizable(_Strict):
    """A record with text, and its translations in fields named by language (``ko``)."""

    def translation(self, language: str) -> _Strict | None:
        found = getattr(self, language, None) if language in TRANSLATED else None
        return found if isinstance(found, _Strict) else None

    def localized(self, language: str) -> Self:
        """This record with its text in ``language``; the English one when it has no such translation."""
        text = self.translation(language)
        return self if text is None else self.model_copy(update=dict(text))


class CastText(_Strict):
    actor: Text
    character: Text
    description: Text


class CastMember(_Localizable):
    actor: Text
    character: Text
    description: Text
    source: Text | None = Field(default=None, description="Where a fact not in the source article comes from")
    ko: CastText | None = None

    def names(self, which: Literal["actor", "character"]) -> list[str]:
        """The actor's or the character's name in every language given, case-folded, English first."""
        records: list[_Strict] = [self, *(t for lang in TRANSLATED if (t := self.translation(lang)) is not None)]
        return [folded_name(getattr(record, which)) for record in records]


class DirectorText(_Strict):
    name: Text
    summary: Text
    vision: Text


class Director(_Localizable):
    name: Text
    summary: Text
    vision: Text
    source: Text | None = None
    ko: DirectorText | None = None


class PremiereText(_Strict):
    festival: Text
    section: Text


class Premiere(_Localizable):
    festival: Text
    section: Text
    source: Text | None = None
    ko: PremiereText | None = None


class Release(_Strict):
    platform: Text
    exclusive: bool = False
    local_time: datetime
    timezone: Text
    source: Text | None = None

    @field_validator("local_time")
    @classmethod
    def _must_be_local(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            raise ValueError("write a local date-time (no offset) and give the zone in `timezone`")
        return value

    @field_validator("timezone")
    @classmethod
    def _must_be_iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @property
    def instant(self) -> datetime:
        """The release as an exact UTC instant."""
        return self.local_time.replace(tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)


class FilmText(_Strict):
    title: Text
    genre: Text
    tagline: Text
    synopsis: Text
    highlights: tuple[Text, ...]


class Film(_Localizable):
    schema_version: int = Field(ge=1, le=1)
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]
    languages: tuple[Language, ...] = ("en",)
    title: Text
    genre: Text
    tagline: Text
    synopsis: Text
    highlights: tuple[Text, ...] = ()
    director: Director
    premiere: Premiere
    release: Release
    cast: tuple[CastMember, ...] = Field(min_length=1)
    ko: FilmText | None = None

    @model_validator(mode="after")
    def _every_declared_language_everywhere(self) -> Self:
        """Each declared language has its table on every record with text, and no other language has one."""
        if "en" not in self.languages:
            raise PydanticCustomError("english_required", "field `languages`: must include en (the facts are English)")
        records: list[tuple[str, _Localizable]] = [("", self), ("director.", self.director)]
        records += [("premiere.", self.premiere), *((f"cast[{i}].", m) for i, m in enumerate(self.cast))]
        problems = []
        for language in TRANSLATED:
            declared = language in self.languages
            for prefix, record in records:
                given = record.translation(language) is not None
                if declared and not given:
                    problems.append(
                        f"field `{prefix}{language}`: missing — `languages` declares {language} "
                        f"({LANGUAGE_NAMES[language]}), so it needs the {LANGUAGE_NAMES[language]} text here"
                    )
                elif given and not declared:
                    problems.append(f"field `{prefix}{language}`: given, but `languages` does not declare {language}")
        if problems:
            raise PydanticCustomError("missing_translation", "; ".join(problems))
        return self

    def localized(self, language: str) -> Self:
        """The facts in ``language`` (English where the file does not declare it), for replies in that language."""
        if language not in self.languages or language == "en":
            return self
        return (
            super()
            .localized(language)
            .model_copy(
                update={
                    "director": self.director.localized(language),
                    "premiere": self.premiere.localized(language),
                    "cast": tuple(member.localized(language) for member in self.cast),
                }
            )
        )

    def find_character(self, name: str) -> CastMember | None:
        """The cast member playing ``name`` (or the actor called ``name``) in any language, case-insensitively."""
        wanted = folded_name(name)
        for member in self.cast:
            if wanted in member.names("character") or wanted in member.names("actor"):
                return member
        return None


def folded_name(name: str) -> str:
    """A name as compared: composed Hangul (NFC), case-folded, trimmed."""
    return unicodedata.normalize("NFC", name).strip().casefold()


class FilmDataError(Exception):
    """The film data file is missing or invalid; the message names the file and the field."""


def _field_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else part)
    return path or "(top level)"


def load_film(path: Path) -> Film:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FilmDataError(f"{path}: film data file not found (set FILM_FILE to its path)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FilmDataError(f"{path}: cannot read the film data file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise FilmDataError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Film.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            message = "unknown key (not part of the film schema)" if err["type"] == "extra_forbidden" else err["msg"]
            if not err["loc"]:  # a whole-file check, whose message names its fields itself
                problems.append(message)
                continue
            problems.append(f"field `{_field_path(tuple(err['loc']))}`: {message}")
        raise FilmDataError(f"{path}: " + "; ".join(problems)) from None


class Translations:
    """The film's facts in each language, each built once: replies read them on every command,
    and :meth:`Film.localized` copies every record."""

    def __init__(self, film: Film) -> None:
        self.film = film
        self._by_language: dict[str, Film] = {"en": film}

    def __getitem__(self, language: str) -> Film:
        found = self._by_language.get(language)
        if found is None:
            found = self._by_language[language] = self.film.localized(language)
        return found
