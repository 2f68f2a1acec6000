"""The discord.py client: intents, allowed mentions, endpoints and the cogs it loads."""

from __future__ import annotations

import logging

import discord
import yarl
from discord.ext import commands

from bot.core.services import Core
from bot.settings import Settings

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.ballerina",)


def use_endpoints(settings: Settings) -> None:
    """Point discord.py at the configured REST base and gateway (proxies, local test servers).

    discord.py has no per-client setting for these: the REST base is the class attribute
    ``Route.BASE`` and a plain client connects straight to ``DEFAULT_GATEWAY``.
    """
    discord.http.Route.BASE = settings.discord_api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


def minimal_intents() -> discord.Intents:
    # Guilds only: slash commands and buttons arrive as interactions, and channel/role
    # permission checks need the guild cache. No privileged intents.
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


class BallerinaBot(commands.Bot):
    def __init__(self, core: Core) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=minimal_intents(),
            # Nothing pings unless a message widens this on purpose.
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.core = core
        use_endpoints(core.settings)

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)

    async def sync_commands(self, guild_id: int | None = None) -> list[discord.app_commands.AppCommand]:
        """Register the command tree globally, or to one server (instant, for development)."""
        if guild_id is None:
            return await self.tree.sync()
        guild = discord.Object(guild_id)
        self.tree.copy_global_to(guild=guild)
        return await self.tree.sync(guild=guild)

    async def on_ready(self) -> None:
        # Fires again on every reconnect: never start background work here (see setup_hook).
        log.info("ready as %s in %d servers", self.user, len(self.guilds))
