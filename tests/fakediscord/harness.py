"""Running a real discord.py bot against a FakeDiscord inside a test."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

import discord
import discord.gateway
import discord.http
import yarl

from .server import FakeDiscord


@contextlib.contextmanager
def fake_endpoints(fake: FakeDiscord) -> Iterator[None]:
    """Point discord.py's REST base and default gateway at the fake (restored on exit)."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = fake.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


async def start_bot(fake: FakeDiscord, bot: discord.Client, *, timeout: float = 10.0) -> asyncio.Task[None]:  # noqa: ASYNC109
    """Start ``bot`` against the fake (endpoints must already point at it) and wait until it is usable.

    Returns the ``bot.start()`` task. "Usable" means: logged in, ``setup_hook`` done (so a
    ``tree.sync()`` there has happened), IDENTIFIED, and every guild of the fake is in the bot's
    cache. ``on_ready`` is *not* awaited (discord.py delays it by ``guild_ready_timeout``).
    """
    before = fake.identify_count
    task: asyncio.Task[None] = asyncio.create_task(bot.start(fake.token), name="fakediscord-bot")

    async def usable() -> None:
        await fake.wait_for_identify(timeout, min_count=before + 1)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not all(bot.get_guild(gid) is not None for gid in fake.guilds):
            if loop.time() > deadline:
                raise TimeoutError("the bot did not cache every guild of the fake")
            await asyncio.sleep(0.005)

    waiter = asyncio.create_task(usable())
    done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:
        waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        exc = task.exception()
        raise RuntimeError(f"the bot stopped before it was ready: {exc!r}") from exc
    try:
        waiter.result()
    except BaseException:
        await stop_bot(bot, task)
        raise
    return task


async def stop_bot(bot: discord.Client, task: asyncio.Task[None], *, timeout: float = 10.0) -> None:  # noqa: ASYNC109
    """Close the bot and wait for its ``start()`` task to finish (re-raising its error, if any)."""
    await bot.close()
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout)
    except TimeoutError:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord,
    bot: discord.Client,
    *,
    timeout: float = 10.0,  # noqa: ASYNC109
) -> AsyncIterator[asyncio.Task[None]]:
    """``async with running_bot(fake, bot):`` — endpoints set, bot started and usable, closed on exit.

    Yields the ``bot.start()`` task. Can be used several times on the same fake (a new bot
    instance each time: discord.py clients cannot be restarted after ``close()``).
    """
    with fake_endpoints(fake):
        task = await start_bot(fake, bot, timeout=timeout)
        try:
            yield task
        finally:
            await stop_bot(bot, task, timeout=timeout)
