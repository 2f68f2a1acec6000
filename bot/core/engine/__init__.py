"""The reminder engine: due reminders → outbox rows → messages, through a platform Transport."""

from bot.core.engine.engine import EngineConfig, ReminderEngine
from bot.core.engine.errors import (
    ChannelMissing,
    DeliveryError,
    DMsClosed,
    MissingPermissions,
    PermanentDeliveryError,
    RateLimited,
    TransientDeliveryError,
    UnknownUser,
)
from bot.core.engine.protocols import EventKind, Transport
from bot.core.engine.ratelimit import ChannelPacer, RateLimiter
from bot.core.engine.release import ReleaseKind, ReleaseNotice, ReleaseRenderer

__all__ = [
    "ChannelMissing",
    "ChannelPacer",
    "DMsClosed",
    "DeliveryError",
    "EngineConfig",
    "EventKind",
    "MissingPermissions",
    "PermanentDeliveryError",
    "RateLimited",
    "RateLimiter",
    "ReleaseKind",
    "ReleaseNotice",
    "ReleaseRenderer",
    "ReminderEngine",
    "TransientDeliveryError",
    "Transport",
    "UnknownUser",
]
