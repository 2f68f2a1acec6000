"""/healthz and /metrics over real HTTP, from the real bot running against the fake Discord."""

from __future__ import annotations

import asyncio
import json
import math
import os
import socket
import sqlite3
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.core.clock import ManualClock
from bot.core.replies import Reply
from bot.core.services import Core
from bot.core.storage import OutboxRow, Platform
from bot.discord.transport import discord_pacing
from bot.ops import BotMetrics, HealthCheck
from bot.settings import Settings
from tests.fakediscord import FakeDiscord, Perm
from tests.test_cli_discord import ballerina_bot
from tests.test_discord_reminders import configure
from tests.world import INVITED_PERMISSIONS, RELEASE, World, world

METERED = {"METRICS_PORT": "0"}  # any free port; the test reads the bound one from the bot


@pytest.fixture
async def metered(tmp_path: Path) -> AsyncIterator[World]:
    """The bot sixteen days before the release, with its health and metrics endpoint on."""
    async with world(tmp_path, RELEASE - timedelta(days=16), METERED) as w:
        yield w


async def get(w: World, path: str) -> tuple[int, str]:
    assert w.bot is not None and w.bot.ops is not None
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{w.bot.ops.port}{path}") as answer:
        return answer.status, await answer.text()


async def health_becomes(w: World, status: int) -> dict[str, object]:
    """Ask /healthz until it answers ``status`` (the gateway's events arrive on their own time)."""
    async with asyncio.timeout(10):
        while True:
            code, body = await get(w, "/healthz")
            if code == status:
                report: dict[str, object] = json.loads(body)
                return report
            await asyncio.sleep(0.02)


