"""Self-tests of tests.fakeslack: the real slack_sdk ``AsyncWebClient`` and a real slack_bolt
``AsyncApp`` (over HTTP and over Socket Mode) against the fake Slack."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import Clock, SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakediscord._util import wait_until
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
    "notify_on_close": True,
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


THANKS_MODAL: dict[str, Any] = {
    "type": "modal",
    "callback_id": "thanks",
    "title": {"type": "plain_text", "text": "Thanks"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Noted, tell us more later"}}],
}


def home_view(greeting: str) -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": greeting}},
            {
                "type": "actions",
                "elements": [
                    {"type": "button", "action_id": "refresh", "text": {"type": "plain_text", "text": "Refresh"}}
                ],
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
        elif text == "private panel":
            await ack(text="votes: 0", blocks=vote_blocks(0))
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
        if text == "more":
            await ack(response_action="update", view=THANKS_MODAL)
            return
        await ack()
        seen.notes.append((text, values["mood_block"]["mood"]["selected_option"]["value"]))

    @app.event("app_home_opened")
    async def home(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.events.append("app_home_opened")
        await client.views_publish(user_id=event["user"], view=home_view("Welcome home"))

    @app.action("refresh")
    async def refresh(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        seen.events.append(f"refresh:{body['container']['type']}:{body['view']['id']}")
        await client.views_publish(user_id=body["user"]["id"], view=home_view("Refreshed"))

    @app.event("member_joined_channel")
    async def joined(event: dict[str, Any], client: AsyncWebClient) -> None:
        seen.events.append(f"member_joined_channel:{event['user']}")
        await client.chat_postMessage(channel=event["channel"], text=f"welcome <@{event['user']}>")

    @app.view_closed("note")
    async def note_closed(ack: AsyncAck) -> None:
        await ack()
        seen.events.append("view_closed")

    @app.event("message")
    async def message(body: dict[str, Any], request: AsyncBoltRequest) -> None:
        retry = request.headers.get("x-slack-retry-num", ["0"])[0]
        seen.events.append(f"message:{body['event']['text']}:{body['event_id']}:{retry}")

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
    for call in (
        client.chat_update(channel=general.id, ts=theirs.ts, text="x"),
        client.chat_delete(channel=general.id, ts=theirs.ts),
    ):
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
    more = await client.conversations_members(
        channel=world.general.id, cursor=members["response_metadata"]["next_cursor"]
    )
    assert members["members"] + more["members"] == [world.alice.id, world.bob.id, team.bot_user.id]
    user = (await client.users_info(user=world.alice.id, include_locale=True))["user"]
    assert (user["real_name"], user["tz"], user["locale"], user["is_admin"]) == (
        "Alice Park",
        "Asia/Seoul",
        "ko-KR",
        True,
    )
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


# --------------------------------------------------------------------------------------------------
# A real bolt AsyncApp, over HTTP (signed requests) and over Socket Mode (envelopes and acks)
# --------------------------------------------------------------------------------------------------


async def test_slash_command_acks_then_posts_a_message(world: World, running: Running) -> None:
    delivery = await running.driver.slash_command(world.general, world.alice, "/film", "cast")
    assert delivery.acked and delivery.payload is None and not delivery.timed_out
    assert running.seen.commands == ["cast"]
    [msg] = await world.fake.wait_for_messages(world.general)
    assert msg.text == "votes: 0" and msg.action_ids() == ["vote"] and msg.user == world.team.bot_user.id
    if running.mode == "socket":
        assert delivery.envelope_id is not None
        [ack] = world.fake.socket_connections[-1].acks
        assert ack == {"envelope_id": delivery.envelope_id}


async def test_ack_text_reaches_only_the_user_and_in_channel_reaches_everyone(world: World, running: Running) -> None:
    fake = world.fake
    whisper = await running.driver.slash_command(world.general, world.alice, "/film", "whisper")
    assert whisper.payload == {"text": "only you can see this"}
    [eph] = fake.ephemeral_messages(world.alice)
    assert eph.text == "only you can see this" and eph.source == "ack"
    assert [p.via_ack for p in whisper.responses] == [True]
    shout = await running.driver.slash_command(world.general, world.alice, "/film", "shout")
    assert shout.payload is not None and shout.payload["response_type"] == "in_channel"
    assert [m.text for m in fake.channel_messages(world.general)] == ["everyone sees this"]


async def test_button_click_replaces_the_message_through_its_response_url(world: World, running: Running) -> None:
    fake = world.fake
    await running.driver.slash_command(world.general, world.alice, "/film", "panel")
    [msg] = await fake.wait_for_messages(world.general)
    click = await running.driver.click(msg, world.bob, "vote")
    assert click.acked and click.request["actions"][0]["value"] == "ballerina"
    assert click.request["container"] == {
        "type": "message",
        "message_ts": msg.ts,
        "channel_id": world.general.id,
        "is_ephemeral": False,
    }
    [post] = await click.wait_for_responses()
    assert post.status == 200 and post.body["replace_original"] is True
    assert msg.text == "votes: 1" and "*votes:* 1" in msg.all_text() and len(msg.edits) == 1
    with pytest.raises(NotAllowed):
        await running.driver.click(msg, world.bob, "no-such-button")


async def test_modal_opens_from_the_trigger_and_validation_errors_keep_it_open(world: World, running: Running) -> None:
    fake = world.fake
    command = await running.driver.slash_command(world.general, world.alice, "/film", "note")
    modal = await fake.wait_for_modal(world.alice)
    assert modal.callback_id == "note" and modal.trigger_id == command.trigger_id and modal.id.startswith("V")
    empty = await running.driver.submit_view(modal, {"note_block": {"note": " "}, "mood_block": {"mood": "calm"}})
    assert empty.payload == {"response_action": "errors", "errors": {"note_block": "Write something first"}}
    assert not modal.closed and running.seen.notes == []
    done = await running.driver.submit_view(
        modal, {"note_block": {"note": "Jeon Jong-seo!"}, "mood_block": {"mood": "thrilled"}}
    )
    assert done.acked and done.payload is None and modal.closed
    assert running.seen.notes == [("Jeon Jong-seo!", "thrilled")]
    with pytest.raises(NotAllowed):
        await running.driver.submit_view(modal, {})


async def test_events_reach_their_listeners(world: World, running: Running) -> None:
    fake, driver = world.fake, running.driver
    opened = await driver.app_home_opened(world.team, world.alice)
    assert opened.acked
    home = await fake.wait_for_home(world.alice)
    assert "Welcome home" in home.all_text()
    carol = world.team.add_user("carol")
    await driver.member_joined_channel(world.general, carol)
    assert carol.id in world.general.members
    [welcome] = await fake.wait_for_messages(world.general)
    assert welcome.text == f"welcome <@{carol.id}>"
    await driver.app_uninstalled(world.team)
    await wait_until(lambda: running.seen.errors, 5.0, "the uninstalled app's post to fail")
    assert running.seen.errors == ["token_revoked"]
    assert running.seen.events == ["app_home_opened", f"member_joined_channel:{carol.id}", "app_uninstalled"]


async def test_slow_ack_is_measured_and_a_missed_deadline_is_a_timeout(world: World, running: Running) -> None:
    slow = await running.driver.slash_command(world.general, world.alice, "/film", "slow")
    assert slow.acked and slow.elapsed >= 0.2
    world.fake.ack_deadline = 0.05
    late = await running.driver.slash_command(world.general, world.alice, "/film", "slow")
    assert late.timed_out and late.status is None and not late.acked


# --------------------------------------------------------------------------------------------------
# Request signing (HTTP mode)
# --------------------------------------------------------------------------------------------------


def test_signature_is_slacks_v0_hmac() -> None:
    """Cross-checked against slack_sdk's own verifier, and a known vector computed by hand."""
    body, ts = "token=x&command=%2Ffilm", "1531420618"
    signature = slack_signature("8f742231b10e8888abcd99yyyzzz85a5", ts, body)
    assert SignatureVerifier("8f742231b10e8888abcd99yyyzzz85a5", clock=_FrozenClock(1531420618)).is_valid(
        body, ts, signature
    )
    assert signature.startswith("v0=") and len(signature) == 3 + 64


