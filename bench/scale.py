"""A big database: 1,000,000 subscribed members across 10,000 guilds.

(a) Start-up to ready, and resident memory, against the same start-up on an empty database.
    Every case runs in a fresh subprocess (``python -m bench.scale --case NAME --db PATH``) so
    memory figures are comparable; the parent only seeds the files and serves the fake Discord.
    * ``core-*``: ``Core.open`` + engine start with a transport that records (no network).
    * ``bot-*``: the whole bot (``Core.open``, the discord.py client, the engine) connecting to
      a fake Discord in the parent process that has the same 10,000 guilds, until every guild
      is cached and the engine is idle. Both databases see the same 10,000 guilds from the
      fake, so the difference is what the database costs.
    Goal: the full database costs under 20 MB more resident memory than the empty one.
(b) Event-loop stall while 10,000 channel posts (every guild's 7-day reminder) come due at one
    instant: the engine with a recording transport and a rate limit set out of the way; a
    watcher task sleeps 5 ms in a loop and records how late it wakes. Goal: no stall over 50 ms.

Members subscribe "in the channel" (pinged by the role), so one due reminder is one post per
guild: 10,000 posts, not 1,000,000 DMs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import LoopLagWatcher, film_release, peak_rss_mb, rss_mb
from bot.core.clock import ManualClock
from bot.core.replies import Reply
from bot.core.services import Core
from bot.core.storage import Database, OutboxRow, Platform, Store
from bot.core.storage.database import is_postgres_url
from bot.core.storage.models import DEFAULT_TIMEZONE
from bot.discord.transport import discord_pacing
from bot.settings import Settings
from tests.fakediscord import FakeDiscord
from tests.world import INVITED_PERMISSIONS

GUILDS = 10_000
MEMBERS_PER_GUILD = 100  # 1,000,000 subscriptions in all
DUE_OFFSET = timedelta(days=7)  # the reminder that comes due in (b)
PROJECT = Path(__file__).resolve().parent.parent
RSS_GOAL_MB = 20.0
STALL_GOAL = 0.050

# The seed, by back end: (settings from a JSON array of [id, channel, role], subscriptions).
# Members of each guild in one statement: guild number x member number gives a unique user id.
_SEED = {
    "sqlite": (
        """
INSERT INTO guild_settings (guild_id, channel_id, ping_role_id, release_offsets, timezone, created_at, updated_at)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
       '[604800,86400,3600,0]', :tz, 0, 0
FROM json_each(:guilds)
""",
        """
INSERT INTO subscriptions (guild_id, user_id, via, created_at)
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :members - 1)
SELECT g.guild_id, CAST(1200000000000000000 + g.rowid * :members + n.i AS TEXT), 'channel', 0
FROM guild_settings AS g, n
ORDER BY g.guild_id, n.i
""",
    ),
    "postgresql": (
        """
INSERT INTO guild_settings (guild_id, channel_id, ping_role_id, release_offsets, timezone, created_at, updated_at)
SELECT value ->> 0, value ->> 1, value ->> 2, '[604800,86400,3600,0]', :tz, 0, 0
FROM jsonb_array_elements(CAST(:guilds AS jsonb))
""",
        """
INSERT INTO subscriptions (guild_id, user_id, via, created_at)
SELECT g.guild_id, CAST(1200000000000000000 + g.n * :members + i AS TEXT), 'channel', 0
FROM (SELECT guild_id, row_number() OVER (ORDER BY guild_id) AS n FROM guild_settings) AS g,
     generate_series(0, :members - 1) AS i
