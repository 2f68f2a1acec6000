"""What the bot keeps when it leaves a server.

Rule: when the bot is removed from a server (kicked, banned, or the server deleted), every
setting, opt-in, pending reminder and queued post of that server is deleted at once. A server
that is only *unavailable* (a Discord outage) keeps everything: discord.py does not call
``on_guild_remove`` for it.
"""

from __future__ import annotations

import logging

import discord
from discord.ext import commands

from bot.discord.client import BallerinaBot

log = logging.getLogger(__name__)


class Lifecycle(commands.Cog):
    def __init__(self, bot: BallerinaBot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        if await self.bot.core.store.forget_guild(str(guild.id)):
            log.info("removed from server %s: its data was deleted", guild.id)


async def setup(bot: BallerinaBot) -> None:
    await bot.add_cog(Lifecycle(bot))
