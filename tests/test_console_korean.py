"""The console in English and Korean: ``--lang``, a Korean ``LANG``, ``/ballerina language``, and
times in the member's own zone (the one ``/ballerina timezone`` stored), written by Babel."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from bot.console import ConsoleSession, terminal_language
from bot.core.services import Core
from tests.leftover_english import english_words
from tests.test_cli import ballerina_bot

HANGUL = re.compile(r"[가-힣]")
TITLE = "영화의 밤"
# Jeon Jong-seo etc. are the English film file's names: the Korean console shows 전종서.
COMMANDS = (
    "/ballerina cast\n/ballerina release\n/ballerina timezone Asia/Seoul\n"
    f'/ballerina party create when:"내일 오후 8시" title:"{TITLE}"\n/ballerina party list\n'
    "/ballerina dance\n/ballerina remind on\nhello\n/ballerina language fr\n/ballerina help\n"
)


def assert_korean(text: str) -> None:
    assert HANGUL.search(text), text
    # What the member typed, the languages' codes, and the subcommands the help lists after a "|".
    typed = (TITLE, "Asia/Seoul", "en", "ko", "auto", "off status list info edit cancel")
    assert english_words(text, allowed=typed) == [], text


@pytest.fixture
async def console(offline_core: Core) -> AsyncIterator[ConsoleSession]:
    yield ConsoleSession(offline_core.facts, ZoneInfo("UTC"), offline_core)


def test_console_lang_ko_answers_every_command_in_korean(tmp_path: Path) -> None:
    result = ballerina_bot("console", "--lang", "ko", stdin=COMMANDS, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert_korean(result.stdout)
    assert "2023년 10월 6일 금요일" in result.stdout  # the release, Babel's Korean


def test_a_korean_lang_makes_the_console_korean_and_lang_en_wins_over_it(tmp_path: Path) -> None:
    korean = ballerina_bot("console", stdin="/ballerina about\n", env={"LANG": "ko_KR.UTF-8"}, cwd=tmp_path)
    assert korean.returncode == 0 and HANGUL.search(korean.stdout), korean.stdout + korean.stderr
    english = ballerina_bot(
        "console", "--lang", "en", stdin="/ballerina about\n", env={"LANG": "ko_KR.UTF-8"}, cwd=tmp_path
    )
    assert english.returncode == 0 and not HANGUL.search(english.stdout), english.stdout


def test_the_terminal_language_follows_posix_precedence() -> None:
    assert terminal_language({"LANG": "ko_KR.UTF-8"}) == "ko"
    assert terminal_language({"LANG": "ko_KR.UTF-8", "LC_ALL": "en_US.UTF-8"}) == "en"
    assert terminal_language({"LC_MESSAGES": "ko_KR", "LANG": "C.UTF-8"}) == "ko"
    assert terminal_language({}) is None


async def test_the_console_writes_times_in_the_members_zone_after_timezone(console: ConsoleSession) -> None:
    seven_utc, four_pm_seoul = re.compile(r"\b0?7:00"), re.compile(r"\b(?:4:00|16:00)")
    before = await console.handle("/ballerina release") or ""
    assert seven_utc.search(before), before  # the console's zone (UTC): the release is 07:00 UTC
    await console.handle("/ballerina timezone Asia/Seoul")
    after = await console.handle("/ballerina release") or ""
    assert four_pm_seoul.search(after) and not seven_utc.search(after), after


async def test_language_in_the_console_switches_to_korean_times_in_the_members_zone(console: ConsoleSession) -> None:
    chosen = await console.handle("/ballerina language ko") or ""
    assert HANGUL.search(chosen), chosen
    await console.handle("/ballerina timezone Asia/Seoul")
    assert "2023년 10월 6일 금요일 오후 4:00" in (await console.handle("/ballerina release") or "")
    created = await console.handle(f'/ballerina party create when:"내일 오후 8시" title:"{TITLE}"') or ""
    assert "오후 8:00" in created, created  # 20:00 in Seoul, as typed
    assert_korean(created)


async def test_an_unknown_language_is_refused_and_changes_nothing(console: ConsoleSession) -> None:
    refused = await console.handle("/ballerina language klingon") or ""
    assert "(ko)" in refused
    assert not HANGUL.search(await console.handle("/ballerina about") or "")


def test_check_lists_the_languages_loaded(tmp_path: Path) -> None:
    result = ballerina_bot("check", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "languages: en (English), ko (한국어)" in result.stdout


def test_the_slack_manifest_can_describe_the_commands_in_korean(tmp_path: Path) -> None:
    """Slack has one description per command for the whole app: a Korean workspace makes its app in Korean."""
    english = yaml.safe_load(ballerina_bot("slack-manifest", cwd=tmp_path).stdout)
    result = ballerina_bot("slack-manifest", "--lang", "ko", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    korean = yaml.safe_load(result.stdout)
    for manifest in (english, korean):
        assert [c["command"] for c in manifest["features"]["slash_commands"]] == ["/ballerina", "/ballerina-admin"]
    described = [korean["display_information"]["description"]]
    described += [c["description"] for c in korean["features"]["slash_commands"]]
    for text in described:
        assert_korean(text)
    assert not HANGUL.search(str(english))
    assert ballerina_bot("slack-manifest", "--lang", "fr", cwd=tmp_path).returncode == 2