class _FrozenClock(Clock):
    def __init__(self, at: float) -> None:
        self.at = at

    def now(self) -> float:
        return self.at


@pytest.mark.parametrize(("secret", "skew"), [("not-the-secret", 0.0), (None, -301.0)], ids=["forged", "stale"])
async def test_bad_or_stale_signature_gets_401_and_runs_no_listener(
    world: World, secret: str | None, skew: float
) -> None:
    app, seen = make_app(world.fake, world.team)
    async with http_app(world.fake, app) as good:
        bad = HttpDriver(world.fake, good.url, signing_secret=secret, clock_skew=skew)
        refused = await bad.slash_command(world.general, world.alice, "/film", "cast")
        assert refused.status == 401 and not refused.acked and refused.payload is None
        accepted = await good.slash_command(world.general, world.alice, "/film", "cast")
        assert accepted.status == 200
    assert seen.commands == ["cast"]


async def test_requests_are_encoded_as_slack_posts_them(world: World) -> None:
    """Slash commands as a form, interactions as payload=<json>, events as JSON; all signed."""
    received: list[tuple[str, dict[str, str]]] = []

    async def capture(request: web.Request) -> web.Response:
        received.append((await request.text(), dict(request.headers)))
        return web.Response(status=200)

    server = web.Application()
    server.router.add_post("/slack/events", capture)
    runner = web.AppRunner(server, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        driver = HttpDriver(world.fake, f"http://127.0.0.1:{runner.addresses[0][1]}/slack/events")
        await driver.slash_command(world.general, world.alice, "/film", "cast list")
        await driver.event(world.team, {"type": "app_mention", "user": world.alice.id, "text": "hi"})
    finally:
        await runner.cleanup()
    (form, form_headers), (event, event_headers) = received
    fields = dict(urllib.parse.parse_qsl(form))
    assert fields["command"] == "/film" and fields["text"] == "cast list" and fields["team_id"] == world.team.id
    assert fields["response_url"].startswith(world.fake.base_url) and fields["trigger_id"] in world.fake.triggers
    assert form_headers["Content-Type"] == "application/x-www-form-urlencoded"
    for body, headers in received:
        ts = headers["X-Slack-Request-Timestamp"]
        assert headers["X-Slack-Signature"] == slack_signature(world.fake.signing_secret, ts, body)
    assert json.loads(event)["type"] == "event_callback" and event_headers["Content-Type"] == "application/json"


# --------------------------------------------------------------------------------------------------
# Socket Mode specifics
# --------------------------------------------------------------------------------------------------


async def test_socket_mode_connects_to_the_url_the_fake_hands_out(world: World) -> None:
    fake = world.fake
    app, _ = make_app(fake, world.team)
    async with socket_mode_app(fake, app) as driver:
        [opened] = fake.find_calls("apps.connections.open")
        assert opened.ok and opened.team_id is None
        assert opened.response is not None and opened.response["url"].startswith(f"ws://127.0.0.1:{fake.port}/socket")
        assert driver.handler is not None and await driver.handler.client.is_connected()
        await fake.disconnect_socket()
        await fake.wait_for_socket(min_count=2)
        assert len(fake.find_calls("apps.connections.open")) == 2
        delivery = await driver.slash_command(world.general, world.alice, "/film", "whisper")
        assert delivery.payload == {"text": "only you can see this"}
        assert fake.socket_connections[-1].acks == [{"envelope_id": delivery.envelope_id, "payload": delivery.payload}]


async def test_socket_urls_need_the_app_token_and_a_fresh_ticket(world: World, client: AsyncWebClient) -> None:
    fake = world.fake
    with pytest.raises(SlackApiError) as caught:
        await client.apps_connections_open(app_token=world.team.bot_token)
    assert caught.value.response["error"] == "not_allowed_token_type"
    url = (await client.apps_connections_open(app_token=fake.app_token))["url"]
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            hello = await ws.receive_json()
            assert hello["type"] == "hello" and hello["connection_info"]["app_id"] == fake.app_id
        with pytest.raises(aiohttp.WSServerHandshakeError):
            await session.ws_connect(url)


# --------------------------------------------------------------------------------------------------
# Rate limits, injected errors, latency
# --------------------------------------------------------------------------------------------------


async def test_a_429_storm_surfaces_as_slack_api_error_with_retry_after(world: World, client: AsyncWebClient) -> None:
    fake = world.fake
    fake.inject_rate_limit("chat.postMessage", times=2, retry_after=7)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel=world.general.id, text="hi")
        assert caught.value.response.status_code == 429
        assert caught.value.response["error"] == "ratelimited"
        assert caught.value.response.headers["Retry-After"] == "7"
    await client.chat_postMessage(channel=world.general.id, text="third time lucky")
    assert fake.rate_limited == {"chat.postMessage": 2} and fake.rate_limited_count == 2
    assert [m.text for m in fake.channel_messages(world.general)] == ["third time lucky"]


