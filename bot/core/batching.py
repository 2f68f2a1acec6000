"""Group commit: many concurrent callers, one database trip per batch.

Every statement waits its turn on the bot's one SQLite connection, and each turn costs an
event-loop round trip to the database thread. When hundreds of members click at once, those
round trips, not SQLite, make the queue. A :class:`GroupCommit` lets the first caller go at
once; callers arriving while its batch is in the database wait together and go as the next
batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Runs ``handle`` on batches of submitted items; ``handle`` returns one result per item, in order.

    Two items with the same ``key`` never share a batch: the later one goes in a later batch, so
    it sees what the earlier one wrote.
    """

    def __init__(
        self,
        handle: Callable[[Sequence[T]], Awaitable[Sequence[R]]],
        key: Callable[[T], Hashable],
        *,
        limit: int = 100,
    ) -> None:
        self._handle = handle
        self._key = key
        self._limit = limit
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._runner: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._runner is None:
            self._runner = asyncio.create_task(self._run(), name="group-commit")
        return await future

    def _next_batch(self) -> list[tuple[T, asyncio.Future[R]]]:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        keys: set[Hashable] = set()
        later: list[tuple[T, asyncio.Future[R]]] = []
        for entry in self._pending:
            key = self._key(entry[0])
            if entry[1].done():  # its caller was cancelled
                continue
            if key in keys or len(batch) >= self._limit:
                later.append(entry)
            else:
                keys.add(key)
                batch.append(entry)
        self._pending = later
        return batch

    async def _run(self) -> None:
        try:
            while batch := self._next_batch():
                await self._settle(batch)
        finally:
            self._runner = None
            for _, future in self._pending:  # left only if this task was cancelled
                future.cancel()
            self._pending = []

    async def _settle(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            results = await self._handle([item for item, _ in batch])
        except BaseException as exc:
            failed = isinstance(exc, Exception)  # else cancelled: the callers are cancelled too
            for _, future in batch:
                if future.done():
                    continue
                if failed:
                    future.set_exception(exc)
                else:
                    future.cancel()
            if not failed:
                raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
