"""The core's MemberRoles port on discord.py: the ping role for the member who asked."""

from __future__ import annotations

import logging

import discord

from bot.discord.checks import manage_problem, role_problem

log = logging.getLogger(__name__)

REASON = "Asked for Ballerina release reminders"
STALE_ROLE = "The ping role no longer exists: ask a moderator to set a new one with /ballerina-admin role."


def refusal(exc: discord.HTTPException) -> str:
    """Discord's refusal to change a member's roles, in words for members and moderators."""
    if isinstance(exc, discord.Forbidden):
        return "Discord refused: I may have lost the Manage Roles permission, or my role is now below it."
    return f"Discord answered with an error ({exc.status}); it may work later."


class InteractionMemberRoles:
    def __init__(self, member: discord.Member) -> None:
        self.member = member

    def _role(self, role_id: str) -> tuple[discord.Role | None, str | None]:
        guild = self.member.guild
        role = guild.get_role(int(role_id))
        if role is None:
            return None, STALE_ROLE
        return role, role_problem(role, guild.me)

    async def give(self, role_id: str) -> str | None:
        role, problem = self._role(role_id)
        if role is None or problem is not None:
            return problem
        try:
            await self.member.add_roles(role, reason=REASON)
        except discord.HTTPException:
            return f"Discord wouldn't let me give you {role.name} just now; please ask a moderator to check my role."
        return None

    async def take(self, role_id: str) -> str | None:
        guild = self.member.guild
        role = guild.get_role(int(role_id))
        if role is None:
            return None  # nothing left to take away
        problem = manage_problem(role, guild.me)
        if problem is None:
            try:
                await self.member.remove_roles(role, reason="Turned Ballerina release reminders off")
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
        return (
            f"I couldn't take {role.name} back from you. {problem} "
            f"A moderator can remove {role.name} from you in Server Settings → Members."
        )
