"""The App Home tab: the member's release reminders (with on/off buttons), their upcoming
watch parties with their answers, and the film's facts.

Published (``views.publish``) when the member opens the tab, and again after each of its buttons,
so the tab always shows what the database says. Every part is a core reply, rendered like a message.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt.context.ack.async_ack import AsyncAck

from bot.core.i18n import _
from bot.core.replies import Button, ButtonStyle, Reply
from bot.core.storage import Via
from bot.slack.render import JSON, blocks_for

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

REMIND_ACTION = r"home:remind:(?P<choice>channel|dm|off)"


def remind_id(choice: str) -> str:
    return f"home:remind:{choice}"


async def reminder_part(bot: SlackBot, team_id: str, user_id: str) -> Reply:
    """The member's release reminder status, with the buttons that change it (before the release)."""
    reminders = bot.core.reminders
    status = await reminders.status(team_id, user_id)
    if reminders.released:
        return status
    subscription = await bot.core.store.get_subscription(team_id, user_id)
    buttons = [Button(_("Off"), ButtonStyle.DANGER, custom_id=remind_id("off"))] if subscription else []
    if subscription is None or subscription.via is Via.DM:
        buttons.insert(0, Button(_("Remind me in the channel"), ButtonStyle.SUCCESS, custom_id=remind_id("channel")))
    if subscription is None or subscription.via is Via.CHANNEL:
        buttons.insert(0, Button(_("Remind me by DM"), ButtonStyle.SUCCESS, custom_id=remind_id("dm")))
    return replace(status, buttons=tuple(buttons))


async def home_view(bot: SlackBot, team_id: str, user_id: str) -> JSON:
    facts = bot.core.facts
    parts = [
        await reminder_part(bot, team_id, user_id),
        await bot.core.parties.of_member(team_id, user_id),
        facts.release(),
        facts.about(),
    ]
    blocks: list[JSON] = []
    for part in parts:
        if blocks:
            blocks.append({"type": "divider"})
        blocks += blocks_for(part, await bot.members.reader(user_id, part))
    return {"type": "home", "blocks": blocks}


async def publish_home(bot: SlackBot, team_id: str, user_id: str) -> None:
    await bot.ensure_team(team_id)
    await bot.client.views_publish(user_id=user_id, view=await home_view(bot, team_id, user_id))


def register(bot: SlackBot) -> None:
    @bot.app.event("app_home_opened")
    async def home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") == "home":
            await publish_home(bot, str(body["team_id"]), str(event["user"]))

    @bot.app.action(re.compile(f"^{REMIND_ACTION}$"))
    async def remind_clicked(ack: AsyncAck, body: dict[str, Any]) -> None:
        """The tab shows the outcome: it is published again from the database."""
        await ack()
        match = re.fullmatch(REMIND_ACTION, str(body["actions"][0]["action_id"]))
        assert match is not None  # the listener's own pattern
        team_id, user_id = str(body["team"]["id"]), str(body["user"]["id"])
        await bot.ensure_team(team_id)
        if match["choice"] == "off":
            await bot.core.reminders.opt_out(team_id, user_id, roles=None)
        else:
            await bot.core.reminders.opt_in(team_id, user_id, Via(match["choice"]), roles=None)
        await publish_home(bot, team_id, user_id)