async def test_slack_sdk_retry_handler_honours_retry_after(world: World) -> None:
    fake = world.fake
    client = web_client(fake, world.team, retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)])
    fake.inject_rate_limit("users.info", times=1, retry_after=1)
    started = time.monotonic()
    resp = await client.users_info(user=world.alice.id)
    waited = time.monotonic() - started
    assert resp["user"]["id"] == world.alice.id
    assert waited >= 1.0  # the handler slept int(Retry-After) + jitter before the retry
    assert [c.status for c in fake.find_calls("users.info")] == [429, 200]


async def test_channel_rate_allows_a_burst_then_one_message_per_second(world: World, client: AsyncWebClient) -> None:
    fake = world.fake
    fake.set_channel_message_rate(1.0, burst=2)
    other = world.team.add_channel("other")
    await client.chat_postMessage(channel=world.general.id, text="1")
    await client.chat_postMessage(channel=world.general.id, text="2")
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=world.general.id, text="3")
    assert caught.value.response.status_code == 429 and caught.value.response.headers["Retry-After"] == "1"
    await client.chat_postMessage(channel=other.id, text="another channel has its own budget")
    assert fake.rate_limited["chat.postMessage"] == 1
    assert len(fake.channel_messages(world.general)) == 2


async def test_tier_limits_are_per_workspace_and_method(world: World, client: AsyncWebClient) -> None:
    fake = world.fake
    other_team = fake.add_team("Other Club")
    fake.set_method_limit("users.info", 2)
    for _ in range(2):
        await client.users_info(user=world.alice.id)
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user=world.alice.id)
    assert caught.value.response.status_code == 429
    assert 59 <= int(caught.value.response.headers["Retry-After"]) <= 60
    await client.conversations_info(channel=world.general.id)  # another method, another budget
    await web_client(fake, other_team).users_info(user=other_team.bot_user.id)  # another workspace too
    assert fake.rate_limited == {"users.info": 1}
    assert [c.status for c in fake.find_calls("users.info", team=world.team)] == [200, 200, 429]
    fake.set_method_limit("conversations.info", 1, team=other_team)
    other_client = web_client(fake, other_team)
    await other_client.conversations_info(channel=other_team.add_channel("lobby").id)
    with pytest.raises(SlackApiError):
        await other_client.conversations_info(channel=other_team.channel_named("lobby").id)
    await client.conversations_info(channel=world.general.id)  # the limit is the other team's only


