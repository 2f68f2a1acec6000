"""Posts to many channels at once stay within the workspace's cap on chat.postMessage in every
sliding second, through the real engine, the Slack transport on the real slack_sdk client and
the fake Slack, however the network delays them."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from pathlib import Path

from bot.slack.transport import SLACK_PACING
from tests.fakeslack import FakeSlack
from tests.slack_world import fan_out_release

CAP = 10  # chat.postMessage per sliding second in the workspace, as SLACK_PACING expects
CHANNELS = 35


async def jitter(fake: FakeSlack, rng: random.Random) -> None:
    """Every answer's delay keeps changing (0 to 150 ms), so posts reach the fake out of step."""
    while True:
        fake.set_latency(rng.uniform(0.0, 0.15), method="chat.postMessage")
        await asyncio.sleep(0.02)


async def test_a_fan_out_gets_no_429_from_the_workspace_cap(tmp_path: Path) -> None:
    async with FakeSlack(channel_message_rate=(1.0, 3), tier_window=1.0) as fake:
        team = fake.add_team("Film Club")
        channels = [team.add_channel(f"c{i}") for i in range(CHANNELS)]
        fake.set_method_limit("chat.postMessage", CAP, team=team)
        jittering = asyncio.create_task(jitter(fake, random.Random(8)))
        try:
            async with asyncio.timeout(30):
                await fan_out_release(fake, team, channels, tmp_path, SLACK_PACING)
        finally:
            jittering.cancel()
        per_channel = Counter(m.channel_id for m in fake.messages if m.source == "api")
        assert fake.rate_limited == Counter()
        assert all(per_channel[c.id] == 1 for c in channels)
