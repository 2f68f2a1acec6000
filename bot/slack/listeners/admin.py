"""``/ballerina-admin``: moderators configure release reminders for their workspace.

Slack cannot restrict a command to a role, so every command checks here: workspace admins and
owners, plus the members an admin added with ``/ballerina-admin moderators add @member``.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackApiError

from bot.core.i18n import _
from bot.core.replies import Field, Reply, error, mention_user
from bot.core.storage import Platform
from bot.slack.dispatch import (
    Handler,
    Invocation,
    Subcommand,
    channel_id_in,
    dispatch,
    slack_help,
    user_id_in,
)
from bot.slack.transport import delivery_help

_USERGROUP_ID = re.compile(r"<!subteam\^(S[A-Z0-9]+)(?:\|[^>]*)?>|(S[A-Z0-9]+)")

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger(__name__)

COMMAND = "/ballerina-admin"


def not_a_moderator() -> Reply:
    return error(
        _(
            "Only workspace admins and owners, and the moderators they add, can change the bot's settings here. "
            "Nothing was changed."
        )
    )


def admin_help() -> Reply:
    return Reply(
        title=_("/ballerina-admin: what moderators can do"),
        description="\n".join(
            (
                _("`channel #channel`: where reminder posts go (this channel when you name none)"),
                _("`schedule offsets: 7d,1d,1h,0`: when reminders go out before the release"),
                _("`timezone Europe/Paris`: the workspace's time zone, for times written as text"),
                _(
                    "`role usergroup: @group`: reminder posts mention this user group instead of each member"
                    " who opted in (paid plans); `role none` goes back to that"
                ),
                _("`language en|ko|auto`: the language of the workspace's channel posts (English by default)"),
                _("`status`: the whole configuration, next posts and delivery problems"),
                _("`preview`: see the next reminder post (only you)"),
                _("`reset`: back to the default settings (asks first)"),
                _("`moderators`, `moderators add @member`, `moderators remove @member` (workspace admins only)"),
            )
        ),
        fields=(slack_help(),),
        ephemeral=True,
    )


async def channel_problem(bot: SlackBot, channel_id: str) -> str | None:
    """Why the bot cannot post in the channel, in words for the moderator, or None when it can.

    A channel of another workspace is not found with this workspace's token."""
    try:
        answer = await bot.client.conversations_info(channel=channel_id)
    except SlackApiError as exc:
        if exc.response.get("error") == "channel_not_found":
            return _("I can't see that channel: it is private and I'm not in it, or it is not in this workspace.")
        log.warning("conversations.info %s: %s", channel_id, exc.response.get("error"))
        problem = _("Slack wouldn't tell me about that channel just now ({error}); try again later.")
        return problem.format(error=exc.response.get("error"))
    channel = answer["channel"]
    if channel.get("is_archived"):
        return _("that channel is archived.")
    if channel.get("is_member"):
        return None
    scopes = str(answer.headers.get("x-oauth-scopes") or answer.headers.get("X-OAuth-Scopes") or "")
    if not channel.get("is_private") and "chat:write.public" in scopes.split(","):
        return None
    problem = _("I'm not a member of it. Invite me there with `/invite @{name}` and run this again.")
    return problem.format(name=await bot_name(bot))


def usergroup_id_in(value: str) -> str | None:
    """The user group an option names (``@group`` as Slack sends it, or a bare ``S…`` id)."""
    match = _USERGROUP_ID.fullmatch(value)
    return (match.group(1) or match.group(2)) if match else None


async def usergroup_problem(bot: SlackBot, group_id: str) -> str | None:
    """Why reminder posts cannot mention this user group, in words for the moderator, or None."""
    try:
        answer = await bot.client.usergroups_list()
    except SlackApiError as exc:
        if exc.response.get("error") == "paid_teams_only":
            return _(
                "User groups exist on Slack's paid plans only: without one, posts mention each member who opted in."
            )
        return _("I couldn't check the workspace's user groups ({error}).").format(error=exc.response.get("error"))
    for group in answer.get("usergroups") or []:
        if group.get("id") == group_id:
            return None
    return _("That isn't a user group of this workspace.")


async def bot_name(bot: SlackBot) -> str:
    answer = await bot.client.auth_test()
    return str(answer.get("user") or "Ballerina")


