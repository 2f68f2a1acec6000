"""Buttons: the confirmations of ``/ballerina-admin reset`` and ``/ballerina forget-me`` (their
action_ids are the core's custom ids). The party card's buttons are in ``listeners.parties``."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.core.privacy import FORGET_CONFIRM_ID
from bot.core.reminders import RESET_CONFIRM_ID
from bot.slack.listeners.admin import not_a_moderator

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(bot: SlackBot) -> None:
    @bot.app.action(re.compile(f"^{re.escape(RESET_CONFIRM_ID)}$"))
    async def reset_confirmed(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """Whoever clicks is checked again: the prompt may have been seen by someone else since."""
        await ack()
        team_id, user_id = str(body["team"]["id"]), str(body["user"]["id"])
        if not await bot.members.is_moderator(team_id, user_id):
            return await bot.answer(respond, user_id, not_a_moderator())
        await bot.ensure_team(team_id)
        reply = await bot.core.reminders.reset(team_id)
        await bot.answer(respond, user_id, reply, replace_original=True)

    @bot.app.action(re.compile(f"^{re.escape(FORGET_CONFIRM_ID)}$"))
    async def forget_confirmed(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """Whoever clicks is forgotten, so a forged click forgets only its sender. Slack has no
        ping role to take back; the cards of the parties they had answered recount."""
        await ack()
        team_id, user_id = str(body["team"]["id"]), str(body["user"]["id"])
        forgotten = await bot.core.members.forget(team_id, user_id, roles=None)
        await bot.answer(respond, user_id, forgotten.reply, replace_original=True)
        for party in forgotten.parties:  # each card is read afresh when edited
            await bot.cards.refresh_card(party)
