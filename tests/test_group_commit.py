"""GroupCommit: concurrent callers share batches; one key never twice in a batch; failures reach every caller."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from bot.core.batching import GroupCommit


class Recorder:
    """A handler that records its batches and can be held open to let callers pile up."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.called = asyncio.Event()
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_on: str | None = None

    async def __call__(self, items: Sequence[str]) -> list[str]:
        self.batches.append(list(items))
        self.called.set()
        await self.gate.wait()
        if self.fail_on in items:
            raise RuntimeError(f"database said no to {self.fail_on}")
        return [item.upper() for item in items]


def first_letter(item: str) -> str:
    return item[0]


async def pile_up(group: GroupCommit[str, str], recorder: Recorder, first: str, *later: str) -> list[asyncio.Task[str]]:
    """Submit ``first`` and hold its batch in the handler while ``later`` are submitted."""
    recorder.gate.clear()
    tasks = [asyncio.create_task(group.submit(first))]
    await recorder.called.wait()
    tasks += [asyncio.create_task(group.submit(item)) for item in later]
    await asyncio.sleep(0)
    recorder.gate.set()
    return tasks


async def test_callers_arriving_during_a_batch_go_together_in_the_next_one() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder, key=first_letter)
    tasks = await pile_up(group, recorder, "a1", "b1", "c1", "d1")
    assert await asyncio.gather(*tasks) == ["A1", "B1", "C1", "D1"]
    assert recorder.batches == [["a1"], ["b1", "c1", "d1"]]


async def test_a_lone_caller_is_not_kept_waiting_for_company() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder, key=first_letter)
    assert await group.submit("a1") == "A1"
    assert await group.submit("b1") == "B1"
    assert recorder.batches == [["a1"], ["b1"]]


async def test_items_with_one_key_never_share_a_batch_and_keep_their_order() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder, key=first_letter)
    tasks = await pile_up(group, recorder, "x0", "a1", "a2", "b1", "a3")
    assert await asyncio.gather(*tasks) == ["X0", "A1", "A2", "B1", "A3"]
    assert recorder.batches == [["x0"], ["a1", "b1"], ["a2"], ["a3"]]


async def test_batches_are_capped_at_the_limit() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder, key=lambda item: item, limit=2)
    tasks = await pile_up(group, recorder, "x", "a", "b", "c", "d", "e")
    await asyncio.gather(*tasks)
    assert recorder.batches == [["x"], ["a", "b"], ["c", "d"], ["e"]]


async def test_a_failed_batch_fails_its_callers_only_and_the_next_batch_still_runs() -> None:
    recorder = Recorder()
    recorder.fail_on = "b1"
    group = GroupCommit(recorder, key=first_letter)
    x, b, c, b2 = await pile_up(group, recorder, "x1", "b1", "c1", "b2")
    assert await x == "X1"
    for failed in (b, c):
        with pytest.raises(RuntimeError, match="said no to b1"):
            await failed
    assert await b2 == "B2"  # same key as the failed one: its own, later batch
    assert recorder.batches == [["x1"], ["b1", "c1"], ["b2"]]


async def test_a_cancelled_caller_is_left_out_and_the_others_are_answered() -> None:
    recorder = Recorder()
    group = GroupCommit(recorder, key=first_letter)
    x, gone, kept = await pile_up(group, recorder, "x1", "a1", "b1")
    gone.cancel()
    assert await x == "X1" and await kept == "B1"
    assert gone.cancelled()
    assert recorder.batches == [["x1"], ["b1"]]
