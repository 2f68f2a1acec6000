"""The ports of the engine: how messages leave (Transport, with its Pacing) and what an event sends (EventKind)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.core.replies import Reply
from bot.core.storage import FanOut, OutboxRow, Reminder


@dataclass(frozen=True)
class Pacing:
    """One platform's sending rules, brought by its transport: the engine holds none of its own.

    ``rate``/``burst``: a token bucket over every send of the platform, or of each guild when
    ``per_guild`` (Slack's limits are per workspace). ``channel_limit`` messages per
    ``channel_period`` into any one channel (or DM). A DM costs ``dm_requests`` tokens (opening
    the DM channel, then the message).
    """

    rate: float
    burst: int
    channel_limit: int
    channel_period: timedelta
    per_guild: bool = False
    dm_requests: int = 2


class Transport(Protocol):
    """Sends one message; implemented by the Discord and Slack adapters.

    The send methods return the platform's message id and raise the errors of
    :mod:`bot.core.engine.errors`. ``nonce`` is unique per message and the same on a re-send
    after a crash. ``thread_of``: the message id of the row's first message, when this one is a
    reply in its thread (:attr:`Reply.in_thread`).
    """

    @property
    def pacing(self) -> Pacing: ...

    @property
    def subscribers_in_thread(self) -> bool:
        """The platform hands channel subscribers no ping role (Slack), so a channel post without
        a ping group names them in follow-ups in its thread instead."""
        ...

    async def send_channel(self, channel_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str: ...

    async def send_dm(self, user_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str: ...

    async def find_delivered(self, row: OutboxRow, since: datetime) -> Sequence[str] | None:
        """Recovery after a crash: the ids of the row's messages that already went out (claimed at
        ``since``), in part order; ``()`` when none did (or the platform drops a re-send by its
        nonce); None when it cannot be told (the re-send may duplicate)."""
        ...


def part_of(reference: str, row_nonce: str) -> int | None:
    """Which part of the row with ``row_nonce`` a sent message is, from the part nonce
    (``{row_nonce}.{index}``) it carries at the end of ``reference``; None if not one of them."""
    head, _, index = reference.rpartition(".")
    return int(index) if head.endswith(row_nonce) and index.isdigit() else None


def delivered_prefix(found: Mapping[int, str]) -> list[str]:
    """The message ids of the parts found, in order, up to the first part not found: those after
    a gap are sent again (a follow-up cannot come before what it follows)."""
    delivered: list[str] = []
    while len(delivered) in found:
        delivered.append(found[len(delivered)])
    return delivered


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


class RenderingOf:
    """Base of an event kind that changes how another kind's rows are rendered (who gets them, in
    which language): its name and fan-out are the wrapped kind's."""

    def __init__(self, kind: EventKind) -> None:
        self._kind = kind

    @property
    def name(self) -> str:
        return self._kind.name

    async def fan_out(self, fan: FanOut) -> None:
        await self._kind.fan_out(fan)

    async def render(self, reminder: Reminder, row: OutboxRow) -> Sequence[Reply]:
        return await self._kind.render(reminder, row)