async def scrape(w: World) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics, parsed by Prometheus' own parser, by (name, labels)."""
    code, body = await get(w, "/metrics")
    assert code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def sample(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def outbox_states(w: World) -> dict[str, int]:
    """The outbox as SQLite itself counts it, on a connection of the test's own."""
    with sqlite3.connect(w.settings.database_path) as conn:
        return dict(conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())


def listening_ports() -> set[int]:
    """TCP ports this process listens on (Linux: its socket inodes among /proc/net/tcp's LISTEN rows)."""
    fds = Path("/proc/self/fd")
    inodes = set()
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


async def test_the_endpoint_is_off_by_default_and_opens_no_port(tmp_path: Path) -> None:
    async with world(tmp_path, RELEASE - timedelta(days=16)) as w:
        assert w.bot is not None and w.bot.ops is None
        assert listening_ports() == {w.fake.port}  # the fake Discord's, nothing of the bot's


async def test_healthz_is_ok_while_connected(metered: World) -> None:
    w = metered
    assert w.bot is not None and w.bot.ops is not None
    assert listening_ports() == {w.fake.port, w.bot.ops.port}
    code, body = await get(w, "/healthz")
    assert code == 200
    report = json.loads(body)
    assert report["status"] == "ok" and report["reasons"] == []
    assert report["gateway"]["connected"] is True
    assert report["database"] == {"reachable": True} and report["engine"] == {"running": True, "delivery": "on"}
    assert report["oldest_due_seconds"] == 0
    assert 0 <= report["gateway"]["latency_seconds"] < 1  # discord.py's first heartbeat, acknowledged
    assert 0 <= sample(await scrape(w), "ballerina_gateway_latency_seconds") < 1


@dataclass
class Gateway:
    """A platform connection that never acknowledged a heartbeat (discord.py says infinity then)."""

    connected: bool = False
    latency: float = math.inf


async def test_an_unknown_gateway_latency_is_null_in_the_json_and_nan_in_the_metrics(tmp_path: Path) -> None:
    settings = Settings.load(environ={"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, env_file=None)
    core = await Core.open(settings, ManualClock(RELEASE))
    try:
        report = await HealthCheck(core, Gateway()).check()
        as_json = json.loads(json.dumps(report.as_json(), allow_nan=False))  # JSON has no infinity
        assert as_json["gateway"] == {"connected": False, "latency_seconds": None}
        assert as_json["reasons"] == ["not connected to the platform's gateway", "the reminder engine is not running"]
        families = text_string_to_metric_families((await BotMetrics(core, Gateway()).exposition()).decode())
        [latency] = [f.samples[0].value for f in families if f.name == "ballerina_gateway_latency_seconds"]
        assert math.isnan(latency)
    finally:
        await core.close()


class Meltdown(BaseException):
    """Escapes the engine's ``except Exception``, as a bug of that kind would, and ends a worker."""


class MeltingTransport:
    pacing = discord_pacing(50.0)
    subscribers_in_thread = False

    def __init__(self) -> None:
        self.melted = asyncio.Event()

    async def send_channel(self, channel_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str:
        self.melted.set()
        raise Meltdown

    async def send_dm(self, user_id: str, reply: Reply, nonce: str, thread_of: str | None = None) -> str:
        return await self.send_channel(user_id, reply, nonce)

    async def find_delivered(self, row: OutboxRow, since: datetime) -> Sequence[str] | None:
        return ()


async def test_healthz_reports_an_engine_whose_worker_died(tmp_path: Path) -> None:
    clock = ManualClock(RELEASE - timedelta(days=16))
    settings = Settings.load(environ={"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, env_file=None)
    core = await Core.open(settings, clock)
    try:
        await core.store.update_guild_settings("1", channel_id="2")
        transport = MeltingTransport()
        await core.start({Platform.DISCORD: transport})
        health = HealthCheck(core, Gateway(connected=True, latency=0.01))
        assert (await health.check()).healthy
        clock.advance(timedelta(days=9))  # the 7-day post goes to a worker, which dies sending it
        await asyncio.wait_for(transport.melted.wait(), 5)
        report = await health.check()
        assert report.reasons == ("the reminder engine is not running",)
        clock.advance(timedelta(minutes=30))  # the post it held stays 'sending': due work waiting
        report = await health.check()
        assert report.oldest_due_age == timedelta(minutes=30)
        assert report.reasons == (
            "due reminders have waited 30.0 min, longer than 15.0 min",
            "the reminder engine is not running",
        )
    finally:
        await core.close()


async def test_healthz_is_503_while_the_gateway_is_down_and_ok_once_back(metered: World) -> None:
    w = metered
    # An invalid session: discord.py waits 5 s before identifying again, disconnected meanwhile.
    await w.fake.drop_gateway(resume=False)
    report = await health_becomes(w, 503)
    assert report["reasons"] == ["not connected to the platform's gateway"]
    assert report["gateway"]["connected"] is False  # type: ignore[index]
    await w.fake.wait_for_identify(min_count=2)
    report = await health_becomes(w, 200)
    assert report["gateway"]["connected"] is True  # type: ignore[index]


async def test_healthz_is_503_when_the_database_is_unreachable(metered: World) -> None:
    w = metered
    assert w.core is not None
    await w.core.db.close()
    code, body = await get(w, "/healthz")
    assert code == 503
    report = json.loads(body)
    assert report["database"] == {"reachable": False}
    [reason] = report["reasons"]
    assert reason.startswith("database unreachable: ")
    # /metrics reads on a connection of its own, so it still has the outbox figures.
    assert sample(await scrape(w), "ballerina_outbox_rows", state="pending") == 0


async def test_healthz_reports_a_database_that_does_not_answer_in_time(metered: World) -> None:
    w = metered
    assert w.core is not None and w.bot is not None
    health = HealthCheck(w.core, w.bot, database_timeout=0.05)
    async with w.core.db.transaction():  # a write that holds the bot's connection meanwhile
        report = await health.check()
    assert report.reasons == ("database unreachable: no answer within 0.05 s",)
    assert (await health.check()).healthy


async def test_metrics_leave_out_the_database_figures_when_there_is_no_database(tmp_path: Path) -> None:
    settings = Settings.load(environ={"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}, env_file=None)
    core = await Core.open(settings, ManualClock(RELEASE))
    await core.close()
    for name in os.listdir(tmp_path):
        os.remove(tmp_path / name)
    names = {f.name for f in text_string_to_metric_families((await BotMetrics(core, Gateway()).exposition()).decode())}
    assert "ballerina_commands" in names and "ballerina_gateway_latency_seconds" in names
    assert not names & {"ballerina_outbox_rows", "ballerina_deliveries", "ballerina_oldest_due_seconds"}
    assert os.listdir(tmp_path) == []  # a scrape never creates an empty database


async def test_healthz_is_503_when_the_engine_stopped_and_due_reminders_wait(metered: World) -> None:
    w = metered
    assert w.core is not None
    await configure(w)
    await w.core.stop()
    w.clock.advance(timedelta(days=9, minutes=30))  # the 7-day reminder is due 30 minutes ago
    code, body = await get(w, "/healthz")
    assert code == 503
    report = json.loads(body)
    assert report["engine"] == {"running": False, "delivery": "on"}
    assert report["oldest_due_seconds"] == 30 * 60
    assert report["reasons"] == [
        "due reminders have waited 30.0 min, longer than 15.0 min",
        "the reminder engine is not running",
    ]
    assert sample(await scrape(w), "ballerina_oldest_due_seconds") == 30 * 60


async def test_metrics_count_commands_outbox_rows_and_deliveries(metered: World) -> None:
    w = metered
    await configure(w)  # two moderator commands
    await w.run(w.member, "ballerina", "cast")
    await w.run(w.member, "ballerina", "remind", "on", options={"via": "dm"})
    samples = await scrape(w)
    assert sample(samples, "ballerina_commands_total", command="ballerina cast", outcome="ok") == 1
    assert sample(samples, "ballerina_commands_total", command="ballerina-admin channel", outcome="ok") == 1
    assert sample(samples, "ballerina_command_duration_seconds_count", command="ballerina cast") == 1
    assert 0 < sample(samples, "ballerina_command_duration_seconds_sum", command="ballerina cast") < 3
    assert sample(samples, "ballerina_outbox_rows", state="pending") == 0

    # The 7-day reminder: the channel post meets an error worth retrying, the DM closed DMs.
    w.fake.fail_channel(w.channel, status=400, code=0, times=1)
    w.fake.close_dms(w.member)
    await w.advance(timedelta(days=9))
    samples = await scrape(w)
    assert outbox_states(w) == {"pending": 1, "failed": 1}
    for state in ("pending", "sending", "sent", "failed", "skipped"):
        assert sample(samples, "ballerina_outbox_rows", state=state) == outbox_states(w).get(state, 0)
    assert sample(samples, "ballerina_deliveries", outcome="failed", reason="dms_closed") == 1
    assert sample(samples, "ballerina_deliveries", outcome="sent", reason="") == 0

    await w.advance(timedelta(seconds=10))  # the retry goes out
    assert len(w.fake.channel_messages(w.channel)) == 1
    samples = await scrape(w)
    assert outbox_states(w) == {"sent": 1, "failed": 1}
    assert sample(samples, "ballerina_outbox_rows", state="pending") == 0
    assert sample(samples, "ballerina_deliveries", outcome="sent", reason="") == 1
    assert sample(samples, "ballerina_deliveries", outcome="late", reason="") == 0


async def test_metrics_count_a_refused_command_apart(metered: World) -> None:
    # Manage Server in the server, denied in this channel: Discord offers the command, the bot refuses.
    w = metered
    w.channel.set_overwrite(w.moderator, deny=Perm.MANAGE_GUILD)
    reply = await w.run(w.moderator, "ballerina-admin", "status")
    assert reply.ephemeral and "Only members with the Manage Server permission" in str(reply.content)
    samples = await scrape(w)
    assert sample(samples, "ballerina_commands_total", command="ballerina-admin status", outcome="refused") == 1
    assert (
        "ballerina_commands_total",
        frozenset({("command", "ballerina-admin status"), ("outcome", "ok")}),
    ) not in samples


async def test_metrics_count_429s_and_the_time_the_send_limiter_held_posts(metered: World) -> None:
    w = metered
    assert w.core is not None
    for i in range(8):  # more posts at once than the limiter's burst of 5
        guild = w.fake.add_guild(f"Club {i}", bot_permissions=INVITED_PERMISSIONS)
        channel = guild.add_text_channel("general")
        await w.core.store.update_guild_settings(str(guild.id), channel_id=str(channel.id))
    w.fake.inject_rate_limit("POST", r"/channels/\d+/messages", retry_after=0.05, is_global=False)
    await w.advance(timedelta(days=9))
    samples = await scrape(w)
    assert sample(samples, "ballerina_rate_limited_total", scope="user") == 1
    assert sample(samples, "ballerina_deliveries", outcome="sent", reason="") == 8  # discord.py retried
    assert sample(samples, "ballerina_send_limiter_wait_seconds_total") > 0


async def test_run_says_which_settings_to_change_when_the_port_is_taken(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with FakeDiscord() as fake:
            code, _, err = await ballerina_bot(fake, tmp_path, "run", environ={"METRICS_PORT": str(port)})
    assert code == 2
    assert err.strip().splitlines()[-1] == (
        f"error: cannot serve health and metrics on 127.0.0.1:{port} (METRICS_HOST, METRICS_PORT): "
        "Address already in use"
    )
