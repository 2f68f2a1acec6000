"""``ballerina-bot run``: every configured platform in one process, over one core and one database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Coroutine, Iterator
from enum import StrEnum
from typing import Any

from bot.core.services import Core
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
    asks the process to stop; then every platform closes cleanly."""
    core = await Core.open(settings)
    stop = asyncio.Event()
    try:
        runs: list[Coroutine[Any, Any, None]] = []
        if PlatformChoice.SLACK in platforms:
            from bot.slack.app import build_slack, serve_slack

            runs.append(serve_slack(build_slack(core, settings), settings, stop))
            if PlatformChoice.DISCORD not in platforms:
                # The delivery engine starts with Discord's transport; Slack's comes in a later step.
                log.warning("Slack only: commands are served, but reminder posts are not delivered on Slack yet")
        if PlatformChoice.DISCORD in platforms:
            from bot.discord.client import run_discord

            runs.append(run_discord(core, settings, stop))
        with _stopped_by_signals(stop):
            await _until_all_stop(runs, stop)
    finally:
        await core.close()


async def _until_all_stop(runs: list[Coroutine[Any, Any, None]], stop: asyncio.Event) -> None:
    """Run every platform; the first to end (a refused token, a signal) stops the others too.
    The first error, if any, is raised once all have stopped."""
    tasks = [asyncio.create_task(run) for run in runs]
    for task in tasks:
        task.add_done_callback(lambda _: stop.set())
    results = await asyncio.gather(*tasks, return_exceptions=True)
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
