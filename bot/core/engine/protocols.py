"""The two ports of the engine: how messages leave (Transport) and what an event sends (EventKind)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from bot.core.replies import Reply
from bot.core.storage import FanOut, OutboxRow, Reminder


class Transport(Protocol):
    """Sends one message; implemented by the Discord and Slack adapters.

    Both methods return the platform's message id and raise the errors of
    :mod:`bot.core.engine.errors`. ``nonce`` is unique per message and the same on a re-send
    after a crash, so the platform can drop the duplicate (Discord: ``enforce_nonce``).
    """

    async def send_channel(self, channel_id: str, reply: Reply, nonce: str) -> str: ...

    async def send_dm(self, user_id: str, reply: Reply, nonce: str) -> str: ...


class EventKind(Protocol):
    """Everything the engine needs to know about one kind of event ('release', later 'party')."""

    @property
    def name(self) -> str:
        """The ``kind`` of the reminders this handler serves."""
        ...

    async def fan_out(self, fan: FanOut) -> None:
        """Write the outbox rows of a due reminder through ``fan`` (or ``fan.skip(why)``).

        This runs inside the engine's write transaction, which holds the database: read and
        write only through ``fan`` (SQL on its session), never through a store, or it deadlocks.
        """
        ...

    async def render(self, reminder: Reminder, row: OutboxRow) -> Sequence[Reply]:
        """The messages of one outbox row, built when it is sent so they show the current state.

        Several replies are posted in order, each with its own nonce; none skips the row.
        """
        ...
