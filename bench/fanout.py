"""2,000 guilds' release reminders due at one instant, through the real bot and the fake Discord.

The fake enforces Discord's global limit (50 requests in any sliding second, with proper global
429s). Each guild has a reminder channel and the one offset "at the release"; the bot starts
on a manual clock a minute before, then the clock jumps to the release and every post is due.

Figures: throughput over the whole fan-out (from the clock jump to the last post the fake
accepted) as a fraction of the limit (goal >= 0.95), 429s the fake sent (goal 0), channels
that got no post or more than one (goal 0 each), and the total time. A send that failed is
retried after a backoff on the engine's clock: the benchmark then moves the clock on so such
rows go out, and reports which channels are still missing.
"""

from __future__ import annotations

import asyncio
import collections
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bench.common import film_release, running_ballerina, settings_for
from bot.core.clock import ManualClock
from bot.core.storage import Database, Store
from bot.core.storage.models import DEFAULT_TIMEZONE
from tests.fakediscord import FakeDiscord
from tests.fakediscord.harness import fake_endpoints
from tests.world import INVITED_PERMISSIONS

GUILDS = 2_000
RATE = 50  # the fake's global limit and the bot's GLOBAL_RATE_LIMIT
POSTS_ROUTE = "/channels/{channel_id}/messages"

# One row per guild from a JSON array of [guild_id, channel_id]: 2,000 settings in one statement.
_SEED_SETTINGS = """
INSERT INTO guild_settings (guild_id, channel_id, release_offsets, timezone, created_at, updated_at)
SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), '[0]', :tz, 0, 0 FROM json_each(:pairs)
"""


@dataclass
class Result:
    posts: int
    window: float  # seconds from the clock jump to the last post accepted by the fake
    first_post: float  # seconds from the clock jump to the first post accepted
    spread: float  # seconds from the first to the last accepted post
    limited: int
    limited_first_second: int
    peak_window: int  # most requests the fake received in any sliding second
    lost: int
    duplicated: int
    nonce_dedups: int
    lost_after_retries: int
    limited_in_retries: int
    startup: float
    total: float
    outbox: dict[str, int]


async def seed(db_path: Path, clock: ManualClock, pairs: list[tuple[str, str]]) -> None:
    """Guild settings in bulk, then the release (which schedules every guild's reminder)."""
    db = await Database.open(db_path)
    try:
        async with db.transaction() as session:
            await session.execute(_SEED_SETTINGS, {"tz": DEFAULT_TIMEZONE, "pairs": json.dumps(pairs)})
        film_id, release = film_release()
        await Store(db, clock).set_release(film_id, release)
    finally:
        await db.close()


async def outbox_states(db: Database) -> dict[str, int]:
    async with db.read() as session:
        rows = await session.fetchall("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
    return {row["state"]: row["n"] for row in rows}


def posts_per_channel(fake: FakeDiscord) -> collections.Counter[int]:
    return collections.Counter(m.channel_id for m in fake.messages.values() if m.source == "channel" and not m.deleted)


def peak_in_any_second(stamps: list[float]) -> int:
    ordered = sorted(stamps)
    peak, first = 0, 0
    for last, stamp in enumerate(ordered):
        while ordered[first] <= stamp - 1.0:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


async def measure() -> Result:
    started = time.perf_counter()
    _, release = film_release()
    clock = ManualClock(release - timedelta(minutes=1))
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "fanout.sqlite3"
        async with FakeDiscord(global_rate_limit=RATE) as fake:
            channels = []
            for i in range(GUILDS):
                guild = fake.add_guild(f"Ballerina Fans {i}", bot_permissions=INVITED_PERMISSIONS)
                channels.append(guild.add_text_channel("reminders"))
            await seed(db_path, clock, [(str(c.guild.id), str(c.id)) for c in channels if c.guild is not None])
            settings = settings_for(fake, db_path, GLOBAL_RATE_LIMIT=str(RATE))
            with fake_endpoints(fake):
                async with running_ballerina(fake, settings, clock) as bot:
                    engine = bot.core.engine
                    assert engine is not None
                    await asyncio.wait_for(engine.wait_idle(), 60)
                    startup = time.perf_counter() - started
                    limited_before, requests_before = fake.rate_limited_count, len(fake.requests)
                    jump = time.time()
                    clock.set(release)
                    await asyncio.wait_for(engine.wait_idle(), 600)
                    outbox = await outbox_states(bot.core.db)
                    during = fake.requests[requests_before:]
                    per_channel = posts_per_channel(fake)
                    limited_after = fake.rate_limited_count
                    # Rows a failed send put back to wait (backoff) go out once the clock passes
                    # their time; give them the engine's whole backoff schedule, within the grace.
                    for _ in range(5):
                        if not outbox.get("pending"):
                            break
                        clock.advance(timedelta(minutes=10))
                        await asyncio.wait_for(engine.wait_idle(), 600)
                        outbox = await outbox_states(bot.core.db)
                    per_channel_later = posts_per_channel(fake)
            posted = sorted(r.timestamp for r in during if r.route == POSTS_ROUTE and r.status == 200)
            limited_at = [r.timestamp for r in during if r.status == 429]
            lost = sum(1 for c in channels if per_channel[c.id] == 0)
            duplicated = sum(1 for c in channels if per_channel_later[c.id] > 1)
            return Result(
                posts=len(posted),
                window=posted[-1] - jump if posted else float("nan"),
                first_post=posted[0] - jump if posted else float("nan"),
                spread=posted[-1] - posted[0] if posted else float("nan"),
                limited=limited_after - limited_before,
                limited_first_second=sum(1 for t in limited_at if posted and t < posted[0] + 1.0),
                peak_window=peak_in_any_second([r.timestamp for r in during]),
                lost=lost,
                duplicated=duplicated,
                nonce_dedups=fake.nonce_dedup_count,
                lost_after_retries=sum(1 for c in channels if per_channel_later[c.id] == 0),
                limited_in_retries=fake.rate_limited_count - limited_after,
                startup=startup,
                total=time.perf_counter() - started,
                outbox=outbox,
            )


def main() -> None:
    r = asyncio.run(measure())
    rate = r.posts / r.window
    print(f"release fan-out: {GUILDS} guild channels due at once, fake global limit {RATE}/s, bot rate {RATE}/s")
    print(
        f"  posts accepted           {r.posts} in {r.window:.2f} s after the clock jump"
        f" (first after {r.first_post:.2f} s)"
    )
    print(f"  throughput               {rate:.2f} msg/s = {rate / RATE:.3f} of the limit (goal >= 0.95)")
    steady = (r.posts - 1) / r.spread if r.posts > 1 else float("nan")
    print(f"  first-to-last post rate  {steady:.2f} msg/s = {steady / RATE:.3f} of the limit")
    print(f"  429s received            {r.limited} ({r.limited_first_second} in the first second of posting) (goal 0)")
    print(f"  peak requests in any 1 s {r.peak_window} (fake's limit {RATE})")
    print(
        f"  lost posts               {r.lost} (goal 0); still missing after letting retries run"
        f" (clock +10 min steps): {r.lost_after_retries} ({r.limited_in_retries} more 429s)"
    )
    print(f"  duplicated posts         {r.duplicated} (goal 0); re-sends dropped by nonce: {r.nonce_dedups}")
    print(f"  outbox rows at the end   {dict(sorted(r.outbox.items()))}")
    print(f"  set-up (fake, seed, bot) {r.startup:.1f} s; total {r.total:.1f} s")


if __name__ == "__main__":
    main()
