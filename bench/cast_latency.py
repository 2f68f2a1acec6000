"""200 concurrent ``/ballerina cast`` through the fake Discord, against a bare "pong" command.

Latency is from the fake sending INTERACTION_CREATE to receiving the callback. Both bots run
in this process, on the same fake, in alternating rounds, with the garbage-collector settings
``ballerina-bot run`` uses (``bot.heap``). Goal: our p99 ≤ 1.25× the bare p99, for members
whose Discord app is English and for members whose app is Korean (answered in Korean: the
language looked up per interaction, the reply built from the Korean catalog and film facts).
What translation costs per reply is measured apart as well: building the reply in each language.

Measured with the fake answering at once and with a network latency on every REST request
(``--latency-ms``, default 0 and 50): the callback then reaches the fake one latency later.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import discord
from discord.ext import commands

from bench.common import (
    LATENCIES_MS,
    add_latency_option,
    concurrent_latencies,
    percentile,
    running_ballerina,
    running_client,
    settings_for,
    summary,
)
from bot.core.i18n import Language, speaking
from bot.core.services import load_facts
from bot.heap import settle_heap
from bot.settings import Settings
from tests.fakediscord import FakeDiscord
from tests.fakediscord.harness import fake_endpoints

CONCURRENT = 200
ROUNDS = 5
LOCALES: dict[Language, str] = {"en": "en-US", "ko": "ko"}
"""Each language's members, by the locale their Discord app sends."""
RENDERS = 2000


def bare_bot() -> commands.Bot:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none(), help_command=None)

    @bot.tree.command(name="pong", description="Replies pong")
    async def pong(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("pong")

    return bot


async def measure(latency: float) -> tuple[dict[Language, list[float]], list[float]]:
    ours: dict[Language, list[float]] = {language: [] for language in LOCALES}
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord(callback_deadline=None, latency=latency) as fake:
            guild = fake.add_guild("Bench Club")
            channel = guild.add_text_channel("general")
            members = {
                language: [guild.add_member(f"fan-{language}{i}", locale=locale) for i in range(CONCURRENT)]
                for language, locale in LOCALES.items()
            }
            settle_heap()  # both bots under the garbage-collector settings of `ballerina-bot run`
            with fake_endpoints(fake):
                for round_number in range(ROUNDS):
                    bot = bare_bot()
                    async with running_client(fake, bot):
                        await bot.tree.sync()
                        bare += await concurrent_latencies(fake, guild, channel, members["en"], "pong")
                    async with running_ballerina(fake, settings_for(fake, Path(tmp) / "bench.sqlite3")) as ballerina:
                        await ballerina.sync_commands()
                        # Each language first in turn: the first burst after a start meets cold caches.
                        order = list(members.items())[:: -1 if round_number % 2 else 1]
                        for language, fans in order:
                            ours[language] += await concurrent_latencies(
                                fake, guild, channel, fans, "ballerina", "cast"
                            )
    return ours, bare


def render_seconds(language: Language) -> float:
    """CPU time to build the ``/ballerina cast`` reply once in ``language``."""
    facts = load_facts(Settings.load(environ={}, env_file=None))
    with speaking(language):
        facts.cast()  # the catalog compiled once, as at start-up
        started = time.process_time()
        for _ in range(RENDERS):
            facts.cast()
        return (time.process_time() - started) / RENDERS


def main(latencies_ms: Sequence[int] = LATENCIES_MS) -> None:
    print(f"/ballerina cast, {CONCURRENT} concurrent x {ROUNDS} rounds, members with English and Korean apps")
    for latency_ms in latencies_ms:
        ours, bare = asyncio.run(measure(latency_ms / 1000))
        print(f" network latency {latency_ms} ms")
        print(f"  bare pong          {summary(bare)}")
        for language, latencies in ours.items():
            print(f"  ballerina cast {language}  {summary(latencies)}")
            ratio = percentile(latencies, 99) / percentile(bare, 99)
            print(f"  p99 ratio cast {language}/pong: {ratio:.2f} (goal <= 1.25)")
    english, korean = render_seconds("en"), render_seconds("ko")
    cost = (korean - english) * 1e6
    print(f" building the reply: en {english * 1e6:.0f} µs, ko {korean * 1e6:.0f} µs (translation {cost:+.0f} µs)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_latency_option(parser)
    main(parser.parse_args().latency_ms)