def subcommands(bot: SlackBot) -> list[Subcommand]:
    reminders, store = bot.core.reminders, bot.core.store

    async def channel(invocation: Invocation, options: dict[str, str]) -> Reply:
        typed = options.get("channel")
        channel_id = invocation.channel_id if typed is None else channel_id_in(typed)
        if channel_id is None:
            return error(_("Name a channel as #channel (or run this in the channel itself). Nothing was changed."))
        problem = await channel_problem(bot, channel_id)
        return await reminders.set_channel(invocation.team_id, channel_id, problem)

    async def schedule(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await reminders.set_schedule(invocation.team_id, options.get("offsets", ""))

    async def timezone(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await reminders.set_timezone(invocation.team_id, options.get("name", ""))

    async def role(invocation: Invocation, options: dict[str, str]) -> Reply:
        typed = options.get("usergroup", "").strip()
        if typed.lower() == "none":
            return await reminders.set_ping_group(invocation.team_id, None)
        group_id = usergroup_id_in(typed)
        if group_id is None:
            return error(_("Name a user group as `usergroup: @group` (or `role none`). Nothing was changed."))
        problem = await usergroup_problem(bot, group_id)
        if problem is not None:
            return error(_("{problem} Nothing was changed.").format(problem=problem))
        return await reminders.set_ping_group(invocation.team_id, group_id)

    async def status(invocation: Invocation, options: dict[str, str]) -> Reply:
        # A user group is optional on Slack (paid plans): the status does not ask for one.
        return await reminders.admin_status(invocation.team_id, ping_groups=False, problem_help=delivery_help())

    async def preview(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await reminders.preview(invocation.team_id)

    async def reset(invocation: Invocation, options: dict[str, str]) -> Reply:
        return reminders.reset_prompt()

    async def language(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await bot.core.languages.server_command(invocation.team_id, Platform.SLACK, options.get("name", ""))

    async def list_moderators(invocation: Invocation, options: dict[str, str]) -> Reply:
        added = sorted(await store.moderator_ids(invocation.team_id))
        listed = ", ".join(mention_user(user) for user in added) or _("none yet")
        return Reply(
            title=_("Moderators of the bot"),
            fields=(
                Field(name=_("Always"), value=_("Workspace admins and owners")),
                Field(name=_("Added by an admin"), value=listed),
            ),
            ephemeral=True,
        )

    def change_moderator(add: bool) -> Handler:
        async def handler(invocation: Invocation, options: dict[str, str]) -> Reply:
            asker = await bot.members.get(invocation.user_id)
            if asker is None or not asker.is_admin:
                return error(_("Only workspace admins and owners can add or remove moderators. Nothing was changed."))
            user_id = user_id_in(options.get("member", ""))
            member = await bot.members.get(user_id) if user_id else None
            if user_id is None or member is None or member.is_bot:
                return error(_("Name a member of this workspace as @member. Nothing was changed."))
            if add:
                changed = await store.add_moderator(invocation.team_id, user_id, added_by=invocation.user_id)
                done = (
                    _("{member} is now a moderator of the bot.")
                    if changed
                    else _("{member} was already a moderator of the bot.")
                )
            else:
                changed = await store.remove_moderator(invocation.team_id, user_id)
                if member.is_admin:
                    done = (
                        _(
                            "{member} is no longer a moderator of the bot"
                            " (as a workspace admin or owner, they still moderate)."
                        )
                        if changed
                        else _(
                            "{member} was not a moderator I had been given"
                            " (as a workspace admin or owner, they still moderate)."
                        )
                    )
                else:
                    done = (
                        _("{member} is no longer a moderator of the bot.")
                        if changed
                        else _("{member} was not a moderator I had been given.")
                    )
            return Reply(content=done.format(member=mention_user(user_id)), ephemeral=True)

        return handler

    return [
        Subcommand(("channel",), channel, ("channel",), "channel"),
        Subcommand(("schedule",), schedule, ("offsets",), "offsets"),
        Subcommand(("timezone",), timezone, ("name",), "name"),
        Subcommand(("role",), role, ("usergroup",), "usergroup"),
        Subcommand(("status",), status),
        Subcommand(("preview",), preview),
        Subcommand(("reset",), reset),
        Subcommand(("language",), language, ("name",), "name"),
        Subcommand(("moderators",), list_moderators),
        Subcommand(("moderators", "add"), change_moderator(add=True), ("member",), "member"),
        Subcommand(("moderators", "remove"), change_moderator(add=False), ("member",), "member"),
    ]


def register(bot: SlackBot) -> None:
    table = subcommands(bot)

    async def run(invocation: Invocation, text: str) -> Reply | None:
        if not await bot.members.is_moderator(invocation.team_id, invocation.user_id):
            return not_a_moderator()
        return await dispatch(bot, table, invocation, text, admin_help())

    bot.slash_command(COMMAND, run)
