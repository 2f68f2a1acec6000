"""LOG_FORMAT=json: one JSON object a line, and the token never in any line, whoever logs it."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from bot.ops.logs import REDACTED, configure_logging
from bot.settings import Settings
from tests.fakediscord import FakeDiscord
from tests.test_cli_discord import running_bot_process

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.this-part-is-secret"


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """The root logger, given back as it was: configure_logging replaces its handlers."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield root
    root.handlers[:] = handlers
    root.setLevel(level)


def log_through_libraries() -> None:
    """What a careless library might do: the token in a message's arguments and in an exception."""
    logging.getLogger("discord.http").debug("request headers: %s", {"Authorization": f"Bot {TOKEN}"})
    try:
        raise RuntimeError(f"login refused for token {TOKEN}")
    except RuntimeError:
        logging.getLogger("aiohttp.client").exception("request failed")


def test_json_lines_carry_time_level_logger_message_and_exception_without_the_token(
    root_logger: logging.Logger,
) -> None:
    stream = io.StringIO()
    settings = Settings.load(
        environ={"DISCORD_TOKEN": TOKEN, "LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}, env_file=None
    )
    configure_logging(settings, stream)
    log_through_libraries()
    output = stream.getvalue()
    assert TOKEN not in output
    first, second = (json.loads(line) for line in output.splitlines())
    assert set(first) == {"time", "level", "logger", "message"}
    assert first["level"] == "DEBUG" and first["logger"] == "discord.http"
    assert first["message"] == f"request headers: {{'Authorization': 'Bot {REDACTED}'}}"
    assert datetime.fromisoformat(first["time"]).utcoffset() is not None
    assert set(second) == {"time", "level", "logger", "message", "exc_info"}
    assert second["level"] == "ERROR" and second["message"] == "request failed"
    assert second["exc_info"].startswith("Traceback (most recent call last):")
    assert second["exc_info"].endswith(f"RuntimeError: login refused for token {REDACTED}")


def test_text_lines_redact_the_token_too(root_logger: logging.Logger) -> None:
    stream = io.StringIO()
    configure_logging(Settings.load(environ={"DISCORD_TOKEN": TOKEN, "LOG_LEVEL": "DEBUG"}, env_file=None), stream)
    log_through_libraries()
    output = stream.getvalue()
    assert TOKEN not in output
    assert f"DEBUG discord.http: request headers: {{'Authorization': 'Bot {REDACTED}'}}" in output
    assert f"RuntimeError: login refused for token {REDACTED}" in output


async def test_the_running_bot_logs_json_lines_only_and_serves_its_health(tmp_path: Path) -> None:
    """``ballerina-bot run`` with LOG_FORMAT=json at DEBUG: discord.py's own lines are JSON too, and
    the endpoint's address (METRICS_PORT=0: a free port) is read from its log line."""
    async with FakeDiscord() as fake:
        fake.add_guild("Film Club")
        environ = {"LOG_LEVEL": "DEBUG", "LOG_FORMAT": "json", "METRICS_PORT": "0"}
        async with running_bot_process(fake, tmp_path, environ) as bot:
            line = await bot.wait_for_line("health and metrics on http://")
            found = re.search(r"http://[\d.]+:\d+", json.loads(line)["message"])
            assert found is not None, line
            async with asyncio.timeout(30), aiohttp.ClientSession() as session:
                while True:
                    async with session.get(f"{found[0]}/healthz") as answer:
                        if answer.status == 200:
                            break
                    await asyncio.sleep(0.05)
        entries = [json.loads(line) for line in bot.lines]  # every line is one JSON object
        assert {entry["logger"].split(".")[0] for entry in entries} >= {"bot", "discord"}
        assert all(set(entry) <= {"time", "level", "logger", "message", "exc_info", "stack_info"} for entry in entries)
        assert fake.token not in "".join(bot.lines)
