"""``/ballerina``: the film's facts, the member's time zone and release reminders.

Every command is acknowledged at once (Slack allows 3 s, whatever the database is doing),
then answered through its response_url, ephemerally.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bot.core.replies import Reply, error
from bot.core.storage import Via
from bot.slack.dispatch import SLACK_HELP, Handler, Invocation, Subcommand, dispatch

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

COMMAND = "/ballerina"
NOT_ON_SLACK_YET = {"party", "forget-me"}


def help_reply(bot: SlackBot) -> Reply:
    help_ = bot.core.facts.help()
    return dataclasses.replace(
        help_,
        fields=(*help_.fields, SLACK_HELP),
        footer="Moderators: /ballerina-admin configures reminders for this workspace.",
        ephemeral=True,
    )


def subcommands(bot: SlackBot) -> list[Subcommand]:
    facts, reminders, parties = bot.core.facts, bot.core.reminders, bot.core.parties

    def fixed(reply: Reply) -> Handler:
        async def handler(invocation: Invocation, options: dict[str, str]) -> Reply:
            return dataclasses.replace(reply, ephemeral=True)

        return handler

    async def character(invocation: Invocation, options: dict[str, str]) -> Reply:
        if "name" not in options:
            return error("Which character? For example: /ballerina character Ok-ju")
        return dataclasses.replace(facts.character(options["name"]), ephemeral=True)

    async def timezone(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await parties.set_member_timezone(
            guild_id=invocation.team_id, user_id=invocation.user_id, name=options.get("name", "")
        )

    async def remind_on(invocation: Invocation, options: dict[str, str]) -> Reply:
        via = options.get("via", "channel").lower()
        if via not in {"channel", "dm"}:
            return error("Reminders come in the channel or by DM: /ballerina remind on, or /ballerina remind on dm.")
        return await reminders.opt_in(invocation.team_id, invocation.user_id, Via(via), roles=None)

    async def remind_off(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await reminders.opt_out(invocation.team_id, invocation.user_id, roles=None)

    async def remind_status(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await reminders.status(invocation.team_id, invocation.user_id)

    async def help_(invocation: Invocation, options: dict[str, str]) -> Reply:
        return help_reply(bot)

    # Built per call: the release's facts depend on the clock.
    async def release(invocation: Invocation, options: dict[str, str]) -> Reply:
        return dataclasses.replace(facts.release(), ephemeral=True)

    return [
        Subcommand(("about",), fixed(facts.about())),
        Subcommand(("cast",), fixed(facts.cast())),
        Subcommand(("director",), fixed(facts.director())),
        Subcommand(("release",), release),
        Subcommand(("character",), character, ("name",), "name"),
        Subcommand(("help",), help_),
        Subcommand(("timezone",), timezone, ("name",), "name"),
        Subcommand(("remind", "on"), remind_on, ("via",), "via"),
        Subcommand(("remind", "off"), remind_off),
        Subcommand(("remind", "status"), remind_status),
    ]


def register(bot: SlackBot) -> None:
    table = subcommands(bot)

    async def run(invocation: Invocation, text: str) -> Reply:
        first = text.split(maxsplit=1)[0].lower() if text.strip() else ""
        if first in NOT_ON_SLACK_YET:
            return error(f"/ballerina {first} is not available on Slack yet: it works on Discord for now.")
        return await dispatch(bot, table, invocation, text, help_reply(bot))

    bot.slash_command(COMMAND, run)
