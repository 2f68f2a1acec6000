"""What translating costs per reply: film-fact replies and a release reminder post built in
English and in Korean (timeit, best of five runs), against nothing but the core's own code.

Figures: microseconds per reply in each language, and Korean's extra cost over English. The
replies are built exactly as the adapters build them (``FilmFacts`` with the loaded film, the
language set as a handler sets it); the network is not involved, so this is the whole of what a
Korean member pays for the language on top of the round trip ``cast_latency`` measures.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from datetime import timedelta

from bot.core.clock import ManualClock
from bot.core.film import load_film
from bot.core.film_commands import FilmFacts
from bot.core.i18n import Language, load_catalogs, speaking
from bot.core.replies import Reply
from bot.settings import Settings

RUNS, NUMBER = 5, 5_000


def _best_us(build: Callable[[], object]) -> float:
    return min(timeit.repeat(build, number=NUMBER, repeat=RUNS)) / NUMBER * 1e6


def main() -> None:
    load_catalogs()
    film = load_film(Settings.load(environ={}, env_file=None).film_file)
    facts = FilmFacts(film, ManualClock(film.release.instant - timedelta(days=16, hours=3)))
    builders: dict[str, Callable[[], Reply]] = {
        "cast": facts.cast,
        "about": facts.about,
        "release": facts.release,
        "help": facts.help,
    }
    languages: tuple[Language, ...] = ("en", "ko")
    print(f"{'reply':<10}" + "".join(f"{language + ' µs':>10}" for language in languages) + f"{'ko extra':>10}")
    for name, build in builders.items():
        cost = {}
        for language in languages:
            with speaking(language):
                build()  # the first reply in a language builds its film text once
                cost[language] = _best_us(build)
        print(f"{name:<10}{cost['en']:>10.2f}{cost['ko']:>10.2f}{cost['ko'] - cost['en']:>+10.2f}")
    print(f"(best of {RUNS} runs of {NUMBER:,} replies each)")


if __name__ == "__main__":
    main()
