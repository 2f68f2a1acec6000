"""Slack listeners, one module per kind (bolt-python's template): each exposes ``register(bot)``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.slack.listeners import actions, admin, commands, events, home, parties

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(bot: SlackBot) -> None:
    for listeners in (commands, admin, actions, parties, home, events):
        listeners.register(bot)
