"""``/ballerina``: the film's facts, the member's time zone, release reminders, watch parties
(``bot.slack.listeners.parties``) and ``forget-me``.

Every command is acknowledged at once (Slack allows 3 s, whatever the database is doing),
then answered through its response_url, ephemerally.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from bot.core.replies import Reply, error
from bot.core.storage import Via
from bot.slack.dispatch import SLACK_HELP, Handler, Invocation, Subcommand, dispatch
from bot.slack.listeners import parties as party_commands

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

COMMAND = "/ballerina"


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

    async def forget_me(invocation: Invocation, options: dict[str, str]) -> Reply:
        return bot.core.members.ask(ping_role=False)

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
        Subcommand(("forget-me",), forget_me),
        *party_commands.subcommands(bot),
    ]


def register(bot: SlackBot) -> None:
    table = subcommands(bot)

    async def run(invocation: Invocation, text: str) -> Reply | None:
        return await dispatch(bot, table, invocation, text, help_reply(bot))

    bot.slash_command(COMMAND, run)
