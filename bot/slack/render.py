"""The core's replies as Slack messages: Block Kit blocks plus a plain ``text`` fallback.

Slack has no allowed_mentions: any ``<@U…>``, ``<!channel>`` or ``<!subteam^…>`` in a message
pings. So safety is escaping, done here in one pass over the core's markup
(see :mod:`bot.core.replies`):

* member-written text reaches this module escaped by the core (``\\<``, ``\\*``, ``@`` + zero-width
  space); every character outside the core's own markup is HTML-escaped (``&`` ``<`` ``>``), so it
  can never form a Slack control sequence, and sections are ``verbatim`` (no auto-linking);
* the core's mentions become Slack mentions only when the reply's :class:`Mentions` lists them;
  any other member is written as their name, which pings nobody;
* timestamps become ``<!date^UNIX^{date_long_pretty} {time}|fallback>``, so each reader sees their
  own zone (Slack localizes them), with the fallback (and relative phrases) written by Babel in the
  current language (:mod:`bot.core.i18n`) and the zone of the member the reply is for.

Every word this module adds ("a member", the fallback ``text``) is in the current language: the
caller renders inside the reader's (a member's own reply, a channel's post, a DM).

The bot never sends ``link_names`` or ``parse=full``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.core.i18n import _, format_instant
from bot.core.replies import ZERO_WIDTH_SPACE, Button, ButtonStyle, Field, Reply

JSON = dict[str, Any]

# One scan of the core's markup, left to right: an escaped character first, so a member's
# "\<@U1>" can never be read as the bot's own mention.
_TOKENS = re.compile(
    r"\\(?P<escaped>.)"
    r"|<t:(?P<unix>-?\d{1,12})(?::(?P<style>[tTdDfFR]))?>"
    r"|<@&(?P<group>[\w-]{1,40})>"
    r"|<@!?(?P<user>[\w-]{1,40})>"
    r"|<#(?P<channel>[\w-]{1,40})>"
    r"|\*\*(?P<bold>(?:\\.|[^\\])+?)\*\*"  # an escaped "\*" inside never closes it
    r"|(?P<html>[&<>])",
    re.DOTALL,
)
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
# Slack's own formatting characters, kept from forming formatting when a member typed them.
_FORMATTING = frozenset("*_~`")
# Slack's date tokens for the core's timestamp styles.
_SLACK_DATE = {
    "t": "{time}",
    "T": "{time_secs}",
    "d": "{date_num}",
    "D": "{date_long}",
    "f": "{date_long} {time}",
    "F": "{date_long_pretty} {time}",
}
_BUTTON_STYLES = {ButtonStyle.SUCCESS: "primary", ButtonStyle.PRIMARY: "primary", ButtonStyle.DANGER: "danger"}
_FIELDS_PER_SECTION = 10  # Slack's limit
_HEADER_LIMIT = 150
_TEXT_LIMIT = 3000  # a section's text


@dataclass(frozen=True)
class Reader:
    """Whom a message is rendered for: their zone (for fallbacks and relative phrases), the clock's
    now, and the names of members the message names without pinging them."""

    zone: tzinfo
    now: datetime
    names: Mapping[str, str]


def mentioned_users(reply: Reply) -> set[str]:
    """Every member id the reply's markup names (to look their names up before rendering)."""
    texts = [reply.content, reply.title, reply.description, reply.footer]
    texts += [text for field in reply.fields for text in (field.name, field.value)]
    return {match.group("user") for text in texts if text for match in _TOKENS.finditer(text) if match["user"]}


def mrkdwn(text: str, reply: Reply, reader: Reader) -> str:
    """The core's markup as Slack mrkdwn, safe whatever members typed."""

    def substitute(match: re.Match[str]) -> str:
        if (escaped := match["escaped"]) is not None:
            return _literal(escaped)
        if match["unix"] is not None:
            return _date(int(match["unix"]), match["style"] or "f", reader)
        if (group := match["group"]) is not None:
            return f"<!subteam^{group}>" if group in reply.mentions.group_ids else _("a group")
        if (user := match["user"]) is not None:
            if user in reply.mentions.user_ids:
                return f"<@{user}>"
            return "@" + ZERO_WIDTH_SPACE + "".join(_literal(c) for c in reader.names.get(user, _("a member")))
        if (channel := match["channel"]) is not None:
            return f"<#{channel}>"
        if (bold := match["bold"]) is not None:
            return f"*{mrkdwn(bold, reply, reader)}*"
        return _HTML[match["html"]]

    return _TOKENS.sub(substitute, text)


