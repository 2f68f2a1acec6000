"""What the command layer reads and writes: guild settings, subscriptions, status, data removal.

Release reminders follow the settings on their own: every change of a guild's offsets, and every
:meth:`Store.set_release`, reschedules them in the same transaction. After such a change, call
the engine's ``notify_changed()`` so it can wake up earlier if needed.

Guild removal rule: when the bot leaves or is removed from a guild, call
:meth:`Store.forget_guild`; it deletes the settings row and, by cascade, every subscription,
reminder and outbox row of that guild. :meth:`Store.forget_member` serves a member's data
deletion request (``/ballerina forget-me``).
"""

from __future__ import annotations

import zoneinfo
from dataclasses import replace
from datetime import datetime, timedelta
from enum import Enum
from functools import cache
from typing import Final, Literal, TypeAlias

from bot.core.clock import Clock
from bot.core.storage._rows import (
    backfill_from_row,
    normalize_offsets,
    offsets_json,
    outbox_from_row,
    reminder_columns,
    reminder_from_row,
    settings_from_row,
)
from bot.core.storage.database import Database, Dialect, Session
from bot.core.storage.models import (
    BackfillState,
    DeliveryProblems,
    ErrorKind,
    GuildSettings,
    Platform,
    Reminder,
    RoleBackfill,
    Subscription,
    Via,
    from_unix,
    to_unix,
)

RELEASE_KIND: Final = "release"