async def test_documented_tiers_apply_when_turned_on(world: World, client: AsyncWebClient) -> None:
    fake = world.fake
    fake.set_tier_limits()
    for _ in range(20):  # usergroups.list is Tier 2: 20 a minute
        await client.usergroups_list()
    with pytest.raises(SlackApiError) as caught:
        await client.usergroups_list()
    assert caught.value.response.status_code == 429
    await client.chat_postMessage(channel=world.general.id, text="postMessage has its own per-channel rule")
    fake.set_tier_limits(False)
    await client.usergroups_list()
    assert fake.rate_limited == {"usergroups.list": 1}


async def test_latency_is_injectable_per_method_at_run_time(world: World, client: AsyncWebClient) -> None:
    fake = world.fake
    fake.set_latency(0.3, "users.info")

    async def timed(call: Any) -> float:
        started = time.monotonic()
        await call
        return time.monotonic() - started

    slow = await timed(client.users_info(user=world.alice.id))
    fast = await timed(client.auth_test())
    assert slow >= 0.3 and fast < 0.3
    fake.set_latency(0.0, "users.info")
    assert await timed(client.users_info(user=world.alice.id)) < 0.3


async def test_injected_errors_hit_the_next_calls_only(world: World, client: AsyncWebClient) -> None:
    injected = world.fake.fail_calls("chat.postMessage", "restricted_action", channel=world.general)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=world.general.id, text="no")
    assert caught.value.response["error"] == "restricted_action" and injected.hits == 1
    await client.chat_postMessage(channel=world.general.id, text="yes")
    stuck = world.fake.fail_calls("users.info", "fatal_error", times=None)
    for _ in range(2):
        with pytest.raises(SlackApiError) as caught:
            await client.users_info(user=world.alice.id)
        assert caught.value.response["error"] == "fatal_error"
    world.fake.clear_failures()
    await client.users_info(user=world.alice.id)
    assert stuck.hits == 2


