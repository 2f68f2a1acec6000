"""The HTTP endpoint for ``/healthz`` and ``/metrics``, served by aiohttp on the bot's own loop.

Off unless ``METRICS_PORT`` is set; bound to 127.0.0.1 unless ``METRICS_HOST`` says otherwise,
since the figures are for the host's own monitoring, not for the internet.
"""

from __future__ import annotations

import logging
import os

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.core.services import Core
from bot.ops.health import HealthCheck, PlatformConnection
from bot.ops.metrics import BotMetrics

log = logging.getLogger(__name__)


class OpsEndpointError(Exception):
    """The endpoint cannot listen where the settings say; the message names the settings."""


class OpsEndpoint:
    def __init__(self, health: HealthCheck, metrics: BotMetrics) -> None:
        self._health = health
        self._metrics = metrics
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics_page)
        # No access log: a scrape every few seconds would drown the bot's own lines.
        self._runner = web.AppRunner(app, access_log=None)
        self.port: int | None = None
        """The bound port once started (``METRICS_PORT=0`` picks a free one)."""

    async def start(self, host: str, port: int) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise OpsEndpointError(
                f"cannot serve health and metrics on {host}:{port} (METRICS_HOST, METRICS_PORT): {reason}"
            ) from None
        self.port = int(self._runner.addresses[0][1])
        log.info("health and metrics on http://%s:%d (/healthz, /metrics)", host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()

    async def _healthz(self, request: web.Request) -> web.Response:
        report = await self._health.check()
        return web.json_response(report.as_json(), status=200 if report.healthy else 503)

    async def _metrics_page(self, request: web.Request) -> web.Response:
        return web.Response(body=await self._metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def start_ops_endpoint(core: Core, connection: PlatformConnection, metrics: BotMetrics) -> OpsEndpoint | None:
    """Start the endpoint if ``METRICS_PORT`` is set; None (no port opened) otherwise."""
    port = core.settings.metrics_port
    if port is None:
        return None
    endpoint = OpsEndpoint(HealthCheck(core, connection), metrics)
    await endpoint.start(core.settings.metrics_host, port)
    return endpoint
