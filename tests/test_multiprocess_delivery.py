"""Two real ``ballerina-bot run`` processes on shards 0 and 1 of 2, over one PostgreSQL database,
against one fake Discord: both deliver, and every reminder reaches each recipient exactly once,
even when one process is killed (kill -9) in the middle of a fan-out.

The processes run the real clock, so the film file they are given comes out a few seconds from
now (see ``tests.test_crash_recovery.film_out_in``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import psycopg

from bot.core.services import Core
from bot.core.storage import Via
from bot.settings import Settings
from tests.fakediscord import FakeChannel, FakeDiscord, FakeGuild, FakeMember
from tests.fakediscord._util import wait_until
from tests.postgres import PostgresServer
from tests.test_cli_discord import cli_environment
from tests.test_crash_recovery import film_out_in
from tests.world import INVITED_PERMISSIONS


@dataclass
class Club:
    guild: FakeGuild
    channel: FakeChannel
    fans: list[FakeMember]


@dataclass
class Cluster:
    """The fake Discord, one database, the clubs in it and the bot processes started on them."""

    fake: FakeDiscord
    database_url: str
    clubs: list[Club]
    folder: Path
    film: Path
    processes: dict[int, asyncio.subprocess.Process]

    async def start(self, shard: int, **environ: str) -> asyncio.subprocess.Process:
        """``ballerina-bot run`` on ``shard`` of 2, logging to ``shard-<n>.log``."""
        env = cli_environment(
            self.fake,
            self.folder,
            environ={
                "DATABASE_URL": self.database_url,
                "FILM_FILE": str(self.film),
                "SHARD_COUNT": "2",
                "SHARD_IDS": str(shard),
                "PROCESS_COUNT": "2",
                "LOG_LEVEL": "INFO",
                **environ,
            },
        )
        with (self.folder / f"shard-{shard}.log").open("w") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=env, cwd=self.folder,
                stdout=asyncio.subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
        self.processes[shard] = process
        return process

    def log(self, shard: int) -> str:
        return (self.folder / f"shard-{shard}.log").read_text()

    async def ready(self, *shards: int) -> None:
        for shard in shards:
            await wait_until(lambda shard=shard: "ready as" in self.log(shard), 60, f"shard {shard} to be ready")  # type: ignore[misc]

    def received(self) -> list[int]:
        """How many messages each recipient got: each club's channel, then each fan."""
        return [len(self.fake.channel_messages(club.channel)) for club in self.clubs] + [
            len(self.fake.dm_messages(fan)) for club in self.clubs for fan in club.fans
        ]

    @property
    def recipients(self) -> int:
        return sum(1 + len(club.fans) for club in self.clubs)

    def delivered(self) -> int:
        return sum(1 for count in self.received() if count)

    def outbox(self, sql: str) -> list[tuple[object, ...]]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql).fetchall()


@contextlib.asynccontextmanager
async def cluster(
    folder: Path, postgres: PostgresServer, *, clubs: int, fans: int, release_in: int, **fake_options: float
) -> AsyncIterator[Cluster]:
    """``clubs`` servers spread over shards 0 and 1, each with a reminder channel and ``fans``
    members subscribed by DM, the film out ``release_in`` seconds from now."""
    database_url = postgres.new_database()
    film = film_out_in(release_in, folder / "film.toml")
    async with FakeDiscord(**fake_options) as fake:  # type: ignore[arg-type]
        made = []
        for n in range(clubs):
            guild = fake.add_guild(f"Club {n}", shard=(n % 2, 2), bot_permissions=INVITED_PERMISSIONS)
            made.append(
                Club(guild, guild.add_text_channel("reminders"), [guild.add_member(f"fan{n}-{i}") for i in range(fans)])
            )
        core = await Core.open(
            Settings.load(environ={"DATABASE_URL": database_url, "FILM_FILE": str(film)}, env_file=None)
        )
        for club in made:
            guild_id = str(club.guild.id)
            await core.store.update_guild_settings(
                guild_id, channel_id=str(club.channel.id), release_offsets=(timedelta(0),)
            )
            for fan in club.fans:
                await core.store.subscribe(guild_id, str(fan.id), Via.DM)
        await core.close()
        running = Cluster(fake, database_url, made, folder, film, {})
        try:
            yield running
        finally:
            for process in running.processes.values():
                if process.returncode is None:
                    process.send_signal(signal.SIGTERM)
            for process in running.processes.values():
                await asyncio.wait_for(process.wait(), 15)


