"""The core's MemberRoles port on discord.py: the ping role for the member who asked."""

from __future__ import annotations

import discord

from bot.discord.checks import role_problem

REASON = "Asked for Ballerina release reminders"
STALE_ROLE = "The ping role no longer exists: ask a moderator to set a new one with /ballerina-admin role."


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
        role, problem = self._role(role_id)
        if role is None:
            return None  # nothing left to take away
        if problem is not None:
            return problem
        try:
            await self.member.remove_roles(role, reason="Turned Ballerina release reminders off")
        except discord.HTTPException:
            return f"Discord wouldn't let me remove {role.name} just now; please try again later."
        return None