class _Unset(Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET
"""Default of :meth:`Store.update_guild_settings` arguments: leave the setting as it is."""
Unset: TypeAlias = Literal[_Unset.UNSET]


@cache
def _cancel_dropped_offsets(d: Dialect) -> str:
    """Cancels pending release reminders whose offset is no longer in the guild's list."""
    return f"""
UPDATE reminders SET state = 'cancelled', note = 'offset removed from settings', settled_at = :now
WHERE kind = :kind AND state = 'pending' AND (CAST(:guild AS TEXT) IS NULL OR guild_id = :guild)
  AND offset_s NOT IN (
      SELECT CAST(j.value AS BIGINT) FROM guild_settings AS g, {d.array_elements("g.release_offsets")} AS j
      WHERE g.guild_id = reminders.guild_id)
"""


@cache
def _schedule_release(d: Dialect) -> str:
    """One reminder per (guild, film, offset). Offsets already past when scheduled are recorded as
    skipped, so configuring "7d" two days before the release never posts a stale reminder. An
    existing pending row keeps its state unless the release moved: after downtime the engine, not
    this statement, decides whether an overdue reminder is posted late or skipped."""
    return f"""
INSERT INTO reminders (guild_id, kind, event_id, offset_s, due_at, state, note, settled_at)
SELECT guild_id, :kind, film_id, offset_s, due_at,
       CASE WHEN due_at < :now THEN 'skipped' ELSE 'pending' END,
       CASE WHEN due_at < :now THEN 'already past when scheduled' END,
       CASE WHEN due_at < :now THEN :now END
FROM (SELECT g.guild_id, r.film_id, CAST(j.value AS BIGINT) AS offset_s,
             r.release_at - CAST(j.value AS BIGINT) AS due_at
      FROM guild_settings AS g, {d.array_elements("g.release_offsets")} AS j, releases AS r
      WHERE CAST(:guild AS TEXT) IS NULL OR g.guild_id = :guild) AS due
WHERE true
ON CONFLICT (guild_id, kind, event_id, offset_s) DO UPDATE SET
    due_at = excluded.due_at, state = excluded.state, note = excluded.note,
    settled_at = excluded.settled_at
WHERE reminders.state = 'cancelled' OR (reminders.state = 'pending' AND reminders.due_at <> excluded.due_at)
"""


async def _schedule_release_reminders(session: Session, now: int, guild_id: str | None) -> None:
    """Bring the release reminders of one guild (or all, with None) in line with the settings."""
    params = {"now": now, "guild": guild_id, "kind": RELEASE_KIND}
    await session.execute(_cancel_dropped_offsets(session.dialect), params)
    await session.execute(_schedule_release(session.dialect), params)


def _check_timezone(name: str) -> None:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


class Store:
    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    def _now(self) -> int:
        return to_unix(self._clock.now())

    # -- guild settings ------------------------------------------------------------------------

    async def find_guild_settings(self, guild_id: str) -> GuildSettings | None:
        """The stored settings, or None for a guild the bot knows nothing about."""
        async with self._db.read() as session:
            row = await session.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return settings_from_row(row) if row is not None else None

    async def get_guild_settings(self, guild_id: str) -> GuildSettings:
        """The stored settings, or the defaults for a guild that never changed any."""
        return await self.find_guild_settings(guild_id) or GuildSettings(guild_id)

    async def update_guild_settings(
        self,
        guild_id: str,
        *,
        channel_id: str | Unset | None = UNSET,
        ping_role_id: str | Unset | None = UNSET,
        release_offsets: tuple[timedelta, ...] | Unset = UNSET,
        timezone: str | Unset = UNSET,
    ) -> GuildSettings:
        """Change only the given settings (None clears the channel or the role)."""
        if timezone is not UNSET:
            _check_timezone(timezone)
        async with self._db.transaction() as session:
            await session.lock("guild_settings", "guild_id", [guild_id])
            row = await session.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
            settings = settings_from_row(row) if row is not None else GuildSettings(guild_id)
            if channel_id is not UNSET:
                settings = replace(settings, channel_id=channel_id)
            if ping_role_id is not UNSET:
                settings = replace(settings, ping_role_id=ping_role_id)
            if release_offsets is not UNSET:
                settings = replace(settings, release_offsets=normalize_offsets(release_offsets))
            if timezone is not UNSET:
                settings = replace(settings, timezone=timezone)
            await self._write_settings(session, settings)
        return settings

    async def reset_guild_settings(self, guild_id: str) -> GuildSettings:
        """Back to the defaults (no ping role, so no back-fill either); subscriptions stay."""
        async with self._db.transaction() as session:
            await self._write_settings(session, GuildSettings(guild_id))
            await session.execute("DELETE FROM role_backfills WHERE guild_id = ?", (guild_id,))
        return GuildSettings(guild_id)

    async def set_ping_role(self, guild_id: str, role_id: str | None) -> RoleBackfill | None:
        """Set (or with None clear) the ping role; returns the back-fill it starts, if any.

        A back-fill starts when members already opted in in the channel: they never got this
        role. Setting the role again starts over, so it also retries the members who failed.
        """
        async with self._db.transaction() as session:
            await session.lock("guild_settings", "guild_id", [guild_id])
            row = await session.fetchone("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
            settings = settings_from_row(row) if row is not None else GuildSettings(guild_id)
            await self._write_settings(session, replace(settings, ping_role_id=role_id))
            await session.execute("DELETE FROM role_backfills WHERE guild_id = ?", (guild_id,))
            if role_id is not None:
                now = self._now()
                await session.execute(
                    "INSERT INTO role_backfills (guild_id, role_id, started_at, updated_at)"
                    " SELECT ?, ?, ?, ? WHERE EXISTS"
                    " (SELECT 1 FROM subscriptions WHERE guild_id = ? AND via = 'channel')",
                    (guild_id, role_id, now, now, guild_id),
                )
        return await self.role_backfill(guild_id)

    async def _write_settings(self, session: Session, settings: GuildSettings) -> None:
        now = self._now()
        await session.execute(
            "INSERT INTO guild_settings (guild_id, channel_id, ping_role_id, release_offsets, timezone, platform,"
            " created_at, updated_at) VALUES (:guild, :channel, :role, :offsets, :tz, :platform, :now, :now)"
            " ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,"
            " ping_role_id = excluded.ping_role_id, release_offsets = excluded.release_offsets,"
            " timezone = excluded.timezone, updated_at = excluded.updated_at",
            {
                "guild": settings.guild_id,
                "channel": settings.channel_id,
                "role": settings.ping_role_id,
                "offsets": offsets_json(settings.release_offsets),
                "tz": settings.timezone,
                "platform": settings.platform.value,
                "now": now,
            },
        )
        await _schedule_release_reminders(session, now, settings.guild_id)

    async def ensure_guild(self, guild_id: str, platform: Platform = Platform.DISCORD) -> None:
        """Give a guild its settings row, which parties and subscriptions hang from.

        An adapter other than Discord's calls this before anything else writes for the guild, so
        the row is created with its platform (later writes keep it)."""
        async with self._db.transaction() as session:
            await self._ensure_guild(session, guild_id, platform)

    async def _ensure_guild(self, session: Session, guild_id: str, platform: Platform = Platform.DISCORD) -> None:
        """Give a guild its default settings row (and reminders) the first time it is seen."""
        exists = await session.fetchone("SELECT 1 FROM guild_settings WHERE guild_id = ?", (guild_id,))
        if exists is None:
            await self._write_settings(session, GuildSettings(guild_id, platform=platform))

    # -- moderators the bot decides (platforms without per-role command permissions) -------------

    async def moderator_ids(self, guild_id: str) -> set[str]:
        """The members a moderator made moderators of the bot in this guild."""
        async with self._db.read() as session:
            rows = await session.fetchall("SELECT user_id FROM moderators WHERE guild_id = ?", (guild_id,))
        return {row["user_id"] for row in rows}

    async def add_moderator(self, guild_id: str, user_id: str, added_by: str) -> bool:
        """Make a member a moderator of the bot; False when they already were."""
        async with self._db.transaction() as session:
            added = await session.execute(
                "INSERT INTO moderators (guild_id, user_id, added_by, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (guild_id, user_id) DO NOTHING",
                (guild_id, user_id, added_by, self._now()),
            )
        return added > 0

    async def remove_moderator(self, guild_id: str, user_id: str) -> bool:
        """False when the member was no moderator the bot had been given."""
        async with self._db.transaction() as session:
            removed = await session.execute(
                "DELETE FROM moderators WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
        return removed > 0

    # -- the release ---------------------------------------------------------------------------

    async def set_release(self, film_id: str, release_at: datetime) -> None:
        """Record when a film comes out and (re)schedule its reminders for every guild."""
        now = self._now()
        async with self._db.transaction() as session:
            await session.execute(
                "INSERT INTO releases (film_id, release_at) VALUES (?, ?)"
                " ON CONFLICT (film_id) DO UPDATE SET release_at = excluded.release_at",
                (film_id, to_unix(release_at)),
            )
            await _schedule_release_reminders(session, now, None)

    # -- subscriptions -------------------------------------------------------------------------

    async def subscribe(self, guild_id: str, user_id: str, via: Via) -> Via | None:
        """Subscribe a member (or switch how they are reminded); returns the previous way, if any."""
        async with self._db.transaction() as session:
            await self._ensure_guild(session, guild_id)
            previous = await session.fetchone(
                "SELECT via FROM subscriptions WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
            await session.execute(
                "INSERT INTO subscriptions (guild_id, user_id, via, created_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (guild_id, user_id) DO UPDATE SET via = excluded.via",
                (guild_id, user_id, via.value, self._now()),
            )
        return Via(previous["via"]) if previous is not None else None

    async def unsubscribe(self, guild_id: str, user_id: str) -> bool:
        """Returns whether the member was subscribed."""
        async with self._db.transaction() as session:
            changed = await session.execute(
                "DELETE FROM subscriptions WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
        return changed > 0

    async def get_subscription(self, guild_id: str, user_id: str) -> Subscription | None:
        async with self._db.read() as session:
            row = await session.fetchone(
                "SELECT * FROM subscriptions WHERE guild_id = ? AND user_id = ?", (guild_id, user_id)
            )
        if row is None:
            return None
        return Subscription(row["guild_id"], row["user_id"], Via(row["via"]), from_unix(row["created_at"]))

    async def count_subscribers(self, guild_id: str) -> dict[Via, int]:
        async with self._db.read() as session:
            rows = await session.fetchall(
                "SELECT via, COUNT(*) AS n FROM subscriptions WHERE guild_id = ? GROUP BY via", (guild_id,)
            )
        counts = dict.fromkeys(Via, 0)
        counts.update({Via(row["via"]): row["n"] for row in rows})
        return counts

    async def channel_subscribers(self, guild_id: str) -> list[str]:
        """The members who opted in to channel reminders, in the order they did."""
        async with self._db.read() as session:
            rows = await session.fetchall(
                "SELECT user_id FROM subscriptions WHERE guild_id = ? AND via = 'channel' ORDER BY created_at, user_id",
                (guild_id,),
            )
        return [row["user_id"] for row in rows]

    # -- the ping role back-fill ---------------------------------------------------------------

    async def role_backfill(self, guild_id: str) -> RoleBackfill | None:
        """The guild's latest back-fill with its progress, or None when there is none."""
        async with self._db.read() as session:
            row = await session.fetchone(
                "SELECT b.*, (SELECT COUNT(*) FROM subscriptions AS s"
                "  WHERE s.guild_id = b.guild_id AND s.via = 'channel') AS total,"
                " (SELECT COUNT(*) FROM subscriptions AS s WHERE s.guild_id = b.guild_id AND s.via = 'channel'"
                "  AND s.user_id <= b.last_user_id) AS handled"
                " FROM role_backfills AS b WHERE b.guild_id = ?",
                (guild_id,),
            )
        return backfill_from_row(row) if row is not None else None

    async def running_role_backfills(self) -> list[str]:
        """The guilds whose back-fill is still under way (to resume after a restart)."""
        async with self._db.read() as session:
            rows = await session.fetchall("SELECT guild_id FROM role_backfills WHERE state = 'running'")
        return [row["guild_id"] for row in rows]

    async def next_channel_subscriber(self, guild_id: str, after: str | None) -> str | None:
        """The channel opt-in that follows ``after`` in user_id order (the first with None)."""
        async with self._db.read() as session:
            row = await session.fetchone(
                "SELECT user_id FROM subscriptions WHERE guild_id = :guild AND via = 'channel'"
                " AND (CAST(:after AS TEXT) IS NULL OR user_id > :after) ORDER BY user_id LIMIT 1",
                {"guild": guild_id, "after": after},
            )
        return row["user_id"] if row is not None else None

    async def advance_role_backfill(self, backfill_id: int, user_id: str, *, failed: bool) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                "UPDATE role_backfills SET last_user_id = ?, failed = failed + ?, updated_at = ?"
                " WHERE id = ? AND state = 'running'",
                (user_id, int(failed), self._now(), backfill_id),
            )

    async def end_role_backfill(self, backfill_id: int, state: BackfillState, note: str | None = None) -> None:
        async with self._db.transaction() as session:
            await session.execute(
                "UPDATE role_backfills SET state = ?, note = ?, updated_at = ? WHERE id = ?",
                (state.value, note, self._now(), backfill_id),
            )

    # -- status --------------------------------------------------------------------------------

    async def upcoming_reminders(self, guild_id: str, limit: int = 5) -> list[Reminder]:
        """The guild's next pending reminders, soonest first."""
        async with self._db.read() as session:
            rows = await session.fetchall(
                f"SELECT {reminder_columns('reminders')} FROM reminders"
                " WHERE guild_id = ? AND state = 'pending' ORDER BY due_at, id LIMIT ?",
                (guild_id, limit),
            )
        return [reminder_from_row(row) for row in rows]

    async def delivery_problems(
        self, guild_id: str, *, since: timedelta = timedelta(days=7), limit: int = 5
    ) -> DeliveryProblems:
        """Failed (or possibly duplicated) deliveries of the last ``since``: counted by kind, and the latest."""
        params = {"guild": guild_id, "since": self._now() - int(since.total_seconds()), "limit": limit}
        where = (
            "WHERE guild_id = :guild AND updated_at >= :since"
            " AND (state = 'failed' OR (state = 'sent' AND error_kind = 'possibly_duplicated'))"
        )
        async with self._db.read() as session:
            counted = await session.fetchall(
                f"SELECT error_kind, COUNT(*) AS n FROM outbox {where} GROUP BY error_kind", params
            )
            recent = await session.fetchall(
                f"SELECT * FROM outbox {where} ORDER BY updated_at DESC, id DESC LIMIT :limit", params
            )
        return DeliveryProblems(
            counts={ErrorKind(row["error_kind"]): row["n"] for row in counted},
            recent=tuple(outbox_from_row(row) for row in recent),
        )

    # -- the bot's own state (e.g. the hash of the registered command set) ---------------------

    async def get_state(self, key: str) -> str | None:
        async with self._db.read() as session:
            row = await session.fetchone("SELECT value FROM bot_state WHERE key = ?", (key,))
        return row["value"] if row is not None else None

    async def set_state(self, key: str, value: str) -> None:
        async with self._db.read() as session:
            await session.execute(
                "INSERT INTO bot_state (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- data removal --------------------------------------------------------------------------

    async def guild_ids(self) -> list[str]:
        """Every guild the bot keeps data for (all of it hangs from the guild's settings row)."""
        async with self._db.read() as session:
            rows = await session.fetchall("SELECT guild_id FROM guild_settings ORDER BY guild_id")
        return [row["guild_id"] for row in rows]

    async def forget_guild(self, guild_id: str) -> bool:
        """Delete everything stored about a guild (cascading); returns whether there was anything."""
        async with self._db.transaction() as session:
            changed = await session.execute("DELETE FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return changed > 0

    async def forget_member(self, guild_id: str, user_id: str, *, own_settings: bool = True) -> list[int]:
        """Delete what the bot keeps about a member: their reminder sign-up, their answers to the
        guild's watch parties and every DM row of the guild addressed to them, and (unless
        ``own_settings`` is false) their own settings (time zone, party reminders by DM), which
        are the same in every guild.

        Returns the ids of the parties they had answered, whose cards now count them no more.
        """
        async with self._db.transaction() as session:
            await session.execute("DELETE FROM subscriptions WHERE guild_id = ? AND user_id = ?", (guild_id, user_id))
            await session.execute(
                "DELETE FROM outbox WHERE guild_id = ? AND target = 'dm' AND target_id = ?",
                (guild_id, user_id),
            )
            answered = await session.fetchall(
                "DELETE FROM rsvps WHERE user_id = ? AND party_id IN (SELECT id FROM parties WHERE guild_id = ?)"
                " RETURNING party_id",
                (user_id, guild_id),
            )
            if own_settings:
                await session.execute("DELETE FROM user_settings WHERE user_id = ?", (user_id,))
        return sorted(row["party_id"] for row in answered)
