"""The platform-neutral core that every adapter (Discord, Slack, console) is built on."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.clock import Clock, SystemClock
from bot.core.film import Film, load_film
from bot.core.film_commands import FilmFacts
from bot.settings import Settings


@dataclass
class Core:
    settings: Settings
    clock: Clock
    film: Film
    facts: FilmFacts

    @classmethod
    def load(cls, settings: Settings, clock: Clock | None = None) -> Core:
        """Load and validate the film data; raises ``FilmDataError`` naming the broken field."""
        clock = clock or SystemClock()
        film = load_film(settings.film_file)
        return cls(settings=settings, clock=clock, film=film, facts=FilmFacts(film, clock))
