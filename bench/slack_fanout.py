"""2,000 Slack channels of one workspace due at one instant, through the real engine, the Slack
transport on the real slack_sdk client, and the fake Slack.

The fake enforces Slack's limits: about one message a second per channel (bursts of 3) and a
workspace-wide cap on chat.postMessage (RATE in any sliding second). The bot is paced at that
cap: the transport's sliding window (each post counted from its start until a second after it
ends) keeps any second at the fake's end within it, whatever the jitter. The outbox holds one
due post per channel; the clock jumps to the due time and every post goes out.

Figures: throughput over the whole fan-out (from the clock jump to the last post the fake
accepted) as a fraction of the cap (goal >= 0.95), 429s the fake sent (goal 0: none is injected),
channels with no post or more than one (goal 0 each).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.common import report
from bot.core.engine import Pacing
from tests.fakeslack import FakeSlack
from tests.slack_world import fan_out_release

CHANNELS = 2_000
RATE = 50  # chat.postMessage per sliding second, the whole workspace (the fake's cap)
BURST = 1
PACING = Pacing(rate=RATE, burst=BURST, channel_limit=3, channel_period=timedelta(seconds=3), per_guild=True)


async def run(folder: Path) -> dict[str, float]:
    async with FakeSlack(channel_message_rate=(1.0, 3), tier_window=1.0) as fake:
        team = fake.add_team("Film Club")
        channels = [team.add_channel(f"c{i}") for i in range(CHANNELS)]
        fake.set_method_limit("chat.postMessage", RATE, team=team)
        async with asyncio.timeout(600):
            jumped = await fan_out_release(fake, team, channels, folder, PACING)
        accepted = [c.time for c in fake.find_calls("chat.postMessage") if c.ok]
        per_channel = Counter(m.channel_id for m in fake.messages if m.source == "api")
        window = max(accepted) - jumped
        return {
            "posts": len(accepted),
            "window_s": round(window, 2),
            "throughput_per_s": round(len(accepted) / window, 2),
            "fraction_of_cap": round(len(accepted) / window / RATE, 3),
            "rate_limited": fake.rate_limited_count,
            "lost": sum(1 for c in channels if per_channel[c.id] == 0),
            "duplicated": sum(1 for c in channels if per_channel[c.id] > 1),
        }


def main() -> None:
    report(
        run,
        lambda result: (
            f"{result['posts']} posts in {result['window_s']} s: {result['throughput_per_s']}/s of the cap {RATE}/s"
            f" ({result['fraction_of_cap']:.1%}, goal >= 95%); 429s {result['rate_limited']} (goal 0);"
            f" lost {result['lost']}, duplicated {result['duplicated']} (goal 0)"
        ),
    )


if __name__ == "__main__":
    main()