def plain(text: str, reader: Reader) -> str:
    """The core's markup as plain text (headers, button labels, notifications): no markup at all,
    and still nothing that forms a mention (``plain_text`` objects are never parsed by Slack)."""

    def substitute(match: re.Match[str]) -> str:
        if (escaped := match["escaped"]) is not None:
            return escaped
        if match["unix"] is not None:
            return _fallback(int(match["unix"]), match["style"] or "f", reader)
        if (user := match["user"]) is not None:
            return "@" + ZERO_WIDTH_SPACE + reader.names.get(user, _("a member")).replace("@", "@" + ZERO_WIDTH_SPACE)
        if match["group"] is not None:
            return _("a group")
        if match["channel"] is not None:
            return _("a channel")
        if (bold := match["bold"]) is not None:
            return plain(bold, reader)
        return match["html"]

    return _TOKENS.sub(substitute, text)


def _literal(char: str) -> str:
    """One character a member typed, shown as itself: HTML-escaped, formatting kept from forming."""
    if char in _HTML:
        return _HTML[char]
    return char + ZERO_WIDTH_SPACE if char in _FORMATTING or char == "@" else char


def _fallback(unix: int, style: str, reader: Reader) -> str:
    instant = datetime.fromtimestamp(unix, UTC)
    return format_instant(instant, style, reader.zone, reader.now)


def _date(unix: int, style: str, reader: Reader) -> str:
    """Slack shows ``<!date^…>`` in each reader's zone; relative times are phrased here."""
    fallback = _fallback(unix, style, reader)
    if style == "R":
        return fallback
    return f"<!date^{unix}^{_SLACK_DATE[style]}|{fallback}>"


def _section(text: str) -> JSON:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:_TEXT_LIMIT], "verbatim": True}}


def _field_text(field: Field, reply: Reply, reader: Reader) -> str:
    value = "" if field.value == ZERO_WIDTH_SPACE else mrkdwn(field.value, reply, reader)
    return f"*{mrkdwn(field.name, reply, reader)}*\n{value}".rstrip()


def _field_blocks(reply: Reply, reader: Reader) -> list[JSON]:
    """Inline fields side by side (a section's ``fields``), the others each a section of their own."""
    blocks: list[JSON] = []
    row: list[JSON] = []
    for field in reply.fields:
        text = _field_text(field, reply, reader)
        if field.inline and len(row) < _FIELDS_PER_SECTION:
            row.append({"type": "mrkdwn", "text": text[:2000], "verbatim": True})
            continue
        if row:
            blocks.append({"type": "section", "fields": row})
            row = []
        if field.inline:
            row.append({"type": "mrkdwn", "text": text[:2000], "verbatim": True})
        else:
            blocks.append(_section(text))
    if row:
        blocks.append({"type": "section", "fields": row})
    return blocks


def _button(button: Button, reader: Reader) -> JSON:
    element: JSON = {"type": "button", "text": {"type": "plain_text", "text": plain(button.label, reader)[:75]}}
    if button.emoji:
        element["text"]["emoji"] = True
        element["text"]["text"] = f"{button.emoji} {element['text']['text']}"[:75]
    if button.url is not None:
        element["url"] = button.url
    if button.custom_id is not None:
        element["action_id"] = button.custom_id
    if button.style in _BUTTON_STYLES:
        element["style"] = _BUTTON_STYLES[button.style]
    return element


def blocks_for(reply: Reply, reader: Reader) -> list[JSON]:
    """Content first (as on Discord, where pings go), then the card: header, description,
    fields, footer (a context line), buttons. Slack has no disabled buttons: they are left out."""
    blocks: list[JSON] = []
    if reply.content:
        blocks.append(_section(mrkdwn(reply.content, reply, reader)))
    if reply.title:
        blocks.append(
            {"type": "header", "text": {"type": "plain_text", "text": plain(reply.title, reader)[:_HEADER_LIMIT]}}
        )
    if reply.description:
        blocks.append(_section(mrkdwn(reply.description, reply, reader)))
    blocks += _field_blocks(reply, reader)
    if reply.footer:
        footer = {"type": "mrkdwn", "text": mrkdwn(reply.footer, reply, reader), "verbatim": True}
        blocks.append({"type": "context", "elements": [footer]})
    buttons = [_button(button, reader) for button in reply.buttons if not button.disabled]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return blocks


def text_for(reply: Reply, reader: Reader) -> str:
    """The plain ``text`` every message carries (notifications, screen readers): the content when
    there is any, since that is where the core puts pings, else the card's title and description."""
    if reply.content:
        return mrkdwn(reply.content, reply, reader)
    parts = [plain(part, reader) for part in (reply.title, reply.description) if part]
    return _html_escaped("\n".join(parts)) or _("Ballerina bot")


def _html_escaped(text: str) -> str:
    return "".join(_HTML.get(char, char) for char in text)


def message_kwargs(reply: Reply, reader: Reader) -> JSON:
    """``text`` and ``blocks`` for chat.postMessage, chat.postEphemeral, chat.update and respond()."""
    return {"text": text_for(reply, reader), "blocks": blocks_for(reply, reader)}
