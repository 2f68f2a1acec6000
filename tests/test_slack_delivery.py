"""Release reminders delivered on Slack, end to end: the real core and engine, the Slack transport
on the real slack_sdk client, commands through the real slack-bolt, and the fake Slack."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.services import Core
from bot.core.storage import Platform, Via
from bot.discord.client import BallerinaBot
from bot.settings import Settings
from bot.slack.transport import SlackTransport
from tests.fakediscord import FakeDiscord
from tests.fakediscord._util import wait_until
from tests.fakediscord.harness import fake_endpoints, start_bot, stop_bot
from tests.fakeslack import FakeSlack, SlackMessage, SlackUser
from tests.slack_world import BEFORE_RELEASE, SlackWorld, slack_bot, slack_world
from tests.world import INVITED_PERMISSIONS

PINGS = re.compile(r"<@(U[A-Z0-9]+)>|<!(subteam\^S[A-Z0-9]+|channel|here|everyone)")


def pings(message: SlackMessage) -> set[str]:
    """Everyone a message notifies: members by id, and groups as ``subteam^S…``/``channel``/``here``."""
    return {user or special for user, special in PINGS.findall(message.all_text())}


@contextlib.asynccontextmanager
async def delivering(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    """A Slack world whose core delivers through the Slack transport, the reminder channel set."""
    async with slack_world(tmp_path) as w:
        await w.core.start({Platform.SLACK: SlackTransport(w.bot)})
        assert "Reminder posts will go to" in await w.run(w.admin, "/ballerina-admin", "channel")
        yield w


def release(w: SlackWorld) -> datetime:
    return w.core.facts.film.release.instant


async def advance_to(w: SlackWorld, instant: datetime) -> None:
    clock = w.core.clock
    assert isinstance(clock, ManualClock) and w.core.engine is not None
    clock.set(instant)
    await asyncio.wait_for(w.core.engine.wait_idle(), 30)


def outbox(w: SlackWorld) -> list[tuple[str, str, str | None]]:
    with contextlib.closing(sqlite3.connect(w.core.settings.database_path)) as conn:
        return conn.execute("SELECT target, state, error_kind FROM outbox ORDER BY id").fetchall()


async def opt_in_many(w: SlackWorld, count: int) -> list[SlackUser]:
    """``count`` members of #general who asked for channel reminders (two through the command)."""
    fans = [w.team.add_user(f"fan{i}") for i in range(count)]
    for fan in fans:
        w.general.add_member(fan)
    for fan in fans[:2]:
        assert "in a reply in its thread" in await w.run(fan, "/ballerina", "remind on")
    for fan in fans[2:]:
        await w.core.store.subscribe(w.team.id, fan.id, Via.CHANNEL)
    return fans


async def test_each_reminder_post_pings_nobody_and_its_thread_mentions_each_opted_in_member_once(
    tmp_path: Path,
) -> None:
    async with delivering(tmp_path) as w:
        fans = await opt_in_many(w, 120)
        assert "by DM" in await w.run(w.member, "/ballerina", "remind on dm")
        for offset, posts in ((timedelta(days=1), 1), (timedelta(hours=1), 2)):
            await advance_to(w, release(w) - offset)
            top = w.fake.channel_messages(w.general, include_replies=False)
            top = [m for m in top if m.source == "api"]
            assert len(top) == posts
            post = top[-1]
            assert pings(post) == set()
            assert post.metadata is not None and post.metadata["event_type"] == "ballerina_delivery"
            thread = w.fake.thread(w.general, post.ts)
            assert len(thread) == 3 and all(len(pings(reply)) <= 50 for reply in thread)
            mentioned = Counter(user for reply in thread for user in pings(reply))
            assert mentioned == Counter({fan.id: 1 for fan in fans})
            assert len(w.fake.dm_messages(w.member)) == posts
            assert pings(w.fake.dm_messages(w.member)[-1]) <= {w.member.id}  # a DM notifies by itself
        assert w.admin.id not in {user for m in w.fake.messages for user in pings(m)}
        assert {state for _, state, _ in outbox(w)} == {"sent"}


