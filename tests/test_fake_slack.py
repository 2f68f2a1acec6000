"""Self-tests of tests.fakeslack: the real slack_sdk ``AsyncWebClient`` and a real slack_bolt
``AsyncApp`` (over HTTP and over Socket Mode) against the fake Slack."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakeslack import (
    FakeSlack,
    HttpDriver,
    NotAllowed,
    SlackChannel,
    SlackDriver,
    SlackTeam,
    SlackUser,
    bolt_app,
    http_app,
    slack_signature,
    socket_mode_app,
    web_client,
)

# --------------------------------------------------------------------------------------------------
# The app under test: a slash command, a button, a modal with validation, Home tab and events.
# --------------------------------------------------------------------------------------------------

NOTE_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "note",
    "title": {"type": "plain_text", "text": "Leave a note"},
    "submit": {"type": "plain_text", "text": "Save"},
    "blocks": [
        {
            "type": "input",
            "block_id": "note_block",
            "label": {"type": "plain_text", "text": "Note"},
            "element": {"type": "plain_text_input", "action_id": "note"},
        },
        {
            "type": "input",
            "block_id": "mood_block",
            "label": {"type": "plain_text", "text": "Mood"},
            "element": {
                "type": "static_select",
                "action_id": "mood",
                "options": [
                    {"text": {"type": "plain_text", "text": "Thrilled"}, "value": "thrilled"},
                    {"text": {"type": "plain_text", "text": "Calm"}, "value": "calm"},
                ],
            },
        },
    ],
}


def vote_blocks(votes: int) -> list[dict[str, Any]]:
    return [
        {"type": "section", "block_id": "tally", "text": {"type": "mrkdwn", "text": f"*votes:* {votes}"}},
        {
            "type": "actions",
            "block_id": "panel",
            "elements": [
                {
                    "type": "button",
                    "action_id": "vote",
                    "value": "ballerina",
                    "text": {"type": "plain_text", "text": "Vote"},
                }
            ],
        },
    ]


@dataclass
class Seen:
    """What the app's listeners saw, for assertions."""

    commands: list[str] = field(default_factory=list)
    votes: int = 0
    notes: list[tuple[str, str]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def make_app(fake: FakeSlack, team: SlackTeam) -> tuple[AsyncApp, Seen]:
    app = bolt_app(fake, team)
    seen = Seen()

    @app.command("/film")
    async def film(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        text = command["text"]
        seen.commands.append(text)
        if text == "whisper":
            await ack("only you can see this")
        elif text == "shout":
            await ack(response_type="in_channel", text="everyone sees this")
        elif text == "note":
            await ack()
            await client.views_open(trigger_id=command["trigger_id"], view=NOTE_MODAL)
        elif text == "slow":
            await asyncio.sleep(0.2)
            await ack()
        else:
            await ack()
            await client.chat_postMessage(channel=command["channel_id"], text="votes: 0", blocks=vote_blocks(0))

    @app.action("vote")
    async def vote(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        seen.votes += 1
        await respond(replace_original=True, text=f"votes: {seen.votes}", blocks=vote_blocks(seen.votes))

    @app.view("note")
    async def note(ack: AsyncAck, view: dict[str, Any]) -> None:
        values = view["state"]["values"]
        text = values["note_block"]["note"]["value"] or ""
        if not text.strip():
            await ack(response_action="errors", errors={"note_block": "Write something first"})
            return
        await ack()
        seen.notes.append((text, values["mood_block"]["mood"]["selected_option"]["value"]))

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.events.append("app_home_opened")
        await client.views_publish(
            user_id=event["user"],
            view={"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Welcome home"}}]},
        )

    @app.event("member_joined_channel")
    async def joined(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.events.append(f"member_joined_channel:{event['user']}")
        await client.chat_postMessage(channel=event["channel"], text=f"welcome <@{event['user']}>")

    @app.event("app_uninstalled")
    async def uninstalled(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.events.append("app_uninstalled")
        try:
            await client.chat_postMessage(channel="general", text="still here?")
        except SlackApiError as exc:
            seen.errors.append(str(exc.response["error"]))

    return app, seen


# --------------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------------


@dataclass
class World:
    fake: FakeSlack
    team: SlackTeam
    general: SlackChannel
    alice: SlackUser
    bob: SlackUser


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as server:
        yield server


@pytest.fixture
def world(fake: FakeSlack) -> World:
    team = fake.add_team("Film Club")
    alice = team.add_user("alice", real_name="Alice Park", tz="Asia/Seoul", locale="ko-KR", is_admin=True)
    bob = team.add_user("bob", tz="Europe/Paris")
    general = team.add_channel("general", members=[alice, bob])
    return World(fake, team, general, alice, bob)


@pytest.fixture
async def client(world: World) -> AsyncIterator[AsyncWebClient]:
    yield web_client(world.fake, world.team)


@dataclass
class Running:
    """A bolt app connected to the fake, and the driver that plays Slack towards it."""

    driver: SlackDriver
    seen: Seen
    mode: str


@pytest.fixture(params=["http", "socket"])
async def running(request: pytest.FixtureRequest, world: World) -> AsyncIterator[Running]:
    app, seen = make_app(world.fake, world.team)
    if request.param == "http":
        async with http_app(world.fake, app) as driver:
            yield Running(driver, seen, "http")
    else:
        async with socket_mode_app(world.fake, app) as socket_driver:
            yield Running(socket_driver, seen, "socket")


# --------------------------------------------------------------------------------------------------
# Web API through the real AsyncWebClient
# --------------------------------------------------------------------------------------------------


async def test_auth_test_names_the_workspace_and_the_bot(world: World, client: AsyncWebClient) -> None:
    resp = await client.auth_test()
    assert resp["team_id"] == world.team.id and resp["team"] == "Film Club"
    assert resp["user_id"] == world.team.bot_user.id and resp["bot_id"] == world.team.bot_id
    assert world.team.id.startswith("T") and world.team.bot_user.id.startswith("U")
    [call] = world.fake.find_calls("auth.test")
    assert call.team_id == world.team.id and call.ok


async def test_tokens_are_checked(world: World) -> None:
    fake = world.fake
    for token, error in [("xoxb-nope", "invalid_auth"), (fake.app_token, "not_allowed_token_type")]:
        with pytest.raises(SlackApiError) as caught:
            await AsyncWebClient(token=token, base_url=fake.api_base).auth_test()
        assert caught.value.response["error"] == error
    with pytest.raises(SlackApiError) as caught:
        await AsyncWebClient(base_url=fake.api_base).auth_test()
    assert caught.value.response["error"] == "not_authed"
    fake.revoke_tokens(world.team)
    with pytest.raises(SlackApiError) as caught:
        await web_client(fake, world.team).auth_test()
    assert caught.value.response["error"] == "token_revoked"


async def test_unknown_method_answers_unknown_method(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        await client.api_call("films.list")
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "unknown_method"
    assert caught.value.response["req_method"] == "films.list"


async def test_post_message_records_blocks_thread_and_metadata(world: World, client: AsyncWebClient) -> None:
    fake, general = world.fake, world.general
    metadata = {"event_type": "party_created", "event_payload": {"party": 7}}
    parent = await client.chat_postMessage(
        channel=general.id, text="Party tonight", blocks=vote_blocks(0), metadata=metadata
    )
    assert parent["channel"] == general.id and parent["message"]["bot_id"] == world.team.bot_id
    reply = await client.chat_postMessage(channel=general.id, text="see you", thread_ts=parent["ts"])
    assert float(reply["ts"]) > float(parent["ts"])
    [top, answer] = fake.channel_messages(general)
    assert top.metadata == metadata and top.action_ids() == ["vote"] and "*votes:* 0" in top.all_text()
    assert answer.thread_ts == parent["ts"] and fake.thread(general, parent["ts"]) == [answer]
    assert fake.channel_messages(general, include_replies=False) == [top]


@pytest.mark.filterwarnings("ignore:The top-level `text` argument is missing:UserWarning")
async def test_post_message_errors_as_documented(world: World, client: AsyncWebClient) -> None:
    team, fake = world.team, world.fake
    secret = team.add_channel("secret", private=True, bot_member=False)
    lobby = team.add_channel("lobby", bot_member=False)
    old = team.add_channel("old", archived=True)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"channel": "C0NOSUCHONE", "text": "hi"}, "channel_not_found"),
        ({"channel": secret.id, "text": "hi"}, "channel_not_found"),
        ({"channel": lobby.id, "text": "hi"}, "not_in_channel"),
        ({"channel": old.id, "text": "hi"}, "is_archived"),
        ({"channel": world.general.id, "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": world.general.id}, "no_text"),
        ({"channel": world.general.id, "text": "hi", "blocks": [{"text": "no type"}]}, "invalid_blocks"),
        ({"channel": world.general.id, "text": "hi", "metadata": {"event_payload": {}}}, "invalid_metadata_format"),
    ]
    for kwargs, error in cases:
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(**kwargs)
        assert caught.value.response["error"] == error, kwargs
    assert fake.messages == []
    team.scopes.add("chat:write.public")
    await client.chat_postMessage(channel=lobby.id, text="public channels are open with chat:write.public")
    assert len(fake.channel_messages(lobby)) == 1


