"""Watch parties at scale: 100,000 upcoming parties with 20 RSVPs each.

Figures, each case in a fresh subprocess so resident memory is comparable:

* start-up to ready (core opened, bot connected to the fake with its guilds cached, engine
  started) and to the reminder engine's first idle, against an empty database and a full one;
* resident memory once ready, full against empty (goal: under 20 MB more);
* the bot runs as ``ballerina-bot run`` runs it: once ready, its garbage collector is tuned
  (``bot.heap``); without that, 65–110 ms full collections landed in one round or another and
  decided the p99 of either side;
* with the full database, 200 concurrent Going clicks (on 200 different party cards) against 200
  concurrent ``/ballerina cast`` in alternating rounds (goal: click p99 within 1.25× cast p99),
  and, for information, 200 members clicking Maybe on one party at the same moment: how soon
  each is answered, and how soon the card shows all 200.

The click cases run at each network latency of ``--latency-ms`` (default 0 and 50 ms on every
REST request of the fake): each answer reaches the fake one latency later, and an edit of the
card under way holds the next one back by a round trip.

The full database is written with SQL straight through the core's ``Database`` (the schema of
``V2__watch_parties.sql``); its parties start between 2 days and 300 days from now, so no
reminder falls due while the benchmark runs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import (
    LATENCIES_MS,
    add_latency_option,
    callback_latency,
    concurrent_latencies,
    percentile,
    rss_mb,
    running_ballerina,
    settings_for,
)
from bench.common import summary as latency_summary
from bot.core.parties import RSVP
from bot.core.services import Core
from bot.core.storage import Database
from bot.discord.parties import card_edits
from tests.fakediscord import FakeChannel, FakeDiscord, FakeGuild, FakeInteraction, FakeMember, FakeMessage
from tests.fakediscord.harness import fake_endpoints

PARTIES = 100_000
RSVPS_PER_PARTY = 20
GUILDS = 1_000
CONCURRENT = 200
ROUNDS = 5
MEMORY_GOAL_MB = 20.0
LATENCY_GOAL = 1.25
CARD_COUNTS = {RSVP.GOING: "Going", RSVP.MAYBE: "Maybe", RSVP.NOT_GOING: "Not going"}

# Plain SQL for speed: 100k parties, 2M RSVPs, 400k pending reminders in one transaction.
_FILL = [
    f"""
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {GUILDS - 1})
    INSERT INTO guild_settings (guild_id, release_offsets, timezone, created_at, updated_at)
    SELECT CAST(900000000000000000 + i AS TEXT), '[604800,86400,3600,0]', 'UTC', :now, :now FROM n
    """,
    f"""
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {PARTIES})
    INSERT INTO parties (id, guild_id, host_id, title, starts_at, timezone, channel_id, offsets,
                         card_message_id, scheduled_event_id, created_at, updated_at)
    SELECT i, CAST(900000000000000000 + i % {GUILDS} AS TEXT), CAST(800000000000000000 + i % 50000 AS TEXT),
           'Ballerina night #' || i, :first + (i * 7919) % (298 * 86400), 'Europe/Paris',
           CAST(700000000000000000 + i % {GUILDS} AS TEXT), '[86400,3600,600,0]',
           CAST(600000000000000000 + i AS TEXT), CAST(500000000000000000 + i AS TEXT), :now, :now
    FROM n
    """,
    f"""
    WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < {RSVPS_PER_PARTY - 1})
    INSERT INTO rsvps (party_id, user_id, choice, updated_at)
    SELECT p.id, CAST(800000000000000000 + (p.id * {RSVPS_PER_PARTY} + k.j) % 200000 AS TEXT),
           CASE WHEN k.j < 12 THEN 'going' WHEN k.j < 17 THEN 'maybe' ELSE 'no' END, :now + k.j
    FROM parties AS p, k
    """,
    """
    INSERT INTO reminders (guild_id, kind, event_id, offset_s, due_at)
    SELECT p.guild_id, 'party', CAST(p.id AS TEXT), j.value, p.starts_at - j.value
    FROM parties AS p, json_each(p.offsets) AS j
    """,
    """
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 19999)
    INSERT INTO user_settings (user_id, timezone, party_via)
    SELECT CAST(800000000000000000 + i * 10 AS TEXT), 'America/New_York',
           CASE WHEN i % 3 = 0 THEN 'dm' ELSE 'channel' END
    FROM n
    """,
]


async def build_database(path: Path, *, full: bool) -> float:
    """Create (and migrate) the database at ``path``; with ``full``, fill it. Returns seconds taken."""
    started = time.perf_counter()
    db = await Database.open(path)
    try:
        if full:
            now = int(time.time())
            async with db.transaction() as session:
                for statement in _FILL:
                    await session.execute(statement, {"now": now, "first": now + 2 * 86400})
            async with db.read() as session:
                await session.execute("ANALYZE")
    finally:
        await db.close()
    return time.perf_counter() - started


# -- one case, in its own process ------------------------------------------------------------------


def _party_id(card: FakeMessage) -> int:
    return int(card.custom_ids()[0].split(":")[1])


async def _click_latencies(
    fake: FakeDiscord, clicks: list[tuple[FakeMessage, FakeMember]], choice: str = "going"
) -> list[float]:
    interactions: list[FakeInteraction] = await asyncio.gather(
        *(fake.click(card, f"party:{_party_id(card)}:{choice}", member) for card, member in clicks)
    )
    answers = await asyncio.gather(*(i.response(timeout=60) for i in interactions))
    # The card edited in place, or an acknowledgement while an edit of that card is under way.
    assert all(a.type in (6, 7) for a in answers), [a.content for a in answers if a.type not in (6, 7)][:3]
    return [callback_latency(i) for i in interactions]


async def _card_settled(fake: FakeDiscord, core: Core, card: FakeMessage, since: float) -> float:
    """Seconds from ``since`` (a ``time.time()``) until the last edit of ``card`` reached the fake.

    Once every click is answered, each is either on the card or marked for the next edit of it.
    """
    await card_edits.settled(card.id)
    attendance = await core.parties.parties.attendance(_party_id(card), 0)
    shown = json.dumps(card.embeds)
    assert all(f"{label} ({attendance.counts[rsvp]})" in shown for rsvp, label in CARD_COUNTS.items()), shown
    # Edits of the card since: as a click's answer, in the channel, through the webhook of a click
    # (only this card is clicked now).
    answers = [r for r in fake.find_requests("POST", r"/callback$") if r.json and r.json.get("type") == 7]
    edits = answers + fake.find_requests("PATCH", rf"/messages/({card.id}|@original)$")
    return max(r.timestamp for r in edits if r.timestamp >= since) - since


async def _cards(
    fake: FakeDiscord, guild: FakeGuild, channel: FakeChannel, hosts: list[FakeMember]
) -> list[FakeMessage]:
    """One party per host, created through the slash command so each has a real card."""
    for index, host in enumerate(hosts):
        interaction = await fake.slash(
            guild, channel, host, "ballerina", "party", "create",
            options={"when": f"in {3 + index % 200} days", "title": f"Bench party {index}"},
        )  # fmt: skip
        await interaction.response(timeout=60)
    return await fake.wait_for_messages(channel, count=len(hosts), timeout=60)


async def run_case(database: Path, *, clicks: bool, latency: float) -> dict[str, Any]:
    result: dict[str, Any] = {"rss_before_mb": rss_mb()}
    async with FakeDiscord(callback_deadline=None, latency=latency) as fake:
        guild = fake.add_guild("Bench Club")
        channel = guild.add_text_channel("general")
        members = [guild.add_member(f"fan{i}") for i in range(CONCURRENT * (ROUNDS + 1))]
        with fake_endpoints(fake):
            settings = settings_for(fake, database)
            started = time.perf_counter()
            async with running_ballerina(fake, settings, tune_gc=True) as bot:
                result["ready_s"] = time.perf_counter() - started
                assert bot.core.engine is not None
                await bot.core.engine.wait_idle()
                result["engine_idle_s"] = time.perf_counter() - started
                await bot.wait_until_ready()  # discord.py's on_ready, where `run` tunes the GC (bot.heap)
                result["rss_ready_mb"] = rss_mb()
                if clicks:
                    result |= await _measure_clicks(fake, guild, channel, members, bot.core)
                result["rss_end_mb"] = rss_mb()
    return result


async def _measure_clicks(
    fake: FakeDiscord, guild: FakeGuild, channel: FakeChannel, members: list[FakeMember], core: Core
) -> dict[str, Any]:
    # The first start registered the commands (setup_hook), before the bot counted as ready.
    cards = await _cards(fake, guild, channel, members[:CONCURRENT])
    # Give the bench parties the same 20 answers as the rest, so their cards are as heavy.
    async with core.db.transaction() as session:
        await session.execute(
            f"""
            WITH RECURSIVE k(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM k WHERE j < {RSVPS_PER_PARTY - 1})
            INSERT OR IGNORE INTO rsvps (party_id, user_id, choice, updated_at)
            SELECT p.id, CAST(810000000000000000 + p.id * 100 + k.j AS TEXT),
                   CASE WHEN k.j < 12 THEN 'going' WHEN k.j < 17 THEN 'maybe' ELSE 'no' END, 0
            FROM parties AS p, k WHERE p.guild_id = ?
            """,
            (str(guild.id),),
        )
    clickers = members[CONCURRENT:]
    full_collections = gc.get_stats()[2]["collections"]
    cast: list[float] = []
    going: list[float] = []
    for round_ in range(ROUNDS):
        cast += await concurrent_latencies(fake, guild, channel, members[:CONCURRENT], "ballerina", "cast")
        pairs = [(cards[(i + round_) % CONCURRENT], clickers[round_ * CONCURRENT + i]) for i in range(CONCURRENT)]
        going += await _click_latencies(fake, pairs)
    full_collections = gc.get_stats()[2]["collections"] - full_collections
    # One at a time: the cost of a click itself, without queueing behind 199 others.
    cast_alone: list[float] = []
    going_alone: list[float] = []
    for i in range(CONCURRENT):
        cast_alone += await concurrent_latencies(fake, guild, channel, [members[i]], "ballerina", "cast")
        going_alone += await _click_latencies(fake, [(cards[i], members[i])])
    since = time.time()
    hot = await _click_latencies(fake, [(cards[0], m) for m in clickers[:CONCURRENT]], "maybe")
    hot_card = await _card_settled(fake, core, cards[0], since)
    return {
        "cast": cast,
        "going": going,
        "full_collections": full_collections,
        "cast_alone": cast_alone,
        "going_alone": going_alone,
        "hot": hot,
        "hot_card_s": hot_card,
    }


def child(argv: list[str]) -> None:
    database, clicks, latency_ms = Path(argv[0]), argv[1] == "clicks", int(argv[2])
    print(json.dumps(asyncio.run(run_case(database, clicks=clicks, latency=latency_ms / 1000))))


def _in_subprocess(database: Path, *, clicks: bool, latency_ms: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            *(sys.executable, "-m", "bench.party_scale", "child"),
            *(str(database), "clicks" if clicks else "no", str(latency_ms)),
        ],
        check=True,
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    )
    last: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return last


def _copy(database: Path, to: Path) -> Path:
    """A copy of a closed database, so each case starts from the same one (the click case writes)."""
    shutil.copyfile(database, to)
    return to


def main(latencies_ms: Sequence[int] = LATENCIES_MS) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        empty_db, full_db = Path(tmp) / "empty.sqlite3", Path(tmp) / "full.sqlite3"
        asyncio.run(build_database(empty_db, full=False))
        built = asyncio.run(build_database(full_db, full=True))
        size = sum(p.stat().st_size for p in Path(tmp).glob("full.sqlite3*")) / 2**20
        print(f"{PARTIES:,} parties x {RSVPS_PER_PARTY} RSVPs written in {built:.1f} s ({size:.0f} MB on disk)")
        for latency_ms in latencies_ms:
            empty = _in_subprocess(_copy(empty_db, Path(tmp) / "case.sqlite3"), clicks=False, latency_ms=latency_ms)
            full = _in_subprocess(_copy(full_db, Path(tmp) / "case.sqlite3"), clicks=True, latency_ms=latency_ms)
            print(f"== network latency {latency_ms} ms on every REST request")
            _report(empty, full)


def _report(empty: dict[str, Any], full: dict[str, Any]) -> None:
    print("start-up (fresh process each)")
    for name, case in (("empty database", empty), ("100k parties", full)):
        print(
            f"  {name:15} ready {case['ready_s'] * 1000:7.0f} ms   engine idle {case['engine_idle_s'] * 1000:7.0f} ms"
            f"   RSS ready {case['rss_ready_mb']:6.1f} MB"
        )
    extra = full["rss_ready_mb"] - empty["rss_ready_mb"]
    print(f"  RSS 100k parties - empty: {extra:+.1f} MB (goal < {MEMORY_GOAL_MB:.0f} MB)")
    print(f"  RSS after the click rounds: {full['rss_end_mb']:.1f} MB")

    print(f"latency with 100k parties, {CONCURRENT} concurrent x {ROUNDS} rounds")
    print(f"  /ballerina cast           {latency_summary(full['cast'])}")
    print(f"  Going (200 parties)       {latency_summary(full['going'])}")
    ratio = percentile(full["going"], 99) / percentile(full["cast"], 99)
    print(f"  p99 ratio going/cast: {ratio:.2f} (goal <= {LATENCY_GOAL})")
    print(f"  full garbage collections during these rounds: {full['full_collections']}")
    print("  one at a time:")
    print(f"  /ballerina cast           {latency_summary(full['cast_alone'])}")
    print(f"  Going                     {latency_summary(full['going_alone'])}")
    alone = percentile(full["going_alone"], 99) / percentile(full["cast_alone"], 99)
    print(f"  p99 ratio going/cast: {alone:.2f}")
    print(f"  {CONCURRENT} members on one party at once, for information:")
    print(f"  Maybe (1 party)           {latency_summary(full['hot'])}")
    print(f"  the card shows all {CONCURRENT}: {full['hot_card_s'] * 1000:.0f} ms after the first click")


if __name__ == "__main__":
    if sys.argv[1:2] == ["child"]:
        child(sys.argv[2:])
    else:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        add_latency_option(parser)
        main(parser.parse_args().latency_ms)
