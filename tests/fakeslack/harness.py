"""Running a real slack_bolt ``AsyncApp`` against a FakeSlack inside a test: over HTTP or Socket Mode."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_sdk.web.async_client import AsyncWebClient

from .driver import HttpDriver, SocketModeDriver
from .models import SlackTeam
from .server import FakeSlack


def web_client(fake: FakeSlack, team: SlackTeam, **kwargs: Any) -> AsyncWebClient:
    """An ``AsyncWebClient`` with ``team``'s bot token talking to the fake (pass ``retry_handlers=`` etc.)."""
    return AsyncWebClient(token=team.bot_token, base_url=fake.api_base, **kwargs)


def bolt_app(fake: FakeSlack, team: SlackTeam, **kwargs: Any) -> AsyncApp:
    """A single-workspace ``AsyncApp`` wired to the fake: its signing secret, ``team``'s token, the fake's API."""
    return AsyncApp(client=web_client(fake, team), signing_secret=fake.signing_secret, **kwargs)


@dataclass
class BoltHttpServer:
    """A bolt app served over real HTTP on 127.0.0.1 by bolt's own ``AsyncSlackAppServer``."""

    url: str
    server: AsyncSlackAppServer


@contextlib.asynccontextmanager
async def serving_http(app: AsyncApp, *, path: str = "/slack/events") -> AsyncIterator[BoltHttpServer]:
    """``async with serving_http(app) as served:`` — ``served.url`` is the app's Request URL."""
    server = AsyncSlackAppServer(port=0, path=path, app=app, host="127.0.0.1")
    runner = web.AppRunner(server.web_app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    try:
        yield BoltHttpServer(url=f"http://127.0.0.1:{port}{path}", server=server)
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def http_app(fake: FakeSlack, app: AsyncApp, *, path: str = "/slack/events") -> AsyncIterator[HttpDriver]:
    """Serve ``app`` over HTTP and yield a driver that posts signed requests to it."""
    async with serving_http(app, path=path) as served:
        yield HttpDriver(fake, served.url)


@contextlib.asynccontextmanager
async def socket_mode_app(
    fake: FakeSlack,
    app: AsyncApp,
    *,
    timeout: float = 5.0,  # noqa: ASYNC109
) -> AsyncIterator[SocketModeDriver]:
    """Connect ``app`` with bolt's ``AsyncSocketModeHandler`` (aiohttp client) and yield a driver
    that sends it envelopes (``driver.handler`` is bolt's handler); closed on exit."""
    handler = AsyncSocketModeHandler(app, fake.app_token)
    before = len(fake.socket_connections)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await fake.wait_for_socket(timeout, min_count=before + 1)
        yield SocketModeDriver(fake, handler)
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
