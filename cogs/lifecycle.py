"""What the bot keeps when it leaves a server.

Rule: when the bot is removed from a server (kicked, banned, or the server deleted), every
setting, opt-in, pending reminder and queued post of that server is deleted at once. A server
that is only *unavailable* (a Discord outage) keeps everything: discord.py does not call
``on_guild_remove`` for it.

A removal while the bot was offline is caught up with once per shard, at its first READY:
it lists every server of the shard, unavailable ones included, so a server of that shard with
data that is missing from it has removed the bot (see ``bot.core.departures`` for the safety
margin). Servers of shards that other processes connect are never judged here. A resumed
session has no READY, so it never forgets anything.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import discord
from discord.ext import commands

from bot.core.departures import forget_absent_guilds
from bot.discord.client import BallerinaBot
from bot.discord.language import record_server_language

log = logging.getLogger(__name__)


def served_by(shard_id: int | None, shard_count: int | None) -> Callable[[str], bool]:
    """Whether a server belongs to this process's shard: only those are listed in its READY."""
    if shard_id is None or not shard_count or shard_count == 1:
        return lambda guild_id: True
    return lambda guild_id: (int(guild_id) >> 22) % shard_count == shard_id


class Lifecycle(commands.Cog):
    def __init__(self, bot: BallerinaBot) -> None:
        self.bot = bot
        self.caught_up = asyncio.Event()
        """Set once, for every shard of the process, the servers removed while offline are
        forgotten (or found too many)."""
        self._caught_up_shards: set[int] = set()

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        # The server's default language, for channel posts made before anyone runs a command.
        await record_server_language(self.bot.core.languages, guild)

    @commands.Cog.listener()
    async def on_guild_update(self, before: discord.Guild, after: discord.Guild) -> None:
        if before.preferred_locale != after.preferred_locale:
            await record_server_language(self.bot.core.languages, after)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        if await self.bot.core.store.forget_guild(str(guild.id)):
            log.info("removed from server %s: its data was deleted", guild.id)

    @commands.Cog.listener()
    async def on_shard_connect(self, shard_id: int) -> None:
        # discord.py calls this right after parsing a shard's READY, whose servers fill the cache
        # (still unavailable until their GUILD_CREATE); it is called again after each new session.
        if shard_id in self._caught_up_shards or not self.bot.serving:
            return
        present = {str(guild.id) for guild in self.bot.guilds if guild.shard_id == shard_id}
        try:
            departures = await forget_absent_guilds(
                self.bot.core.store,
                present,
                served_by(shard_id, self.bot.shard_count),
                force=self.bot.core.settings.forget_absent_servers,
            )
        finally:
            self._caught_up_shards.add(shard_id)
            if self._caught_up_shards.issuperset(self.bot.own_shards()):
                self.caught_up.set()
        if departures.forgotten:
            log.info(
                "forgot %d servers that removed me while I was offline: %s",
                len(departures.forgotten),
                ", ".join(departures.forgotten),
            )
        if departures.withheld:
            log.warning(
                "%d servers I keep data for are missing from Discord's list of %d, more than I forget at once; "
                "kept them. If they really removed me, start once with FORGET_ABSENT_SERVERS=yes. Servers: %s",
                len(departures.withheld),
                len(present),
                ", ".join(departures.withheld),
            )


async def setup(bot: BallerinaBot) -> None:
    await bot.add_cog(Lifecycle(bot))
