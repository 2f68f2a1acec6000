"""The real bot process (``python -m bot run --platform slack``, Socket Mode against the fake
Slack) killed with SIGKILL in the middle of a Slack fan-out, then restarted: every channel and DM
has exactly one post, because the rows left 'sending' are looked up in the channels' history
(by the metadata each post carries) before anything is sent again.

The bot's clock is the real one, so the film file it is given comes out a few seconds from now.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from bot.core.services import Core
from bot.core.storage import Platform, Via
from bot.settings import Settings
from tests.fakediscord._util import wait_until
from tests.fakeslack import FakeSlack, SlackChannel, SlackMessage
from tests.test_crash_recovery import film_out_in
from tests.test_slack_cli import slack_environment
from tests.test_slack_delivery import pings

DM_FANS = 30
CHANNEL_FANS = 100  # three thread replies of mentions


async def test_kill_9_mid_slack_fan_out_then_restart_posts_everything_exactly_once(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        team = fake.add_team("Film Club")
        dm_fans = [team.add_user(f"dm{i}") for i in range(DM_FANS)]
        channel_fans = [team.add_user(f"ch{i}") for i in range(CHANNEL_FANS)]
        general = team.add_channel("general", members=channel_fans)
        env = slack_environment(
            fake, team, tmp_path, SLACK_APP_TOKEN=fake.app_token, FILM_FILE=str(film_out_in(4, tmp_path / "film.toml"))
        )
        core = await Core.open(Settings.load(environ=env, env_file=None))
        await core.store.ensure_guild(team.id, Platform.SLACK)
        await core.store.update_guild_settings(team.id, channel_id=general.id, release_offsets=(timedelta(0),))
        for fan in dm_fans:
            await core.store.subscribe(team.id, fan.id, Via.DM)
        for fan in channel_fans:
            await core.store.subscribe(team.id, fan.id, Via.CHANNEL)
        await core.close()

        def delivered() -> int:
            return sum(len(fake.dm_messages(fan)) for fan in dm_fans)

        async def start(name: str) -> asyncio.subprocess.Process:
            with (tmp_path / f"{name}.log").open("w") as log:
                return await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", "--platform", "slack", env=env, cwd=tmp_path, stderr=log
                )

        fake.set_latency(0.3, method="chat.postMessage")  # many posts on the wire when the kill comes
        first = await start("first")
        try:
            await wait_until(lambda: delivered() >= DM_FANS // 3, 30, "a third of the DMs")
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        assert delivered() < DM_FANS, "the fan-out finished before the kill: nothing was tested"

        fake.set_latency(0.0, method="chat.postMessage")
        second = await start("second")
        try:
            post = await wait_until_posted(fake, general, lambda m: len(fake.thread(general, m.ts)) >= 3)
            await wait_until(lambda: delivered() >= DM_FANS, 30, "every DM")
            await asyncio.sleep(1.0)  # anything sent twice would arrive now
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), 15)

        assert [len(fake.dm_messages(fan)) for fan in dm_fans] == [1] * DM_FANS
        assert [m.ts for m in fake.channel_messages(general, include_replies=False)] == [post.ts]
        mentioned = Counter(user for reply in fake.thread(general, post.ts) for user in pings(reply))
        assert mentioned == Counter({fan.id: 1 for fan in channel_fans})
        assert fake.find_calls("conversations.history"), "the restart sent without looking first"
        log = (tmp_path / "second.log").read_text()
        assert "had gone out before the restart" in log, log[-2000:]


async def wait_until_posted(
    fake: FakeSlack, channel: SlackChannel, done: Callable[[SlackMessage], bool]
) -> SlackMessage:
    """The first top-level post in ``channel`` once ``done(post)`` holds."""

    def ready() -> bool:
        posts = fake.channel_messages(channel, include_replies=False)
        return bool(posts) and done(posts[0])

    await wait_until(ready, 30, "the channel post and its thread")
    return fake.channel_messages(channel, include_replies=False)[0]