# --------------------------------------------------------------------------------------------------
# Views, triggers, response_urls
# --------------------------------------------------------------------------------------------------


async def test_trigger_ids_expire_after_three_seconds_and_work_once(world: World, client: AsyncWebClient) -> None:
    fake = world.fake
    assert fake.trigger_lifetime == 3.0
    trigger = fake.issue_trigger(world.team, world.alice)
    opened = await client.views_open(trigger_id=trigger, view=NOTE_MODAL)
    assert opened["view"]["callback_id"] == "note"
    stale = fake.issue_trigger(world.team, world.alice)
    fake.expire_trigger(stale)
    for value, error in [
        (trigger, "exchanged_trigger_id"),
        (stale, "expired_trigger_id"),
        ("1.2.3", "invalid_trigger_id"),
    ]:
        with pytest.raises(SlackApiError) as caught:
            await client.views_open(trigger_id=value, view=NOTE_MODAL)
        assert caught.value.response["error"] == error
    assert len(fake.modals(world.alice)) == 1


async def test_views_are_validated_updated_and_published(world: World, client: AsyncWebClient) -> None:
    fake = world.fake
    long_title = {**NOTE_MODAL, "title": {"type": "plain_text", "text": "A title far too long for Slack"}}
    with pytest.raises(SlackApiError) as caught:
        await client.views_open(trigger_id=fake.issue_trigger(world.team, world.alice), view=long_title)
    assert caught.value.response["error"] == "invalid_arguments"
    assert "title" in caught.value.response["response_metadata"]["messages"][0]
    view = (await client.views_open(trigger_id=fake.issue_trigger(world.team, world.alice), view=NOTE_MODAL))["view"]
    with pytest.raises(SlackApiError) as caught:
        await client.views_update(view_id=view["id"], hash="stale", view=NOTE_MODAL)
    assert caught.value.response["error"] == "hash_conflict"
    thanks = {"type": "modal", "title": {"type": "plain_text", "text": "Thanks"}, "blocks": []}
    await client.views_update(view_id=view["id"], hash=view["hash"], view=thanks)
    [modal] = fake.modals(world.alice)
    assert modal.view["title"]["text"] == "Thanks" and modal.updates == [NOTE_MODAL]
    home = {"type": "home", "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Next party: Friday"}}]}
    await client.views_publish(user_id=world.bob.id, view=home)
    published = fake.home_view(world.bob)
    assert published is not None and "Next party: Friday" in published.all_text()
    assert fake.home_view(world.alice) is None


