"""The crash-recovery lookup on Discord: a nonce is honoured only for a few minutes, so a row left
'sending' longer than that is looked up in the channel's recent messages from the bot (by the
reference its card carries) before it is sent again."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from tests.fakediscord._util import wait_until
from tests.test_discord_reminders import configure
from tests.test_engine import WriteLock
from tests.world import RELEASE, World, world


def outbox_states(w: World) -> list[tuple[str, str | None]]:
    with contextlib.closing(sqlite3.connect(w.settings.database_path)) as conn:
        return conn.execute("SELECT state, message_id FROM outbox ORDER BY id").fetchall()


async def test_a_row_left_sending_past_the_nonce_window_is_found_in_history_and_not_posted_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    slow_post = {"POST /channels/{channel_id}/messages": 1.0}
    async with world(tmp_path, RELEASE - timedelta(days=16), nonce_window=0.1, route_latency=slow_post) as w:
        await configure(w)
        assert w.core is not None and w.core.engine is not None
        lock = WriteLock(w.settings.database_path)
        try:
            # The post leaves, then its outcome cannot be written: the process dies like that.
            w.clock.set(RELEASE - timedelta(days=7))
            await wait_until(lambda: ("sending", None) in outbox_states(w), 5, "the post claimed")
            await lock.take_when_free()
            [posted] = await w.fake.wait_for_messages(w.channel, timeout=15)  # slow under a loaded machine
            await wait_until(lambda: "could not be recorded" in caplog.text, 10, "the failed write")
            await w.core.engine.stop(timedelta(0))
        finally:
            if lock.taken:
                lock.release()
            lock.close()
        assert outbox_states(w) == [("sending", None)]

        w.clock.advance(timedelta(minutes=10))  # long past the nonce window
        await w.restart()
        await w.settle()
        await asyncio.sleep(1.2)  # a second post would have arrived by now
        assert w.fake.channel_messages(w.channel) == [posted]
        assert outbox_states(w) == [("sent", str(posted.id))]


async def test_a_dm_answered_with_member_left_forgets_the_member_in_that_server(tmp_path: Path) -> None:
    async with world(tmp_path, RELEASE - timedelta(days=16)) as w:
        assert w.core is not None
        await configure(w)
        await w.run(w.member, "ballerina", "remind", "on", options={"via": "dm"})
        guild_id, user_id = str(w.guild.id), str(w.member.id)
        assert await w.core.store.get_subscription(guild_id, user_id) is not None
        # The membership lookup before the DM still finds them; the DM itself says they left.
        w.fake.fail_requests("POST", rf"/channels/(?!{w.channel.id})\d+/messages", status=404, code=10007)
        await w.advance(timedelta(days=9))
        with contextlib.closing(sqlite3.connect(w.settings.database_path)) as conn:
            rows = conn.execute("SELECT target, state, error_kind FROM outbox ORDER BY id").fetchall()
        # The failed DM went with the rest of the member's data in that server.
        assert rows == [("channel", "sent", None)]
        assert await w.core.store.get_subscription(guild_id, user_id) is None
        refused = [r for r in w.fake.requests if r.method == "POST" and r.path.endswith("/messages")]
        assert len(refused) == 2  # the channel post, and the one DM: not retried
