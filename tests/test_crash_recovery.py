"""kill -9 of the real bot process in the middle of a fan-out, then a restart: every member
gets the reminder exactly once.

The bot runs as ``python -m bot run`` against the fake Discord in this process. Its clock is
the real one, so the film file it is given comes out a few seconds from now.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.services import Core
from bot.core.storage import Via
from bot.settings import DEFAULT_FILM_FILE, Settings
from tests.fakediscord import FakeDiscord
from tests.fakediscord._util import wait_until
from tests.world import INVITED_PERMISSIONS

FANS = 150


def film_out_in(seconds: int, path: Path) -> Path:
    release = (datetime.now(UTC) + timedelta(seconds=seconds)).replace(microsecond=0, tzinfo=None)
    text = DEFAULT_FILM_FILE.read_text()
    text = text.replace("local_time = 2023-10-06T00:00:00", f"local_time = {release.isoformat()}")
    text = text.replace('timezone = "America/Los_Angeles"', 'timezone = "UTC"')
    path.write_text(text)
    return path


async def start_bot_process(env: dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def test_kill_9_mid_fan_out_then_restart_delivers_each_dm_exactly_once(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Film Club", bot_permissions=INVITED_PERMISSIONS)
        fans = [guild.add_member(f"fan{i}") for i in range(FANS)]
        environ = {
            "DISCORD_TOKEN": fake.token,
            "DISCORD_API_BASE": fake.api_base,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "FILM_FILE": str(film_out_in(4, tmp_path / "film.toml")),
            "GLOBAL_RATE_LIMIT": "60",  # slow enough to kill the process mid-way
            "LOG_LEVEL": "WARNING",
        }
        settings = Settings.load(environ=environ, env_file=None)
        core = await Core.open(settings)
        await core.store.update_guild_settings(str(guild.id), release_offsets=(timedelta(0),))
        for fan in fans:
            await core.store.subscribe(str(guild.id), str(fan.id), Via.DM)
        await core.close()

        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(Path(__file__).parents[1])} | environ
        first = await start_bot_process(env)

        def delivered() -> int:
            return sum(len(fake.dm_messages(fan)) for fan in fans)

        await wait_until(lambda: delivered() >= FANS // 3, 30, "a third of the DMs")
        first.send_signal(signal.SIGKILL)
        await first.wait()
        killed_at = delivered()
        assert killed_at < FANS, "the fan-out finished before the kill: nothing was tested"

        second = await start_bot_process(env)
        try:
            await wait_until(lambda: delivered() >= FANS, 30, "every DM")
            await asyncio.sleep(0.5)  # anything sent twice would arrive now
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), 10)
        assert [len(fake.dm_messages(fan)) for fan in fans] == [1] * FANS
        sent = [r for r in fake.requests if r.method == "POST" and r.path.endswith("/messages")]
        # Re-sends after the crash reuse their nonce; Discord (here: the fake) returns the first message.
        assert len(sent) == FANS + fake.nonce_dedup_count