async def test_with_a_user_group_the_post_mentions_only_the_group(tmp_path: Path) -> None:
    async with delivering(tmp_path) as w:
        await opt_in_many(w, 3)
        group = w.team.add_usergroup("film-fans", users=[w.member])
        for typed in ("usergroup: S000NOPE", "usergroup: #general", "usergroup:"):
            answer = await w.run(w.admin, "/ballerina-admin", f"role {typed}")
            assert "Nothing was changed" in answer or "needs a value" in answer
        assert (await w.core.store.get_guild_settings(w.team.id)).ping_role_id is None
        answer = await w.run(w.admin, "/ballerina-admin", f"role usergroup: <!subteam^{group.id}|@film-fans>")
        assert "Reminder posts will mention" in answer
        assert "mention the group" in await w.run(w.member, "/ballerina", "remind on")

        await advance_to(w, release(w) - timedelta(days=1))
        [post] = [m for m in w.fake.channel_messages(w.general) if m.source == "api"]
        assert pings(post) == {f"subteam^{group.id}"}
        assert w.fake.thread(w.general, post.ts) == []


PERMANENT = [
    ("chat.postMessage", "channel_not_found", "channel", "missing channel"),
    ("chat.postMessage", "not_in_channel", "channel", "forbidden"),
    ("chat.postMessage", "is_archived", "channel", "archived"),
    ("chat.postMessage", "account_inactive", "dm", "account inactive"),
    ("conversations.open", "user_not_found", "dm", "unknown user"),
    ("conversations.open", "user_disabled", "dm", "account inactive"),
    ("conversations.open", "cannot_dm_bot", "dm", "dms closed"),
    ("chat.postMessage", "messages_tab_disabled", "dm", "dms closed"),
]


@pytest.mark.parametrize(("method", "error", "target", "shown"), PERMANENT)
async def test_an_error_that_will_not_heal_is_recorded_shown_in_status_and_not_retried(
    tmp_path: Path, method: str, error: str, target: str, shown: str
) -> None:
    async with delivering(tmp_path) as w:
        assert "by DM" in await w.run(w.member, "/ballerina", "remind on dm")
        where = {"channel": w.general, "dm": w.team.dm(w.member)}[target] if method == "chat.postMessage" else None
        w.fake.fail_calls(method, error, times=None, channel=where)
        await advance_to(w, release(w) - timedelta(days=1))
        rows = outbox(w)
        failed = [row for row in rows if row[1] == "failed"]
        assert [(t, kind) for t, _, kind in failed] == [(target, shown.replace(" ", "_"))]
        refused = [call for call in w.fake.find_calls(method) if call.error == error]
        assert len(refused) == 1  # tried once, never again
        await advance_to(w, release(w) - timedelta(days=1) + timedelta(hours=2))
        assert [call for call in w.fake.find_calls(method) if call.error == error] == refused
        status = await w.run(w.admin, "/ballerina-admin", "status")
        assert f"{shown}: 1 (" in status


async def test_a_429_storm_is_waited_out_with_its_retry_after_and_everything_arrives_once(tmp_path: Path) -> None:
    async with delivering(tmp_path) as w:
        fans = [w.team.add_user(f"dm-fan{i}") for i in range(12)]
        for fan in fans:
            await w.core.store.subscribe(w.team.id, fan.id, Via.DM)
        storm = w.fake.inject_rate_limit("chat.postMessage", times=5, retry_after=1)
        await advance_to(w, release(w) - timedelta(days=1))
        assert storm.served == 5 and w.fake.rate_limited["chat.postMessage"] == 5
        assert [len(w.fake.dm_messages(fan)) for fan in fans] == [1] * len(fans)
        assert len([m for m in w.fake.channel_messages(w.general) if m.source == "api"]) == 1
        posts = w.fake.find_calls("chat.postMessage")
        assert len(posts) == len(fans) + 1 + 5  # each refused call was made again once: no loop
        for refused in (call for call in posts if call.status == 429):
            again = [c for c in posts if c.args["channel"] == refused.args["channel"] and c.time > refused.time]
            assert again and again[0].time - refused.time >= 0.95  # Retry-After: 1 honoured
        assert {state for _, state, _ in outbox(w)} == {"sent"}


