"""The reminder engine's side of the database: due reminders, fan-out and the delivery outbox.

Every method works on at most ``limit`` rows so the caller can stream any number of them in
batches. Times come from the caller (the engine's clock), never from SQLite.

Several processes may deliver from one database. Each claim names its :class:`Claimant` and
holds for a lease, which the claimer renews while it sends; a row whose lease ran out (its
process died) is taken over by another, and a restarted process takes over the rows of its
previous run at once. Since leases compare the processes' clocks, the lease must be well above
the clock skew between their machines.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache

from bot.core.storage._rows import ids_json, outbox_from_row, reminder_columns, reminder_from_row
from bot.core.storage.database import Database, Dialect, Session
from bot.core.storage.models import (
    Delivery,
    ErrorKind,
    OutboxRow,
    OutboxState,
    Platform,
    Reminder,
    ReminderState,
    Via,
    from_unix,
    to_unix,
)

log = logging.getLogger(__name__)

MISSED_NOTE = "missed while offline"
SUPERSEDED_NOTE = "superseded"

_REMINDER = reminder_columns("r")
_INSERT_OUTBOX = (
    "INSERT INTO outbox (guild_id, reminder_id, target, target_id, not_before, late, created_at, updated_at,"
    " platform) SELECT fan.*, guild.platform FROM ({select}) AS fan, guild_settings AS guild"
    " WHERE guild.guild_id = :guild"
)


# Rows 'sending' that a run may take over: claimed before leases existed, by an earlier run of
# the same process, or by another process whose lease ran out.
_ORPHANED = (
    "o.state = 'sending' AND (o.claimed_by IS NULL OR (o.claimed_by <> :owner"
    " AND (o.lease_until < :now OR substr(o.claimed_by, 1, length(:earlier_runs)) = :earlier_runs)))"
)


@cache
def _in_ids(d: Dialect, param: str) -> str:
    """``IN (…)`` the ids of the JSON array in parameter ``param`` (see ``ids_json``)."""
    return f"IN (SELECT CAST(value AS BIGINT) FROM {d.array_elements(param)})"


@dataclass(frozen=True)
class ReminderOutcome:
    """One due reminder as settled (fired or skipped, see its state and note), with its fan-out."""

    reminder: Reminder
    rows: int = 0
    late: bool = False


@dataclass(frozen=True)
class Claimant:
    """Who claims outbox rows: a process, by a name unique among the processes sharing the
    database and kept across its restarts, in one run of it; and how long its claims hold
    unless renewed."""

    process: str = "main"
    lease: timedelta = timedelta(seconds=30)
    run: str = field(default_factory=lambda: secrets.token_hex(4))

    @property
    def owner(self) -> str:
        """What the rows it claims record in ``claimed_by``."""
        return f"{self.process}#{self.run}"

    @property
    def earlier_runs(self) -> str:
        """The start of the ``claimed_by`` of every run of this process."""
        return f"{self.process}#"


@dataclass(frozen=True)
class NextDue:
    """The earliest pending reminder and outbox row, and the earliest lease of another
    process's claim to run out, by the engine's clock."""

    reminder: datetime | None
    outbox: datetime | None
    lease_expiry: datetime | None = None


@dataclass(frozen=True)
class OutboxCount:
    """How many outbox rows share a state, a late flag and an error kind."""

    state: OutboxState
    late: bool
    error_kind: ErrorKind | None
    rows: int


@dataclass(frozen=True)
class Claim:
    deliveries: tuple[Delivery, ...]
    skipped: tuple[OutboxRow, ...]  # too old to post (see claim_deliveries)

    @property
    def size(self) -> int:
        return len(self.deliveries) + len(self.skipped)


class FanOut:
    """Writes the outbox rows of one due reminder, inside the transaction that settles it.

    Inserts are ``INSERT ... SELECT`` so fanning out to any number of members costs no memory
    here, and a unique key per (reminder, target) makes a repeated fan-out harmless.
    """

    def __init__(self, session: Session, reminder: Reminder, *, late: bool, now: int) -> None:
        self._session = session
        self.reminder = reminder
        self.late = late
        self._now = now
        self.rows = 0
        self.skip_note: str | None = None

    def _params(self) -> dict[str, object]:
        return {
            "guild": self.reminder.guild_id,
            "reminder": self.reminder.id,
            "late": int(self.late),
            "now": self._now,
        }

    async def add_rows(self, select: str, params: Mapping[str, object] | None = None) -> int:
        """Insert the outbox rows a ``SELECT`` yields, in the column order of ``_INSERT_OUTBOX``
        (the guild's platform is added to each).

        The select may use ``:guild``, ``:reminder``, ``:late`` and ``:now``; a row already
        written for the same (reminder, target) is left alone.
        """
        added = await self._session.execute(
            _INSERT_OUTBOX.format(select=select) + " ON CONFLICT (reminder_id, target, target_id) DO NOTHING",
            {**self._params(), **(params or {})},
        )
        self.rows += added
        return added

    async def to_guild_channel(self) -> int:
        """One post to the guild's configured reminder channel, if it has one."""
        return await self.add_rows(
            "SELECT guild_id, :reminder, 'channel', channel_id, :now, :late, :now, :now"
            " FROM guild_settings WHERE guild_id = :guild AND channel_id IS NOT NULL"
        )

    async def to_channel(self, channel_id: str) -> int:
        """One post to a given channel of the guild."""
        return await self.add_rows(
            "SELECT :guild, :reminder, 'channel', :channel, :now, :late, :now, :now", {"channel": channel_id}
        )

    async def dm_subscribers(self) -> int:
        """One DM per member of the guild subscribed by DM."""
        return await self.add_rows(
            "SELECT guild_id, :reminder, 'dm', user_id, :now, :late, :now, :now"
            " FROM subscriptions WHERE guild_id = :guild AND via = :via",
            {"via": Via.DM.value},
        )

    def skip(self, note: str) -> None:
        """Record the reminder as skipped (with why) instead of fired."""
        self.skip_note = note


FanOutHandler = Callable[[FanOut], Awaitable[None]]


def _in_platforms(platforms: Collection[Platform]) -> str:
    """``IN (?, …)`` with a placeholder for each platform, bound to ``sorted(map(str, platforms))``."""
    return f"IN ({', '.join('?' * len(platforms))})"


class DeliveryQueue:
    def __init__(self, db: Database, claimant: Claimant | None = None) -> None:
        self._db = db
        self.claimant = claimant or Claimant()

    async def flag_late(self, late_before: datetime) -> None:
        """Start-up after a stop or crash: flag pending rows of reminders due before ``late_before``
        as late."""
        async with self._db.read() as session:
            await session.execute(
                "UPDATE outbox SET late = 1 WHERE id IN (SELECT o.id FROM outbox AS o"
                " JOIN reminders AS r ON r.id = o.reminder_id"
                " WHERE o.state = 'pending' AND o.late = 0 AND r.due_at < ?)",
                (to_unix(late_before),),
            )

    async def renew_leases(self, now: datetime) -> int:
        """Extend the lease of every row this run holds 'sending'; returns how many it holds."""
        async with self._db.read() as session:
            return await session.execute(
                "UPDATE outbox SET lease_until = ? WHERE state = 'sending' AND claimed_by = ?",
                (to_unix(now + self.claimant.lease), self.claimant.owner),
            )

    async def next_due(self, platforms: Collection[Platform]) -> NextDue:
        """The next due reminder, the next due row of the platforms given (rows of others wait
        for a process that serves them), and when the first claim of another run on them ends."""
        served = sorted(map(str, platforms))
        async with self._db.read() as session:
            row = await session.fetchone(
                "SELECT (SELECT MIN(due_at) FROM reminders WHERE state = 'pending'),"
                " (SELECT MIN(not_before) FROM outbox WHERE state = 'pending'"
                f" AND platform {_in_platforms(platforms)}),"
                # A lease ends after its last whole second: the row can be taken a second later.
                " (SELECT MIN(COALESCE(lease_until, -1)) + 1 FROM outbox WHERE state = 'sending'"
                f" AND platform {_in_platforms(platforms)} AND (claimed_by IS NULL OR claimed_by <> ?))",
                (*served, *served, self.claimant.owner),
            )
        assert row is not None  # an aggregate always yields one row
        return NextDue(*(from_unix(value) if value is not None else None for value in row))

    async def oldest_due(self, now: datetime) -> datetime | None:
        """When the longest-waiting due work became due: a pending reminder, or a row not yet sent.

        Rows being sent count too, so a delivery stuck in flight shows here. Index lookups only,
        cheap enough for every health probe.
        """
        async with self._db.read() as session:
            row = await session.fetchone(
                # MIN(a, b, c) would be NULL as soon as one part is: take the MIN of a union.
                "SELECT MIN(due) FROM ("
                " SELECT MIN(due_at) AS due FROM reminders WHERE state = 'pending' AND due_at <= :now"
                " UNION ALL SELECT MIN(not_before) FROM outbox WHERE state = 'pending' AND not_before <= :now"
                " UNION ALL SELECT MIN(not_before) FROM outbox WHERE state = 'sending') AS due_times",
                {"now": to_unix(now)},
            )
        return from_unix(row[0]) if row is not None and row[0] is not None else None

    async def counts(self) -> list[OutboxCount]:
        """Every outbox row counted by state, late flag and error kind (for the metrics endpoint)."""
        async with self._db.read() as session:
            rows = await session.fetchall(
                "SELECT state, late, error_kind, COUNT(*) FROM outbox GROUP BY state, late, error_kind"
            )
        return [
            OutboxCount(OutboxState(state), bool(late), ErrorKind(kind) if kind is not None else None, count)
            for state, late, kind, count in rows
        ]

    async def skip_missed_reminders(self, now: datetime, missed_before: datetime, limit: int) -> list[ReminderOutcome]:
        """Skip pending reminders due before ``missed_before``: too old to be worth posting."""
        return await self._skip_reminders(
            "r.state = 'pending' AND r.due_at < :before",
            {"before": to_unix(missed_before)},
            MISSED_NOTE,
            now,
            limit,
        )

    async def skip_superseded_reminders(self, now: datetime, limit: int) -> list[ReminderOutcome]:
        """Of several due reminders of one event (downtime across offsets), skip all but the latest."""
        return await self._skip_reminders(
            "r.state = 'pending' AND r.due_at <= :now AND EXISTS (SELECT 1 FROM reminders AS n"
            " WHERE n.guild_id = r.guild_id AND n.kind = r.kind AND n.event_id = r.event_id"
            " AND n.state = 'pending' AND n.due_at <= :now AND n.due_at > r.due_at)",
            {},
            SUPERSEDED_NOTE,
            now,
            limit,
        )

    async def _skip_reminders(
        self, where: str, params: dict[str, object], note: str, now: datetime, limit: int
    ) -> list[ReminderOutcome]:
        values = {**params, "now": to_unix(now), "limit": limit, "note": note}
        async with self._db.transaction() as session:
            rows = await session.fetchall(
                f"SELECT {_REMINDER} FROM reminders AS r WHERE {where} ORDER BY r.due_at, r.id LIMIT :limit"
                + session.dialect.claim_rows("r"),
                values,
            )
            reminders = [reminder_from_row(row) for row in rows]
            await session.execute(
                "UPDATE reminders SET state = 'skipped', note = :note, settled_at = :now"
                f" WHERE id {_in_ids(session.dialect, ':ids')}",
                {**values, "ids": ids_json(r.id for r in reminders)},
            )
        return [ReminderOutcome(replace(reminder, state=ReminderState.SKIPPED, note=note)) for reminder in reminders]

    async def fire_due_reminders(
        self, now: datetime, late_before: datetime, limit: int, fan_out: FanOutHandler
    ) -> list[ReminderOutcome]:
        """Fan out pending reminders due by ``now`` and mark them fired, atomically.

        Each reminder's rows and its new state commit together, so a crash can neither lose a
        reminder nor fan it out twice. A fan-out that raises is rolled back alone and the
        reminder is skipped, so one broken handler cannot stall the others.
        """
        stamp = to_unix(now)
        outcomes: list[ReminderOutcome] = []
        async with self._db.transaction() as session:
            rows = await session.fetchall(
                f"SELECT {_REMINDER} FROM reminders AS r WHERE r.state = 'pending' AND r.due_at <= ?"
                " ORDER BY r.due_at, r.id LIMIT ?" + session.dialect.claim_rows("r"),
                (stamp, limit),
            )
            for reminder in (reminder_from_row(row) for row in rows):
                fan = FanOut(session, reminder, late=reminder.due_at < late_before, now=stamp)
                await session.execute("SAVEPOINT fan_out")
                try:
                    await fan_out(fan)
                except Exception:
                    log.exception("fan-out of reminder %d (%s) failed", reminder.id, reminder.kind)
                    await session.execute("ROLLBACK TO fan_out")
                    fan.rows = 0
                    fan.skip("fan-out failed")
                await session.execute("RELEASE fan_out")
                state = ReminderState.FIRED if fan.skip_note is None else ReminderState.SKIPPED
                await session.execute(
                    "UPDATE reminders SET state = ?, note = ?, settled_at = ? WHERE id = ?",
                    (state.value, fan.skip_note, stamp, reminder.id),
                )
                settled = replace(reminder, state=state, note=fan.skip_note)
                outcomes.append(ReminderOutcome(settled, fan.rows, fan.late))
        return outcomes

    async def claim_deliveries(
        self, now: datetime, missed_before: datetime, limit: int, platforms: Collection[Platform]
    ) -> Claim:
        """Mark up to ``limit`` due outbox rows 'sending' and return them with their reminders.

        The claim commits before anything is sent: if the process dies mid-send, the row stays
        'sending' until its lease runs out and a process takes it over (see :meth:`take_over`),
        to re-send it with the same nonce. Rows whose reminder was due before ``missed_before``
        (the bot was down too long) are skipped instead.
        """
        return await self._claim(
            "o.state = 'pending' AND o.not_before <= :now", "updated_at = :now,", now, missed_before, limit, platforms
        )

    async def take_over(
        self, now: datetime, missed_before: datetime, limit: int, platforms: Collection[Platform]
    ) -> Claim:
        """Claim up to ``limit`` rows left 'sending' by a run that can no longer send them: an
        earlier run of this process, or another process whose lease ran out.

        A message may already have gone out for each: the caller looks that up before it
        re-sends (with the same nonce). Their ``updated_at`` stays the time of the first claim,
        from when on the look-up searches.
        """
        return await self._claim(_ORPHANED, "", now, missed_before, limit, platforms)

    async def _claim(
        self,
        where: str,
        stamp: str,
        now: datetime,
        missed_before: datetime,
        limit: int,
        platforms: Collection[Platform],
    ) -> Claim:
        """Claim the rows of ``where`` (see :meth:`claim_deliveries`); ``stamp`` sets more columns."""
        served = sorted(map(str, platforms))
        values: dict[str, object] = {
            "now": to_unix(now),
            "limit": limit,
            "owner": self.claimant.owner,
            "earlier_runs": self.claimant.earlier_runs,
            "lease_until": to_unix(now + self.claimant.lease),
            "note": MISSED_NOTE,
            **{f"platform{index}": platform for index, platform in enumerate(served)},
        }
        in_served = ", ".join(f":platform{index}" for index in range(len(served)))
        async with self._db.transaction() as session:
            rows = await session.fetchall(
                f"SELECT o.*, {reminder_columns('r', 'r_')} FROM outbox AS o"
                " JOIN reminders AS r ON r.id = o.reminder_id"
                f" WHERE {where} AND o.platform IN ({in_served})"
                " ORDER BY o.not_before, o.id LIMIT :limit" + session.dialect.claim_rows("o"),
                values,
            )
            found = [Delivery(outbox_from_row(row), reminder_from_row(row, "r_")) for row in rows]
            stale = [d.row for d in found if d.reminder.due_at < missed_before]
            fresh = [d for d in found if d.reminder.due_at >= missed_before]
            await session.execute(
                "UPDATE outbox SET state = 'skipped', error_detail = :note, updated_at = :now"
                f" WHERE id {_in_ids(session.dialect, ':ids')}",
                {**values, "ids": ids_json(row.id for row in stale)},
            )
            await session.execute(
                f"UPDATE outbox SET state = 'sending', attempts = attempts + 1, {stamp}"
                " claimed_by = :owner, lease_until = :lease_until"
                f" WHERE id {_in_ids(session.dialect, ':ids')}",
                {**values, "ids": ids_json(d.row.id for d in fresh)},
            )
        claimed = tuple(
            replace(d, row=replace(d.row, state=OutboxState.SENDING, attempts=d.row.attempts + 1)) for d in fresh
        )
        return Claim(claimed, tuple(stale))

    async def release(self, row_ids: Iterable[int], now: datetime) -> int:
        """Put claimed rows that were never sent back to pending, due at once, their claim's attempt
        taken back: a stop hands them to the next start instead of leaving them to crash recovery.

        Returns the number of rows released (a row forgotten meanwhile is not).
        """
        async with self._db.read() as session:
            return await session.execute(
                "UPDATE outbox SET state = 'pending', attempts = attempts - 1, updated_at = ?,"
                " claimed_by = NULL, lease_until = NULL"
                f" WHERE state = 'sending' AND claimed_by = ? AND id {_in_ids(session.dialect, '?')}",
                (to_unix(now), self.claimant.owner, ids_json(row_ids)),
            )

    async def mark_sent(self, row_id: int, message_id: str, now: datetime, *, unverified: bool = False) -> None:
        """``unverified``: re-sent after a crash without being able to tell whether it had gone out."""
        kind = ErrorKind.POSSIBLY_DUPLICATED if unverified else None
        await self._settle(row_id, OutboxState.SENT, now, message_id=message_id, error_kind=kind)

    async def mark_failed(self, row_id: int, kind: ErrorKind, detail: str, now: datetime) -> None:
        await self._settle(row_id, OutboxState.FAILED, now, error_kind=kind, error_detail=detail)

    async def mark_skipped(self, row_id: int, detail: str, now: datetime) -> None:
        await self._settle(row_id, OutboxState.SKIPPED, now, error_detail=detail)

    async def retry_later(self, row_id: int, not_before: datetime, kind: ErrorKind, detail: str, now: datetime) -> None:
        """Back to pending until ``not_before``, keeping the last error for the status view."""
        await self._settle(
            row_id, OutboxState.PENDING, now, error_kind=kind, error_detail=detail, not_before=not_before
        )

    async def _settle(
        self,
        row_id: int,
        state: OutboxState,
        now: datetime,
        *,
        message_id: str | None = None,
        error_kind: ErrorKind | None = None,
        error_detail: str | None = None,
        not_before: datetime | None = None,
    ) -> None:
        # Only a row this run still holds: one forgotten (deleted) meanwhile must stay gone, and
        # one another process took over (our lease ran out) is that process's to record.
        async with self._db.read() as session:
            await session.execute(
                "UPDATE outbox SET state = :state, updated_at = :now, message_id = :message_id,"
                " error_kind = :kind, error_detail = :detail, not_before = COALESCE(:not_before, not_before)"
                " WHERE id = :id AND state = 'sending' AND claimed_by = :owner",
                {
                    "id": row_id,
                    "owner": self.claimant.owner,
                    "state": state.value,
                    "now": to_unix(now),
                    "message_id": message_id,
                    "kind": error_kind.value if error_kind is not None else None,
                    "detail": error_detail,
                    "not_before": to_unix(not_before) if not_before is not None else None,
                },
            )
