"""The ``ballerina-bot`` command as a user runs it: a real subprocess each time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import application_id_from_token
from bot.settings import DEFAULT_FILM_FILE

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.Gabcde.this-part-is-secret"


def ballerina_bot(
    *args: str, stdin: str = "", env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    # A clean environment: nothing from the developer's shell or .env leaks into the test.
    base = {"PATH": os.environ.get("PATH", ""), "HOME": str(cwd), "PYTHONPATH": str(Path(__file__).parents[1])}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=base | (env or {}),
        cwd=cwd,
        timeout=60,
    )


def test_console_answers_piped_commands(tmp_path: Path) -> None:
    result = ballerina_bot(
        "console",
        "--timezone",
        "Asia/Seoul",
        stdin='/ballerina cast\n/ballerina release\n/ballerina character name:"choi pro"\n',
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Jeon Jong-seo as Ok-ju" in out and "Kim Ji-hoon as Choi Pro" in out
    # The release instant, written in the chosen zone: midnight in Los Angeles is 16:00 in Seoul.
    assert "Streaming exclusively on Netflix since Friday, October 6, 2023, 4:00\u202fPM" in out
    assert "Played by:\n  Kim Ji-hoon" in out


def test_console_explains_unknown_input(tmp_path: Path) -> None:
    lines = "hello\n/ballerina dance\n/ballerina character Nobody\n/ballerina remind on\n"
    result = ballerina_bot("console", stdin=lines, cwd=tmp_path)
    assert result.returncode == 0
    assert "Commands start with /ballerina" in result.stdout
    assert "There is no /ballerina dance command" in result.stdout
    assert "/ballerina remind works in a server or workspace" in result.stdout
    assert "I don't know a character called “Nobody”" in result.stdout


def test_console_refuses_an_unknown_time_zone(tmp_path: Path) -> None:
    result = ballerina_bot("console", "--timezone", "Mars/Base", cwd=tmp_path)
    assert result.returncode == 2
    assert "Mars/Base" in result.stderr


def test_run_without_token_exits_2_and_points_to_the_console(tmp_path: Path) -> None:
    result = ballerina_bot("run", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DISCORD_TOKEN" in lines[0] and ".env.example" in lines[0] and "ballerina-bot console" in lines[0]
    assert "SLACK_BOT_TOKEN" in lines[0]


def test_check_prints_what_it_loaded_without_the_token(tmp_path: Path) -> None:
    result = ballerina_bot("check", env={"DISCORD_TOKEN": TOKEN}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "directed by Lee Chung-hyun" in result.stdout
    assert "release: 2023-10-06T07:00:00+00:00 on Netflix" in result.stdout
    assert "DISCORD_TOKEN: set" in result.stdout
    assert "secret" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda text: text.replace('genre = "', 'genere = "x"\ngenre = "'), "field `genere`: unknown key"),
        (lambda text: text.replace('actor = "Kim Ji-hoon"\n', ""), "field `cast[1].actor`: Field required"),
        (lambda text: text + "\n[[[", "not valid TOML"),
    ],
)
def test_check_names_the_broken_field(tmp_path: Path, edit: object, expected: str) -> None:
    film = tmp_path / "film.toml"
    film.write_text(edit(DEFAULT_FILM_FILE.read_text()))  # type: ignore[operator]
    result = ballerina_bot("check", env={"FILM_FILE": str(film)}, cwd=tmp_path)
    assert result.returncode == 1
    assert str(film) in result.stderr and expected in result.stderr


def test_invalid_setting_is_a_clear_start_up_error(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DISCORD_API_BASE=not a url\n")
    result = ballerina_bot("check", cwd=tmp_path)
    assert result.returncode == 2
    assert "DISCORD_API_BASE must be a http:// or https:// URL" in result.stderr


def test_invite_url_has_both_scopes_and_least_permissions(tmp_path: Path) -> None:
    result = ballerina_bot("invite-url", env={"DISCORD_TOKEN": TOKEN}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert "client_id=123456789012345678" in url
    assert "scope=bot+applications.commands" in url
    # view_channel | send_messages | embed_links | manage_roles | manage_events
    assert f"permissions={(1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 28) | (1 << 33)}" in url


def test_application_id_is_read_from_the_token() -> None:
    assert application_id_from_token(TOKEN) == 123456789012345678
    assert application_id_from_token("garbage") is None


def test_db_commands_report_and_apply_migrations(tmp_path: Path) -> None:
    env = {"DATABASE_PATH": str(tmp_path / "bot.sqlite3")}
    before = ballerina_bot("db", "current", env=env, cwd=tmp_path)
    assert before.returncode == 0, before.stderr
    assert before.stdout.strip().startswith("schema version 0 (this code: ")
    assert "upgrade pending" in before.stdout
    upgraded = ballerina_bot("db", "upgrade", env=env, cwd=tmp_path)
    assert upgraded.stdout.startswith("applied: V1 initial, V2 watch_parties")
    again = ballerina_bot("db", "upgrade", env=env, cwd=tmp_path)
    assert again.stdout.strip() == "already up to date"


def test_console_plans_a_watch_party_on_a_throwaway_database(tmp_path: Path) -> None:
    result = ballerina_bot(
        "console",
        stdin='/ballerina party create when:"in 2 hours" title:"@everyone **Ok-ju** night"\n'
        "/ballerina party going id:1\n/ballerina party list\n/ballerina party create when:yesterday\n",
        env={"DATABASE_PATH": str(tmp_path / "real.sqlite3")},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "@everyone **Ok-ju** night\n==" in out  # shown as typed, markup and all
    assert "You're going to “@everyone **Ok-ju** night”." in out
    assert "Going (1):\n  @you" in out
    assert "#1 @everyone **Ok-ju** night:" in out
    assert "I couldn't read “yesterday” as a time." in out
    assert not (tmp_path / "real.sqlite3").exists()  # trying the bot leaves nothing behind
