"""The film's facts: a strict schema and the loader that validates the data file at start-up."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, field_validator

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    # Unknown keys are errors: a typo in the data file must not silently drop a fact.
    model_config = ConfigDict(extra="forbid", frozen=True)


class CastMember(_Strict):
    actor: Text
    character: Text
    description: Text
    source: Text | None = Field(default=None, description="Where a fact not in the source article comes from")


class Director(_Strict):
    name: Text
    summary: Text
    vision: Text
    source: Text | None = None


class Premiere(_Strict):
    festival: Text
    section: Text
    source: Text | None = None


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


class Film(_Strict):
    schema_version: int = Field(ge=1, le=1)
    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,40}$")]
    title: Text
    genre: Text
    tagline: Text
    synopsis: Text
    highlights: tuple[Text, ...] = ()
    director: Director
    premiere: Premiere
    release: Release
    cast: tuple[CastMember, ...] = Field(min_length=1)

    def find_character(self, name: str) -> CastMember | None:
        """The cast member playing ``name`` (or the actor called ``name``), case-insensitively."""
        wanted = name.strip().casefold()
        for member in self.cast:
            if wanted in (member.character.casefold(), member.actor.casefold()):
                return member
        return None


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
            problems.append(f"field `{_field_path(tuple(err['loc']))}`: {message}")
        raise FilmDataError(f"{path}: " + "; ".join(problems)) from None
