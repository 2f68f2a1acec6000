"""Discord shards across processes: the settings, and two real ``ballerina-bot run`` processes on
shards 0 and 1 of 2 over one PostgreSQL database, against one fake Discord.

Reminder delivery across processes is tested in ``tests/test_multiprocess_delivery.py``.
"""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import socket
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
import yaml
from yarl import URL

from bot.core.storage import Via
from bot.settings import Settings, SettingsError
from tests.fakediscord import FakeDiscord, FakeGuild
from tests.fakediscord._util import wait_until
from tests.postgres import PostgresServer
from tests.test_cli_discord import BotProcess, running_bot_process
from tests.test_lifecycle import caught_up, with_data
from tests.world import RELEASE, World, world

ROOT = Path(__file__).parents[1]


def load(**environ: str) -> Settings:
    return Settings.load(environ=environ, env_file=None)


def test_shards_are_unset_by_default_and_one_process_takes_the_whole_rate() -> None:
    settings = load()
    assert (settings.shard_count, settings.shard_ids, settings.global_rate_limit) == (None, None, 50)


def test_a_process_takes_its_shards_and_its_share_of_the_global_rate() -> None:
    settings = load(SHARD_COUNT="4", SHARD_IDS="2, 3", GLOBAL_RATE_LIMIT="50", PROCESS_COUNT="2")
    assert (settings.shard_count, settings.shard_ids) == (4, (2, 3))
    assert settings.global_rate_limit == 25


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"SHARD_COUNT": "2"}, "SHARD_IDS must be set too"),
        ({"SHARD_IDS": "0"}, "SHARD_COUNT must be set too"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "0,2"}, "SHARD_IDS must be between 0 and 1"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "1,1"}, "SHARD_IDS must not repeat a shard"),
        ({"SHARD_COUNT": "2", "SHARD_IDS": "zero"}, "SHARD_IDS must be shard numbers"),
        ({"SHARD_COUNT": "0", "SHARD_IDS": "0"}, "SHARD_COUNT must be a whole number of at least 1"),
        ({"PROCESS_COUNT": "0"}, "PROCESS_COUNT must be a whole number of at least 1"),
    ],
)
def test_invalid_shard_settings_are_errors_naming_the_variable(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        load(**environ)


# -- one process, two shards ---------------------------------------------------------------------


TWO_SHARDS = {"SHARD_COUNT": "2", "SHARD_IDS": "0,1"}


async def every_shard_connected(w: World) -> None:
    await wait_until(lambda: w.bot is not None and w.bot.connected, 10, "every shard to connect")


async def test_removals_while_offline_are_caught_up_per_shard_without_forgetting_the_other_shard(
    tmp_path: Path,
) -> None:
    async with world(tmp_path, RELEASE - timedelta(days=16), TWO_SHARDS) as w:
        await every_shard_connected(w)
        leaving = w.fake.add_guild("Leaves on shard 0", shard=(0, 2))
        staying = [w.fake.add_guild(f"Stays on shard {n}", shard=(n, 2)) for n in (0, 1)]
        for guild in (leaving, *staying):
            await with_data(w, guild)
        await w.stop()
        w.fake.remove_guild(leaving)  # while the bot is offline
        await w.start()
        await caught_up(w)
        assert w.bot is not None and w.core is not None
        assert w.bot.connected_shards == {0, 1}
        # shard 0's READY came first: shard 1's servers, not in it, were kept all the same
        assert str(leaving.id) not in await w.core.store.guild_ids()
        for guild in staying:
            assert (await w.core.store.count_subscribers(str(guild.id)))[Via.DM] == 1


async def test_the_gateway_counts_as_down_while_any_shard_of_the_process_is(tmp_path: Path) -> None:
    async with world(tmp_path, RELEASE - timedelta(days=16), TWO_SHARDS) as w:
        await every_shard_connected(w)
        bot = w.bot
        assert bot is not None
        seen_at_disconnect: list[tuple[int, bool]] = []

        async def on_shard_disconnect(shard_id: int) -> None:  # runs after the bot's own handler
            seen_at_disconnect.append((shard_id, bot.connected))

        bot.add_listener(on_shard_disconnect)
        shard_one = w.fake.gateway.shards[1]
        assert shard_one.conn is not None
        shard_one.expect_reconnect = True
        await shard_one.conn.close(4000, "shard 1 drops")  # shard 0 stays connected
        await w.fake.wait_for_resume()
        await wait_until(lambda: bot.connected, 5, "shard 1 to resume")
        assert seen_at_disconnect == [(1, False)]


# -- two processes, one database, one fake Discord ----------------------------------------------


async def metrics_of(bot: BotProcess) -> tuple[int, str]:
    """The process's /healthz report and its /metrics text, from the address it logged."""
    line = next(line for line in bot.lines if "health and metrics on" in line)
    found = re.search(r"http://[\d.]+:(\d+)", line)
    assert found is not None, line
    port = int(found[1])
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
            return port, await resp.text()


def cast_commands_served(metrics: str) -> float:
    found = re.search(r'ballerina_commands_total\{command="ballerina cast",outcome="ok"\} (\S+)', metrics)
    return float(found[1]) if found else 0.0


async def test_two_processes_each_serve_only_the_servers_of_their_shard(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    database_url = postgres_server.new_database()
    async with FakeDiscord() as fake:
        guilds: list[FakeGuild] = [fake.add_guild(f"Club on shard {n}", shard=(n, 2)) for n in (0, 1)]
        channels = [guild.add_text_channel("general") for guild in guilds]
        members = [guild.add_member(f"member-{n}") for n, guild in enumerate(guilds)]

        def environ(shard: int) -> dict[str, str]:
            return {
                "DATABASE_URL": database_url,
                "SHARD_COUNT": "2",
                "SHARD_IDS": str(shard),
                "PROCESS_COUNT": "2",
                "METRICS_PORT": "0",
                "LOG_LEVEL": "INFO",
            }

        async with (
            running_bot_process(fake, tmp_path, environ(0)) as first,
            running_bot_process(fake, tmp_path, environ(1)) as second,
        ):
            for bot, shard in ((first, 0), (second, 1)):
                ready = await bot.wait_for_line("ready as", timeout=60)
                assert f"in 1 servers on shards [{shard}] of 2" in ready
            assert sorted(p["shard"] for p in fake.gateway.identify_payloads) == [[0, 2], [1, 2]]

            served = []
            for guild, channel, member in zip(guilds, channels, members, strict=True):
                inter = await fake.slash(guild, channel, member, "ballerina", "cast")
                reply = await inter.response(timeout=10)
                assert reply.embed is not None and reply.embed["title"] == "Ballerina: the cast"
                served.append([cast_commands_served((await metrics_of(bot))[1]) for bot in (first, second)])
            # the command in shard 0's server was served by the first process only, then shard 1's by the second
            assert served == [[1, 0], [1, 1]]

            for bot in (first, second):
                port, _ = await metrics_of(bot)
                async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    report = json.loads(await resp.text())
                assert report["gateway"]["connected"] is True, report
                assert resp.status == 200, report
                assert await docker_healthcheck(port) == 0


# -- deployment ------------------------------------------------------------------------------------


async def docker_healthcheck(port: int) -> int:
    """The Dockerfile's HEALTHCHECK command, run here against ``port``: its exit status."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    found = re.search(r"^HEALTHCHECK .*\\\n\s*CMD (.+)$", dockerfile, re.MULTILINE)
    assert found is not None, "no HEALTHCHECK … CMD in the Dockerfile"
    program, *args = shlex.split(found[1])
    assert program == "python"  # the slim image has no curl
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, env={"METRICS_PORT": str(port)},
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(process.wait(), 30)


async def test_the_docker_healthcheck_fails_when_nothing_answers() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    assert await docker_healthcheck(port) != 0


def test_the_compose_file_runs_every_shard_once_over_one_postgresql() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "docker-compose.yml").read_text())
    assert "postgres-data" in compose["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in compose["services"]["postgres"]["volumes"]
    bots = {name: service for name, service in compose["services"].items() if name != "postgres"}
    assert len(bots) == 2
    settings = []
    for service in bots.values():
        environ = {
            name: re.sub(r"\$\{(\w+):\?[^}]*\}", lambda m: f"value-of-{m[1]}", str(value))
            for name, value in service["environment"].items()
        }
        assert URL(environ["DATABASE_URL"]).host == "postgres"
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert environ["METRICS_PORT"]  # the image's HEALTHCHECK asks /healthz there
        settings.append(load(**environ))
    shard_count = settings[0].shard_count
    assert shard_count is not None and all(s.shard_count == shard_count for s in settings)
    shards = sorted(shard for s in settings for shard in s.shard_ids or ())
    assert shards == list(range(shard_count))
    assert all(s.global_rate_limit == 50 / len(bots) for s in settings)
