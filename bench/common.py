"""Shared pieces of the benchmarks: percentiles, a bot on the fake Discord, resident memory."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path

import discord

from bot.core.clock import Clock
from bot.core.services import Core
from bot.discord.client import BallerinaBot
from bot.settings import Settings
from tests.fakediscord import FakeChannel, FakeDiscord, FakeGuild, FakeInteraction, FakeMember
from tests.fakediscord.harness import start_bot, stop_bot

LATENCIES_MS = (0, 50)
"""The network latencies the latency benchmarks measure at by default, in milliseconds."""


def latency_ms(text: str) -> tuple[int, ...]:
    """``"0,50"`` -> (0, 50): the ``--latency-ms`` option."""
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"milliseconds as whole numbers, comma-separated: {text!r}") from None
    if not values or min(values) < 0:
        raise argparse.ArgumentTypeError(f"latencies must be >= 0 ms: {text!r}")
    return values


def add_latency_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--latency-ms",
        type=latency_ms,
        default=LATENCIES_MS,
        metavar="MS[,MS...]",
        help=f"the fake Discord's delay on every REST request, each measured in turn (default: "
        f"{','.join(map(str, LATENCIES_MS))})",
    )


def report(run: Callable[[Path], Awaitable[dict[str, float]]], headline: Callable[[dict[str, float]], str]) -> None:
    """Run a benchmark in a throwaway folder, then print its figures (JSON) and a one-line verdict."""
    with tempfile.TemporaryDirectory() as folder:
        result = asyncio.run(run(Path(folder)))
    print(json.dumps(result, indent=2))
    print(headline(result))


def percentile(values: Sequence[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def summary(values: Sequence[float]) -> str:
    return (
        f"p50 {percentile(values, 50) * 1000:7.2f} ms   p99 {percentile(values, 99) * 1000:7.2f} ms   "
        f"mean {statistics.fmean(values) * 1000:7.2f} ms   n={len(values)}"
    )


def callback_latency(interaction: FakeInteraction) -> float:
    """Seconds from the fake sending INTERACTION_CREATE to receiving the bot's callback."""
    received = datetime.fromisoformat(interaction.callbacks[0].timestamp)
    return (received - interaction.created_at).total_seconds()


async def concurrent_latencies(
    fake: FakeDiscord, guild: FakeGuild, channel: FakeChannel, members: Sequence[FakeMember], *path: str
) -> list[float]:
    interactions = await asyncio.gather(*(fake.slash(guild, channel, m, *path) for m in members))
    await asyncio.gather(*(i.response(timeout=60) for i in interactions))
    return [callback_latency(i) for i in interactions]


def settings_for(fake: FakeDiscord, database: Path, **extra: str) -> Settings:
    environ = {
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATABASE_PATH": str(database),
    }
    return Settings.load(environ=environ | extra, env_file=None)


@contextlib.asynccontextmanager
async def running_ballerina(
    fake: FakeDiscord, settings: Settings, clock: Clock | None = None, *, tune_gc: bool = False
) -> AsyncIterator[BallerinaBot]:
    """The bot, usable; ``tune_gc`` as ``ballerina-bot run`` does it (await ``wait_until_ready``)."""
    core = await Core.open(settings, clock)
    bot = BallerinaBot(core, tune_gc=tune_gc)
    task = await start_bot(fake, bot, timeout=600)
    try:
        yield bot
        await bot.wait_until_ready()  # see running_client
    finally:
        await stop_bot(bot, task)
        await core.close()


@contextlib.asynccontextmanager
async def running_client(fake: FakeDiscord, bot: discord.Client) -> AsyncIterator[None]:
    """A discord.py client, usable (``start_bot``), closed on exit once it has been ready.

    discord.py dispatches ``ready`` from a task that waits ``guild_ready_timeout`` (2 s) after
    the last GUILD_CREATE, and ``close()`` does not cancel it: a client closed sooner, as a
    round of a benchmark is, gets its ``ready`` after the close, on a client whose loop is gone
    ("Task exception was never retrieved ... '_MissingSentinel' object has no attribute
    'create_task'"). So the round waits for ``ready`` before closing.
    """
    task = await start_bot(fake, bot)
    try:
        yield
        await bot.wait_until_ready()
    finally:
        await stop_bot(bot, task)


def rss_mb() -> float:
    """Resident memory of this process now, from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def film_release() -> tuple[str, datetime]:
    """The film's id and release instant, as ``Core.open`` records them."""
    from bot.core.film import load_film
    from bot.settings import DEFAULT_FILM_FILE

    film = load_film(DEFAULT_FILM_FILE)
    return film.id, film.release.instant


def peak_rss_mb() -> float:
    """Highest resident memory of this process so far (VmHWM), from /proc (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


class LoopLagWatcher:
    """Measures how late the event loop wakes a task that sleeps ``interval`` seconds in a loop.

    A lag is the time the loop spent on something else beyond the requested sleep: a stall.
    ``async with LoopLagWatcher() as lag:`` ... then ``lag.worst`` and ``lag.over(0.05)``.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, loop.time() - before - self.interval))

    @property
    def worst(self) -> float:
        return max(self.lags, default=0.0)

    def over(self, seconds: float) -> int:
        return sum(1 for lag in self.lags if lag > seconds)

    async def __aenter__(self) -> LoopLagWatcher:
        self._task = asyncio.create_task(self._watch(), name="loop-lag-watcher")
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
