"""The core's replies on Slack: mentions by string id, Block Kit, escaping and times."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.parties import ping_messages
from bot.core.replies import (
    Button,
    ButtonStyle,
    Field,
    Mentions,
    Reply,
    escape_user_text,
    mention_channel,
    mention_group,
    mention_user,
    timestamp,
)
from bot.core.services import Core
from bot.slack.render import Reader, blocks_for, mentioned_users, message_kwargs, mrkdwn

HOSTILE = [
    "<!channel>",
    "<!here|here>",
    "<!everyone>",
    "<@U123>",
    "<@U123|alice>",
    "<!subteam^S123|@team>",
    "&lt;!channel&gt;",
    "@here",
    "@channel",
    "*bold*",
    "<https://evil.example|click>",
    "<#C123>",
    "\\<!here>",
    "**<!channel>**",
    "<t:0:F>",
]
NOW = datetime(2026, 11, 27, 18, tzinfo=UTC)
SEOUL = Reader(zone=ZoneInfo("Asia/Seoul"), now=NOW, names={})
# Every Slack control sequence: a mention, a special mention, a user group, a link or a date.
CONTROL = re.compile(r"<[@!#]?[^>]*>")


def texts(value: Any) -> list[str]:
    """Every string a Slack client would parse in a message payload (``plain_text`` is never parsed)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict) and value.get("type") == "plain_text":
        return []
    if isinstance(value, dict):
        return [t for key, item in value.items() if key not in {"type", "action_id", "style"} for t in texts(item)]
    if isinstance(value, list):
        return [t for item in value for t in texts(item)]
    return []


def controls(payload: dict[str, Any]) -> set[str]:
    return {match for text in texts(payload) for match in CONTROL.findall(text) if not match.startswith("<!date^")}


def test_slack_ids_are_pinged_not_dropped() -> None:
    [message] = ping_messages(Reply(title="Movie night"), ["U0AAA", "U0BBB"])
    assert message.mentions.user_ids == ("U0AAA", "U0BBB")
    assert message.content == "<@U0AAA> <@U0BBB>"
    assert controls(message_kwargs(message, SEOUL)) == {"<@U0AAA>", "<@U0BBB>"}


@pytest.mark.parametrize("hostile", HOSTILE)
def test_member_text_never_forms_a_mention_a_link_or_formatting(hostile: str) -> None:
    member = escape_user_text(hostile)
    reply = Reply(
        content=f"{member} {mention_user('U0GO')}",
        title=member,
        description=f"Hosted by {mention_user('U0HOST')}\n**{member}**",
        fields=(Field(name=member, value=member, inline=True), Field(name="Where", value=member)),
        footer=member,
        buttons=(Button(label=member, custom_id="rsvp:1:going"),),
        mentions=Mentions(user_ids=("U0GO",)),
    )
    reader = Reader(zone=ZoneInfo("UTC"), now=NOW, names={"U0HOST": hostile})  # a hostile display name too
    payload = message_kwargs(reply, reader)
    assert controls(payload) == {"<@U0GO>"}
    every = "\n".join(texts(payload))
    assert "@here" not in every and "@channel" not in every and "*bold*" not in every
    assert all(block.get("text", {}).get("verbatim", True) for block in payload["blocks"] if block["type"] == "section")


def test_escaped_entities_stay_text() -> None:
    assert mrkdwn(escape_user_text("&lt;!channel&gt; & <"), Reply(), SEOUL) == "&amp;lt;!channel&amp;gt; &amp; &lt;"


def test_the_bots_own_mentions_ping_only_when_listed() -> None:
    reply = Reply(mentions=Mentions(user_ids=("U1",), group_ids=("S1",)))
    text = (
        f"{mention_user('U1')} {mention_user('U2')} {mention_group('S1')} {mention_group('S2')} {mention_channel('C1')}"
    )
    reader = Reader(zone=ZoneInfo("UTC"), now=NOW, names={"U2": "Bob"})
    assert mrkdwn(text, reply, reader) == "<@U1> @\u200bBob <!subteam^S1> a group <#C1>"
    assert mentioned_users(Reply(content=text)) == {"U1", "U2"}


def test_timestamps_show_each_readers_zone_with_a_fallback_in_the_members() -> None:
    """The fallbacks are Babel's English (the current language when nothing set one)."""
    instant = datetime(2023, 10, 6, 7, tzinfo=UTC)
    unix = int(instant.timestamp())
    assert mrkdwn(timestamp(instant, "F"), Reply(), SEOUL) == (
        f"<!date^{unix}^{{date_long_pretty}} {{time}}|Friday, October 6, 2023, 4:00\u202fPM>"
    )
    assert mrkdwn(timestamp(instant, "t"), Reply(), SEOUL) == f"<!date^{unix}^{{time}}|4:00\u202fPM>"
    assert mrkdwn(timestamp(instant, "R"), Reply(), SEOUL) == "3 years ago"


def test_bold_becomes_slacks_bold() -> None:
    assert mrkdwn("**Starts** soon", Reply(), SEOUL) == "*Starts* soon"


def test_a_card_maps_onto_block_kit() -> None:
    reply = Reply(
        title="Movie night",
        description="desc",
        fields=(Field(name="A", value="1", inline=True), Field(name="B", value="2", inline=True), Field("C", "3")),
        footer="foot",
        buttons=(
            Button(label="Going", style=ButtonStyle.SUCCESS, custom_id="rsvp:1:going"),
            Button(label="Gone", custom_id="x", disabled=True),
            Button(label="Calendar", style=ButtonStyle.LINK, url="https://calendar.example/"),
        ),
    )
    blocks = blocks_for(reply, SEOUL)
    assert [block["type"] for block in blocks] == ["header", "section", "section", "section", "context", "actions"]
    assert [field["text"] for field in blocks[2]["fields"]] == ["*A*\n1", "*B*\n2"]
    assert blocks[-1]["elements"] == [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": "Going"},
            "action_id": "rsvp:1:going",
            "style": "primary",
        },
        {"type": "button", "text": {"type": "plain_text", "text": "Calendar"}, "url": "https://calendar.example/"},
    ]
    assert message_kwargs(reply, SEOUL)["text"] == "Movie night\ndesc"


@pytest.mark.parametrize("hostile", HOSTILE)
async def test_a_hostile_party_title_is_safe_on_the_real_card(offline_core: Core, hostile: str) -> None:
    outcome = await offline_core.parties.create(
        guild_id="T1", host_id="U0HOST", channel_id="C1", when="tomorrow 8pm", title=hostile, timezone=None, remind=None
    )
    assert outcome.card is not None
    for message in ping_messages(outcome.card, ["U0GO"]):
        assert controls(message_kwargs(message, SEOUL)) <= {"<@U0GO>"}