async def test_response_urls_post_replace_delete_and_run_out(world: World) -> None:
    fake = world.fake
    msg = fake.user_message(world.general, world.alice, "original")
    target = fake.issue_response_url(world.team, world.general, world.alice, message=msg)
    hook = AsyncWebhookClient(target.url)
    assert (await hook.send(text="just for you")).status_code == 200
    assert (await hook.send(text="for all", response_type="in_channel")).status_code == 200
    assert (await hook.send(text="edited", replace_original=True)).status_code == 200
    assert [e.text for e in fake.ephemeral_messages(world.alice)] == ["just for you"]
    assert [m.text for m in fake.channel_messages(world.general)] == ["edited", "for all"]
    assert (await hook.send(text="", delete_original=True)).status_code == 200
    assert msg.deleted
    assert (await hook.send(text="a fifth use")).status_code == 200
    spent = await hook.send(text="a sixth use")
    assert spent.status_code == 404 and "used_url" in spent.body
    assert [p.status for p in target.posts] == [200, 200, 200, 200, 200, 404]


async def test_user_messages_arrive_as_events_and_retries_keep_the_event_id(world: World, running: Running) -> None:
    first = await running.driver.user_posts(world.general, world.alice, "is it out yet?")
    again = await running.driver.redeliver(first)
    assert first.acked and again.acked and again.retry_attempt == 1
    event_id = first.request["event_id"]
    assert again.request["event_id"] == event_id
    await wait_until(lambda: len(running.seen.events) == 2, 5.0, "both deliveries")
    assert sorted(running.seen.events) == [
        f"message:is it out yet?:{event_id}:0",
        f"message:is it out yet?:{event_id}:1",
    ]
    [msg] = world.fake.channel_messages(world.general)
    assert msg.user == world.alice.id and msg.source == "user"


async def test_closing_a_modal_notifies_the_app_only_when_asked(world: World, running: Running) -> None:
    fake = world.fake
    await running.driver.slash_command(world.general, world.alice, "/film", "note")
    modal = await fake.wait_for_modal(world.alice)
    closed = await running.driver.close_view(modal)
    assert closed is not None and closed.acked and modal.closed
    await wait_until(lambda: running.seen.events, 5.0, "view_closed")
    assert running.seen.events == ["view_closed"]
    quiet = fake.new_view(world.team, world.alice.id, {**NOTE_MODAL, "notify_on_close": False})
    assert await running.driver.close_view(quiet) is None


async def test_the_request_url_passes_slacks_challenge(world: World) -> None:
    app, _ = make_app(world.fake, world.team)
    async with http_app(world.fake, app) as driver:
        assert await driver.url_verification()
        forged = HttpDriver(world.fake, driver.url, signing_secret="wrong")
        assert not await forged.url_verification()


async def test_block_kit_limits_are_enforced_with_slacks_messages(world: World, client: AsyncWebClient) -> None:
    long_button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "x" * 76}}
    cases: list[tuple[list[dict[str, Any]], str]] = [
        ([{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}], "/blocks/0/text/text"),
        ([{"type": "header", "text": {"type": "mrkdwn", "text": "Ballerina"}}], "/blocks/0/text/type"),
        ([{"type": "actions", "elements": [long_button]}], "/blocks/0/elements/0/text/text"),
        ([{"type": "divider", "block_id": "d"}, {"type": "divider", "block_id": "d"}], "/blocks/1/block_id"),
        ([{"type": "section"}], "/blocks/0"),
        ([{"type": "carousel"}], "/blocks/0/type"),
        ([{"type": "divider"}] * 51, "/blocks"),
    ]
    for blocks, pointer in cases:
        with pytest.raises(SlackApiError) as caught:
            await client.chat_postMessage(channel=world.general.id, text="t", blocks=blocks)
        assert caught.value.response["error"] == "invalid_blocks"
        assert any(
            m.endswith(f"[json-pointer:{pointer}]") for m in caught.value.response["response_metadata"]["messages"]
        )
    await client.chat_postMessage(channel=world.general.id, text="fine", blocks=vote_blocks(3))
    assert len(world.fake.channel_messages(world.general)) == 1


async def test_buttons_on_ephemeral_messages_replace_them_for_that_user(world: World, running: Running) -> None:
    fake = world.fake
    await running.driver.slash_command(world.general, world.alice, "/film", "private panel")
    [panel] = fake.ephemeral_messages(world.alice)
    assert panel.action_ids() == ["vote"] and fake.channel_messages(world.general) == []
    click = await running.driver.click(panel, world.alice, "vote")
    assert click.request["container"]["is_ephemeral"] is True and "message" not in click.request
    await click.wait_for_responses()
    assert panel.text == "votes: 1" and [e.text for e in fake.ephemeral_messages(world.alice)] == ["votes: 1"]


