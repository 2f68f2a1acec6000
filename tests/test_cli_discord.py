"""``ballerina-bot sync`` as a real subprocess against the fake Discord."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakediscord import FakeDiscord


def cli_environment(
    fake: FakeDiscord, tmp_path: Path, token: str = "", environ: Mapping[str, str] | None = None
) -> dict[str, str]:
    """A clean environment pointing the command at the fake: nothing of the developer's shell leaks in."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "DISCORD_TOKEN": token or fake.token,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
    } | dict(environ or {})


async def ballerina_bot(
    fake: FakeDiscord, tmp_path: Path, *args: str, token: str = "", environ: Mapping[str, str] | None = None
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=cli_environment(fake, tmp_path, token, environ), cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@dataclass
class BotProcess:
    """``ballerina-bot run`` in its own process, and the lines it logged so far."""

    process: asyncio.subprocess.Process
    lines: list[str] = field(default_factory=list)

    async def wait_for_line(self, text: str, timeout: float = 30) -> str:  # noqa: ASYNC109
        """Read the log until a line containing ``text`` arrives; returns that line."""
        assert self.process.stderr is not None
        async with asyncio.timeout(timeout):
            while True:
                line = (await self.process.stderr.readline()).decode()
                assert line, f"the bot stopped: {self.lines}"
                self.lines.append(line)
                if text in line:
                    return line


@contextlib.asynccontextmanager
async def running_bot_process(
    fake: FakeDiscord, tmp_path: Path, environ: Mapping[str, str]
) -> AsyncIterator[BotProcess]:
    """``ballerina-bot run`` against the fake, terminated on exit; ``lines`` then holds all it logged."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", env=cli_environment(fake, tmp_path, environ=environ), cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    bot = BotProcess(process)
    try:
        yield bot
    finally:
        process.terminate()
        _, rest = await asyncio.wait_for(process.communicate(), 10)
        bot.lines += rest.decode().splitlines(keepends=True)


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
        async with running_bot_process(fake, tmp_path, {"LOG_LEVEL": "INFO"}) as bot:
            await bot.wait_for_line("start-up heap frozen")
        lines = bot.lines
        ready = next(i for i, line in enumerate(lines) if "ready as" in line)
        frozen = next(i for i, line in enumerate(lines) if "start-up heap frozen" in line)
        assert ready < frozen  # after the guild caches were filled
        found = re.search(r"frozen \((\d+) objects\); young generation (\d+)", lines[frozen])
        assert found is not None and int(found[1]) > 10_000 and int(found[2]) == 10_000, lines[frozen]
