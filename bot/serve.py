"""``ballerina-bot run``: every configured platform in one process, over one core and one database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Iterator
from enum import StrEnum
from typing import Any

from bot.core.engine.protocols import Transport
from bot.core.privacy import MemberDirectory
from bot.core.services import Core
from bot.core.storage import Platform
from bot.settings import Settings

log = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class PlatformChoice(StrEnum):
    DISCORD = "discord"
    SLACK = "slack"


def configured_platforms(settings: Settings) -> list[PlatformChoice]:
    """The platforms whose token is set, in a fixed order."""
    chosen = []
    if settings.discord_token:
        chosen.append(PlatformChoice.DISCORD)
    if settings.slack_bot_token:
        chosen.append(PlatformChoice.SLACK)
    return chosen


async def serve(settings: Settings, platforms: list[PlatformChoice]) -> None:
    """Open the core once and serve each platform until one of them stops, or SIGTERM or SIGINT
    asks the process to stop; then every platform closes cleanly.

    One delivery engine sends every platform's reminders, each through its own transport: it
    starts here, once every platform can send (Discord: logged in), whichever platforms run."""
    core = await Core.open(settings)
    stop = asyncio.Event()
    try:
        runs: list[Coroutine[Any, Any, None]] = []
        transports: dict[Platform, Transport] = {}
        directories: dict[Platform, MemberDirectory] = {}
        ready: list[asyncio.Event] = []
        if PlatformChoice.SLACK in platforms:
            from bot.slack.app import build_slack, serve_slack
            from bot.slack.transport import SlackTransport

            slack = build_slack(core, settings)
            transports[Platform.SLACK] = SlackTransport(slack)
            runs.append(serve_slack(slack, settings, stop))
        if PlatformChoice.DISCORD in platforms:
            from bot.discord.client import BallerinaBot, run_discord

            discord_bot = BallerinaBot(core, tune_gc=True, starts_engine=False)
            transports[Platform.DISCORD] = discord_bot.transport
            directories[Platform.DISCORD] = discord_bot.directory
            ready.append(discord_bot.logged_in)
            runs.append(run_discord(discord_bot, settings, stop))
        with _stopped_by_signals(stop):
            await _until_all_stop(runs, stop, _start_engine(core, transports, directories, ready, stop))
    finally:
        await core.close()


async def _start_engine(
    core: Core,
    transports: dict[Platform, Transport],
    directories: dict[Platform, MemberDirectory],
    ready: list[asyncio.Event],
    stop: asyncio.Event,
) -> None:
    """Start delivering once every platform can send, unless the process stops first."""
    waiting = asyncio.ensure_future(asyncio.gather(*(event.wait() for event in ready)))
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait((waiting, stopping), return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    stopping.cancel()
    if not stop.is_set():
        await core.start(transports, directories)


async def _until_all_stop(
    runs: list[Coroutine[Any, Any, None]], stop: asyncio.Event, engine: Coroutine[Any, Any, None]
) -> None:
    """Run every platform, and start the engine beside them; the first platform to end (a
    refused token, a signal) stops the others too. The first error, if any, is raised once all
    have stopped."""
    tasks = [asyncio.create_task(run) for run in runs]
    for task in tasks:
        task.add_done_callback(lambda _: stop.set())
    starting = asyncio.create_task(engine)

    def stop_if_failed(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            stop.set()

    starting.add_done_callback(stop_if_failed)
    results = await asyncio.gather(*tasks, starting, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result


@contextlib.contextmanager
def _stopped_by_signals(stop: asyncio.Event) -> Iterator[None]:
    """SIGTERM or SIGINT sets ``stop``; a second signal (an impatient Ctrl-C) no longer waits."""
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        log.info("%s received: closing", signal.Signals(signum).name)
        for sig in _STOP_SIGNALS:
            loop.remove_signal_handler(sig)
        stop.set()

    for sig in _STOP_SIGNALS:
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        yield
    finally:
        for sig in _STOP_SIGNALS:
            loop.remove_signal_handler(sig)
