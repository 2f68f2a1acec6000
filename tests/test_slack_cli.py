"""``ballerina-bot`` for Slack: run's platform choice, the app manifest, and check (a real subprocess each time)."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import signal
import socket
import sqlite3
import sys
from pathlib import Path

import yaml

from bot.ops.logs import REDACTED, configure_logging
from bot.settings import Settings
from bot.slack.manifest import BOT_SCOPES
from tests.fakediscord import FakeDiscord
from tests.fakeslack import FakeSlack, HttpDriver, SlackTeam, SocketModeDriver
from tests.test_cli import ballerina_bot
from tests.test_cli_discord import running_bot_process

SLACK_TOKEN = "xoxb-1-2-this-part-is-secret"
SIGNING_SECRET = "signing-secret-value"
APP_TOKEN = "xapp-1-A1-this-app-token-is-secret"


def test_run_for_a_platform_without_its_token_exits_2(tmp_path: Path) -> None:
    result = ballerina_bot("run", "--platform", "slack", env={"DISCORD_TOKEN": "x.y.z"}, cwd=tmp_path)
    assert result.returncode == 2 and "SLACK_BOT_TOKEN" in result.stderr


def test_slack_in_http_mode_needs_the_signing_secret(tmp_path: Path) -> None:
    result = ballerina_bot("run", env={"SLACK_BOT_TOKEN": SLACK_TOKEN}, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_SIGNING_SECRET" in result.stderr and "SLACK_APP_TOKEN" in result.stderr
    assert SLACK_TOKEN not in result.stderr


def test_a_token_of_the_wrong_kind_is_refused_without_showing_it(tmp_path: Path) -> None:
    result = ballerina_bot("check", env={"SLACK_BOT_TOKEN": APP_TOKEN}, cwd=tmp_path)
    assert result.returncode == 2 and "xoxb-" in result.stderr and APP_TOKEN not in result.stderr


def test_the_manifest_is_yaml_with_least_scopes_both_commands_and_socket_mode(tmp_path: Path) -> None:
    result = ballerina_bot("slack-manifest", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    manifest = yaml.safe_load(result.stdout)
    assert manifest["oauth_config"]["scopes"]["bot"] == list(BOT_SCOPES)
    assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/ballerina", "/ballerina-admin"]
    assert all(c["should_escape"] is True and "url" not in c for c in manifest["features"]["slash_commands"])
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True and settings["interactivity"]["is_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "app_uninstalled",
        "tokens_revoked",
    }
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True


def test_the_http_manifest_points_everything_at_one_request_url(tmp_path: Path) -> None:
    result = ballerina_bot("slack-manifest", "--http-url", "https://bot.example.org/", cwd=tmp_path)
    manifest = yaml.safe_load(result.stdout)
    url = "https://bot.example.org/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["settings"]["event_subscriptions"]["request_url"] == url
    assert manifest["settings"]["interactivity"]["request_url"] == url
    assert {c["url"] for c in manifest["features"]["slash_commands"]} == {url}
    assert ballerina_bot("slack-manifest", "--http-url", "ftp://x", cwd=tmp_path).returncode == 2


def test_check_reports_the_slack_settings_without_secrets(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_PORT": "8080"}
    result = ballerina_bot("check", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "SLACK_BOT_TOKEN: set" in result.stdout and "HTTP mode on 0.0.0.0:8080/slack/events" in result.stdout
    assert "Slack API: https://slack.com/api/" in result.stdout
    socket = ballerina_bot("check", env={"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN}, cwd=tmp_path)
    assert "Socket Mode" in socket.stdout
    for output in (result.stdout + result.stderr, socket.stdout + socket.stderr):
        assert "secret" not in output


def slack_environment(fake: FakeSlack, team: SlackTeam, tmp_path: Path, **settings: str) -> dict[str, str]:
    """A clean environment pointing ``ballerina-bot run`` at the fake Slack as ``team``'s bot."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(Path(__file__).parents[1]),
        "SLACK_BOT_TOKEN": team.bot_token,
        "SLACK_API_BASE": fake.api_base,
        "DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        **settings,
    }


