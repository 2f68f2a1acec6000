"""The life cycle both fake platforms share: an aiohttp server on a loopback port of its own."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from aiohttp import web


class LoopbackServer:
    """Started and stopped with ``async with``; ``port=0`` picks a free port, read back once started.

    Subclasses set ``host`` and ``port``, build their routes in :meth:`build_app`, and close their
    long-lived connections (websockets) in :meth:`close_connections`.
    """

    host: str
    port: int
    _runner: web.AppRunner | None = None

    def build_app(self) -> web.Application:
        raise NotImplementedError

    async def close_connections(self) -> None:
        """Close what would keep the server from stopping at once (open websockets)."""

    async def start(self) -> None:
        runner = web.AppRunner(self.build_app(), access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=1024, reuse_address=True)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def close(self) -> None:
        await self.close_connections()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"