ORDER BY g.guild_id, i
""",
    ),
}


# -- seeding (parent) ----------------------------------------------------------------------------


async def seed(target: str | Path, guilds: list[tuple[str, str, str]], members_per_guild: int) -> float:
    """Settings for ``guilds`` (id, channel, role), their subscribers, and the scheduled release;
    returns the database's size in MB."""
    film_id, release = film_release()
    db = await Database.open(target)
    try:
        async with db.transaction() as session:
            settings_sql, subscriptions_sql = _SEED[session.dialect.name]
            if guilds:
                await session.execute(settings_sql, {"tz": DEFAULT_TIMEZONE, "guilds": json.dumps(guilds)})
                await session.execute(subscriptions_sql, {"members": members_per_guild})
        # As Core.open does: one reminder per guild and offset (40,000 here), all pending.
        await Store(db, ManualClock(release - DUE_OFFSET - timedelta(days=1))).set_release(film_id, release)
        async with db.read() as session:
            if isinstance(target, Path):
                await session.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                return (await asyncio.to_thread(target.stat)).st_size / 2**20
            await session.execute("VACUUM ANALYZE")
            size = await session.fetchone("SELECT pg_database_size(current_database())")
            assert size is not None
            return int(size[0]) / 2**20
    finally:
        await db.close()


# -- the cases (each in its own subprocess) ------------------------------------------------------


