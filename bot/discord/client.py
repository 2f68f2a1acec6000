"""The discord.py client: intents, allowed mentions, endpoints and the cogs it loads."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.core.engine.ratelimit import RequestWindow
from bot.core.i18n import N_, _
from bot.core.replies import error
from bot.core.services import Core
from bot.core.storage import Platform
from bot.discord.buttons import ButtonRoutes
from bot.discord.language import CommandTextTranslator, speak_to_member
from bot.discord.ratelimit import request_trace
from bot.discord.render import respond, something_went_wrong
from bot.discord.transport import DiscordMemberDirectory, DiscordTransport
from bot.heap import settle_heap
from bot.ops import BotMetrics, CommandOutcome, OpsEndpoint, start_ops_endpoint
from bot.settings import Settings

log = logging.getLogger(__name__)

EXTENSIONS = ("cogs.ballerina", "cogs.admin", "cogs.lifecycle")
_STARTED = "ballerina.started"  # interaction.extras key: perf_counter() when the command arrived


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


_UNUSABLE_OPTIONS = {
    discord.AppCommandOptionType.channel: N_("That channel isn't one I can use here. Nothing was changed."),
    discord.AppCommandOptionType.role: N_("That role isn't one I can use here. Nothing was changed."),
    discord.AppCommandOptionType.user: N_("That user isn't one I can use here. Nothing was changed."),
}
"""What a modified client sent (an option's ID from another server), by the option's type."""


class BallerinaTree(app_commands.CommandTree["BallerinaBot"]):
    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        # Runs before every command and autocomplete, in their task: the start of the latency
        # the metrics report, and the language of everything the handler says.
        interaction.extras[_STARTED] = time.perf_counter()
        await speak_to_member(self.client.core.languages, interaction)
        return True

    async def on_error(self, interaction: discord.Interaction[Any], exc: app_commands.AppCommandError) -> None:
        refused = isinstance(exc, app_commands.CheckFailure | app_commands.TransformerError)
        try:
            await self._answer_error(interaction, exc)
        finally:
            self.client.command_served(interaction, CommandOutcome.REFUSED if refused else CommandOutcome.ERROR)

    async def _answer_error(self, interaction: discord.Interaction[Any], exc: app_commands.AppCommandError) -> None:
        if isinstance(exc, app_commands.CheckFailure):
            return  # the check has already told the member why
        if isinstance(exc, app_commands.TransformerError):
            # e.g. a channel or role ID from another server, sent by a modified client
            refusal = _UNUSABLE_OPTIONS.get(exc.type, N_("That option isn't one I can use here. Nothing was changed."))
            return await respond(interaction, error(_(refusal)))
        command = interaction.command.qualified_name if interaction.command else "?"
        log.error("command %s failed", command, exc_info=exc)
        await respond(interaction, something_went_wrong())


class BallerinaBot(commands.AutoShardedBot):
    def __init__(self, core: Core, *, serving: bool = True, tune_gc: bool = False, starts_engine: bool = True) -> None:
        """``serving=False`` for one-off tasks (``ballerina-bot sync``): no reminders, no automatic sync.

        ``starts_engine``: start the core's engine with Discord's transport alone once logged in
        (a bot used on its own, as in tests); ``ballerina-bot run`` starts it for every platform
        itself, once :attr:`logged_in` is set.

        ``tune_gc``: tune the process's garbage collector once ready (``bot.heap``); for the
        process that runs the bot, not for one sharing its interpreter (tests).
        """
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=minimal_intents(),
            # Nothing pings unless a message widens this on purpose.
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=BallerinaTree,
            http_trace=(trace := request_trace(RequestWindow(max(1, int(core.settings.global_rate_limit))))),
            **_shards(core.settings),
        )
        self.core = core
        self.serving = serving
        self.buttons = ButtonRoutes(core.languages)
        self._tune_gc = tune_gc
        self.connected_shards: set[int] = set()
        """Shards whose gateway session is up (between READY or RESUMED and a disconnect)."""
        self.metrics = BotMetrics(core, self)
        self.ops: OpsEndpoint | None = None
        self.starts_engine = starts_engine
        self.transport = DiscordTransport(self, core.settings.global_rate_limit, core.clock)
        self.directory = DiscordMemberDirectory(
            self, core.parties, lookups_per_second=core.settings.global_rate_limit / 2
        )
        self.logged_in = asyncio.Event()
        """Set once the bot can send (its setup is done): deliveries may start."""
        trace.on_request_end.append(self._count_rate_limited)
        use_endpoints(core.settings)

    async def setup_hook(self) -> None:
        await self.tree.set_translator(CommandTextTranslator())
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if not self.serving:
            return
        await self.sync_commands_if_changed()
        # Here, not in on_ready: on_ready fires again after every reconnect.
        if self.starts_engine:
            await self.core.start({Platform.DISCORD: self.transport}, {Platform.DISCORD: self.directory})
        self.logged_in.set()
        self.ops = await start_ops_endpoint(self.core, self, self.metrics)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        await self.buttons.dispatch(interaction)

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction[Any],
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        self.command_served(interaction, CommandOutcome.OK)

    def command_served(self, interaction: discord.Interaction[Any], outcome: CommandOutcome) -> None:
        command = interaction.command.qualified_name if interaction.command else "unknown"
        self.metrics.command_served(command, outcome, interaction.extras.get(_STARTED))

    async def _count_rate_limited(
        self, session: aiohttp.ClientSession, context: SimpleNamespace, params: aiohttp.TraceRequestEndParams
    ) -> None:
        # discord.py waits out 429s by itself; this is where they can still be seen and counted.
        if params.response.status == 429:
            self.metrics.rate_limited(params.response.headers.get("X-RateLimit-Scope", ""))

    def own_shards(self) -> range | list[int]:
        """The shards this process connects (none known before Discord said how many)."""
        return self.shard_ids if self.shard_ids is not None else range(self.shard_count or 0)

    @property
    def connected(self) -> bool:
        """Whether every shard of this process is connected: one down leaves its servers unserved."""
        return bool(self.connected_shards) and self.connected_shards.issuperset(self.own_shards())

    async def on_shard_connect(self, shard_id: int) -> None:
        self.connected_shards.add(shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        self.connected_shards.add(shard_id)

    async def on_shard_disconnect(self, shard_id: int) -> None:
        self.connected_shards.discard(shard_id)

    async def command_digest(self) -> str:
        """A fingerprint of the command set as Discord would store it, translations included."""
        translator = self.tree.translator
        commands = self.tree.get_commands()
        if translator is None:
            payload = [command.to_dict(self.tree) for command in commands]
        else:
            payload = [await command.get_translated_payload(self.tree, translator) for command in commands]
        payload.sort(key=lambda c: str(c["name"]))
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    async def sync_commands_if_changed(self) -> None:
        """Register the commands only when they changed since the last registration.

        Restarting never re-registers an unchanged set, so deploys and crash loops stay far
        from Discord's command-registration limits.
        """
        guild_id = self.core.settings.dev_guild_id
        key = f"commands:{guild_id or 'global'}"
        digest = await self.command_digest()
        if await self.core.store.get_state(key) == digest:
            return
        await self.sync_commands(guild_id)
        await self.core.store.set_state(key, digest)
        log.info("registered the changed command set %s", f"to server {guild_id}" if guild_id else "globally")

    async def close(self) -> None:
        self.connected_shards.clear()
        if self.ops is not None:
            await self.ops.stop()
            self.ops = None
        await self.core.stop()
        await super().close()

    async def sync_commands(self, guild_id: int | None = None) -> list[app_commands.AppCommand]:
        """Register the command tree globally, or to one server (instant, for development)."""
        if guild_id is None:
            return await self.tree.sync()
        guild = discord.Object(guild_id)
        self.tree.copy_global_to(guild=guild)
        return await self.tree.sync(guild=guild)

    async def on_ready(self) -> None:
        log.info(
            "ready as %s in %d servers on shards %s of %s",
            self.user,
            len(self.guilds),
            list(self.own_shards()),
            self.shard_count,
        )
        if self._tune_gc:  # on the first ready only: the guild caches are filled by now
            self._tune_gc = False
            settle_heap()


def _shards(settings: Settings) -> dict[str, Any]:
    """This process's shards (SHARD_COUNT/SHARD_IDS); unset, every shard Discord recommends."""
    if settings.shard_count is None or settings.shard_ids is None:
        return {}
    return {"shard_count": settings.shard_count, "shard_ids": list(settings.shard_ids)}


async def run_discord(bot: BallerinaBot, settings: Settings, stop: asyncio.Event) -> None:
    """Connect to Discord and serve until closed or until ``stop`` is set, on a core the caller
    opened (and closes). Closing lets the reminder engine finish the sends on the wire and hand
    the unsent rows back before the gateway closes."""
    async with bot:
        closer = asyncio.create_task(_close_on(stop, bot))
        try:
            await bot.start(settings.discord_token.reveal())
        finally:
            if stop.is_set():
                await closer  # closing: cancelling it would cut the engine's drain short
            else:
                closer.cancel()


async def _close_on(stop: asyncio.Event, bot: BallerinaBot) -> None:
    await stop.wait()
    await bot.close()