async def test_two_processes_deliver_every_reminder_exactly_once(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    async with cluster(tmp_path, postgres_server, clubs=6, fans=10, release_in=4) as c:
        await c.start(0)
        await c.start(1)
        await c.ready(0, 1)
        await wait_until(lambda: c.delivered() == c.recipients, 30, "every reminder")
        await asyncio.sleep(1)  # anything sent twice would arrive now
        assert c.received() == [1] * c.recipients
        assert c.fake.nonce_dedup_count == 0  # no claim was ever taken over from a live process
        assert all(re.search(r"delivery \d+ sent", c.log(shard)) for shard in (0, 1))  # both delivered
        assert c.outbox("SELECT state, COUNT(*) FROM outbox GROUP BY state") == [("sent", c.recipients)]


async def test_kill_9_mid_fan_out_the_other_process_takes_over_after_the_lease(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    lease = {"DELIVERY_LEASE_SECONDS": "2", "GLOBAL_RATE_LIMIT": "40"}  # 20 sends/s per process
    async with cluster(tmp_path, postgres_server, clubs=4, fans=15, release_in=4, latency=0.05) as c:
        await c.start(0, **lease)
        await c.start(1, **lease)
        await c.ready(0, 1)
        await wait_until(lambda: c.delivered() >= c.recipients // 4, 30, "a quarter of the reminders")
        # The busier process dies with the claims it holds.
        victim = max((0, 1), key=lambda shard: len(re.findall(r"delivery \d+ sent", c.log(shard))))
        c.processes[victim].send_signal(signal.SIGKILL)
        killed_at = datetime.now()  # the processes log local time
        await c.processes[victim].wait()
        assert c.delivered() < c.recipients, "the fan-out finished before the kill: nothing was tested"

        await wait_until(lambda: c.delivered() == c.recipients, 30, "every reminder after the kill")
        delivered_after = (datetime.now() - killed_at).total_seconds()
        await asyncio.sleep(1)  # anything sent twice would arrive now
        assert c.received() == [1] * c.recipients  # 0 lost, 0 duplicated
        survivor = c.log(1 - victim)
        took_over = [int(n) for n in re.findall(r"took over (\d+) deliveries", survivor)]
        assert sum(took_over) >= 1, survivor[-3000:]
        assert c.outbox("SELECT state, COUNT(*) FROM outbox GROUP BY state") == [("sent", c.recipients)]
        first = re.search(r"^(\S+ \S+) INFO \S+ took over", survivor, re.MULTILINE)
        assert first is not None
        taken_over_after = (datetime.strptime(first[1], "%Y-%m-%d %H:%M:%S,%f") - killed_at).total_seconds()
        print(
            f"lease 2 s: {sum(took_over)} claims taken over {taken_over_after:.1f} s after the kill;"
            f" all delivered {delivered_after:.1f} s after it"
        )


async def test_a_party_created_through_a_process_that_does_not_deliver_is_reminded_once_by_the_other(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    async with cluster(tmp_path, postgres_server, clubs=2, fans=1, release_in=3600) as c:
        await c.start(0, DELIVERY="off", METRICS_PORT="0")
        await c.start(1)
        await c.ready(0, 1)
        host = c.clubs[0].fans[0]  # in a server of shard 0: served by the process that does not deliver
        inter = await c.fake.slash(
            c.clubs[0].guild, c.clubs[0].channel, host, "ballerina", "party", "create",
            options={"when": "in 2 hours", "title": "Shard zero night", "remind": "2h"},
        )  # fmt: skip
        reply = await inter.response(timeout=10)
        assert "Shard zero night" in json.dumps(reply.raw), reply

        def reminders() -> list[str]:
            return [
                json.dumps(message.embeds)
                for message in c.fake.channel_messages(c.clubs[0].channel) + c.fake.dm_messages(host)
                if "starts in" in json.dumps(message.embeds)
            ]

        await wait_until(reminders, 10, "the party reminder")  # announced: no alarm was due for an hour
        await asyncio.sleep(1)
        assert len(reminders()) == 1
        assert "took over" not in c.log(1)
        assert "DELIVERY=off" in c.log(0)

        found = re.search(r"health and metrics on http://[\d.]+:(\d+)", c.log(0))
        assert found is not None, c.log(0)[-2000:]
        async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{found[1]}/healthz") as resp:
            report = await resp.json()
        assert resp.status == 200, report
        assert report["engine"] == {"running": False, "delivery": "off"}