class RecordingTransport:
    """Records sends without any network; message ids are counters."""

    subscribers_in_thread = False

    def __init__(self, rate: float = 50.0) -> None:
        self.sent: list[tuple[str, str]] = []
        self.pacing = discord_pacing(rate)

    async def send_channel(self, channel_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str:
        self.sent.append(("channel", channel_id))
        return str(len(self.sent))

    async def send_dm(self, user_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str:
        self.sent.append(("dm", user_id))
        return str(len(self.sent))

    async def find_delivered(self, row: OutboxRow, since: datetime) -> Sequence[str] | None:
        return ()


def child_settings(db: str | Path, **extra: str) -> Settings:
    place = {"DATABASE_URL": db} if isinstance(db, str) else {"DATABASE_PATH": str(db)}
    environ = {**place, **extra}
    return Settings.load(environ=environ, env_file=None)


async def case_core(db: str | Path) -> dict[str, Any]:
    """Core.open + engine start with a recording transport, until the engine is idle."""
    _, release = film_release()
    clock = ManualClock(release - DUE_OFFSET - timedelta(days=1))
    baseline = rss_mb()
    async with LoopLagWatcher() as lag:
        started = time.perf_counter()
        core = await Core.open(child_settings(db), clock)
        opened = time.perf_counter()
        await core.start({Platform.DISCORD: RecordingTransport()})
        assert core.engine is not None
        await core.engine.wait_idle()
        ready = time.perf_counter()
    rss = rss_mb()
    await core.close()
    return {
        "baseline_rss": baseline,
        "open": opened - started,
        "ready": ready - started,
        "rss": rss,
        "peak_rss": peak_rss_mb(),
        "worst_lag": lag.worst,
    }


async def case_bot(db: str | Path, guilds: int) -> dict[str, Any]:
    """The whole bot against the parent's fake Discord, until every guild is cached and the engine idle."""
    from bot.discord.client import BallerinaBot

    _, release = film_release()
    clock = ManualClock(release - DUE_OFFSET - timedelta(days=1))
    settings = child_settings(
        db,
        DISCORD_API_BASE=os.environ["BENCH_API_BASE"],
        DISCORD_GATEWAY_URL=os.environ["BENCH_GATEWAY_URL"],
    )
    baseline = rss_mb()
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    core = await Core.open(settings, clock)
    opened = time.perf_counter()
    bot = BallerinaBot(core)
    task = asyncio.create_task(bot.start(os.environ["BENCH_DISCORD_TOKEN"]))
    deadline = loop.time() + 300
    while len(bot.guilds) < guilds or core.engine is None:
        if task.done():
            task.result()
            raise RuntimeError("the bot stopped before it was ready")
        if loop.time() > deadline:
            raise TimeoutError(f"only {len(bot.guilds)} of {guilds} guilds after 300 s")
        await asyncio.sleep(0.005)
    await core.engine.wait_idle()
    ready = time.perf_counter()
    rss = rss_mb()
    await bot.wait_until_ready()
    on_ready = time.perf_counter()
    await bot.close()
    await task
    await core.close()
    return {
        "baseline_rss": baseline,
        "open": opened - started,
        "ready": ready - started,
        "on_ready": on_ready - started,
        "guilds": len(bot.guilds),
        "rss": rss,
        "peak_rss": peak_rss_mb(),
    }


async def case_stall(db: str | Path) -> dict[str, Any]:
    """10,000 posts due at one instant through the engine; the worst event-loop lag meanwhile."""
    _, release = film_release()
    due = release - DUE_OFFSET
    clock = ManualClock(due - timedelta(minutes=1))
    transport = RecordingTransport(rate=1_000_000)
    core = await Core.open(child_settings(db), clock)
    try:
        await core.start({Platform.DISCORD: transport})
        assert core.engine is not None
        await core.engine.wait_idle()
        async with LoopLagWatcher() as lag:
            started = time.perf_counter()
            clock.set(due)
            await core.engine.wait_idle()
            elapsed = time.perf_counter() - started
        async with core.db.read() as session:
            rows = await session.fetchall("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
    finally:
        await core.close()
    per_channel = Counter(target_id for target, target_id in transport.sent if target == "channel")
    return {
        "sent": len(transport.sent),
        "channels": len(per_channel),
        "repeated": sum(1 for n in per_channel.values() if n > 1),
        "elapsed": elapsed,
        "worst_lag": lag.worst,
        "stalls": lag.over(STALL_GOAL),
        "samples": len(lag.lags),
        "outbox": {row["state"]: row["n"] for row in rows},
    }


def run_case(case: str, db: str | Path, guilds: int) -> dict[str, Any]:
    if case.startswith("core-"):
        return asyncio.run(case_core(db))
    if case.startswith("bot-"):
        return asyncio.run(case_bot(db, guilds))
    if case == "stall":
        return asyncio.run(case_stall(db))
    raise SystemExit(f"unknown case {case!r}")


# -- the parent ----------------------------------------------------------------------------------


async def child(case: str, db: str | Path, guilds: int, env: dict[str, str] | None = None) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.scale",
        "--case",
        case,
        "--db",
        str(db),
        "--guilds",
        str(guilds),
        cwd=PROJECT,
        env={**os.environ, **(env or {})},
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"case {case} failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


@contextlib.contextmanager
def databases(postgres: bool) -> Iterator[tuple[str | Path, str | Path]]:
    """An empty and a full-to-be database: SQLite files, or databases of a throwaway PostgreSQL
    server (the tests' pgserver; its own memory is not in the bot's RSS)."""
    if postgres:
        # Imported only here: the SQLite cases' memory figures carry no PostgreSQL driver.
        from tests.postgres import PostgresServer

        server = PostgresServer.start()
        try:
            yield server.new_database(), server.new_database()
        finally:
            server.stop()
    else:
        with tempfile.TemporaryDirectory() as tmp:
            yield Path(tmp) / "empty.sqlite3", Path(tmp) / "full.sqlite3"


async def measure(postgres: bool) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with databases(postgres) as (empty, full):
        async with FakeDiscord() as fake:
            started = time.perf_counter()
            world = []
            for i in range(GUILDS):
                guild = fake.add_guild(f"Ballerina Fans {i}", bot_permissions=INVITED_PERMISSIONS)
                channel = guild.add_text_channel("reminders")
                role = guild.add_role("ballerina-fans")
                world.append((str(guild.id), str(channel.id), str(role.id)))
            results["fake_world"] = time.perf_counter() - started
            started = time.perf_counter()
            results["empty_db_mb"] = await seed(empty, [], 0)
            results["db_mb"] = await seed(full, world, MEMBERS_PER_GUILD)
            results["seed"] = time.perf_counter() - started
            for case, db in (("core-empty", empty), ("core-full", full)):
                results[case] = await child(case, db, GUILDS)
            env = {
                "BENCH_API_BASE": fake.api_base,
                "BENCH_GATEWAY_URL": fake.gateway_url,
                "BENCH_DISCORD_TOKEN": fake.token,
            }
            for case, db in (("bot-empty", empty), ("bot-full", full)):
                results[case] = await child(case, db, GUILDS, env)
        results["stall"] = await child("stall", full, GUILDS)  # last: it fires the reminders
    return results


def main(postgres: bool = False) -> None:
    """The figures on SQLite files, or (``bench scale_pg``) on PostgreSQL."""
    started = time.perf_counter()
    r = asyncio.run(measure(postgres))
    members = GUILDS * MEMBERS_PER_GUILD
    print(
        f"scale{' on PostgreSQL' if postgres else ''}: {members:,} subscribed members across {GUILDS:,} guilds,"
        f" 4 offsets each ({4 * GUILDS:,} reminders)"
    )
    print(
        f"  fake world {r['fake_world']:.1f} s; seeding both databases {r['seed']:.1f} s "
        f"(full {r['db_mb']:.0f} MB, empty {r['empty_db_mb']:.1f} MB)"
    )
    print("  (a) start-up, each case in a fresh process; RSS = resident memory at ready")
    for kind, label in (("core", "Core.open + engine start, recording transport"), ("bot", "whole bot on the fake")):
        e, f = r[f"{kind}-empty"], r[f"{kind}-full"]
        print(f"    {label}:")
        for name, x in (("empty", e), ("full", f)):
            extra = f", on_ready {x['on_ready']:.2f} s" if "on_ready" in x else ""
            guilds = f", {x['guilds']:,} guilds cached" if "guilds" in x else ""
            print(
                f"      {name:5}  Core.open {x['open']:6.2f} s, ready {x['ready']:6.2f} s{extra}{guilds};"
                f" RSS {x['rss']:6.1f} MB (after imports {x['baseline_rss']:.1f}, peak {x['peak_rss']:.1f})"
            )
        ratio = f["ready"] / e["ready"] if e["ready"] else float("nan")
        print(f"      ready full/empty: {ratio:.2f}x (+{f['ready'] - e['ready']:.2f} s)")
        print(f"      RSS full - empty: {f['rss'] - e['rss']:+.1f} MB (goal < {RSS_GOAL_MB:.0f} MB)")
        print(f"      peak RSS full - empty: {f['peak_rss'] - e['peak_rss']:+.1f} MB")
        if "worst_lag" in f:
            print(f"      worst event-loop lag during start-up: {f['worst_lag'] * 1000:.1f} ms (full database)")
    s = r["stall"]
    print(f"  (b) {GUILDS:,} posts due at one instant (engine + recording transport, rate limit out of the way)")
    print(
        f"    sent {s['sent']:,} to {s['channels']:,} channels ({s['repeated']} repeated) in {s['elapsed']:.2f} s"
        f" = {s['sent'] / s['elapsed']:.0f} posts/s; outbox {dict(sorted(s['outbox'].items()))}"
    )
    print(
        f"    worst event-loop lag {s['worst_lag'] * 1000:.1f} ms (goal <= {STALL_GOAL * 1000:.0f} ms); "
        f"{s['stalls']} of {s['samples']:,} wake-ups later than {STALL_GOAL * 1000:.0f} ms"
    )
    print(f"  total {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", help="run one case in this process and print its figures as JSON")
    parser.add_argument("--db", help="a SQLite file or a postgresql:// URL")
    parser.add_argument("--guilds", type=int, default=GUILDS)
    args = parser.parse_args()
    if args.case is None:
        main()
    else:
        if args.db is None:
            parser.error("--case needs --db")
        target = args.db if is_postgres_url(args.db) else Path(args.db)
        print(json.dumps(run_case(args.case, target, args.guilds)))
