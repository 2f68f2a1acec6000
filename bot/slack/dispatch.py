"""From a slash command's text to a subcommand and its options.

Slack sends what the member typed as one string, escaped (``&lt;`` ``&gt;`` ``&amp;``) and, with
``should_escape`` on in the manifest, with real mentions as ``<@U…|name>`` and ``<#C…|name>``.
The mentions become the core's markup (so an option can name a member or a channel), the
entities become characters, and the core's :mod:`bot.core.commandline` reads the rest.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.core.commandline import CommandLineError, parse_options, split_words
from bot.core.i18n import _
from bot.core.replies import Field, Reply

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

_SLACK_MENTION = re.compile(r"<([@#])([UWC][A-Z0-9]{2,30}|G[A-Z0-9]{2,30})(?:\|[^>]*)?>")
_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))
_USER_ID = re.compile(r"<@([UW][A-Z0-9]{2,30})>|([UW][A-Z0-9]{2,30})")
_CHANNEL_ID = re.compile(r"<#([CG][A-Z0-9]{2,30})>|([CG][A-Z0-9]{2,30})")


@dataclass(frozen=True)
class Invocation:
    """One slash command: who typed it, where, and what."""

    team_id: str
    user_id: str
    channel_id: str
    trigger_id: str
    """Opens a modal (``views.open``) within 3 s of the command."""


Handler = Callable[[Invocation, dict[str, str]], Awaitable[Reply | None]]
"""A subcommand: its reply, or None when it answered another way (a modal)."""


@dataclass(frozen=True)
class Subcommand:
    words: tuple[str, ...]
    handler: Handler
    options: tuple[str, ...] = ()
    bare: str | None = None
    """The option that words typed without a ``key:`` fill (``character Ok-ju``)."""


def unescape(text: str) -> str:
    """Slack's escaped command text as typed, mentions in the core's markup."""
    text = _SLACK_MENTION.sub(lambda match: f"<{match.group(1)}{match.group(2)}>", text)
    for entity, char in _ENTITIES:
        text = text.replace(entity, char)
    return text


def user_id_in(value: str) -> str | None:
    """The member an option names (``@member`` as Slack sends it, or a bare ``U…`` id)."""
    match = _USER_ID.fullmatch(value.strip())
    return (match.group(1) or match.group(2)) if match else None


def channel_id_in(value: str) -> str | None:
    """The channel an option names (``#channel`` as Slack sends it, or a bare ``C…`` id)."""
    match = _CHANNEL_ID.fullmatch(value.strip())
    return (match.group(1) or match.group(2)) if match else None


@dataclass(frozen=True)
class Parsed:
    subcommand: Subcommand
    options: dict[str, str]


def parse(text: str, subcommands: Sequence[Subcommand]) -> Parsed | str:
    """The subcommand (longest match of its words) and its options, or why the text says none."""
    try:
        words = split_words(unescape(text))
    except CommandLineError as exc:
        return str(exc)
    typed = [word.text.lower() if not word.quoted else "" for word in words]
    matches = [s for s in subcommands if tuple(typed[: len(s.words)]) == s.words]
    if not matches:
        groups = {s.words[0] for s in subcommands if len(s.words) > 1}  # party, remind, moderators
        named = words[:2] if typed[:1] and typed[0] in groups else words[:1]
        first = " ".join(word.text for word in named)[:30]
        if not first:
            return _("Which command? Here is what I can do.")
        return _("There is no '{command}' command.").format(command=first)
    subcommand = max(matches, key=lambda s: len(s.words))
    try:
        options = parse_options(words[len(subcommand.words) :], subcommand.options, subcommand.bare)
    except CommandLineError as exc:
        return str(exc)
    return Parsed(subcommand, options)


async def dispatch(
    bot: SlackBot, table: Sequence[Subcommand], invocation: Invocation, text: str, help_reply: Reply
) -> Reply | None:
    """The subcommand's reply, or the help with what could not be read."""
    parsed = parse(text, table)
    if not isinstance(parsed, Parsed):
        return with_help(parsed, help_reply)
    await bot.ensure_team(invocation.team_id)
    return await parsed.subcommand.handler(invocation, parsed.options)


def with_help(problem: str, help_reply: Reply) -> Reply:
    """A command Slack cannot read gets the help, never silence."""
    return dataclasses.replace(help_reply, content=problem, ephemeral=True)


def slack_help() -> Field:
    """What works differently on Slack, for both commands' help."""
    return Field(
        name=_("On Slack"),
        value=_(
            "Type options as `key: value` after the command, e.g. "
            "`/ballerina timezone Europe/Paris` or `/ballerina-admin schedule offsets: 7d,1d,1h,0`.\n"
            "Moderators (workspace admins and owners, and members they add with "
            "`/ballerina-admin moderators add @member`) use `/ballerina-admin channel|schedule|timezone|language|"
            "status|preview|reset|moderators`.\n"
            "`/ballerina party create` with nothing after it opens a form; typed, it reads "
            "`when: tomorrow 8pm title: Movie night channel: #films`. Party cards have an *Add to calendar* "
            "link, and the bot's Home tab shows your reminders, your parties and the film.\n"
            "`/ballerina language en|ko|auto` picks the language I answer you in (`auto`: your Slack's)."
        ),
    )


def body_invocation(body: dict[str, Any]) -> Invocation:
    return Invocation(
        team_id=str(body["team_id"]),
        user_id=str(body["user_id"]),
        channel_id=str(body["channel_id"]),
        trigger_id=str(body.get("trigger_id") or ""),
    )
