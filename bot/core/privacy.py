"""What the bot keeps about a member, and its deletion: on ``/ballerina forget-me``, and when
the member has left the server.

What is kept about a member: their release reminder sign-up (and the ping role it gave them),
their answers to watch parties, their own settings (time zone, party reminders by DM), and the
reminder DMs addressed to them. Parties a member hosts are not deleted: other members answered
them; the host can cancel them.

The bot is not told when a member leaves (that needs a privileged intent), so it asks the
platform before each DM it sends on a server's behalf (:class:`DMsToMembersOnly`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.engine.protocols import EventKind, RenderingOf
from bot.core.i18n import _, ngettext
from bot.core.parties import Parties, Party
from bot.core.reminders import MemberRoles, ReleaseReminders
from bot.core.replies import Button, ButtonStyle, Reply
from bot.core.storage import OutboxRow, Platform, Reminder, Store, Target

log = logging.getLogger(__name__)

FORGET_CONFIRM_ID = "member:forget"


@dataclass(frozen=True)
class Forgotten:
    reply: Reply
    parties: tuple[Party, ...]
    """The parties the member had answered: their cards recount without them."""


class MemberDirectory(Protocol):
    """The platform's word on who is in a server, and where recounted party cards go."""

    async def is_member(self, guild_id: str, user_id: str) -> bool:
        """False only when the platform says the user is not in the server; if it can't tell, True."""
        ...

    async def refresh_card(self, party: Party) -> None:
        """The party's answers changed: its posted card follows."""
        ...


class MemberData:
    def __init__(self, store: Store, reminders: ReleaseReminders, parties: Parties) -> None:
        self.store = store
        self.reminders = reminders
        self.parties = parties

    @staticmethod
    def ask(ping_role: bool = True) -> Reply:
        """The confirmation prompt: nothing is deleted before the member clicks. ``ping_role``:
        whether the platform has a ping role to take back (Slack has none)."""
        deletes = (
            _(
                "This deletes, in this server: your release reminder sign-up (and its ping role) and "
                "your answers to watch parties. Everywhere: your time zone and how you get party reminders."
            )
            if ping_role
            else _(
                "This deletes, in this server: your release reminder sign-up and "
                "your answers to watch parties. Everywhere: your time zone and how you get party reminders."
            )
        )
        return Reply(
            title=_("Forget me?"),
            description=deletes
            + "\n"
            + _("Parties you host stay, for the members who answered them. This cannot be undone."),
            buttons=(Button(label=_("Forget me"), style=ButtonStyle.DANGER, custom_id=FORGET_CONFIRM_ID),),
            ephemeral=True,
        )

    async def forget(self, guild_id: str, user_id: str, roles: MemberRoles | None) -> Forgotten:
        """``roles`` is None on a platform without a ping role to take back (Slack)."""
        # Under the member's lock, so the ping role back-fill cannot give the role back meanwhile.
        async with self.reminders.role_backfills.member_lock(guild_id, user_id):
            subscription = await self.store.get_subscription(guild_id, user_id)
            role_problem = None
            if subscription is not None:
                role_problem = await self.reminders.take_ping_role(guild_id, subscription, roles)
            answered = await self.store.forget_member(guild_id, user_id)
        parties = await self._still_there(guild_id, answered)
        lines = [
            _("Done: I no longer keep anything about you in this server, nor your own settings."),
            _("If you use me in other servers, run /ballerina forget-me there too."),
        ]
        if answered:
            lines.insert(
                1,
                ngettext(
                    "Your answers to {count} watch party are gone.",
                    "Your answers to {count} watch parties are gone.",
                    len(answered),
                ).format(count=len(answered)),
            )
        if role_problem is not None:
            lines.append(role_problem)
        return Forgotten(Reply(title=_("Forgotten"), description="\n".join(lines), ephemeral=True), parties)

    async def departed(self, guild_id: str, user_id: str, directory: MemberDirectory | None) -> None:
        """A member who left the server: what the bot keeps about them there goes, and the cards
        of the parties they had answered recount. Their own settings stay: they may still be in
        other servers. Their roles left with them, so none is taken back."""
        answered = await self.store.forget_member(guild_id, user_id, own_settings=False)
        if directory is None:  # a platform without cards to refresh
            return
        for party in await self._still_there(guild_id, answered):
            await directory.refresh_card(party)

    async def _still_there(self, guild_id: str, party_ids: Sequence[int]) -> tuple[Party, ...]:
        """These parties, less those deleted meanwhile."""
        found = [await self.parties.get(guild_id, party_id) for party_id in party_ids]
        return tuple(party for party in found if party is not None)


class DMsToMembersOnly(RenderingOf):
    """An event kind whose DMs go only to members still in the server.

    Asked once a DM has something to say, so rows that would be skipped cost no lookup. A
    recipient found gone is forgotten in that server (:meth:`MemberData.departed`) and gets
    nothing; it is not the same as a member who refuses DMs, whose data stays.
    """

    def __init__(self, kind: EventKind, directories: Mapping[Platform, MemberDirectory], members: MemberData) -> None:
        super().__init__(kind)
        self._directories = directories
        self._members = members

    async def render(self, reminder: Reminder, row: OutboxRow) -> Sequence[Reply]:
        parts = await self._kind.render(reminder, row)
        directory = self._directories.get(row.platform)
        if directory is None or not parts or row.target is not Target.DM:
            return parts
        if not await directory.is_member(row.guild_id, row.target_id):
            await self._members.departed(row.guild_id, row.target_id, directory)
            log.info("member %s left server %s: forgotten there, DM %d not sent", row.target_id, row.guild_id, row.id)
            return ()
        return parts
