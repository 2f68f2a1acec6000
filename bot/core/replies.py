"""Platform-neutral reply data that command logic returns and adapters render.

Text uses one small markup that every adapter renders for its platform:

* ``**bold**``, ``*italic*``, `` `code` ``;
* timestamps ``<t:UNIX:STYLE>`` (styles ``F`` full date and time, ``f`` short date and time,
  ``D`` date, ``t`` time, ``R`` relative), shown in each reader's own time zone (see :func:`timestamp`);
* mentions of a member ``<@ID>``, a channel ``<#ID>`` and a group of members ``<@&ID>`` (a Discord
  role, a Slack user group), written only through :func:`mention_user`, :func:`mention_channel` and
  :func:`mention_group`. IDs are the platform's own strings (Discord snowflakes, Slack ``U…``/``C…``/``S…``).

Discord reads this markup as it is; the Slack and console adapters translate it. A mention in
the text pings nobody unless the reply's :class:`Mentions` lists it; member-written text goes
through :func:`escape_user_text`, so it can never form markup.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

NETFLIX_RED = 0xE50914
_MARKUP = re.compile(r"([\\*_~`|>#\[\]()<])")
ZERO_WIDTH_SPACE = "\u200b"


def timestamp(instant: datetime, style: str = "F") -> str:
    """Markup for an instant, shown in each reader's own time zone."""
    return f"<t:{int(instant.timestamp())}:{style}>"


def mention_user(user_id: str) -> str:
    """Markup naming a member (it pings them only when :class:`Mentions` lists them)."""
    return f"<@{user_id}>"


def mention_channel(channel_id: str) -> str:
    """Markup naming a channel, shown as a link to it."""
    return f"<#{channel_id}>"


def mention_group(group_id: str) -> str:
    """Markup naming a group of members: a Discord role, a Slack user group."""
    return f"<@&{group_id}>"


class ButtonStyle(Enum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"
    LINK = "link"


@dataclass(frozen=True)
class Button:
    label: str
    style: ButtonStyle = ButtonStyle.SECONDARY
    custom_id: str | None = None
    url: str | None = None
    emoji: str | None = None
    disabled: bool = False


@dataclass(frozen=True)
class Field:
    name: str
    value: str
    inline: bool = False


@dataclass(frozen=True)
class Mentions:
    """Exactly who a message may ping, as the platform's own ids; everything else in its text stays silent."""

    user_ids: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()
    """Groups of members: a Discord role, a Slack user group."""


@dataclass(frozen=True)
class Reply:
    """One message: optional plain ``content`` (pings go there) and an optional card."""

    title: str | None = None
    description: str | None = None
    fields: tuple[Field, ...] = ()
    footer: str | None = None
    url: str | None = None
    color: int = NETFLIX_RED
    content: str | None = None
    buttons: tuple[Button, ...] = ()
    ephemeral: bool = False
    mentions: Mentions = field(default_factory=Mentions)
    in_thread: bool = False
    """A follow-up of a delivery: posted as a reply under its first message where the platform
    has threads (so a list of mentions does not bury the channel), else as a message after it."""

    @property
    def has_card(self) -> bool:
        return bool(self.title or self.description or self.fields)


MENTIONS_PER_MESSAGE = 40
"""Member pings per message at most: longer lists are split over several messages."""


def pinging(user_ids: Sequence[str], **card: Any) -> Reply:
    """A message whose content mentions, and pings, exactly ``user_ids``."""
    return Reply(
        content=" ".join(mention_user(user) for user in user_ids) or None, mentions=Mentions(tuple(user_ids)), **card
    )


def thread_mentions(user_ids: Sequence[str]) -> list[Reply]:
    """Follow-ups pinging exactly ``user_ids``, each at most :data:`MENTIONS_PER_MESSAGE`, posted
    in the thread of the delivery's first message (so they do not bury the channel)."""
    chunks = range(0, len(user_ids), MENTIONS_PER_MESSAGE)
    return [pinging(user_ids[i : i + MENTIONS_PER_MESSAGE], in_thread=True) for i in chunks]


def error(message: str) -> Reply:
    """A friendly refusal, shown only to the member who asked."""
    return Reply(content=message, ephemeral=True)


@functools.lru_cache(maxsize=1024)
def escape_user_text(text: str) -> str:
    """Member-written text shown exactly as typed: markup escaped, and every ``@`` broken with a
    zero-width space so no mention can form, whatever a platform's allowed-mentions settings.

    Cached: a party's title is escaped for its card on every RSVP click."""
    return _MARKUP.sub(r"\\\1", text).replace("@", "@" + ZERO_WIDTH_SPACE)