async def test_one_process_delivers_discord_and_slack_reminders_due_at_the_same_instant(tmp_path: Path) -> None:
    async with FakeDiscord() as discord_fake, FakeSlack() as slack_fake:
        guild = discord_fake.add_guild("Film Club", bot_permissions=INVITED_PERMISSIONS)
        channel = guild.add_text_channel("general")
        alice = guild.add_member("alice")
        team = slack_fake.add_team("Film Club")
        bob = team.add_user("bob")
        general = team.add_channel("general", members=[bob])
        environ = {
            "DISCORD_API_BASE": discord_fake.api_base,
            "DISCORD_GATEWAY_URL": discord_fake.gateway_url,
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        }
        clock = ManualClock(BEFORE_RELEASE)
        core = await Core.open(Settings.load(environ=environ, env_file=None), clock)
        # As `ballerina-bot run` assembles them: one core, one engine, a transport per platform.
        discord_bot = BallerinaBot(core, starts_engine=False)
        slack = slack_bot(slack_fake, team, core)
        with fake_endpoints(discord_fake):
            task = await start_bot(discord_fake, discord_bot)
            try:
                await core.start(
                    {Platform.DISCORD: discord_bot.transport, Platform.SLACK: SlackTransport(slack)},
                    {Platform.DISCORD: discord_bot.directory},
                )
                await slack.ensure_team(team.id)
                at_release = (timedelta(0),)
                await core.store.update_guild_settings(
                    str(guild.id), channel_id=str(channel.id), release_offsets=at_release
                )
                await core.store.update_guild_settings(team.id, channel_id=general.id, release_offsets=at_release)
                await core.store.subscribe(str(guild.id), str(alice.id), Via.DM)
                await core.store.subscribe(team.id, bob.id, Via.DM)
                core.notify_changed()
                assert core.engine is not None
                await asyncio.wait_for(core.engine.wait_idle(), 10)
                assert discord_fake.channel_messages(channel) == [] and slack_fake.messages == []

                clock.set(core.facts.film.release.instant)
                await asyncio.wait_for(core.engine.wait_idle(), 10)
                assert len(discord_fake.channel_messages(channel)) == 1
                assert len(discord_fake.dm_messages(alice)) == 1
                assert len([m for m in slack_fake.channel_messages(general) if m.source == "api"]) == 1
                assert len(slack_fake.dm_messages(bob)) == 1
            finally:
                await stop_bot(discord_bot, task)
                await core.close()


async def test_a_row_whose_lookup_is_impossible_is_sent_again_and_counted_possibly_duplicated(
    tmp_path: Path,
) -> None:
    async with delivering(tmp_path) as w:
        assert "by DM" in await w.run(w.member, "/ballerina", "remind on dm")
        w.fake.set_latency(1.0, method="chat.postMessage")
        clock = w.core.clock
        assert isinstance(clock, ManualClock) and w.core.engine is not None
        clock.set(release(w) - timedelta(days=1))
        await wait_until(lambda: ("dm", "sending", None) in outbox(w), 5, "the DM claimed")
        await asyncio.sleep(0.3)  # on the wire
        await w.core.engine.stop(timedelta(0))  # the process dies with the DM on the wire
        w.fake.set_latency(0.0, method="chat.postMessage")
        w.fake.fail_calls("conversations.history", "missing_scope", times=None)

        await w.core.start({Platform.SLACK: SlackTransport(w.bot)})
        await advance_to(w, release(w) - timedelta(days=1) + timedelta(minutes=1))
        # The channel post and the DM were both on the wire: neither can be looked up.
        assert outbox(w) == [("channel", "sent", "possibly_duplicated"), ("dm", "sent", "possibly_duplicated")]
        status = await w.run(w.admin, "/ballerina-admin", "status")
        assert "possibly duplicated: 2 (re-sent after a restart without a way to check" in status
