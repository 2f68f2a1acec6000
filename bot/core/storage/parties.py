"""Watch parties in the database: parties, RSVPs, notices, members' settings, party settings.

Party reminders are rows of the shared ``reminders`` table (kind ``party``, event id = party id)
and notices are reminders of kind ``party_notice`` (event id = notice id), so the one engine
and outbox deliver them all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, Final, TypeAlias

from bot.core.storage._rows import normalize_offsets, offsets_json
from bot.core.storage.database import Database, Dialect, Row, Session
from bot.core.storage.models import Via, from_unix, to_unix
from bot.core.storage.queue import FanOut

PARTY_KIND: Final = "party"
NOTICE_KIND: Final = "party_notice"
DEFAULT_PARTY_OFFSETS: Final = (timedelta(days=1), timedelta(hours=1), timedelta(minutes=10), timedelta(0))
DEFAULT_PARTY_CAP: Final = 5
MAX_ROW_ID: Final = 2**63 - 1
"""The largest id (SQLite's INTEGER, PostgreSQL's BIGINT): an id typed beyond it names no party,
and would not even bind."""


_Columns: TypeAlias = Row | Mapping[str, Any]
"""A row as read: a query's row, or a dict with the same column names."""


class HostingCapReached(Exception):
    """The host already has ``hosted`` upcoming parties in the server, at least its cap."""

    def __init__(self, hosted: int) -> None:
        super().__init__(f"{hosted} upcoming parties hosted")
        self.hosted = hosted


