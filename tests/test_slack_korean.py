"""English and Korean on Slack, through the real slack-bolt and the fake Slack.

A member whose Slack shows ``ko-KR`` (``users.info`` with ``include_locale``) is answered in
Korean: every command, button, form and refusal; an English member of the same workspace in
English. Channel posts and party cards speak the workspace's language, which a moderator sets
with ``/ballerina-admin language``; a DM reminder speaks its member's.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.privacy import FORGET_CONFIRM_ID
from bot.core.storage import Platform
from bot.slack.listeners.home import remind_id
from bot.slack.transport import SlackTransport
from tests.fakediscord._util import wait_until
from tests.fakeslack import EphemeralMessage, SlackUser
from tests.fakeslack.models import block_texts
from tests.leftover_english import english_words
from tests.slack_world import SlackWorld, slack_world
from tests.test_slack_home import action_ids

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
HANGUL = re.compile(r"[가-힣]")
TITLE = "영화의 밤"


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with slack_world(tmp_path, now=NOW) as world:
        yield world


def korean_member(w: SlackWorld, name: str = "jiwoo") -> SlackUser:
    member = w.team.add_user(name, tz="Asia/Seoul", locale="ko-KR")
    w.general.add_member(member)
    return member


SLACK_DATE_FORMAT = re.compile(r"<!date\^\d+\^[^|>]*")
"""The token part of ``<!date^UNIX^{date_long} {time}|fallback>``: Slack's, not words (the fallback is ours)."""


def assert_korean(text: str, *allowed: str) -> None:
    """Korean, with no English word left (names, commands and what members typed aside)."""
    assert HANGUL.search(text), text
    names = ("jiwoo", "bob", "ada")  # the members' display names
    assert english_words(SLACK_DATE_FORMAT.sub("", text), allowed=(TITLE, *names, *allowed)) == [], text


async def answered(w: SlackWorld, user: SlackUser, command: str, text: str = "") -> EphemeralMessage:
    """The member's one ephemeral answer to a command (after any follow-up, e.g. a posted card)."""
    return await w.reply(user, command, text)


KOREAN_COMMANDS = [
    ("/ballerina", "about"),
    ("/ballerina", "cast"),
    ("/ballerina", "director"),
    ("/ballerina", "release"),
    ("/ballerina", "character 옥주"),
    ("/ballerina", "character"),
    ("/ballerina", "character Nobody"),
    ("/ballerina", "help"),
    ("/ballerina", "dance"),
    ("/ballerina", ""),
    ("/ballerina", "timezone Mars/Olympus"),
    ("/ballerina", "timezone Asia/Seoul"),
    ("/ballerina", "remind on"),
    ("/ballerina", "remind status"),
    ("/ballerina", "remind on pigeon"),
    ("/ballerina", "remind off"),
    ("/ballerina", "party list"),
    ("/ballerina", "party info"),
    ("/ballerina", "party info 99"),
    ("/ballerina", "party create when: 어제 오후 8시"),
    ("/ballerina", 'party create when: "내일 오후 8시" channel: nowhere'),
    ("/ballerina", "party reminders dm"),
    ("/ballerina", "forget-me"),
    ("/ballerina", "language fr"),
    ("/ballerina-admin", "status"),
    ("/ballerina-admin", "language ko"),
]


async def test_a_korean_member_gets_every_command_and_refusal_in_korean(w: SlackWorld) -> None:
    jiwoo = korean_member(w)
    for command, text in KOREAN_COMMANDS:
        answer = await answered(w, jiwoo, command, text)
        assert_korean(answer.all_text(), "Nobody", "Mars", "Olympus", "pigeon", "fr", "dance", "nowhere")
    assert await w.core.languages.member_choice(jiwoo.id) is None  # "fr" changed nothing
    assert await w.core.languages.server_choice(w.team.id) is None  # not a moderator


