"""The core's replies on Slack: mentions by string id, Block Kit, escaping and times."""

from __future__ import annotations

from bot.core.parties import ping_messages
from bot.core.replies import Reply


def test_slack_ids_are_pinged_not_dropped() -> None:
    [message] = ping_messages(Reply(title="Movie night"), ["U0AAA", "U0BBB"])
    assert message.mentions.user_ids == ("U0AAA", "U0BBB")
    assert message.content == "<@U0AAA> <@U0BBB>"