async def test_run_serves_slack_in_socket_mode_through_slack_api_base(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        team = fake.add_team("Film Club")
        member = team.add_user("bob", tz="Europe/Paris")
        general = team.add_channel("general", members=[member])
        env = slack_environment(fake, team, tmp_path, SLACK_APP_TOKEN=fake.app_token)
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp_path, stderr=asyncio.subprocess.PIPE
        )
        try:
            await fake.wait_for_socket(timeout=30)
            delivery = await SocketModeDriver(fake).slash_command(general, member, "/ballerina", "cast")
            assert delivery.acked
            await delivery.wait_for_responses()
            assert "Jeon Jong-seo" in fake.ephemeral_messages(member)[-1].all_text()
        finally:
            process.send_signal(signal.SIGINT)
            _, stderr = await asyncio.wait_for(process.communicate(), 15)
        log = stderr.decode()
        assert "reminder engine started (64 workers; slack)" in log  # a Slack-only process delivers too
        assert team.bot_token not in log and fake.app_token not in log


def test_slack_secrets_are_redacted_from_every_log_line() -> None:
    stream = io.StringIO()
    environ = {"SLACK_BOT_TOKEN": SLACK_TOKEN, "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET}
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level  # configure_logging replaces them
    try:
        configure_logging(Settings.load(environ=environ, env_file=None), stream)
        logging.getLogger("slack_sdk.web").warning("calling with %s, %s and %s", SLACK_TOKEN, APP_TOKEN, SIGNING_SECRET)
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    output = stream.getvalue()
    assert output.count(REDACTED) == 3 and "secret" not in output


async def test_run_serves_discord_and_slack_in_one_process_over_one_database(tmp_path: Path) -> None:
    async with FakeDiscord() as discord_fake, FakeSlack() as fake:
        discord_fake.add_guild("Film Club")
        team = fake.add_team("Film Club")
        admin = team.add_user("ada", is_admin=True)
        general = team.add_channel("general", members=[admin])
        slack = {"SLACK_BOT_TOKEN": team.bot_token, "SLACK_APP_TOKEN": fake.app_token, "SLACK_API_BASE": fake.api_base}
        async with running_bot_process(discord_fake, tmp_path, slack) as bot:
            await bot.wait_for_line("ready as")
            await fake.wait_for_socket(timeout=30)
            delivery = await SocketModeDriver(fake).slash_command(
                general, admin, "/ballerina-admin", "timezone Asia/Seoul"
            )
            await delivery.wait_for_responses()
        assert "Asia/Seoul" in fake.ephemeral_messages(admin)[-1].all_text()
        assert not any("not delivered on Slack yet" in line for line in bot.lines)
        with sqlite3.connect(tmp_path / "bot.sqlite3") as db:
            assert db.execute("SELECT platform, timezone FROM guild_settings").fetchall() == [("slack", "Asia/Seoul")]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_serves_slack_over_http_with_signed_requests_only(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        team = fake.add_team("Film Club")
        member = team.add_user("bob")
        general = team.add_channel("general", members=[member])
        port = free_port()
        env = slack_environment(
            fake, team, tmp_path, SLACK_SIGNING_SECRET=fake.signing_secret, SLACK_HOST="127.0.0.1", SLACK_PORT=str(port)
        )
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--platform", "slack", env=env, cwd=tmp_path,
            stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert process.stderr is not None
            async with asyncio.timeout(30):
                while b"serving HTTP" not in await process.stderr.readline():
                    pass
            url = f"http://127.0.0.1:{port}/slack/events"
            forged = await HttpDriver(fake, url, signing_secret="wrong").slash_command(general, member, "/ballerina")
            assert forged.status == 401
            delivery = await HttpDriver(fake, url).slash_command(general, member, "/ballerina", "cast")
            assert delivery.status == 200
            await delivery.wait_for_responses()
            assert "Jeon Jong-seo" in fake.ephemeral_messages(member)[-1].all_text()
        finally:
            process.send_signal(signal.SIGINT)
            await asyncio.wait_for(process.communicate(), 15)
