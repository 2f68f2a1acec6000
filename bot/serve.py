"""``ballerina-bot run``: every configured platform in one process, over one core and one database."""

from __future__ import annotations

import asyncio
import logging
from enum import StrEnum

from bot.core.services import Core
from bot.settings import Settings

log = logging.getLogger(__name__)


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
    """Open the core once and serve each platform until one of them stops."""
    core = await Core.open(settings)
    try:
        runs = []
        if PlatformChoice.SLACK in platforms:
            from bot.slack.app import build_slack, serve_slack

            runs.append(serve_slack(build_slack(core, settings), settings))
            if PlatformChoice.DISCORD not in platforms:
                # The delivery engine starts with Discord's transport; Slack's comes in a later step.
                log.warning("Slack only: commands are served, but reminder posts are not delivered on Slack yet")
        if PlatformChoice.DISCORD in platforms:
            from bot.discord.client import run_discord

            runs.append(run_discord(core, settings))
        await asyncio.gather(*runs)
    finally:
        await core.close()
