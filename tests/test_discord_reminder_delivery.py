"""Reminder delivery across restarts, downtime, reconnects and Discord errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.test_discord_reminders import configure
from tests.world import INVITED_PERMISSIONS, RELEASE, World, world

# The end-to-end storage check: these run on SQLite and on a real PostgreSQL.
pytestmark = pytest.mark.both_backends


def titles(w: World) -> list[str]:
    return [m.embed["title"] for m in w.fake.channel_messages(w.channel)]  # type: ignore[index]


async def test_restart_mid_schedule_posts_each_reminder_exactly_once(before_release: World) -> None:
    w = before_release
    await configure(w)
    await w.run(w.member, "ballerina", "remind", "on", options={"via": "dm"})
    await w.advance(timedelta(days=9))
    await w.restart()
    await w.settle()
    assert titles(w) == ["Ballerina arrives on Netflix in 7 days"]
    await w.advance(timedelta(days=6))
    assert titles(w) == ["Ballerina arrives on Netflix in 7 days", "Ballerina arrives on Netflix in 1 day"]
    assert len(w.fake.dm_messages(w.member)) == 2
    assert w.fake.nonce_dedup_count == 0


async def test_reminder_missed_while_offline_is_posted_late_within_grace(before_release: World) -> None:
    w = before_release
    await configure(w)
    await w.stop()
    w.clock.set(RELEASE - timedelta(days=1) + timedelta(minutes=30))
    await w.start()
    await w.settle()
    posts = w.fake.channel_messages(w.channel)
    assert titles(w) == ["Ballerina arrives on Netflix in 1 day"]
    fields = {f["name"]: f["value"] for f in posts[0].embed["fields"]}  # type: ignore[index]
    assert fields["Posted late"] == "I was offline when this reminder was due."


async def test_several_missed_offsets_post_only_the_latest(before_release: World) -> None:
    w = before_release
    await configure(w)
    await w.stop()
    w.clock.set(RELEASE - timedelta(minutes=50))  # 7d, 1d and 1h all passed while offline
    await w.start()
    await w.settle()
    assert titles(w) == ["Ballerina arrives on Netflix in 1 hour"]
    skipped = await w.core.store.upcoming_reminders(str(w.guild.id))  # type: ignore[union-attr]
    assert [r.offset for r in skipped] == [timedelta(0)]  # only the release itself is still to come


async def test_reminder_missed_beyond_grace_is_skipped_not_posted(before_release: World) -> None:
    w = before_release
    await configure(w)
    await w.stop()
    w.clock.set(RELEASE - timedelta(days=1) + timedelta(hours=2))
    await w.start()
    await w.settle()
    assert titles(w) == []
    await w.advance(timedelta(hours=22))  # the release itself is still posted on time
    assert titles(w) == ["Ballerina is out now on Netflix"]


async def test_gateway_reconnect_and_resume_send_nothing_again(before_release: World) -> None:
    w = before_release
    await configure(w)
    await w.advance(timedelta(days=9))
    assert len(w.fake.channel_messages(w.channel)) == 1
    await w.fake.drop_gateway(resume=True)
    await w.fake.wait_for_resume()
    await w.fake.drop_gateway(resume=True, reconnect_opcode=True)
    await w.fake.wait_for_resume(min_count=2)
    await w.settle()
    assert len(w.fake.channel_messages(w.channel)) == 1


async def test_deleted_channel_and_closed_dms_are_recorded_for_moderators(before_release: World) -> None:
    w = before_release
    await configure(w)
    await w.run(w.member, "ballerina", "remind", "on", options={"via": "dm"})
    w.fake.fail_channel(w.channel, status=404, code=10003)
    w.fake.close_dms(w.member)
    await w.advance(timedelta(days=9))
    status = await w.run(w.moderator, "ballerina-admin", "status")
    fields = {f["name"]: f["value"] for f in status.embed["fields"]}  # type: ignore[index]
    problems = fields["Delivery problems (7 days)"].splitlines()
    assert sorted(problems) == ["dms closed: 1", "missing channel: 1"]
    attempts = [
        r for r in w.fake.requests if r.method == "POST" and r.path.endswith(f"/channels/{w.channel.id}/messages")
    ]
    assert len(attempts) == 1  # a permanent error is not retried


async def test_a_burst_of_posts_never_meets_a_429_from_the_global_limit(tmp_path: Path) -> None:
    """Every REST request counts against the window, so Discord (here: the fake, enforcing the
    same 10 requests in any sliding second) never has to refuse one, whatever the timing."""
    async with world(tmp_path, RELEASE - timedelta(days=16), {"GLOBAL_RATE_LIMIT": "10"}, global_rate_limit=10) as w:
        assert w.core is not None
        channels = []
        for i in range(25):
            guild = w.fake.add_guild(f"Club {i}", bot_permissions=INVITED_PERMISSIONS)
            channels.append(guild.add_text_channel("general"))
            await w.core.store.update_guild_settings(str(guild.id), channel_id=str(channels[-1].id))
        await w.advance(timedelta(days=9))
        assert all(len(w.fake.channel_messages(channel)) == 1 for channel in channels)
        assert w.fake.rate_limited_count == 0
