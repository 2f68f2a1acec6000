"""A Slack workspace with the bot on a real core, driven through the real slack-bolt and the fake Slack."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bot.core.clock import ManualClock
from bot.core.services import Core
from bot.settings import Settings
from bot.slack.app import SlackBot
from tests.fakeslack import (
    Delivery,
    EphemeralMessage,
    FakeSlack,
    HttpDriver,
    SlackChannel,
    SlackDriver,
    SlackTeam,
    SlackUser,
    http_app,
    socket_mode_app,
    web_client,
)

BEFORE_RELEASE = datetime(2023, 9, 20, 12, tzinfo=UTC)  # sixteen days before the release


@dataclass
class SlackWorld:
    fake: FakeSlack
    team: SlackTeam
    admin: SlackUser
    member: SlackUser
    general: SlackChannel
    settings: Settings
    clock: ManualClock
    socket_mode: bool = False
    core: Core = field(init=False)
    bot: SlackBot = field(init=False)
    driver: SlackDriver = field(init=False)
    _running: contextlib.AsyncExitStack = field(init=False, default_factory=contextlib.AsyncExitStack)

    async def start(self) -> None:
        """Open the core on the database file and serve a new Slack app over it."""
        self.core = await Core.open(self.settings, self.clock)
        self._running.push_async_callback(self.core.close)
        self.bot = slack_bot(self.fake, self.team, self.core, socket_mode=self.socket_mode)
        serving = socket_mode_app(self.fake, self.bot.app) if self.socket_mode else http_app(self.fake, self.bot.app)
        self.driver = await self._running.enter_async_context(serving)

    async def stop(self) -> None:
        await self._running.aclose()

    async def restart(self) -> None:
        """Stop the app and start a new one on the same SQLite file: nothing kept in memory survives."""
        await self.stop()
        await self.start()

    async def run(self, user: SlackUser, command: str, text: str = "", channel: SlackChannel | None = None) -> str:
        """Type a command; the text of the one ephemeral answer (after the ack)."""
        reply = await self.reply(user, command, text, channel)
        return reply.all_text()

    async def reply(
        self, user: SlackUser, command: str, text: str = "", channel: SlackChannel | None = None
    ) -> EphemeralMessage:
        delivery = await self.command(user, command, text, channel)
        [post] = await delivery.wait_for_responses()
        assert post.status == 200 and post.body.get("response_type") == "ephemeral", post
        return self.fake.ephemeral_messages(user)[-1]

    async def command(
        self, user: SlackUser, command: str, text: str = "", channel: SlackChannel | None = None
    ) -> Delivery:
        delivery = await self.driver.slash_command(channel or self.general, user, command, text)
        assert delivery.acked and delivery.status == 200 and not delivery.payload, delivery
        return delivery


def slack_bot(fake: FakeSlack, team: SlackTeam, core: Core, *, socket_mode: bool = False) -> SlackBot:
    return SlackBot(core, web_client(fake, team), None if socket_mode else fake.signing_secret)


@contextlib.asynccontextmanager
async def slack_world(
    tmp_path: Path, now: datetime = BEFORE_RELEASE, socket_mode: bool = False
) -> AsyncIterator[SlackWorld]:
    settings = Settings.load(environ={"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, env_file=None)
    async with FakeSlack() as fake:
        team = fake.add_team("Film Club")
        admin = team.add_user("ada", tz="Asia/Seoul", is_admin=True)
        member = team.add_user("bob", tz="Europe/Paris")
        general = team.add_channel("general", members=[admin, member])
        world = SlackWorld(fake, team, admin, member, general, settings, ManualClock(now), socket_mode)
        await world.start()
        try:
            yield world
        finally:
            await world.stop()


__all__ = ["HttpDriver", "SlackWorld", "slack_world"]