async def test_a_submission_can_update_the_modal_instead_of_closing_it(world: World, running: Running) -> None:
    await running.driver.slash_command(world.general, world.alice, "/film", "note")
    modal = await world.fake.wait_for_modal(world.alice)
    more = await running.driver.submit_view(modal, {"note_block": {"note": "more"}, "mood_block": {"mood": "calm"}})
    assert more.payload is not None and more.payload["response_action"] == "update"
    assert not modal.closed and modal.callback_id == "thanks" and "tell us more" in modal.all_text()
    assert modal.updates[0]["callback_id"] == "note"


async def test_one_app_serves_two_workspaces_each_with_its_own_token(world: World) -> None:
    """A multi-workspace app (bolt's ``authorize``) answers each team with that team's token; a team
    that revokes its tokens stops working on its own."""
    fake = world.fake
    other = fake.add_team("Busan Fans")
    dana = other.add_user("dana")
    lounge = other.add_channel("lounge", members=[dana])
    tokens = {world.team.id: world.team.bot_token, other.id: other.bot_token}

    async def authorize(enterprise_id: str | None, team_id: str, client: AsyncWebClient) -> AuthorizeResult:
        auth = await client.auth_test(token=tokens[team_id])
        return AuthorizeResult.from_auth_test_response(auth_test_response=auth, bot_token=tokens[team_id])

    app = AsyncApp(
        client=AsyncWebClient(base_url=fake.api_base), signing_secret=fake.signing_secret, authorize=authorize
    )

    @app.command("/film")
    async def film(ack: AsyncAck, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postMessage(channel=command["channel_id"], text=f"hello {command['team_domain']}")

    async with http_app(fake, app) as driver:
        await driver.slash_command(world.general, world.alice, "/film")
        await driver.slash_command(lounge, dana, "/film")
        [here] = await fake.wait_for_messages(world.general)
        [there] = await fake.wait_for_messages(lounge)
        assert (here.text, here.user) == ("hello film-club", world.team.bot_user.id)
        assert (there.text, there.user) == ("hello busan-fans", other.bot_user.id)
        await driver.tokens_revoked(other)
        await driver.slash_command(lounge, dana, "/film")
        await driver.slash_command(world.general, world.alice, "/film")
        await fake.wait_for_messages(world.general, 2)
    assert [c.status for c in fake.find_calls("chat.postMessage", team=other)] == [200]
    assert [c.error for c in fake.find_calls("auth.test", team=other)][-1] == "token_revoked"


async def test_buttons_on_the_home_tab_carry_the_view(world: World, running: Running) -> None:
    fake = world.fake
    await running.driver.app_home_opened(world.team, world.alice)
    home = await fake.wait_for_home(world.alice)
    click = await running.driver.click(home, world.alice, "refresh")
    assert click.acked and click.response_url is None and click.request["container"]["view_id"] == home.id
    await wait_until(lambda: "Refreshed" in home.all_text(), 5.0, "the refreshed Home tab")
    assert running.seen.events == ["app_home_opened", f"refresh:view:{home.id}"]
    assert home.updates[0]["blocks"][0]["text"]["text"] == "Welcome home"


async def test_gone_messages_and_views_cannot_be_clicked(world: World, client: AsyncWebClient) -> None:
    fake = world.fake
    posted = await client.chat_postMessage(channel=world.general.id, text="panel", blocks=vote_blocks(0))
    await client.chat_delete(channel=world.general.id, ts=posted["ts"])
    [msg] = fake.channel_messages(world.general, include_deleted=True)
    modal = fake.new_view(world.team, world.alice.id, NOTE_MODAL)
    modal.closed = True
    app, seen = make_app(fake, world.team)
    async with http_app(fake, app) as driver:
        with pytest.raises(NotAllowed):
            await driver.click(msg, world.alice, "vote")
        with pytest.raises(NotAllowed):
            await driver.submit_view(modal, {})
    assert seen.votes == 0 and fake.deliveries == []
