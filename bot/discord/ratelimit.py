"""A sliding one-second window over every REST request discord.py makes.

The reminder engine paces its own sends, but discord.py also makes requests the engine never
sees: its own retries after a 429, opening DM channels, command handlers. Counting each request
from its start until one second after it ends keeps the bot under Discord's global limit in any
sliding second, whatever the network delay, so Discord never has to answer 429.
"""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import aiohttp
import discord

# Interaction callbacks and their followups (webhooks) are exempt from the global limit.
EXEMPT_PATHS = ("/interactions/", "/webhooks/")


class RequestWindow:
    def __init__(self, limit: int, period: float = 1.0) -> None:
        self.limit = limit
        self.period = period
        self._slots = asyncio.Semaphore(limit)

    def counts(self, url: str) -> bool:
        return url.startswith(discord.http.Route.BASE) and not any(part in url for part in EXEMPT_PATHS)

    def trace_config(self) -> aiohttp.TraceConfig:
        """Pass as ``http_trace`` to the discord.py client."""
        config = aiohttp.TraceConfig()
        config.on_request_start.append(self._on_start)
        config.on_request_end.append(self._on_finish)
        config.on_request_exception.append(self._on_finish)
        return config

    async def _on_start(
        self, session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        if self.counts(str(params.url)):
            await self._slots.acquire()
            context.holds_slot = True

    async def _on_finish(self, session: aiohttp.ClientSession, context: SimpleNamespace, params: object) -> None:
        if getattr(context, "holds_slot", False):
            context.holds_slot = False
            asyncio.get_running_loop().call_later(self.period, self._slots.release)
