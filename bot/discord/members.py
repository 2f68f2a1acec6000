"""The core's role ports on discord.py: the ping role for the member who asked (MemberRoles), and
for members opted in before the role was set (RoleGrants, for the back-fill)."""

from __future__ import annotations

import logging

import aiohttp
import discord

from bot.core.i18n import N_, Word, _, speaking
from bot.core.languages import Languages
from bot.core.role_backfill import Grant, GrantRefused
from bot.discord.checks import manage_problem, role_problem

log = logging.getLogger(__name__)

# TRANSLATORS: the reason Discord's audit log shows for giving a member the ping role.
REASON = N_("Asked for release reminders")
STALE_ROLE = N_("The ping role no longer exists: ask a moderator to set a new one with /ballerina-admin role.")
# https://discord.com/developers/docs/topics/opcodes-and-status-codes#json
UNKNOWN_MEMBER = 10007


def refusal(exc: discord.HTTPException) -> str:
    """Discord's refusal to change a member's roles, in words for members and moderators."""
    if isinstance(exc, discord.Forbidden):
        return _("Discord refused: I may have lost the Manage Roles permission, or my role is now below it.")
    return _("Discord answered with an error ({status}); it may work later.").format(status=exc.status)


class InteractionMemberRoles:
    def __init__(self, member: discord.Member) -> None:
        self.member = member

    def _role(self, role_id: str) -> tuple[discord.Role | None, str | None]:
        guild = self.member.guild
        role = guild.get_role(int(role_id))
        if role is None:
            return None, _(STALE_ROLE)
        return role, role_problem(role, guild.me)

    async def give(self, role_id: str) -> str | None:
        role, problem = self._role(role_id)
        if role is None or problem is not None:
            return problem
        try:
            await self.member.add_roles(role, reason=_(REASON))
        except discord.HTTPException:
            return _(
                "Discord wouldn't let me give you {role} just now; please ask a moderator to check my role."
            ).format(role=Word(role.name))
        return None

    async def take(self, role_id: str) -> str | None:
        guild = self.member.guild
        role = guild.get_role(int(role_id))
        if role is None:
            return None  # nothing left to take away
        problem = manage_problem(role, guild.me)
        if problem is None:
            try:
                await self.member.remove_roles(role, reason=_("Turned release reminders off"))
            except discord.HTTPException as exc:
                log.warning(
                    "server %s: could not take role %s back from member %s: %s %s",
                    guild.id,
                    role.id,
                    self.member.id,
                    exc.status,
                    exc.code,
                )
                problem = refusal(exc)
            else:
                return None
        return _(
            "I couldn't take {role} back from you. {problem} "
            "A moderator can remove {role} from you in Server Settings → Members."
        ).format(role=Word(role.name), problem=problem)


class GuildRoleGrants:
    """Gives the ping role to members by id: they are not in the guild cache (no members intent).

    A refusal is kept and shown to the server's moderators later, so it is worded in the
    server's language."""

    def __init__(self, client: discord.Client, languages: Languages) -> None:
        self.client = client
        self.languages = languages

    async def give(self, guild_id: str, user_id: str, role_id: str) -> Grant:
        with speaking(await self.languages.for_server(guild_id)):
            return await self._give(guild_id, user_id, role_id)

    async def _give(self, guild_id: str, user_id: str, role_id: str) -> Grant:
        guild = self.client.get_guild(int(guild_id))
        if guild is None or guild.unavailable:
            # After a restart the back-fill resumes before the gateway has sent the servers.
            await self.client.wait_until_ready()
            guild = self.client.get_guild(int(guild_id))
        if guild is None or guild.unavailable:
            raise GrantRefused(_("Discord reports the server unavailable or the bot no longer in it."))
        role = guild.get_role(int(role_id))
        if role is None:
            raise GrantRefused(_("The ping role no longer exists: set a new one with /ballerina-admin role."))
        problem = manage_problem(role, guild.me)
        if problem is not None:
            raise GrantRefused(problem)
        try:
            await self.client.http.add_role(guild_id, user_id, role_id, reason=_(REASON))
        except discord.NotFound as exc:
            if exc.code == UNKNOWN_MEMBER:
                return Grant.LEFT
            raise GrantRefused(_("Discord no longer knows the ping role ({code}).").format(code=exc.code)) from None
        except discord.Forbidden as exc:
            raise GrantRefused(refusal(exc)) from None
        except (TimeoutError, discord.HTTPException, aiohttp.ClientError) as exc:
            log.warning("server %s: could not give the ping role to member %s: %r", guild_id, user_id, exc)
            return Grant.FAILED
        return Grant.GIVEN