async def test_a_korean_members_party_buttons_form_and_home_tab_are_korean(w: SlackWorld) -> None:
    jiwoo = korean_member(w)
    created = await answered(w, jiwoo, "/ballerina", f'party create when: "내일 오후 8시" title: "{TITLE}"')
    assert_korean(created.all_text())
    card = (await w.fake.wait_for_messages(w.general))[-1]
    party_id = int(card.action_ids()[0].split(":")[1])
    info = await answered(w, jiwoo, "/ballerina", f"party info {party_id}")
    assert_korean(info.all_text())
    going = next(a for a in info.action_ids() if a.endswith(":going"))
    click = await w.driver.click(info, jiwoo, going)
    [copy] = await click.wait_for_responses()
    assert_korean(str(copy.body.get("text")) + "\n" + "\n".join(block_texts(copy.body.get("blocks") or [])))
    for typed in (f"party edit {party_id} when: 모레 저녁 7시", f"party cancel {party_id}"):
        assert_korean((await answered(w, jiwoo, "/ballerina", typed)).all_text())

    await w.command(jiwoo, "/ballerina", "party create")
    modal = await w.fake.wait_for_modal(jiwoo)
    assert_korean("\n".join(block_texts([modal.view])))
    refused = await w.driver.submit_view(modal, {"remind": {"remind": "default"}})
    errors = (refused.payload or {}).get("errors") or {}
    assert errors and all(HANGUL.search(problem) for problem in errors.values()), errors
    assert_korean("\n".join(errors.values()))

    await w.driver.app_home_opened(w.team, jiwoo)
    assert_korean((await w.fake.wait_for_home(jiwoo)).all_text())

    prompt = await answered(w, jiwoo, "/ballerina", "forget-me")
    confirmed = await w.driver.click(prompt, jiwoo, FORGET_CONFIRM_ID)
    [forgotten] = await confirmed.wait_for_responses()
    assert_korean(str(forgotten.body.get("text")))


async def test_an_english_member_of_the_same_workspace_gets_english(w: SlackWorld) -> None:
    await answered(w, korean_member(w), "/ballerina", "about")
    for command, text in KOREAN_COMMANDS:
        if HANGUL.search(text):
            continue  # a time typed in Korean is refused with Korean examples, even in English
        answer = (await answered(w, w.member, command, text)).all_text()
        assert not HANGUL.search(answer), (text, answer)


async def test_the_member_chooses_a_language_and_auto_hands_it_back_to_slack(w: SlackWorld) -> None:
    assert "Korean" not in (await answered(w, w.member, "/ballerina", "language ko")).all_text()
    assert_korean((await answered(w, w.member, "/ballerina", "cast")).all_text(), "Jeon", "Jong", "seo")
    assert await w.core.languages.member_choice(w.member.id) == "ko"
    back = (await answered(w, w.member, "/ballerina", "language auto")).all_text()
    assert "your app's language" in back
    assert not HANGUL.search((await answered(w, w.member, "/ballerina", "help")).all_text())


async def test_users_info_is_asked_with_the_locale_once_per_member_not_per_click(w: SlackWorld) -> None:
    jiwoo = korean_member(w)
    for text in ("about", "cast", "director", "release", "help"):
        await answered(w, jiwoo, "/ballerina", text)
    asked = [call for call in w.fake.find_calls("users.info") if call.args.get("user") == jiwoo.id]
    assert len(asked) == 1 and str(asked[0].args.get("include_locale")).lower() in ("true", "1")


