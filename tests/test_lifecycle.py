"""Servers that removed the bot while it was offline are forgotten at the next start; others are kept."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.departures import ALWAYS_FORGOTTEN, forget_absent_guilds
from bot.core.storage import Database, Store, Via
from cogs.lifecycle import served_by
from tests.fakediscord import FakeGuild, Perm
from tests.world import RELEASE, World, world


async def caught_up(w: World) -> None:
    """Wait until the started bot has compared its servers with the first READY."""
    assert w.bot is not None
    # Not isinstance: load_extension imports cogs/lifecycle.py afresh for each bot.
    event = w.bot.get_cog("Lifecycle").caught_up  # type: ignore[union-attr]
    assert isinstance(event, asyncio.Event)
    await asyncio.wait_for(event.wait(), 5)


async def with_data(w: World, guild: FakeGuild) -> str:
    """A moderator configures the server and a member opts in: the server now has data."""
    channel = w.channel if guild is w.guild else guild.add_text_channel("general")
    moderator = guild.add_member(f"mod-of-{guild.id}", permissions=Perm.MANAGE_GUILD)
    member = guild.add_member(f"fan-of-{guild.id}")
    await w.run(moderator, "ballerina-admin", "channel", options={"channel": channel}, channel=channel, guild=guild)
    await w.run(member, "ballerina", "remind", "on", options={"via": "dm"}, channel=channel, guild=guild)
    assert w.core is not None
    assert (await w.core.store.get_subscription(str(guild.id), str(member.id))) is not None
    return str(guild.id)


async def test_a_server_that_removed_the_bot_while_it_was_offline_is_forgotten_at_start(tmp_path: Path) -> None:
    async with world(tmp_path, RELEASE - timedelta(days=16)) as w:
        other = w.fake.add_guild("Cinema Club")
        staying, leaving = await with_data(w, w.guild), await with_data(w, other)
        await w.stop()
        w.fake.remove_guild(other)  # while the bot is offline: it never hears of it
        await w.start()
        await caught_up(w)
        assert w.core is not None
        assert await w.core.store.guild_ids() == [staying]
        assert (await w.core.store.count_subscribers(leaving))[Via.DM] == 0


async def test_a_server_unavailable_at_start_keeps_its_data(tmp_path: Path) -> None:
    async with world(tmp_path, RELEASE - timedelta(days=16)) as w:
        other = w.fake.add_guild("Cinema Club")
        ids = sorted([await with_data(w, w.guild), await with_data(w, other)])
        await w.stop()
        other.unavailable = True  # a Discord outage: listed in READY, no GUILD_CREATE
        await w.start()
        await caught_up(w)
        assert w.bot is not None and w.core is not None
        assert w.bot.get_guild(other.id).unavailable  # type: ignore[union-attr]
        assert await w.core.store.guild_ids() == ids
        assert (await w.core.store.count_subscribers(str(other.id)))[Via.DM] == 1


async def test_a_resumed_session_forgets_nothing(tmp_path: Path) -> None:
    async with world(tmp_path, RELEASE - timedelta(days=16)) as w:
        await caught_up(w)
        assert w.core is not None
        await w.core.store.ensure_guild("1")  # data for a server the gateway does not list
        await w.fake.drop_gateway(resume=True)
        await w.fake.wait_for_resume()
        await w.fake.flush_gateway()
        assert "1" in await w.core.store.guild_ids()


@pytest.mark.parametrize("force", [False, True])
async def test_too_many_absent_servers_are_kept_with_a_warning_unless_the_operator_forces_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, force: bool
) -> None:
    environ = {"FORGET_ABSENT_SERVERS": "yes"} if force else {}
    async with world(tmp_path, RELEASE - timedelta(days=16), environ) as w:
        staying = await with_data(w, w.guild)
        absent = [str(n) for n in range(1000, 1000 + ALWAYS_FORGOTTEN + 1)]  # 6 of 7 missing from READY
        for guild_id in absent:
            await w.core.store.ensure_guild(guild_id)  # type: ignore[union-attr]
        await w.restart()
        await caught_up(w)
        assert w.core is not None
        assert await w.core.store.guild_ids() == ([staying] if force else sorted([*absent, staying]))
        warned = [r.getMessage() for r in caplog.records if "FORGET_ABSENT_SERVERS=yes" in r.getMessage()]
        assert bool(warned) is not force


# -- the safety margin, on the core with a real database -------------------------------------------


async def open_store(tmp_path: Path, guilds: int) -> tuple[Database, Store]:
    db = await Database.open(tmp_path / "bot.sqlite3")
    store = Store(db, ManualClock(RELEASE - timedelta(days=16)))
    for n in range(guilds):
        await store.ensure_guild(str(1000 + n))
    return db, store


async def test_too_many_absent_servers_at_once_are_kept_unless_forced(tmp_path: Path) -> None:
    db, store = await open_store(tmp_path, 10)
    try:
        listed = {"1000", "1001", "1002"}  # 7 of 10 missing: far beyond a plausible departure
        withheld = await forget_absent_guilds(store, listed, lambda _: True)
        assert withheld.forgotten == () and len(withheld.withheld) == 7
        assert len(await store.guild_ids()) == 10
        forced = await forget_absent_guilds(store, listed, lambda _: True, force=True)
        assert len(forced.forgotten) == 7
        assert set(await store.guild_ids()) == listed
    finally:
        await db.close()


async def test_an_empty_server_list_forgets_nothing(tmp_path: Path) -> None:
    db, store = await open_store(tmp_path, 2)
    try:
        departures = await forget_absent_guilds(store, set(), lambda _: True)
        assert departures.withheld == ("1000", "1001")
        assert len(await store.guild_ids()) == 2
    finally:
        await db.close()


async def test_a_few_absent_servers_are_forgotten_whatever_their_share(tmp_path: Path) -> None:
    db, store = await open_store(tmp_path, ALWAYS_FORGOTTEN + 1)
    try:
        departures = await forget_absent_guilds(store, {"1000"}, lambda _: True)
        assert len(departures.forgotten) == ALWAYS_FORGOTTEN
        assert await store.guild_ids() == ["1000"]
    finally:
        await db.close()


async def test_only_the_servers_of_this_process_shard_are_compared(tmp_path: Path) -> None:
    shard_zero, shard_one = str(0 << 22), str((1 << 22) + 1)  # shards 0 and 1 of 2
    db, store = await open_store(tmp_path, 0)
    try:
        for guild_id in (shard_zero, shard_one):
            await store.ensure_guild(guild_id)
        # Shard 1's READY lists none of shard 0's servers: they are not its to forget.
        departures = await forget_absent_guilds(store, {"4194305"}, served_by(1, 2))
        assert departures.forgotten == ()
        assert sorted(await store.guild_ids()) == sorted([shard_zero, shard_one])
        assert served_by(None, None)(shard_zero) and served_by(0, 1)(shard_one)
    finally:
        await db.close()
