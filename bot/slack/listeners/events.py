"""Workspace life cycle: an uninstalled app, or revoked tokens, forget the workspace.

The same rule as a Discord server that removes the bot (README, "What the bot keeps"): every
setting, opt-in, moderator, pending reminder and queued post of the workspace is deleted at once.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger(__name__)


def register(bot: SlackBot) -> None:
    async def forget_workspace(body: dict[str, Any]) -> None:
        team_id = str(body["team_id"])
        bot.forget_team(team_id)
        if await bot.core.store.forget_guild(team_id):
            log.info("Slack workspace %s uninstalled the app or revoked its tokens: its data was deleted", team_id)

    bot.app.event("app_uninstalled")(forget_workspace)
    bot.app.event("tokens_revoked")(forget_workspace)
