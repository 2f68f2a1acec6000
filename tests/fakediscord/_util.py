"""Small helpers shared by the fake Discord server: snowflakes, JSON, timestamps, waiting."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

JSON = dict[str, Any]
"""A decoded JSON object as Discord sends and receives it."""

DISCORD_EPOCH_MS = 1420070400000

T = TypeVar("T")


class SnowflakeGenerator:
    """Generates strictly increasing, realistic Discord snowflakes (timestamp in the top bits)."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (self._worker << 17) | (next(self._counter) & 0xFFF)
        if value <= self._last:
            value = self._last + 1
        self._last = value
        return value


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def to_json(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=True)


def snowflake_of(obj: object) -> int:
    """The id of a fake object, a discord.py object or a plain int/str id."""
    if isinstance(obj, bool):
        raise TypeError("expected an id or an object with .id, got a bool")
    if isinstance(obj, int):
        return obj
    if isinstance(obj, str):
        return int(obj)
    ident = getattr(obj, "id", None)
    if isinstance(ident, int):
        return ident
    raise TypeError(f"expected an id or an object with an integer .id, got {obj!r}")


def permission_value(value: object) -> int:
    """An int permission bit set from an int or anything with an int ``.value`` (discord.Permissions)."""
    if isinstance(value, bool):
        raise TypeError("permissions must be an int or discord.Permissions, not bool")
    if isinstance(value, int):
        return value
    inner = getattr(value, "value", None)
    if isinstance(inner, int):
        return inner
    raise TypeError(f"expected an int or discord.Permissions, got {value!r}")


async def wait_until(predicate: Callable[[], T | None], timeout: float, what: str) -> T:  # noqa: ASYNC109
    """Poll ``predicate`` until it returns something truthy; raise TimeoutError naming ``what``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if loop.time() >= deadline:
            raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.005)
