"""``/ballerina forget-me``: a member deletes what the bot keeps about them.

What is kept about a member: their release reminder sign-up (and the ping role it gave them),
their answers to watch parties, their own settings (time zone, party reminders by DM), and the
reminder DMs addressed to them. Parties a member hosts are not deleted: other members answered
them; the host can cancel them.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.parties import Parties, Party
from bot.core.reminders import MemberRoles, ReleaseReminders
from bot.core.replies import Button, ButtonStyle, Reply
from bot.core.storage import Store

FORGET_CONFIRM_ID = "member:forget"


@dataclass(frozen=True)
class Forgotten:
    reply: Reply
    cards: tuple[tuple[Party, Reply], ...]
    """The cards of parties the member had answered, recounted without them, to put in place."""


class MemberData:
    def __init__(self, store: Store, reminders: ReleaseReminders, parties: Parties) -> None:
        self.store = store
        self.reminders = reminders
        self.parties = parties

    @staticmethod
    def ask() -> Reply:
        """The confirmation prompt: nothing is deleted before the member clicks."""
        return Reply(
            title="Forget me?",
            description=(
                "This deletes, in this server: your release reminder sign-up (and its ping role) and "
                "your answers to watch parties. Everywhere: your time zone and how you get party reminders.\n"
                "Parties you host stay, for the members who answered them. This cannot be undone."
            ),
            buttons=(Button(label="Forget me", style=ButtonStyle.DANGER, custom_id=FORGET_CONFIRM_ID),),
            ephemeral=True,
        )

    async def forget(self, guild_id: str, user_id: str, roles: MemberRoles) -> Forgotten:
        # Under the member's lock, so the ping role back-fill cannot give the role back meanwhile.
        async with self.reminders.role_backfills.member_lock(guild_id, user_id):
            subscription = await self.store.get_subscription(guild_id, user_id)
            role_problem = None
            if subscription is not None:
                role_problem = await self.reminders.take_ping_role(guild_id, subscription, roles)
            answered = await self.store.forget_member(guild_id, user_id)
        cards: list[tuple[Party, Reply]] = []
        for party_id in answered:
            party = await self.parties.get(guild_id, party_id)
            if party is not None:
                cards.append((party, await self.parties.card(party)))
        lines = [
            "Done: I no longer keep anything about you in this server, nor your own settings.",
            "If you use me in other servers, run /ballerina forget-me there too.",
        ]
        if answered:
            lines.insert(
                1, f"Your answers to {len(answered)} watch part{'y' if len(answered) == 1 else 'ies'} are gone."
            )
        if role_problem is not None:
            lines.append(role_problem)
        return Forgotten(Reply(title="Forgotten", description="\n".join(lines), ephemeral=True), tuple(cards))
