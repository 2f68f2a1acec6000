"""A Slack workspace with the bot on a real core, driven through the real slack-bolt and the fake Slack."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.clock import ManualClock
from bot.core.engine import Pacing
from bot.core.services import Core
from bot.core.storage import Platform
from bot.settings import Settings
from bot.slack.app import SlackBot
from bot.slack.transport import SlackTransport
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


_SEED_OUTBOX = """
INSERT INTO outbox (guild_id, reminder_id, target, target_id, not_before, late, created_at, updated_at, platform)
SELECT :guild, :reminder, 'channel', value, :due, 0, 0, 0, 'slack' FROM json_each(:channels)
"""


async def fan_out_release(
    fake: FakeSlack, team: SlackTeam, channels: Sequence[SlackChannel], folder: Path, pacing: Pacing
) -> float:
    """One release post due in every one of ``channels`` at once (the outbox rows written
    directly), delivered by a real core and the Slack transport with ``pacing``. Returns the
    ``time.monotonic()`` at which they fell due (bound it with ``asyncio.timeout``)."""
    settings = Settings.load(environ={"DATABASE_PATH": str(folder / "bot.sqlite3")}, env_file=None)
    clock = ManualClock(BEFORE_RELEASE)
    core = await Core.open(settings, clock)
    try:
        bot = slack_bot(fake, team, core)
        await bot.ensure_team(team.id)
        await core.store.update_guild_settings(team.id, channel_id=channels[0].id, release_offsets=(timedelta(0),))
        due = core.facts.film.release.instant
        async with core.db.transaction() as session:
            [reminder] = await session.fetchall(
                "SELECT id FROM reminders WHERE guild_id = ? AND kind = 'release' AND offset_s = 0", (team.id,)
            )
            await session.execute(
                "UPDATE reminders SET state = 'fired', settled_at = 0 WHERE id = ?", (reminder["id"],)
            )
            await session.execute(
                _SEED_OUTBOX,
                {
                    "guild": team.id,
                    "reminder": reminder["id"],
                    "due": int(due.timestamp()),
                    "channels": json.dumps([c.id for c in channels]),
                },
            )
        clock.set(due - timedelta(minutes=1))
        await core.start({Platform.SLACK: SlackTransport(bot, pacing)})
        assert core.engine is not None
        await core.engine.wait_idle()
        fell_due = time.monotonic()
        clock.set(due)
        await core.engine.wait_idle()
        return fell_due
    finally:
        await core.close()


__all__ = ["HttpDriver", "SlackWorld", "slack_world"]
