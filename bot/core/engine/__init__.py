"""The reminder engine: due reminders → outbox rows → messages, through a platform Transport."""

from bot.core.engine.engine import EngineConfig, ReminderEngine
from bot.core.engine.errors import (
    AccountInactive,
    ChannelArchived,
    ChannelMissing,
    DeliveryError,
    DMsClosed,
    MissingPermissions,
    PermanentDeliveryError,
    RateLimited,
    RecipientLeft,
    TransientDeliveryError,
    UnknownUser,
)
from bot.core.engine.protocols import EventKind, Pacing, Transport
from bot.core.engine.ratelimit import ChannelPacer, RateLimiter, RequestWindow
from bot.core.engine.release import ReleaseKind, ReleaseNotice, ReleaseRenderer

__all__ = [
    "AccountInactive",
    "ChannelArchived",
    "ChannelMissing",
    "ChannelPacer",
    "DMsClosed",
    "DeliveryError",
    "EngineConfig",
    "EventKind",
    "MissingPermissions",
    "Pacing",
    "PermanentDeliveryError",
    "RateLimited",
    "RateLimiter",
    "RecipientLeft",
    "ReleaseKind",
    "ReleaseNotice",
    "ReleaseRenderer",
    "ReminderEngine",
    "RequestWindow",
    "TransientDeliveryError",
    "Transport",
    "UnknownUser",
]