async def test_channel_posts_follow_the_workspace_language_a_moderator_sets(w: SlackWorld) -> None:
    jiwoo = korean_member(w)
    # An English workspace: a Korean host's card is English, their own answer Korean.
    created = await answered(w, jiwoo, "/ballerina", f'party create when: "내일 오후 8시" title: "{TITLE}"')
    assert_korean(created.all_text())
    card = (await w.fake.wait_for_messages(w.general))[-1]
    assert not HANGUL.search(card.all_text().replace(TITLE, "")), card.all_text()

    refused = (await answered(w, w.member, "/ballerina-admin", "language ko")).all_text()
    assert "Nothing was changed" in refused and await w.core.languages.server_choice(w.team.id) is None
    unknown = (await answered(w, w.admin, "/ballerina-admin", "language klingon")).all_text()
    assert "`ko`" in unknown and await w.core.languages.server_choice(w.team.id) is None
    set_ko = (await answered(w, w.admin, "/ballerina-admin", "language ko")).all_text()
    assert HANGUL.search(set_ko) and await w.core.languages.server_choice(w.team.id) == "ko"

    # A click by the English member edits the card in the workspace's Korean; their answer stays English.
    going = next(a for a in card.action_ids() if a.endswith(":going"))
    await w.driver.click(card, w.member, going)
    await w.fake.wait_for_call("chat.update")
    assert_korean(w.fake.channel_messages(w.general)[-1].all_text())
    second = await answered(w, w.member, "/ballerina", 'party create when: "tomorrow 9pm" title: "Late show"')
    assert not HANGUL.search(second.all_text())
    posted = (await w.fake.wait_for_messages(w.general, count=2))[-1]
    assert_korean(posted.all_text(), "Late", "show")
    status = (await answered(w, w.admin, "/ballerina-admin", "status")).all_text()
    assert "한국어" in status


async def test_a_dm_reminder_to_a_korean_member_is_korean_in_an_english_workspace(tmp_path: Path) -> None:
    async with slack_world(tmp_path) as w:
        await w.core.start({Platform.SLACK: SlackTransport(w.bot)})
        await answered(w, w.admin, "/ballerina-admin", "channel")
        jiwoo = korean_member(w)
        await answered(w, jiwoo, "/ballerina", "remind on dm")
        await answered(w, w.member, "/ballerina", "remind on")
        clock = w.core.clock
        assert isinstance(clock, ManualClock) and w.core.engine is not None
        clock.set(w.core.facts.film.release.instant - timedelta(days=1))
        await asyncio.wait_for(w.core.engine.wait_idle(), 30)
        [dm] = w.fake.dm_messages(jiwoo)
        assert_korean(dm.all_text())
        assert re.search(r"\|2023년 10월 \d+일", dm.all_text()), dm.all_text()  # the <!date> fallback, Babel's Korean
        posts = [m for m in w.fake.channel_messages(w.general, include_replies=False) if m.source == "api"]
        assert posts and not HANGUL.search(posts[-1].all_text())


async def test_with_the_database_locked_a_new_korean_member_is_acked_in_time_and_answered_in_korean(
    w: SlackWorld,
) -> None:
    """Storing a newly seen locale waits for the lock: the ack does not, and the language comes
    from the member's Slack meanwhile (stored once the lock is gone)."""
    jiwoo = korean_member(w)
    holder = sqlite3.connect(w.core.settings.database_path, timeout=1, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        delivery = await w.driver.slash_command(w.general, jiwoo, "/ballerina", "remind on dm")
        assert delivery.acked and not delivery.timed_out and delivery.elapsed < 3
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await delivery.wait_for_responses()
    assert_korean(w.fake.ephemeral_messages(jiwoo)[-1].all_text())
    for _ in range(100):  # the locale is stored once the lock is gone
        if await w.core.languages.for_member(jiwoo.id, None, w.team.id) == "ko":
            break
        await asyncio.sleep(0.05)
    assert await w.core.languages.for_member(jiwoo.id, None, w.team.id) == "ko"


async def test_a_korean_members_home_tab_and_its_buttons_are_korean_before_the_release(tmp_path: Path) -> None:
    async with slack_world(tmp_path) as w:
        jiwoo = korean_member(w)
        await w.driver.app_home_opened(w.team, jiwoo)
        home = await w.fake.wait_for_home(jiwoo)
        assert remind_id("dm") in action_ids(home)
        assert_korean(home.all_text())
        await w.driver.click(home, jiwoo, remind_id("dm"))
        again = await wait_until(
            lambda: view if (view := w.fake.home_view(jiwoo)) and remind_id("off") in action_ids(view) else None,
            5,
            "the Home tab published again",
        )
        assert_korean(again.all_text())
