"""Slash-command acknowledgement on Slack: ``/ballerina cast`` through the real bot (slack-bolt,
the core, SQLite) against a bare bolt handler that only acks, side by side in the same run.

Both apps are served over HTTP by bolt's own server on 127.0.0.1 and driven by the fake Slack's
signed requests, taking turns, so both see the same machine load. Figures: p50 and p99 of the
time from the request to the ack, each app, and the ratio of the p99s (goal <= 1.25).

The member's Slack is Korean (``ko-KR``), so every command goes through the language middleware
and is answered in Korean. Its cost is measured apart too: the lookup of a member seen before
(``users.info`` cached, the stored language cached) and of a member seen for the first time
(``users.info`` asked, the language stored).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path

from slack_bolt.context.ack.async_ack import AsyncAck

from bench.common import percentile, report
from bot.core.clock import ManualClock
from bot.core.services import Core
from bot.settings import Settings
from tests.fakeslack import FakeSlack, bolt_app, http_app
from tests.slack_world import BEFORE_RELEASE, slack_bot

COMMANDS = 400  # per app
WARM_UP = 20
LOOKUPS = 200  # of the member's language, cached and first-time each


async def run(folder: Path) -> dict[str, float]:
    settings = Settings.load(environ={"DATABASE_PATH": str(folder / "bot.sqlite3")}, env_file=None)
    core = await Core.open(settings, ManualClock(BEFORE_RELEASE))
    try:
        async with FakeSlack() as fake:
            team = fake.add_team("Film Club")
            member = team.add_user("jiwoo", locale="ko-KR")
            newcomers = [team.add_user(f"new{i}", locale="ko-KR") for i in range(LOOKUPS)]
            general = team.add_channel("general", members=[member])
            bare = bolt_app(fake, team)

            async def only_ack(ack: AsyncAck) -> None:
                await ack()

            bare.command("/ballerina")(only_ack)
            bot = slack_bot(fake, team, core)
            ours = bot.app
            times: dict[str, list[float]] = {"bot": [], "bare": []}
            async with http_app(fake, ours) as bot_driver, http_app(fake, bare) as bare_driver:
                for i in range(WARM_UP + COMMANDS):
                    for name, driver in (("bot", bot_driver), ("bare", bare_driver)):
                        delivery = await driver.slash_command(general, member, "/ballerina", "cast")
                        assert delivery.acked, delivery
                        if i >= WARM_UP:
                            times[name].append(delivery.elapsed)
                    await asyncio.sleep(0.01)  # the bot answers after its ack: let it
            assert "출연진" in fake.ephemeral_messages(member)[-1].all_text()  # answered in Korean
            for name, users in (("cached", [member] * LOOKUPS), ("first", newcomers)):
                times[name] = []
                for user in users:
                    started = time.perf_counter()
                    assert await bot.language_of_request(team.id, user.id) == "ko"
                    times[name].append(time.perf_counter() - started)
    finally:
        await core.close()
    ms = {name: [t * 1000 for t in values] for name, values in times.items()}
    return {
        "commands_each": COMMANDS,
        "bot_p50_ms": round(statistics.median(ms["bot"]), 2),
        "bot_p99_ms": round(percentile(ms["bot"], 99), 2),
        "bare_p50_ms": round(statistics.median(ms["bare"]), 2),
        "bare_p99_ms": round(percentile(ms["bare"], 99), 2),
        "p99_ratio": round(percentile(ms["bot"], 99) / percentile(ms["bare"], 99), 3),
        "language_cached_p50_ms": round(statistics.median(ms["cached"]), 3),
        "language_cached_p99_ms": round(percentile(ms["cached"], 99), 3),
        "language_first_p50_ms": round(statistics.median(ms["first"]), 2),
        "language_first_p99_ms": round(percentile(ms["first"], 99), 2),
    }


def main() -> None:
    report(
        run,
        lambda result: (
            f"ack p99: bot {result['bot_p99_ms']} ms, bare bolt {result['bare_p99_ms']} ms:"
            f" ratio {result['p99_ratio']} (goal <= 1.25); the member's language:"
            f" {result['language_cached_p50_ms']} ms cached, {result['language_first_p50_ms']} ms the first time (p50)"
        ),
    )


if __name__ == "__main__":
    main()
