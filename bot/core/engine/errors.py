"""Errors a :class:`~bot.core.engine.protocols.Transport` raises, mapped from platform errors.

Adapters translate, for example, Discord's 404/10003 into :class:`ChannelMissing` and
403/50013/50001 into :class:`MissingPermissions`. Messages end up in the status view, so they
must not contain tokens or other secrets.
"""

from __future__ import annotations

from typing import ClassVar

from bot.core.storage.models import ErrorKind


class DeliveryError(Exception):
    """Base of every error a transport raises on purpose."""


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help: the row fails with :attr:`kind`, shown to the guild's moderators."""

    kind: ClassVar[ErrorKind]


class ChannelMissing(PermanentDeliveryError):
    kind = ErrorKind.MISSING_CHANNEL


class MissingPermissions(PermanentDeliveryError):
    kind = ErrorKind.FORBIDDEN


class DMsClosed(PermanentDeliveryError):
    kind = ErrorKind.DMS_CLOSED


class UnknownUser(PermanentDeliveryError):
    kind = ErrorKind.UNKNOWN_USER


class RecipientLeft(PermanentDeliveryError):
    """The member is no longer in the server the message is for (not: they refuse DMs)."""

    kind = ErrorKind.RECIPIENT_LEFT


class ChannelArchived(PermanentDeliveryError):
    kind = ErrorKind.ARCHIVED


class AccountInactive(PermanentDeliveryError):
    """The member's account was deactivated."""

    kind = ErrorKind.ACCOUNT_INACTIVE


class TransientDeliveryError(DeliveryError):
    """A server error or network failure: retried with backoff, a limited number of times."""


class RateLimited(DeliveryError):
    """The platform asked us to slow down; the send is retried without counting an attempt."""

    def __init__(self, retry_after: float, *, is_global: bool) -> None:
        super().__init__(f"rate limited for {retry_after:.2f}s ({'global' if is_global else 'route'})")
        self.retry_after = retry_after
        self.is_global = is_global
