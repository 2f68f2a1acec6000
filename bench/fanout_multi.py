"""2,000 guilds' release reminders due at one instant, delivered by two ``ballerina-bot run``
processes (shards 0 and 1 of 2) over one PostgreSQL database, against one fake Discord that
enforces Discord's global limit (50 requests in any sliding second, with global 429s).

Each process takes ``GLOBAL_RATE_LIMIT / PROCESS_COUNT`` = 25 requests/s. The film comes out in
an hour when the processes start; once both are ready, every guild's reminder is moved to a few
seconds from now in the database and announced with ``NOTIFY``, as a change made by a third
process would be. The processes run the real clock.

Figures: throughput over the whole fan-out (from the due instant to the last post the fake
accepted) as a fraction of the limit (goal >= 0.95), 429s the fake sent (goal 0), channels that
got no post or more than one (goal 0 each), and how many posts each process sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import psycopg

from bench.common import report
from bot.core.services import Core
from bot.core.storage.postgres import CHANGES_CHANNEL
from bot.settings import Settings
from tests.fakediscord import FakeDiscord
from tests.fakediscord._util import wait_until
from tests.postgres import PostgresServer
from tests.test_cli_discord import cli_environment
from tests.test_crash_recovery import film_out_in
from tests.world import INVITED_PERMISSIONS

GUILDS = 2_000
RATE = 50  # the fake's global limit, shared by the two processes
PROCESSES = 2
DUE_IN = 3.0  # seconds from the move of the reminders to their due time
POSTS_ROUTE = "/channels/{channel_id}/messages"


@contextlib.asynccontextmanager
async def bot_processes(fake: FakeDiscord, folder: Path, database_url: str, film: Path) -> AsyncIterator[list[Path]]:
    """One ``ballerina-bot run`` per shard, each logging to a file; yields the log files."""
    logs = [folder / f"shard-{shard}.log" for shard in range(PROCESSES)]
    processes = []
    for shard, log in enumerate(logs):
        environ = {
            "DATABASE_URL": database_url,
            "FILM_FILE": str(film),
            "SHARD_COUNT": str(PROCESSES),
            "SHARD_IDS": str(shard),
            "PROCESS_COUNT": str(PROCESSES),
            "GLOBAL_RATE_LIMIT": str(RATE),
            "LOG_LEVEL": "INFO",
        }
        with log.open("w") as stream:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", env=cli_environment(fake, folder, environ=environ),
                cwd=folder, stdout=asyncio.subprocess.DEVNULL, stderr=stream,
            )  # fmt: skip
        processes.append(process)
    try:
        yield logs
    finally:
        for process in processes:
            process.terminate()
        await asyncio.gather(*(asyncio.wait_for(process.wait(), 30) for process in processes))


async def seed(database_url: str, film: Path, channels: list[tuple[str, str]]) -> None:
    """Each guild's reminder channel, the one offset "at the release"."""
    core = await Core.open(Settings.load(environ={"DATABASE_URL": database_url, "FILM_FILE": str(film)}, env_file=None))
    try:
        for guild_id, channel_id in channels:
            await core.store.update_guild_settings(guild_id, channel_id=channel_id, release_offsets=(timedelta(0),))
    finally:
        await core.close()


def move_every_reminder_to(database_url: str, due: float) -> int:
    """What another process changing the schedule would do: write, then NOTIFY."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        moved = conn.execute("UPDATE reminders SET due_at = %s WHERE state = 'pending'", (int(due),)).rowcount
        conn.execute("SELECT pg_notify(%s, 'bench')", (CHANGES_CHANNEL,))
    return moved


async def run(folder: Path) -> dict[str, float]:
    server = PostgresServer.start()
    try:
        database_url = server.new_database()
        film = film_out_in(3600, folder / "film.toml")
        async with FakeDiscord(global_rate_limit=RATE) as fake:
            channels = []
            for i in range(GUILDS):
                guild = fake.add_guild(
                    f"Ballerina Fans {i}", shard=(i % PROCESSES, PROCESSES), bot_permissions=INVITED_PERMISSIONS
                )
                channels.append(guild.add_text_channel("reminders"))
            await seed(database_url, film, [(str(c.guild.id), str(c.id)) for c in channels if c.guild is not None])
            async with bot_processes(fake, folder, database_url, film) as logs:
                for log in logs:
                    await wait_until(lambda log=log: "reminder engine started" in log.read_text(), 300, f"{log.name}")  # type: ignore[misc]
                # Both are idle now, their alarms an hour away; the move must wake them.
                due = (time.time() // 1) + 1 + DUE_IN
                limited_before, requests_before = fake.rate_limited_count, len(fake.requests)
                moved = move_every_reminder_to(database_url, due)

                def posts() -> Counter[int]:
                    return Counter(
                        m.channel_id for m in fake.messages.values() if m.source == "channel" and not m.deleted
                    )

                await wait_until(lambda: len(posts()) >= moved, 600, "a post in every channel")
                await asyncio.sleep(2)  # anything sent twice would arrive now
                per_channel = posts()
                during = fake.requests[requests_before:]
                sent_by = [len(re.findall(r"delivery \d+ sent", log.read_text())) for log in logs]
        accepted = sorted(r.timestamp for r in during if r.route == POSTS_ROUTE and r.status == 200)
        window = accepted[-1] - due
        return {
            "guilds": GUILDS,
            "posts": len(accepted),
            "window_s": round(window, 2),
            "first_post_after_s": round(accepted[0] - due, 2),
            "throughput_per_s": round(len(accepted) / window, 2),
            "fraction_of_limit": round(len(accepted) / window / RATE, 3),
            "rate_limited": fake.rate_limited_count - limited_before,
            "lost": sum(1 for c in channels if per_channel[c.id] == 0),
            "duplicated": sum(1 for c in channels if per_channel[c.id] > 1),
            "nonce_dedups": fake.nonce_dedup_count,
            **{f"sent_by_shard_{shard}": count for shard, count in enumerate(sent_by)},
        }
    finally:
        server.stop()


def main() -> None:
    report(
        run,
        lambda result: (
            f"{result['posts']} posts by {PROCESSES} processes in {result['window_s']} s:"
            f" {result['throughput_per_s']}/s of the global limit {RATE}/s ({result['fraction_of_limit']:.1%},"
            f" goal >= 95%); 429s {result['rate_limited']} (goal 0); lost {result['lost']},"
            f" duplicated {result['duplicated']} (goal 0)"
        ),
    )


if __name__ == "__main__":
    main()