async def test_form_encoded_calls_are_answered_too(world: World) -> None:
    """slack_sdk sends JSON for chat.postMessage; other clients (and some methods) send forms."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{world.fake.api_base}chat.postMessage",
            data={"channel": "#general", "text": "by form", "blocks": '[{"type": "divider"}]'},
            headers={"Authorization": f"Bearer {world.team.bot_token}"},
        ) as resp,
    ):
        body = await resp.json()
    assert resp.status == 200 and body["ok"] and body["channel"] == world.general.id
    [msg] = world.fake.channel_messages(world.general)
    assert msg.blocks == [{"type": "divider"}]


async def test_update_delete_and_permalink(world: World, client: AsyncWebClient) -> None:
    fake, general = world.fake, world.general
    posted = await client.chat_postMessage(channel=general.id, text="votes: 0")
    await client.chat_update(channel=general.id, ts=posted["ts"], text="votes: 1")
    [msg] = fake.channel_messages(general)
    assert msg.text == "votes: 1" and msg.edits[0]["text"] == "votes: 0"
    link = await client.chat_getPermalink(channel=general.id, message_ts=posted["ts"])
    assert link["permalink"].endswith(f"/archives/{general.id}/p{posted['ts'].replace('.', '')}")
    theirs = fake.user_message(general, world.alice, "mine")
    for call in (client.chat_update(channel=general.id, ts=theirs.ts, text="x"), client.chat_delete(channel=general.id, ts=theirs.ts)):
        with pytest.raises(SlackApiError) as caught:
            await call
        assert caught.value.response["error"] in ("cant_update_message", "cant_delete_message")
    await client.chat_delete(channel=general.id, ts=posted["ts"])
    assert msg.deleted and fake.channel_messages(general) == [theirs]
    with pytest.raises(SlackApiError) as caught:
        await client.chat_update(channel=general.id, ts=posted["ts"], text="gone")
    assert caught.value.response["error"] == "message_not_found"


async def test_ephemeral_messages_are_per_user(world: World, client: AsyncWebClient) -> None:
    fake, general = world.fake, world.general
    resp = await client.chat_postEphemeral(channel=general.id, user=world.alice.id, text="psst")
    [eph] = fake.ephemeral_messages(world.alice)
    assert eph.ts == resp["message_ts"] and eph.text == "psst" and eph.channel_id == general.id
    assert fake.ephemeral_messages(world.bob) == [] and fake.channel_messages(general) == []
    outsider = world.team.add_user("carol")
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postEphemeral(channel=general.id, user=outsider.id, text="psst")
    assert caught.value.response["error"] == "user_not_in_channel"


async def test_dms_open_and_refuse_bots_and_deactivated_people(world: World, client: AsyncWebClient) -> None:
    team, fake = world.team, world.fake
    opened = await client.conversations_open(users=world.alice.id)
    dm_id = opened["channel"]["id"]
    assert dm_id.startswith("D") and (await client.conversations_open(users=world.alice.id))["channel"]["id"] == dm_id
    await client.chat_postMessage(channel=dm_id, text="your reminder")
    await client.chat_postMessage(channel=world.alice.id, text="user ids post to the DM too")
    assert [m.text for m in fake.dm_messages(world.alice)] == ["your reminder", "user ids post to the DM too"]
    other_bot = team.add_user("otherbot", is_bot=True)
    gone = team.add_user("gone", deleted=True)
    for user_id, error in [(other_bot.id, "cannot_dm_bot"), (gone.id, "user_disabled"), ("U0NOSUCH", "user_not_found")]:
        with pytest.raises(SlackApiError) as caught:
            await client.conversations_open(users=user_id)
        assert caught.value.response["error"] == error


async def test_history_pages_filters_and_returns_metadata(world: World, client: AsyncWebClient) -> None:
    general = world.general
    posted = []
    for n in range(5):
        meta = {"event_type": "tick", "event_payload": {"n": n}}
        posted.append((await client.chat_postMessage(channel=general.id, text=f"m{n}", metadata=meta))["ts"])
    await client.chat_postMessage(channel=general.id, text="reply", thread_ts=posted[0])
    page = await client.conversations_history(channel=general.id, limit=2, include_all_metadata=True)
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"] and page["has_more"]
    assert page["messages"][0]["metadata"]["event_payload"] == {"n": 4}
    rest = await client.conversations_history(channel=general.id, cursor=page["response_metadata"]["next_cursor"])
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"] and not rest["has_more"]
    assert "metadata" not in rest["messages"][0]
    assert rest["messages"][-1]["reply_count"] == 1
    window = await client.conversations_history(channel=general.id, oldest=posted[1], latest=posted[3])
    assert [m["text"] for m in window["messages"]] == ["m2"]
    thread = await client.conversations_replies(channel=general.id, ts=posted[0])
    assert [m["text"] for m in thread["messages"]] == ["m0", "reply"]
    lobby = world.team.add_channel("lobby", bot_member=False)
    with pytest.raises(SlackApiError) as caught:
        await client.conversations_history(channel=lobby.id)
    assert caught.value.response["error"] == "not_in_channel"


async def test_channel_info_members_users_and_groups(world: World, client: AsyncWebClient) -> None:
    team = world.team
    info = await client.conversations_info(channel=world.general.id, include_num_members=True)
    assert info["channel"]["name"] == "general" and info["channel"]["is_member"]
    assert info["channel"]["num_members"] == 3 and not info["channel"]["is_private"]
    members = await client.conversations_members(channel=world.general.id, limit=2)
    more = await client.conversations_members(channel=world.general.id, cursor=members["response_metadata"]["next_cursor"])
    assert members["members"] + more["members"] == [world.alice.id, world.bob.id, team.bot_user.id]
    user = (await client.users_info(user=world.alice.id, include_locale=True))["user"]
    assert (user["real_name"], user["tz"], user["locale"], user["is_admin"]) == ("Alice Park", "Asia/Seoul", "ko-KR", True)
    assert user["tz_offset"] == 9 * 3600
    assert "locale" not in (await client.users_info(user=world.bob.id))["user"]
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user="U0NOSUCH")
    assert caught.value.response["error"] == "user_not_found"
    crew = team.add_usergroup("crew", name="Film crew", users=[world.alice])
    team.add_usergroup("old-crew", disabled=True)
    groups = (await client.usergroups_list(include_users=True))["usergroups"]
    assert [(g["id"], g["handle"], g["users"]) for g in groups] == [(crew.id, "crew", [world.alice.id])]
    assert crew.id.startswith("S")
