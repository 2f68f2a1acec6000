"""``/ballerina`` and ``/ballerina-admin`` on Slack, end to end through the real slack-bolt and the fake Slack."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.reminders import RESET_CONFIRM_ID
from bot.core.storage import DEFAULT_RELEASE_OFFSETS, GuildSettings, Platform, Via
from tests.fakeslack import HttpDriver
from tests.slack_world import SlackWorld, slack_world

ADMIN_COMMANDS = ["channel", "schedule 1d", "timezone Asia/Seoul", "status", "preview", "reset", "moderators"]


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with slack_world(tmp_path) as world:
        yield world


async def settings(w: SlackWorld) -> GuildSettings:
    return await w.core.store.get_guild_settings(w.team.id)


# -- film facts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cast", "Jeon Jong-seo"),
        ("director", "Lee Chung-hyun"),
        ("about", "Where to watch"),
        ("CAST", "Jeon Jong-seo"),
        ("character Ok-ju", "Played by"),
        ("character name: Ok-ju", "Played by"),
        ('character "Ok-ju"', "Played by"),
        ("help", "On Slack"),
    ],
)
async def test_film_commands_answer_ephemerally(w: SlackWorld, text: str, expected: str) -> None:
    assert expected in await w.run(w.member, "/ballerina", text)


async def test_release_shows_each_readers_zone_with_a_fallback_in_the_members_zone(w: SlackWorld) -> None:
    answer = await w.reply(w.member, "/ballerina", "release")
    text = answer.all_text()
    release = int(w.core.facts.film.release.instant.timestamp())
    assert f"<!date^{release}^{{date_long_pretty}} {{time}}|Friday, October 6, 2023, 9:00\u202fAM>" in text
    assert "in 15 days" in text  # the relative phrase, written out


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "Which command?"),
        ("dance", "There is no 'dance' command."),
        ("cast extra", "name the option first"),
        ("character nmae: Ok-ju", "There is no option nmae"),
        ('character "Ok-ju', "never closed"),
        ("remind", "There is no 'remind' command."),
    ],
)
async def test_what_cannot_be_read_gets_the_help_never_silence(w: SlackWorld, text: str, problem: str) -> None:
    answer = await w.run(w.member, "/ballerina", text)
    assert problem in answer and "On Slack" in answer and "/ballerina cast" in answer


async def test_member_time_zone_is_set_and_a_bad_one_refused_kindly(w: SlackWorld) -> None:
    assert "Asia/Seoul" in await w.run(w.member, "/ballerina", "timezone Asia/Seoul")
    bad = await w.run(w.member, "/ballerina", "timezone Mars/Olympus")
    assert "Mars/Olympus" in bad
    stored = await w.core.parties.parties.user_settings(w.member.id)
    assert stored.timezone == "Asia/Seoul"


# -- release reminders ---------------------------------------------------------------------------


async def test_remind_on_off_and_status(w: SlackWorld) -> None:
    on = await w.run(w.member, "/ballerina", "remind on")
    assert "Reminders on" in on and "mentions you once, in a reply in its thread" in on
    subscription = await w.core.store.get_subscription(w.team.id, w.member.id)
    assert subscription is not None and subscription.via is Via.CHANNEL
    assert (await settings(w)).platform is Platform.SLACK
    assert "by DM" in await w.run(w.member, "/ballerina", "remind on dm")
    subscription = await w.core.store.get_subscription(w.team.id, w.member.id)
    assert subscription is not None and subscription.via is Via.DM
    assert "Reminders are on for you" in await w.run(w.member, "/ballerina", "remind status")
    assert "Reminders off" in await w.run(w.member, "/ballerina", "remind off")
    assert await w.core.store.get_subscription(w.team.id, w.member.id) is None
    assert "Reminders are off for you" in await w.run(w.member, "/ballerina", "remind status")
    assert "channel or by DM" in await w.run(w.member, "/ballerina", "remind on pigeon")


# -- moderators ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [*ADMIN_COMMANDS, "moderators add <@U0>"])
async def test_a_member_who_is_no_moderator_is_refused_and_nothing_changes(w: SlackWorld, text: str) -> None:
    before = await settings(w)
    answer = await w.run(w.member, "/ballerina-admin", text)
    assert "Only workspace admins and owners" in answer
    assert await settings(w) == before
    assert await w.core.store.moderator_ids(w.team.id) == set()


async def test_an_admin_adds_a_moderator_who_may_then_configure(w: SlackWorld) -> None:
    added = await w.run(w.admin, "/ballerina-admin", f"moderators add <@{w.member.id}|bob>")
    assert "is now a moderator" in added and "@\u200bbob" in added
    assert "Asia/Seoul" in await w.run(w.member, "/ballerina-admin", "timezone Asia/Seoul")
    assert (await settings(w)).timezone == "Asia/Seoul"
    # a moderator the admin added cannot add others
    carol = w.team.add_user("carol")
    refused = await w.run(w.member, "/ballerina-admin", f"moderators add <@{carol.id}|carol>")
    assert "Only workspace admins and owners can add" in refused
    assert await w.core.store.moderator_ids(w.team.id) == {w.member.id}
    removed = await w.run(w.admin, "/ballerina-admin", f"moderators remove <@{w.member.id}|bob>")
    assert "no longer a moderator" in removed
    assert "Only workspace admins" in await w.run(w.member, "/ballerina-admin", "status")


async def test_members_are_looked_up_once_for_a_while(w: SlackWorld) -> None:
    for _ in range(3):
        await w.run(w.admin, "/ballerina-admin", "status")
    assert len(w.fake.find_calls("users.info")) == 1


async def test_a_moderator_must_be_a_member_of_this_workspace(w: SlackWorld) -> None:
    other = w.fake.add_team("Elsewhere").add_user("eve")
    for text in (
        f"moderators add <@{other.id}|eve>",
        "moderators add nobody",
        f"moderators add <@{w.team.bot_user.id}>",
    ):
        assert "Name a member of this workspace" in await w.run(w.admin, "/ballerina-admin", text)
    assert await w.core.store.moderator_ids(w.team.id) == set()


# -- moderator commands --------------------------------------------------------------------------


async def test_channel_is_saved_when_the_bot_can_post_there(w: SlackWorld) -> None:
    answer = await w.run(w.admin, "/ballerina-admin", "channel")
    assert "Reminder posts will go to" in answer and f"<#{w.general.id}>" in answer
    assert (await settings(w)).channel_id == w.general.id
    films = w.team.add_channel("films", members=[w.admin])
    await w.run(w.admin, "/ballerina-admin", f"channel <#{films.id}|films>")
    assert (await settings(w)).channel_id == films.id


async def test_channel_the_bot_cannot_post_in_is_refused_with_how_to_fix_it(w: SlackWorld) -> None:
    outside = w.team.add_channel("outside", members=[w.admin], bot_member=False)
    secret = w.team.add_channel("secret", private=True, members=[w.admin], bot_member=False)
    elsewhere = w.fake.add_team("Elsewhere").add_channel("films")
    not_in = await w.run(w.admin, "/ballerina-admin", f"channel <#{outside.id}|outside>")
    assert "/invite @" in not_in and "Nothing was changed" in not_in
    for channel in (secret, elsewhere):
        refused = await w.run(w.admin, "/ballerina-admin", f"channel <#{channel.id}|x>")
        assert "I can't see that channel" in refused and "Nothing was changed" in refused
    assert "Name a channel" in await w.run(w.admin, "/ballerina-admin", "channel films")
    assert (await settings(w)).channel_id is None
    w.team.scopes.add("chat:write.public")  # a public channel is open to chat:write.public
    await w.run(w.admin, "/ballerina-admin", f"channel <#{outside.id}|outside>")
    assert (await settings(w)).channel_id == outside.id


async def test_schedule_and_timezone_bad_inputs_are_friendly_and_change_nothing(w: SlackWorld) -> None:
    assert "1 day before" in await w.run(w.admin, "/ballerina-admin", "schedule offsets: 1d, 1h")
    assert (await settings(w)).release_offsets == (timedelta(days=1), timedelta(hours=1))
    for text in ("schedule 3 fortnights", "schedule -1d", "schedule offsets:", "timezone Mars/Olympus"):
        answer = await w.run(w.admin, "/ballerina-admin", text)
        assert "Nothing was changed" in answer or "needs a value" in answer
    assert (await settings(w)).release_offsets == (timedelta(days=1), timedelta(hours=1))
    assert (await settings(w)).timezone == "UTC"


async def test_status_preview_and_unknown_admin_commands(w: SlackWorld) -> None:
    status = await w.run(w.admin, "/ballerina-admin", "status")
    assert "Release reminders: configuration" in status and "Pick a reminder channel" in status
    assert "Ping role" not in status and "Set a ping role" not in status  # a user group is optional on Slack
    assert "Preview" in await w.run(w.admin, "/ballerina-admin", "preview")
    unknown = await w.run(w.admin, "/ballerina-admin", "roles")
    assert "There is no 'roles' command." in unknown and "/ballerina-admin: what moderators can do" in unknown


async def test_reset_asks_first_and_the_click_resets(w: SlackWorld) -> None:
    await w.run(w.admin, "/ballerina-admin", "timezone Asia/Seoul")
    prompt = await w.reply(w.admin, "/ballerina-admin", "reset")
    assert prompt.action_ids() == [RESET_CONFIRM_ID]
    assert (await settings(w)).timezone == "Asia/Seoul"
    click = await w.driver.click(prompt, w.admin, RESET_CONFIRM_ID)
    assert click.acked
    await click.wait_for_responses()
    assert await settings(w) == GuildSettings(w.team.id, platform=Platform.SLACK)
    assert (await settings(w)).release_offsets == DEFAULT_RELEASE_OFFSETS


# -- Slack's rules -------------------------------------------------------------------------------


async def test_a_bad_signature_gets_401_and_runs_nothing(w: SlackWorld) -> None:
    assert isinstance(w.driver, HttpDriver)
    forged = HttpDriver(w.fake, w.driver.url, signing_secret="not-the-secret")
    stale = HttpDriver(w.fake, w.driver.url, clock_skew=600)
    for driver in (forged, stale):
        delivery = await driver.slash_command(w.general, w.admin, "/ballerina-admin", "timezone Asia/Seoul")
        assert delivery.status == 401
    await asyncio.sleep(0.2)
    assert (await settings(w)).timezone == "UTC"
    assert w.fake.ephemerals == []


async def test_commands_are_acknowledged_in_time_while_the_database_is_busy(w: SlackWorld) -> None:
    holder = sqlite3.connect(w.core.settings.database_path, timeout=1, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a write lock, as a long fan-out would hold it
    try:
        delivery = await w.driver.slash_command(w.general, w.admin, "/ballerina", "remind on dm")
        assert delivery.acked and not delivery.timed_out and delivery.elapsed < 3
        assert w.fake.ephemerals == []  # the work waits for the lock
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    await delivery.wait_for_responses()
    subscription = await w.core.store.get_subscription(w.team.id, w.admin.id)
    assert subscription is not None and subscription.via is Via.DM


@pytest.mark.parametrize("event", ["app_uninstalled", "tokens_revoked"])
async def test_an_uninstalled_workspace_is_forgotten(w: SlackWorld, event: str) -> None:
    await w.run(w.member, "/ballerina", "remind on dm")
    await w.run(w.admin, "/ballerina-admin", f"moderators add <@{w.member.id}>")
    delivery = await (
        w.driver.app_uninstalled(w.team) if event == "app_uninstalled" else w.driver.tokens_revoked(w.team)
    )
    assert delivery.acked

    async def forgotten() -> bool:
        return await w.core.store.find_guild_settings(w.team.id) is None

    for _ in range(50):
        if await forgotten():
            break
        await asyncio.sleep(0.05)
    assert await forgotten()
    assert await w.core.store.get_subscription(w.team.id, w.member.id) is None
    assert await w.core.store.moderator_ids(w.team.id) == set()


async def test_socket_mode_serves_the_same_commands(tmp_path: Path) -> None:
    async with slack_world(tmp_path, socket_mode=True) as w:
        assert "Jeon Jong-seo" in await w.run(w.member, "/ballerina", "cast")
        assert "Only workspace admins" in await w.run(w.member, "/ballerina-admin", "status")
        await w.run(w.admin, "/ballerina-admin", "timezone Asia/Seoul")
        assert (await settings(w)).timezone == "Asia/Seoul"


@pytest.mark.parametrize(
    "typed", ["&lt;!channel&gt;", "<!here|here>", "<@U0000000009|alice>", "&lt;https://evil|click&gt;", "@here"]
)
async def test_what_a_member_typed_is_echoed_without_pinging_anyone(w: SlackWorld, typed: str) -> None:
    for command, text in (("/ballerina", f"character {typed}"), ("/ballerina", f"timezone {typed}")):
        answer = await w.reply(w.member, command, text)
        every = answer.text + "".join(str(block) for block in answer.blocks if block["type"] != "header")
        assert "<!" not in every.replace("<!date^", "") and "<@" not in every and "<http" not in every
