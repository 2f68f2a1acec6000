"""The whole bot running against the fake Discord: one server, a few members, a manual clock.

Tests build a :class:`World`, run commands as members, move the clock and look at what the
real discord.py client sent to the fake. ``restart()`` stops the bot and its core and starts
new ones on the same database, as a deploy or a crash recovery would.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.cli import BOT_PERMISSIONS
from bot.core.clock import ManualClock
from bot.core.services import Core
from bot.discord.client import BallerinaBot
from bot.settings import Settings
from tests.fakediscord import FakeChannel, FakeDiscord, FakeGuild, FakeMember, InteractionCallback, Perm
from tests.fakediscord.harness import fake_endpoints, start_bot, stop_bot

RELEASE = datetime(2023, 10, 6, 7, 0, tzinfo=UTC)  # midnight in Los Angeles
# What `ballerina-bot invite-url` asks for.
INVITED_PERMISSIONS = Perm(BOT_PERMISSIONS.value)


@dataclass
class World:
    fake: FakeDiscord
    clock: ManualClock
    settings: Settings
    guild: FakeGuild
    channel: FakeChannel
    member: FakeMember
    moderator: FakeMember
    core: Core | None = None
    bot: BallerinaBot | None = None
    _task: asyncio.Task[None] | None = field(default=None, repr=False)

    async def start(self) -> None:
        self.core = await Core.open(self.settings, self.clock)
        self.bot = BallerinaBot(self.core)
        self._task = await start_bot(self.fake, self.bot)

    async def stop(self) -> None:
        if self.bot is not None and self._task is not None:
            await stop_bot(self.bot, self._task)
        if self.core is not None:
            await self.core.close()
        self.bot = self.core = self._task = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def run(
        self,
        who: FakeMember,
        *path: str,
        options: Mapping[str, object] | None = None,
        channel: FakeChannel | None = None,
        guild: FakeGuild | None = None,
        locale: str | None = None,
        check: bool = True,
    ) -> InteractionCallback:
        """Run a slash command as ``who`` (from an app in ``locale``, default theirs) and return the bot's answer."""
        guild = guild or self.guild
        interaction = await self.fake.slash(
            guild, channel or self.channel, who, *path, options=options, locale=locale, check=check
        )
        return await interaction.response()

    async def settle(self) -> None:
        """Wait until the reminder engine has delivered everything due by the clock."""
        assert self.core is not None and self.core.engine is not None
        await self.core.engine.wait_idle()

    async def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        await self.settle()


@contextlib.asynccontextmanager
async def world(
    tmp_path: Path,
    now: datetime,
    environ: Mapping[str, str] | None = None,
    guild_locale: str = "en-US",
    **fake_options: object,
) -> AsyncIterator[World]:
    """``guild_locale``: the server's default language (Discord's ``preferred_locale``)."""
    async with FakeDiscord(**fake_options) as fake:  # type: ignore[arg-type]
        guild = fake.add_guild("Film Club", bot_permissions=INVITED_PERMISSIONS, locale=guild_locale)
        channel = guild.add_text_channel("general")
        member = guild.add_member("alice")
        moderator = guild.add_member("mia-mod", permissions=Perm.MANAGE_GUILD)
        settings = Settings.load(
            environ={
                "DISCORD_API_BASE": fake.api_base,
                "DISCORD_GATEWAY_URL": fake.gateway_url,
                "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            }
            | dict(environ or {}),
            env_file=None,
        )
        w = World(fake, ManualClock(now), settings, guild, channel, member, moderator)
        with fake_endpoints(fake):
            await w.start()
            try:
                yield w
            finally:
                await w.stop()
