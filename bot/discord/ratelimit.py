"""The engine's sliding one-second window over every REST request discord.py makes.

The reminder engine paces its own sends, but discord.py also makes requests the engine never
sees: its own retries after a 429, opening DM channels, command handlers. An aiohttp trace on
discord.py's session puts each of them through :class:`RequestWindow`, so Discord never has to
answer 429 for its global limit.
"""

from __future__ import annotations

from types import SimpleNamespace

import aiohttp
import discord

from bot.core.engine.ratelimit import RequestWindow

# Interaction callbacks and their followups (webhooks) are exempt from the global limit.
EXEMPT_PATHS = ("/interactions/", "/webhooks/")


def counts(url: str) -> bool:
    """Whether a request to ``url`` counts against Discord's global limit."""
    return url.startswith(discord.http.Route.BASE) and not any(part in url for part in EXEMPT_PATHS)


def request_trace(window: RequestWindow) -> aiohttp.TraceConfig:
    """Pass as ``http_trace`` to the discord.py client: every counted request goes through ``window``."""

    async def on_start(
        session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestStartParams
    ) -> None:
        if counts(str(params.url)):
            await window.acquire()
            context.holds_slot = True

    async def on_finish(session: aiohttp.ClientSession, context: SimpleNamespace, params: object) -> None:
        if getattr(context, "holds_slot", False):
            context.holds_slot = False
            window.release()

    config = aiohttp.TraceConfig()
    config.on_request_start.append(on_start)
    config.on_request_end.append(on_finish)
    config.on_request_exception.append(on_finish)
    return config
