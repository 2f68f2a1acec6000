"""200 concurrent ``/ballerina cast`` through the fake Discord, against a bare "pong" command.

Latency is from the fake sending INTERACTION_CREATE to receiving the callback. Both bots run
in this process, on the same fake, in alternating rounds, with the garbage-collector settings
``ballerina-bot run`` uses (``bot.heap``). Goal: our p99 ≤ 1.25× the bare p99.

Measured with the fake answering at once and with a network latency on every REST request
(``--latency-ms``, default 0 and 50): the callback then reaches the fake one latency later.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
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
from bot.heap import settle_heap
from tests.fakediscord import FakeDiscord
from tests.fakediscord.harness import fake_endpoints

CONCURRENT = 200
ROUNDS = 5


def bare_bot() -> commands.Bot:
    bot = commands.Bot(command_prefix="!", intents=discord.Intents.none(), help_command=None)

    @bot.tree.command(name="pong", description="Replies pong")
    async def pong(interaction: discord.Interaction[Any]) -> None:
        await interaction.response.send_message("pong")

    return bot


async def measure(latency: float) -> tuple[list[float], list[float]]:
    ours: list[float] = []
    bare: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        async with FakeDiscord(callback_deadline=None, latency=latency) as fake:
            guild = fake.add_guild("Bench Club")
            channel = guild.add_text_channel("general")
            members = [guild.add_member(f"fan{i}") for i in range(CONCURRENT)]
            settle_heap()  # both bots under the garbage-collector settings of `ballerina-bot run`
            with fake_endpoints(fake):
                for _ in range(ROUNDS):
                    bot = bare_bot()
                    async with running_client(fake, bot):
                        await bot.tree.sync()
                        bare += await concurrent_latencies(fake, guild, channel, members, "pong")
                    async with running_ballerina(fake, settings_for(fake, Path(tmp) / "bench.sqlite3")) as ballerina:
                        await ballerina.sync_commands()
                        ours += await concurrent_latencies(fake, guild, channel, members, "ballerina", "cast")
    return ours, bare


def main(latencies_ms: Sequence[int] = LATENCIES_MS) -> None:
    print(f"/ballerina cast, {CONCURRENT} concurrent x {ROUNDS} rounds")
    for latency_ms in latencies_ms:
        ours, bare = asyncio.run(measure(latency_ms / 1000))
        print(f" network latency {latency_ms} ms")
        print(f"  bare pong       {summary(bare)}")
        print(f"  ballerina cast  {summary(ours)}")
        ratio = percentile(ours, 99) / percentile(bare, 99)
        print(f"  p99 ratio cast/pong: {ratio:.2f} (goal <= 1.25)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_latency_option(parser)
    main(parser.parse_args().latency_ms)