class RSVP(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    NOT_GOING = "no"


class NoticeKind(StrEnum):
    MOVED = "moved"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Party:
    id: int
    guild_id: str
    host_id: str
    title: str
    starts_at: datetime
    timezone: str
    channel_id: str | None
    """Where the card and the reminders go."""
    voice_channel_id: str | None
    """Where people meet (a voice or stage channel); None means "Netflix at home"."""
    offsets: tuple[timedelta, ...]
    cancelled: bool
    card_message_id: str | None
    scheduled_event_id: str | None


@dataclass(frozen=True)
class Attendance:
    counts: dict[RSVP, int]
    first_going: tuple[str, ...]
    """The earliest Going members, in the order they answered."""

    def answered(self, user_id: str, previous: RSVP | None, choice: RSVP | None, named: int) -> Attendance:
        """This attendance after ``user_id`` changed ``previous`` to ``choice``, without a query.

        Built from ``named + 1`` Going members, so one who leaves is replaced by the next;
        a new Going answer is the latest, so it comes last.
        """
        if choice is previous:
            return Attendance(self.counts, self.first_going[:named])
        counts = dict(self.counts)
        if previous is not None:
            counts[previous] -= 1
        if choice is not None:
            counts[choice] += 1
        going = [user for user in self.first_going if user != user_id]
        if choice is RSVP.GOING:
            going.append(user_id)
        return Attendance(counts, tuple(going[:named]))


@dataclass(frozen=True)
class RsvpClick:
    """A member's answer to a party, as clicked: None is Leave."""

    guild_id: str
    party_id: int
    user_id: str
    choice: RSVP | None


@dataclass(frozen=True)
class RsvpContext:
    party: Party
    answer: RSVP | None
    """The member's current answer."""
    party_via: Via
    """How the member gets party reminders."""
    attendance: Attendance
    """Before the member's new answer."""


@dataclass(frozen=True)
class MemberParty:
    """A party as one member sees it: hosted by them, or answered."""

    party: Party
    answer: RSVP | None
    """None for a party they host without having answered it."""


@dataclass(frozen=True)
class PartySettings:
    guild_id: str
    channel_id: str | None
    offsets: tuple[timedelta, ...]
    cap: int


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    party: Party
    old_starts_at: datetime


@dataclass(frozen=True)
class UserSettings:
    timezone: str | None = None
    party_via: Via = Via.CHANNEL


def _json(value: str | Any) -> Any:
    """A JSON column: text from a plain query; already decoded when the row came inside a JSON
    document (a JSON function's result nests as JSON, not as text), or came as a JSON value
    (PostgreSQL's driver decodes those)."""
    return json.loads(value) if isinstance(value, str) else value


def _party(row: _Columns) -> Party:
    return Party(
        id=row["id"],
        guild_id=row["guild_id"],
        host_id=row["host_id"],
        title=row["title"],
        starts_at=from_unix(row["starts_at"]),
        timezone=row["timezone"],
        channel_id=row["channel_id"],
        voice_channel_id=row["voice_channel_id"],
        offsets=tuple(timedelta(seconds=s) for s in _json(row["offsets"])),
        cancelled=row["state"] == "cancelled",
        card_message_id=row["card_message_id"],
        scheduled_event_id=row["scheduled_event_id"],
    )


@cache
def _schedule_party(d: Dialect) -> str:
    """A party's reminders follow its start time. Offsets already past are recorded as skipped; a
    reminder that has fired stays fired (its posts are out), whatever the party does next."""
    return f"""
INSERT INTO reminders (guild_id, kind, event_id, offset_s, due_at, state, note, settled_at)
SELECT guild_id, :kind, event_id, offset_s, due_at,
       CASE WHEN due_at < :now THEN 'skipped' ELSE 'pending' END,
       CASE WHEN due_at < :now THEN 'already past when scheduled' END,
       CASE WHEN due_at < :now THEN :now END
FROM (SELECT p.guild_id, CAST(p.id AS TEXT) AS event_id, CAST(j.value AS BIGINT) AS offset_s,
             p.starts_at - CAST(j.value AS BIGINT) AS due_at
      FROM parties AS p, {d.array_elements("p.offsets")} AS j
      WHERE p.id = :party) AS due
WHERE true
ON CONFLICT (guild_id, kind, event_id, offset_s) DO UPDATE SET
    due_at = excluded.due_at, state = excluded.state, note = excluded.note, settled_at = excluded.settled_at
WHERE reminders.state IN ('pending', 'skipped')
"""


async def _schedule_party_reminders(session: Session, party_id: int, now: int) -> None:
    await session.execute(_schedule_party(session.dialect), {"kind": PARTY_KIND, "party": party_id, "now": now})


@cache
def _attendance_columns(d: Dialect) -> str:
    """A party's attendance, as columns of a query over ``parties AS p``: counts by answer (a JSON
    object) and the first ``:named`` Going members in answer order (a JSON array)."""
    return f"""
(SELECT {d.json_object_agg("choice", "n")} FROM (SELECT choice, COUNT(*) AS n FROM rsvps
 WHERE party_id = p.id GROUP BY choice) AS answers) AS counts,
(SELECT {d.json_array_agg("user_id")} FROM (SELECT user_id FROM rsvps
 WHERE party_id = p.id AND choice = 'going' ORDER BY updated_at, user_id LIMIT :named) AS first) AS going
"""


def _attendance(row: _Columns) -> Attendance:
    counts = dict.fromkeys(RSVP, 0) | {RSVP(k): v for k, v in _json(row["counts"]).items()}
    return Attendance(counts, tuple(_json(row["going"])))


# The context of each click of a batch (``PartyStore.answer``), as one JSON array in one row.
_CLICK_CONTEXT_COLUMNS = (
    "n", "id", "guild_id", "host_id", "title", "starts_at", "timezone", "channel_id", "voice_channel_id",
    "offsets", "state", "card_message_id", "scheduled_event_id", "my_choice", "my_via", "counts", "going",
)  # fmt: skip


def _click_contexts(d: Dialect, clicks: str) -> str:
    """The query of ``PartyStore.answer``, over ``clicks``: ``VALUES`` rows (n, guild, party, user)."""
    return (
        f"WITH clicks (n, guild_id, party_id, user_id) AS (VALUES {clicks}),"
        " found AS (SELECT c.n, p.*, r.choice AS my_choice, COALESCE(u.party_via, 'channel') AS my_via,"
        f" {_attendance_columns(d)}"
        " FROM clicks AS c JOIN parties AS p ON p.id = c.party_id AND p.guild_id = c.guild_id"
        " LEFT JOIN rsvps AS r ON r.party_id = p.id AND r.user_id = c.user_id"
        " LEFT JOIN user_settings AS u ON u.user_id = c.user_id)"
        f" SELECT {d.json_array_agg(d.json_array(*_CLICK_CONTEXT_COLUMNS))} FROM found"
    )


# Fan-out runs inside the engine's transaction, so it is SQL on the FanOut's own session.
# The party of a reminder: its event id is the party id, or (for a notice) the notice id.
_PARTY_OF = {
    PARTY_KIND: "CAST(:event AS BIGINT)",
    NOTICE_KIND: "(SELECT party_id FROM party_notices WHERE id = CAST(:event AS BIGINT))",
}
# Reminders go out only for a scheduled party; notices (moved, cancelled) whatever its state.
_PARTY_CHANNEL_POST = """
SELECT p.guild_id, :reminder, 'channel', p.channel_id, :now, :late, :now, :now FROM parties AS p
WHERE p.id = {party} AND p.channel_id IS NOT NULL AND (p.state = 'scheduled' OR :any_state = 1)
"""
# Going members who want party reminders by DM (members with no settings row get the channel).
_PARTY_DMS = """
SELECT p.guild_id, :reminder, 'dm', r.user_id, :now, :late, :now, :now
FROM parties AS p JOIN rsvps AS r ON r.party_id = p.id JOIN user_settings AS u ON u.user_id = r.user_id
WHERE p.id = {party} AND r.choice = 'going' AND u.party_via = 'dm' AND (p.state = 'scheduled' OR :any_state = 1)
"""


class PartyStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- parties -------------------------------------------------------------------------------

    async def create(
        self,
        *,
        guild_id: str,
        host_id: str,
        title: str,
        starts_at: datetime,
        timezone: str,
        channel_id: str | None,
        voice_channel_id: str | None,
        offsets: Sequence[timedelta],
        now: datetime,
        cap: int,
    ) -> Party:
        """Schedule a party, unless its host already has ``cap`` upcoming ones here.

        The count and the insert share one transaction: counted apart, concurrent creates
        would all see room and all go in.
        """
        stamp = to_unix(now)
        async with self._db.transaction() as session:
            await session.lock("guild_settings", "guild_id", [guild_id])
            hosted = await session.fetchone(
                "SELECT COUNT(*) FROM parties WHERE guild_id = ? AND host_id = ? AND state = 'scheduled'"
                " AND starts_at >= ?",
                (guild_id, host_id, stamp),
            )
            if hosted is not None and hosted[0] >= cap:
                raise HostingCapReached(hosted[0])
            cursor_id = await session.insert(
                "INSERT INTO parties (guild_id, host_id, title, starts_at, timezone, channel_id, voice_channel_id,"
                " offsets, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    host_id,
                    title,
                    to_unix(starts_at),
                    timezone,
                    channel_id,
                    voice_channel_id,
                    offsets_json(offsets),
                    stamp,
                    stamp,
                ),
            )
            await _schedule_party_reminders(session, cursor_id, stamp)
            party = await self._get(session, cursor_id)
        assert party is not None
        return party

    async def get(self, guild_id: str, party_id: int) -> Party | None:
        """The party, only if it belongs to ``guild_id``: ids from another server find nothing."""
        if not 0 < party_id <= MAX_ROW_ID:
            return None
        async with self._db.read() as session:
            party = await self._get(session, party_id)
        return party if party is not None and party.guild_id == guild_id else None

    @staticmethod
    async def _get(session: Session, party_id: int) -> Party | None:
        row = await session.fetchone("SELECT * FROM parties WHERE id = ?", (party_id,))
        return _party(row) if row is not None else None

    async def upcoming(self, guild_id: str, since: datetime, limit: int = 25, query: str = "") -> list[Party]:
        """Scheduled parties starting at or after ``since``, soonest first, optionally by title."""
        async with self._db.read() as session:
            rows = await session.fetchall(
                "SELECT * FROM parties WHERE guild_id = ? AND state = 'scheduled' AND starts_at >= ?"
                f" AND {session.dialect.contains('lower(title)', 'lower(?)')} ORDER BY starts_at, id LIMIT ?",
                (guild_id, to_unix(since), query, limit),
            )
        return [_party(row) for row in rows]

    async def update(
        self,
        party: Party,
        *,
        title: str,
        starts_at: datetime,
        voice_channel_id: str | None,
        now: datetime,
    ) -> Party:
        """Change a party; a new start time moves its pending reminders and queues a notice."""
        stamp = to_unix(now)
        async with self._db.transaction() as session:
            await session.execute(
                "UPDATE parties SET title = ?, starts_at = ?, voice_channel_id = ?, updated_at = ? WHERE id = ?",
                (title, to_unix(starts_at), voice_channel_id, stamp, party.id),
            )
            if starts_at != party.starts_at:
                await _schedule_party_reminders(session, party.id, stamp)
                await self._queue_notice(session, party, NoticeKind.MOVED, stamp)
            updated = await self._get(session, party.id)
        assert updated is not None
        return updated

    async def cancel(self, party: Party, now: datetime) -> Party:
        stamp = to_unix(now)
        async with self._db.transaction() as session:
            await session.execute(
                "UPDATE parties SET state = 'cancelled', updated_at = ? WHERE id = ?", (stamp, party.id)
            )
            await session.execute(
                "UPDATE reminders SET state = 'cancelled', note = 'party cancelled', settled_at = ?"
                " WHERE kind = ? AND event_id = ? AND state = 'pending'",
                (stamp, PARTY_KIND, str(party.id)),
            )
            await self._queue_notice(session, party, NoticeKind.CANCELLED, stamp)
            cancelled = await self._get(session, party.id)
        assert cancelled is not None
        return cancelled

    @staticmethod
    async def _queue_notice(session: Session, party: Party, kind: NoticeKind, now: int) -> None:
        """A notice to attendees, delivered through the outbox like a reminder due now."""
        notice_id = await session.insert(
            "INSERT INTO party_notices (party_id, kind, old_starts_at, created_at) VALUES (?, ?, ?, ?)",
            (party.id, kind.value, to_unix(party.starts_at), now),
        )
        await session.execute(
            "INSERT INTO reminders (guild_id, kind, event_id, offset_s, due_at) VALUES (?, ?, ?, 0, ?)",
            (party.guild_id, NOTICE_KIND, str(notice_id), now),
        )

    async def notice(self, notice_id: int) -> Notice | None:
        async with self._db.read() as session:
            row = await session.fetchone("SELECT * FROM party_notices WHERE id = ?", (notice_id,))
            if row is None:
                return None
            party = await self._get(session, row["party_id"])
        if party is None:
            return None
        return Notice(NoticeKind(row["kind"]), party, from_unix(row["old_starts_at"]))

    async def record_card(self, party_id: int, message_id: str) -> None:
        async with self._db.read() as session:
            await session.execute("UPDATE parties SET card_message_id = ? WHERE id = ?", (message_id, party_id))

    async def record_scheduled_event(self, party_id: int, event_id: str | None) -> None:
        async with self._db.read() as session:
            await session.execute("UPDATE parties SET scheduled_event_id = ? WHERE id = ?", (event_id, party_id))

    # -- RSVPs ---------------------------------------------------------------------------------

    async def answer(
        self, clicks: Sequence[RsvpClick], named: int, now: datetime, accepts: Callable[[Party], bool]
    ) -> list[RsvpContext | None]:
        """For each click, in one transaction: its context (None when the party is not the click's
        server's), as it was before; and its answer recorded wherever the party ``accepts``
        answers and the answer changes something.

        A context is the party, its attendance with the first ``named`` Going members, and the
        member's answer and reminder preference. Button clicks are the hottest path of the bot,
        so a batch of them (see ``bot.core.batching``) costs four statements, and each returns
        at most one row: the database thread gives the event loop back its GIL at every row, and
        when the loop is busy each of those handovers costs a wait.
        """
        values: list[str] = []
        params: dict[str, object] = {"named": named}
        party_ids: set[int] = set()
        for n, click in enumerate(clicks):
            if 0 < click.party_id <= MAX_ROW_ID:  # any other id finds nothing (its context stays None)
                party_ids.add(click.party_id)
                values.append(f"({n}, :guild{n}, :party{n}, :user{n})")
                params |= {f"guild{n}": click.guild_id, f"party{n}": click.party_id, f"user{n}": click.user_id}
        contexts: list[RsvpContext | None] = [None] * len(clicks)
        if not values:
            return contexts
        async with self._db.transaction() as session:
            await session.lock("parties", "id", sorted(party_ids))
            found = await session.fetchone(_click_contexts(session.dialect, ", ".join(values)), params)
            for entry in _json(found[0]) if found is not None else []:
                row = dict(zip(_CLICK_CONTEXT_COLUMNS, entry, strict=True))
                answer = RSVP(row["my_choice"]) if row["my_choice"] is not None else None
                contexts[row["n"]] = RsvpContext(_party(row), answer, Via(row["my_via"]), _attendance(row))
            changes = [
                click
                for click, context in zip(clicks, contexts, strict=True)
                if context is not None and click.choice is not context.answer and accepts(context.party)
            ]
            answers = [(c.party_id, c.user_id, c.choice.value, to_unix(now)) for c in changes if c.choice is not None]
            if answers:
                await session.write(
                    "INSERT INTO rsvps (party_id, user_id, choice, updated_at) VALUES "
                    + ", ".join(["(?, ?, ?, ?)"] * len(answers))
                    + " ON CONFLICT (party_id, user_id) DO UPDATE SET"
                    " choice = excluded.choice, updated_at = excluded.updated_at",
                    [value for answer in answers for value in answer],
                )
            leaves = [(c.party_id, c.user_id) for c in changes if c.choice is None]
            if leaves:
                await session.write(
                    "DELETE FROM rsvps WHERE (party_id, user_id) IN (VALUES "
                    + ", ".join(["(?, ?)"] * len(leaves))
                    + ")",
                    [value for leave in leaves for value in leave],
                )
        return contexts

    async def upcoming_of_member(self, guild_id: str, user_id: str, since: datetime, limit: int) -> list[MemberParty]:
        """Scheduled parties from ``since`` that the member hosts or answered, soonest first."""
        async with self._db.read() as session:
            rows = await session.fetchall(
                "SELECT p.*, r.choice AS my_choice FROM parties AS p"
                " LEFT JOIN rsvps AS r ON r.party_id = p.id AND r.user_id = :user"
                " WHERE p.guild_id = :guild AND p.state = 'scheduled' AND p.starts_at >= :since"
                " AND (r.choice IS NOT NULL OR p.host_id = :user) ORDER BY p.starts_at, p.id LIMIT :limit",
                {"guild": guild_id, "user": user_id, "since": to_unix(since), "limit": limit},
            )
        return [MemberParty(_party(row), RSVP(row["my_choice"]) if row["my_choice"] else None) for row in rows]

    async def attendance(self, party_id: int, named: int) -> Attendance:
        """Counts by answer and the first ``named`` Going members, in one query."""
        async with self._db.read() as session:
            row = await session.fetchone(
                f"SELECT {_attendance_columns(session.dialect)} FROM parties AS p WHERE p.id = :party",
                {"party": party_id, "named": named},
            )
        return _attendance(row) if row is not None else Attendance(dict.fromkeys(RSVP, 0), ())

    async def going_in_channel(self, party_id: int) -> list[str]:
        """Going members who get party reminders in the channel (not by DM), in answer order."""
        async with self._db.read() as session:
            rows = await session.fetchall(
                "SELECT r.user_id FROM rsvps AS r LEFT JOIN user_settings AS u ON u.user_id = r.user_id"
                " WHERE r.party_id = ? AND r.choice = 'going' AND COALESCE(u.party_via, 'channel') = 'channel'"
                " ORDER BY r.updated_at, r.user_id",
                (party_id,),
            )
        return [row["user_id"] for row in rows]

    async def is_going(self, party_id: int, user_id: str) -> bool:
        async with self._db.read() as session:
            row = await session.fetchone(
                "SELECT 1 FROM rsvps WHERE party_id = ? AND user_id = ? AND choice = 'going'", (party_id, user_id)
            )
        return row is not None

    @staticmethod
    async def fan_out(fan: FanOut) -> int:
        """For a party reminder or notice: one post to the party channel, one DM per Going member
        who asked for DMs. Returns the number of rows (0 for a cancelled party's reminder)."""
        kind = fan.reminder.kind
        params = {"event": fan.reminder.event_id, "any_state": int(kind == NOTICE_KIND)}
        party = _PARTY_OF[kind]
        posts = await fan.add_rows(_PARTY_CHANNEL_POST.format(party=party), params)
        return posts + await fan.add_rows(_PARTY_DMS.format(party=party), params)

    # -- settings ------------------------------------------------------------------------------

    async def user_settings(self, user_id: str) -> UserSettings:
        async with self._db.read() as session:
            row = await session.fetchone("SELECT * FROM user_settings WHERE user_id = ?", (user_id,))
        return UserSettings(row["timezone"], Via(row["party_via"])) if row is not None else UserSettings()

    async def set_user_timezone(self, user_id: str, timezone: str) -> None:
        async with self._db.read() as session:
            await session.execute(
                "INSERT INTO user_settings (user_id, timezone) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone",
                (user_id, timezone),
            )

    async def set_user_party_via(self, user_id: str, via: Via) -> None:
        async with self._db.read() as session:
            await session.execute(
                "INSERT INTO user_settings (user_id, party_via) VALUES (?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET party_via = excluded.party_via",
                (user_id, via.value),
            )

    async def party_settings(self, guild_id: str) -> PartySettings:
        async with self._db.read() as session:
            row = await session.fetchone(
                "SELECT party_channel_id, party_offsets, party_cap FROM guild_settings WHERE guild_id = ?",
                (guild_id,),
            )
        if row is None:
            return PartySettings(guild_id, None, DEFAULT_PARTY_OFFSETS, DEFAULT_PARTY_CAP)
        offsets = row["party_offsets"]
        return PartySettings(
            guild_id,
            row["party_channel_id"],
            tuple(timedelta(seconds=s) for s in json.loads(offsets)) if offsets else DEFAULT_PARTY_OFFSETS,
            row["party_cap"],
        )

    async def update_party_settings(self, settings: PartySettings) -> None:
        """Write a guild's party settings (its settings row must exist: ``Store.ensure_guild``)."""
        async with self._db.read() as session:
            await session.execute(
                "UPDATE guild_settings SET party_channel_id = ?, party_offsets = ?, party_cap = ? WHERE guild_id = ?",
                (
                    settings.channel_id,
                    offsets_json(normalize_offsets(settings.offsets)),
                    settings.cap,
                    settings.guild_id,
                ),
            )
