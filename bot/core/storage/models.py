"""Typed rows the storage layer hands out; the database keeps Unix seconds, these keep datetimes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

DEFAULT_RELEASE_OFFSETS: tuple[timedelta, ...] = (
    timedelta(days=7),
    timedelta(days=1),
    timedelta(hours=1),
    timedelta(0),
)
DEFAULT_TIMEZONE = "UTC"


def to_unix(instant: datetime) -> int:
    """Whole Unix seconds; rounds down so an instant is never treated as due early."""
    if instant.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass a timezone-aware one")
    return int(instant.timestamp() // 1)


def from_unix(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


class Platform(StrEnum):
    """Where a guild lives: a Discord server or a Slack workspace (which plays a server's part)."""

    DISCORD = "discord"
    SLACK = "slack"


class Via(StrEnum):
    """How a member wants release reminders: by the channel post (with its role ping) or by DM."""

    CHANNEL = "channel"
    DM = "dm"


class Target(StrEnum):
    """Where one outbox row goes."""

    CHANNEL = "channel"
    DM = "dm"


class ReminderState(StrEnum):
    PENDING = "pending"
    FIRED = "fired"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class ErrorKind(StrEnum):
    """Why a delivery failed, as shown to moderators."""

    MISSING_CHANNEL = "missing_channel"
    FORBIDDEN = "forbidden"  # the bot lost permissions in the channel
    DMS_CLOSED = "dms_closed"
    UNKNOWN_USER = "unknown_user"
    RECIPIENT_LEFT = "recipient_left"  # the member left the server the message was for
    ARCHIVED = "archived"  # the channel was archived (Slack)
    ACCOUNT_INACTIVE = "account_inactive"  # the member's account was deactivated
    POSSIBLY_DUPLICATED = "possibly_duplicated"  # sent; re-sent after a crash without a way to check
    TRANSIENT = "transient"  # server or network errors, given up after the last attempt
    UNEXPECTED = "unexpected"  # a bug in a renderer or adapter


@dataclass(frozen=True)
class GuildSettings:
    guild_id: str
    channel_id: str | None = None
    ping_role_id: str | None = None
    release_offsets: tuple[timedelta, ...] = DEFAULT_RELEASE_OFFSETS
    timezone: str = DEFAULT_TIMEZONE
    platform: Platform = Platform.DISCORD
    """Fixed when the row is first written; resetting the settings keeps it."""


@dataclass(frozen=True)
class Subscription:
    guild_id: str
    user_id: str
    via: Via
    created_at: datetime


class BackfillState(StrEnum):
    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"  # the platform refused every grant; see the note


@dataclass(frozen=True)
class RoleBackfill:
    """Giving a guild's ping role to the members who opted in (in the channel) before it was set."""

    id: int
    guild_id: str
    role_id: str
    last_user_id: str | None
    failed: int
    state: BackfillState
    note: str | None
    handled: int
    """Channel opt-ins up to ``last_user_id``: the ones already given the role, or skipped."""
    total: int
    """Channel opt-ins now (those who opt out meanwhile leave both counts)."""


@dataclass(frozen=True)
class Reminder:
    """A reminder ``offset`` before an event (the release, later a watch party) of one guild."""

    id: int
    guild_id: str
    kind: str
    event_id: str
    offset: timedelta
    due_at: datetime
    state: ReminderState
    note: str | None

    @property
    def event_at(self) -> datetime:
        return self.due_at + self.offset


@dataclass(frozen=True)
class OutboxRow:
    id: int
    guild_id: str
    reminder_id: int
    target: Target
    target_id: str
    nonce: str
    state: OutboxState
    attempts: int
    not_before: datetime
    late: bool
    error_kind: ErrorKind | None
    error_detail: str | None
    message_id: str | None
    updated_at: datetime
    platform: Platform = Platform.DISCORD
    """The guild's platform, copied at fan-out: whose transport sends the row."""


@dataclass(frozen=True)
class Delivery:
    """A claimed outbox row together with the reminder it belongs to."""

    row: OutboxRow
    reminder: Reminder


@dataclass(frozen=True)
class DeliveryProblems:
    """Recent failed deliveries of one guild, for the moderators' status view."""

    counts: dict[ErrorKind, int]
    recent: tuple[OutboxRow, ...]

    @property
    def total(self) -> int:
        return sum(self.counts.values())
