"""``/ballerina``: the film's facts, the member's time zone, release reminders, watch parties
(``bot.slack.listeners.parties``) and ``forget-me``.

Every command is acknowledged at once (Slack allows 3 s, whatever the database is doing),
then answered through its response_url, ephemerally.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.core.i18n import _
from bot.core.replies import Reply, error
from bot.core.storage import Via
from bot.slack.dispatch import Handler, Invocation, Subcommand, dispatch, slack_help
from bot.slack.listeners import parties as party_commands

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

COMMAND = "/ballerina"


def help_reply(bot: SlackBot) -> Reply:
    help_ = bot.core.facts.help()
    return dataclasses.replace(
        help_,
        fields=(*help_.fields, slack_help()),
        footer=_("Moderators: /ballerina-admin configures reminders for this workspace."),
        ephemeral=True,
    )


def subcommands(bot: SlackBot) -> list[Subcommand]:
    facts, reminders, parties = bot.core.facts, bot.core.reminders, bot.core.parties

    def fact(build: Callable[[], Reply]) -> Handler:
        """Built per call: in the member's language, and the release's facts depend on the clock."""

        async def handler(invocation: Invocation, options: dict[str, str]) -> Reply:
            return dataclasses.replace(build(), ephemeral=True)

        return handler

    async def character(invocation: Invocation, options: dict[str, str]) -> Reply:
        if "name" not in options:
            return error(_("Which character? For example: /ballerina character Ok-ju"))
        return dataclasses.replace(facts.character(options["name"]), ephemeral=True)

    async def timezone(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await parties.set_member_timezone(
            guild_id=invocation.team_id, user_id=invocation.user_id, name=options.get("name", "")
        )

    async def remind_on(invocation: Invocation, options: dict[str, str]) -> Reply:
        via = options.get("via", "channel").lower()
        if via not in {"channel", "dm"}:
            return error(_("Reminders come in the channel or by DM: /ballerina remind on, or /ballerina remind on dm."))
        return await reminders.opt_in(invocation.team_id, invocation.user_id, Via(via), roles=None)

    async def remind_off(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await reminders.opt_out(invocation.team_id, invocation.user_id, roles=None)

    async def remind_status(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await reminders.status(invocation.team_id, invocation.user_id)

    async def help_(invocation: Invocation, options: dict[str, str]) -> Reply:
        return help_reply(bot)

    async def forget_me(invocation: Invocation, options: dict[str, str]) -> Reply:
        return bot.core.members.ask(ping_role=False)

    async def language(invocation: Invocation, options: dict[str, str]) -> Reply:
        member = await bot.members.get(invocation.user_id)
        client = member.language if member is not None else None
        return await bot.core.languages.member_command(invocation.user_id, options.get("name", ""), client)

    return [
        Subcommand(("about",), fact(facts.about)),
        Subcommand(("cast",), fact(facts.cast)),
        Subcommand(("director",), fact(facts.director)),
        Subcommand(("release",), fact(facts.release)),
        Subcommand(("character",), character, ("name",), "name"),
        Subcommand(("help",), help_),
        Subcommand(("timezone",), timezone, ("name",), "name"),
        Subcommand(("remind", "on"), remind_on, ("via",), "via"),
        Subcommand(("remind", "off"), remind_off),
        Subcommand(("remind", "status"), remind_status),
        Subcommand(("forget-me",), forget_me),
        Subcommand(("language",), language, ("name",), "name"),
        *party_commands.subcommands(bot),
    ]


def register(bot: SlackBot) -> None:
    table = subcommands(bot)

    async def run(invocation: Invocation, text: str) -> Reply | None:
        return await dispatch(bot, table, invocation, text, help_reply(bot))

    bot.slash_command(COMMAND, run)
