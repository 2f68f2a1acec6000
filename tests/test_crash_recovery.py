"""The real bot process stopped in the middle of a fan-out, then restarted: every member gets
the reminder exactly once, whether it was killed (kill -9) or asked to stop (SIGTERM).

The bot runs as ``python -m bot run`` against the fake Discord in this process. Its clock is
the real one, so the film file it is given comes out a few seconds from now.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.core.services import Core
from bot.core.storage import Via
from bot.settings import DEFAULT_FILM_FILE, Settings
from tests.fakediscord import FakeDiscord, FakeMember
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


@dataclass
class FanClub:
    """One server whose members all asked for a DM at the release, a few seconds away."""

    fake: FakeDiscord
    fans: list[FakeMember]
    env: dict[str, str]
    folder: Path

    async def start_bot(self, name: str) -> asyncio.subprocess.Process:
        """``python -m bot run``, logging to ``<name>.log`` in the test's folder."""
        with (self.folder / f"{name}.log").open("w") as log:
            return await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=self.env, stdout=asyncio.subprocess.DEVNULL, stderr=log
            )

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text()

    def delivered(self) -> int:
        return sum(len(self.fake.dm_messages(fan)) for fan in self.fans)

    def outbox_states(self) -> dict[str, int]:
        with contextlib.closing(sqlite3.connect(self.env["DATABASE_PATH"])) as conn:
            return dict(conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())

    async def restart_until_everyone_has_a_dm(self) -> None:
        bot = await self.start_bot("restart")
        try:
            await wait_until(lambda: self.delivered() >= FANS, 30, "every DM")
            await asyncio.sleep(0.5)  # anything sent twice would arrive now
        finally:
            bot.send_signal(signal.SIGTERM)
            await asyncio.wait_for(bot.wait(), 10)
        assert [len(self.fake.dm_messages(fan)) for fan in self.fans] == [1] * FANS

    def posted(self) -> int:
        return sum(1 for r in self.fake.requests if r.method == "POST" and r.path.endswith("/messages"))


@contextlib.asynccontextmanager
async def fan_club(folder: Path, log_level: str = "WARNING") -> AsyncIterator[FanClub]:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Film Club", bot_permissions=INVITED_PERMISSIONS)
        fans = [guild.add_member(f"fan{i}") for i in range(FANS)]
        environ = {
            "DISCORD_TOKEN": fake.token,
            "DISCORD_API_BASE": fake.api_base,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
            "DATABASE_PATH": str(folder / "bot.sqlite3"),
            "FILM_FILE": str(film_out_in(4, folder / "film.toml")),
            "GLOBAL_RATE_LIMIT": "60",  # slow enough to stop the process mid-way
            "LOG_LEVEL": log_level,
        }
        core = await Core.open(Settings.load(environ=environ, env_file=None))
        await core.store.update_guild_settings(str(guild.id), release_offsets=(timedelta(0),))
        for fan in fans:
            await core.store.subscribe(str(guild.id), str(fan.id), Via.DM)
        await core.close()
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(Path(__file__).parents[1])} | environ
        yield FanClub(fake, fans, env, folder)


async def test_kill_9_mid_fan_out_then_restart_delivers_each_dm_exactly_once(tmp_path: Path) -> None:
    async with fan_club(tmp_path) as club:
        first = await club.start_bot("first")
        await wait_until(lambda: club.delivered() >= FANS // 3, 30, "a third of the DMs")
        first.send_signal(signal.SIGKILL)
        await first.wait()
        assert club.delivered() < FANS, "the fan-out finished before the kill: nothing was tested"

        await club.restart_until_everyone_has_a_dm()
        # Re-sends after the crash reuse their nonce; Discord (here: the fake) returns the first message.
        assert club.posted() == FANS + club.fake.nonce_dedup_count


async def test_sigterm_mid_fan_out_closes_cleanly_and_hands_the_rest_to_the_next_start(tmp_path: Path) -> None:
    async with fan_club(tmp_path, log_level="INFO") as club:
        first = await club.start_bot("first")
        await wait_until(lambda: club.delivered() >= FANS // 3, 30, "a third of the DMs")
        first.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(first.wait(), 10) == 0, club.log("first")[-2000:]
        stopped_at = club.delivered()
        assert stopped_at < FANS, "the fan-out finished before the signal: nothing was tested"

        # Every send on the wire was finished and recorded; every other claimed row went back (the
        # engine claims about two seconds of sending ahead: the rest had not been claimed yet).
        stopped = re.search(
            r"(\d+) deliveries finished, (\d+) unsent released to pending, (\d+) left", club.log("first")
        )
        assert stopped is not None, club.log("first")[-2000:]
        assert 0 < int(stopped[2]) <= FANS - stopped_at and int(stopped[3]) == 0
        assert club.outbox_states() == {"sent": stopped_at, "pending": FANS - stopped_at}

        await club.restart_until_everyone_has_a_dm()
        assert club.posted() == FANS  # nothing needed re-sending: no row was left 'sending'
