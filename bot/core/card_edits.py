"""At most one edit under way per posted party card; changes meanwhile share the next edit.

A busy party gets hundreds of answers at once, and each edit of its card is a network round
trip the platform also rate-limits. So a change to a card whose edit is under way only marks it
stale: when the edit lands, the next one reads the card afresh from the database, so every change
of that round trip shares one edit and the last edit carries the latest counts. Edits of one card
never overlap, and none carries a card older than the one before it.

Platform-neutral: the adapter says how to read the card, how to edit the message, and which
errors mean "the platform refused or the network lost it" (logged; the card waits for the next
change), and which of those are a rate limit worth waiting out (the edit is tried again after the
wait the platform asked for, a few times at most). The Discord adapter adds answering a click
with the card itself (``bot.discord.parties``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from bot.core.replies import Reply

log = logging.getLogger(__name__)

ReadCard = Callable[[], Awaitable[Reply | None]]
"""The party's card as the database has it now; None once the party is gone."""
CardEdit = Callable[[Reply], Awaitable[object]]
"""One way to put a card in place of a card message."""
RetryAfter = Callable[[BaseException], float | None]
"""Seconds the platform asks to wait before editing again, or None for a failure not worth retrying."""
RATE_LIMIT_RETRIES = 3


@dataclass(eq=False)
class CardUnderEdit:
    read: ReadCard
    edit: CardEdit | None
    """How the next edit goes; None until the adapter knows one (a private copy not yet answered)."""
    stale: bool = False
    """Changed since the edit under way read the card: one more edit follows."""
    shown: Reply | None = None
    """The card the last edit put in place: reading the same again needs no edit."""
    done: asyncio.Event = field(default_factory=asyncio.Event)


class CardEdits:
    """Per card message (any hashable key the adapter picks), at most one edit under way."""

    def __init__(self, edit_failed: tuple[type[BaseException], ...], retry_after: RetryAfter | None = None) -> None:
        self._edit_failed = edit_failed
        self._retry_after = retry_after
        self._cards: dict[Hashable, CardUnderEdit] = {}

    def under_way(self, key: Hashable) -> CardUnderEdit | None:
        return self._cards.get(key)

    def begin(self, key: Hashable, read: ReadCard, edit: CardEdit | None, *, stale: bool) -> CardUnderEdit:
        """Mark an edit of ``key`` under way (none may be); end it with :meth:`edit_while_stale`."""
        assert key not in self._cards
        entry = self._cards[key] = CardUnderEdit(read, edit, stale=stale)
        return entry

    async def settled(self, key: Hashable) -> None:
        """Returns once no edit of that card message is under way (at once if none is)."""
        entry = self._cards.get(key)
        if entry is not None:
            await entry.done.wait()

    async def refresh(self, key: Hashable, read: ReadCard, edit: CardEdit) -> None:
        """The card of ``key`` changed: edit it now, or right after the edit under way.
        Returns once an edit that read the change has ended."""
        entry = self._cards.get(key)
        if entry is not None:
            entry.stale = True
            await entry.done.wait()
            return
        await self.edit_while_stale(key, self.begin(key, read, edit, stale=True))

    def edit_began(self, key: Hashable) -> None:
        """Called as each edit begins, its card read (the Discord adapter watches for these)."""

    async def edit_while_stale(self, key: Hashable, entry: CardUnderEdit) -> None:
        """Edit until the card is no longer stale, then end the edit under way."""
        retries = 0
        try:
            while entry.stale:
                entry.stale = False
                card = await entry.read()
                if card is None or card == entry.shown or entry.edit is None:
                    continue
                self.edit_began(key)
                try:
                    await entry.edit(card)
                except self._edit_failed as exc:
                    wait = self._retry_after(exc) if self._retry_after is not None else None
                    if wait is None or retries == RATE_LIMIT_RETRIES:
                        log.warning("could not update card %s: %s", key, exc)
                        continue
                    retries += 1
                    log.info("card %s: rate limited, editing again in %.1f s", key, wait)
                    await asyncio.sleep(wait)
                    entry.stale = True  # read afresh: clicks may have come meanwhile
                else:
                    entry.shown = card
        finally:
            del self._cards[key]
            entry.done.set()
