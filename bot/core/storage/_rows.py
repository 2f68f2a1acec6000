"""Conversions from database rows to the typed models (shared by the store and the queue)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import timedelta

from bot.core.storage.database import Row
from bot.core.storage.models import (
    BackfillState,
    ErrorKind,
    GuildSettings,
    OutboxRow,
    OutboxState,
    Platform,
    Reminder,
    ReminderState,
    RoleBackfill,
    Target,
    from_unix,
)

REMINDER_COLUMNS = ("id", "guild_id", "kind", "event_id", "offset_s", "due_at", "state", "note")


def reminder_columns(table: str, prefix: str = "") -> str:
    """``table.col AS prefixcol, ...`` so a join can carry a reminder next to an outbox row."""
    return ", ".join(f"{table}.{column} AS {prefix}{column}" for column in REMINDER_COLUMNS)


def ids_json(ids: Iterable[int]) -> str:
    """A JSON array for the dialect's ``array_elements``: one parameter, any number of ids."""
    return json.dumps(list(ids))


def normalize_offsets(offsets: Iterable[timedelta]) -> tuple[timedelta, ...]:
    """Whole seconds, without repeats, largest first: the form stored and handed out."""
    seconds = {int(offset.total_seconds()) for offset in offsets}
    if any(value < 0 for value in seconds):
        raise ValueError("reminder offsets cannot be negative")
    return tuple(timedelta(seconds=value) for value in sorted(seconds, reverse=True))


def offsets_json(offsets: Iterable[timedelta]) -> str:
    return json.dumps([int(offset.total_seconds()) for offset in normalize_offsets(offsets)])


def settings_from_row(row: Row) -> GuildSettings:
    return GuildSettings(
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        ping_role_id=row["ping_role_id"],
        release_offsets=tuple(timedelta(seconds=value) for value in json.loads(row["release_offsets"])),
        timezone=row["timezone"],
        platform=Platform(row["platform"]),
    )


def reminder_from_row(row: Row, prefix: str = "") -> Reminder:
    return Reminder(
        id=row[f"{prefix}id"],
        guild_id=row[f"{prefix}guild_id"],
        kind=row[f"{prefix}kind"],
        event_id=row[f"{prefix}event_id"],
        offset=timedelta(seconds=row[f"{prefix}offset_s"]),
        due_at=from_unix(row[f"{prefix}due_at"]),
        state=ReminderState(row[f"{prefix}state"]),
        note=row[f"{prefix}note"],
    )


def outbox_from_row(row: Row) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        guild_id=row["guild_id"],
        reminder_id=row["reminder_id"],
        target=Target(row["target"]),
        target_id=row["target_id"],
        nonce=row["nonce"],
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        not_before=from_unix(row["not_before"]),
        late=bool(row["late"]),
        error_kind=ErrorKind(row["error_kind"]) if row["error_kind"] is not None else None,
        error_detail=row["error_detail"],
        message_id=row["message_id"],
        updated_at=from_unix(row["updated_at"]),
        platform=Platform(row["platform"]),
    )


def backfill_from_row(row: Row) -> RoleBackfill:
    """A ``role_backfills`` row with its ``handled`` and ``total`` counts selected alongside."""
    return RoleBackfill(
        id=row["id"],
        guild_id=row["guild_id"],
        role_id=row["role_id"],
        last_user_id=row["last_user_id"],
        failed=row["failed"],
        state=BackfillState(row["state"]),
        note=row["note"],
        handled=row["handled"],
        total=row["total"],
    )
