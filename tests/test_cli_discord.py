"""``ballerina-bot sync`` as a real subprocess against the fake Discord."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.fakediscord import FakeDiscord


async def ballerina_bot(
    fake: FakeDiscord, tmp_path: Path, *args: str, token: str = "", environ: Mapping[str, str] | None = None
) -> tuple[int, str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "DISCORD_TOKEN": token or fake.token,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    } | dict(environ or {})
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_sync_registers_the_commands_globally(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        code, out, err = await ballerina_bot(fake, tmp_path, "sync")
        assert code == 0, err
        assert out.strip() == "registered 2 top-level commands globally"
        assert {c["name"] for c in fake.global_commands} == {"ballerina", "ballerina-admin"}
        assert fake.token not in out + err


async def test_sync_to_one_server_registers_there_only(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Dev server")
        code, out, err = await ballerina_bot(fake, tmp_path, "sync", "--guild", str(guild.id))
        assert code == 0, err
        assert out.strip() == f"registered 2 top-level commands to server {guild.id}"
        assert {c["name"] for c in fake.guild_commands(guild)} == {"ballerina", "ballerina-admin"}
        assert fake.global_commands == []


async def test_run_with_a_token_discord_refuses_exits_2_without_echoing_it(tmp_path: Path) -> None:
    async with FakeDiscord(token="the-real-token") as fake:
        code, out, err = await ballerina_bot(fake, tmp_path, "run", token="wrong.token.value")
        assert code == 2
        assert "Discord refused DISCORD_TOKEN" in err
        assert "wrong.token.value" not in out + err


async def test_run_tunes_the_garbage_collector_once_ready(tmp_path: Path) -> None:
    async with FakeDiscord() as fake:
        fake.add_guild("Film Club")
        env = {
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(Path(__file__).parents[1]),
            "DISCORD_TOKEN": fake.token,
            "DISCORD_API_BASE": fake.api_base,
            "DISCORD_GATEWAY_URL": fake.gateway_url,
            "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
            "LOG_LEVEL": "INFO",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        assert process.stderr is not None
        lines: list[str] = []
        try:
            async with asyncio.timeout(30):
                while not any("start-up heap frozen" in line for line in lines):
                    line = (await process.stderr.readline()).decode()
                    assert line, f"the bot stopped: {lines}"
                    lines.append(line)
        finally:
            process.terminate()
            await asyncio.wait_for(process.wait(), 10)
        ready = next(i for i, line in enumerate(lines) if "ready as" in line)
        frozen = next(i for i, line in enumerate(lines) if "start-up heap frozen" in line)
        assert ready < frozen  # after the guild caches were filled
        found = re.search(r"frozen \((\d+) objects\); young generation (\d+)", lines[frozen])
        assert found is not None and int(found[1]) > 10_000 and int(found[2]) == 10_000, lines[frozen]
