"""Playing Slack towards the app: slash commands, button clicks, view submissions and events,
over signed HTTP requests (``HttpDriver``) or Socket Mode envelopes (``SocketModeDriver``).

Both drivers build the same payloads and return the same ``Delivery``, so one test can run in
either mode. Slack's own follow-ups are applied to the fake's world after the ack: a slash
command's ack text becomes the user's ephemeral (or in_channel) reply, a view_submission's
``response_action`` keeps, updates or closes the modal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
import urllib.parse
from abc import ABC, abstractmethod
from typing import Any

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from .models import (
    JSON,
    Delivery,
    EphemeralMessage,
    ResponseUrl,
    ResponseUrlPost,
    SlackChannel,
    SlackMessage,
    SlackTeam,
    SlackUser,
    SlackView,
    dumps,
    iter_elements,
)
from .server import FakeSlack


class NotAllowed(Exception):
    """Slack's client would not send this (no such button in the message, no such input in the view...)."""


def slack_signature(secret: str, timestamp: str, body: str) -> str:
    """``X-Slack-Signature``: ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` under the signing secret."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def _user_json(user: SlackUser) -> JSON:
    return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}


_PICKED_KEYS = {
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "users_select": "selected_user",
    "conversations_select": "selected_conversation",
    "channels_select": "selected_channel",
    "datetimepicker": "selected_date_time",
}
"""Where Slack puts a picker's choice in view state and block_actions (text inputs use ``value``)."""


def _element_value(element: JSON, raw: Any) -> JSON:
    """A view state entry for an input element, as Slack fills it in from what the person typed/picked."""
    if isinstance(raw, dict):
        return raw
    kind = element.get("type", "plain_text_input")
    if kind in ("static_select", "radio_buttons"):
        options = element.get("options", [])
        option = next((o for o in options if o.get("value") == raw), None)
        if option is None:
            raise NotAllowed(f"{raw!r} is not an option of {element.get('action_id')}")
        return {"type": kind, "selected_option": option}
    if kind in _PICKED_KEYS:
        return {"type": kind, _PICKED_KEYS[kind]: raw}
    return {"type": kind, "value": raw}


class SlackDriver(ABC):
    """What both transports share: building Slack's payloads and applying Slack's side effects."""

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake

    @abstractmethod
    async def _send(
        self, kind: str, request: JSON, *, accepts_response_payload: bool, retry_attempt: int
    ) -> tuple[int | None, str, JSON | None, str | None, bool]:
        """Deliver one request; returns (status, raw body, normalized payload, envelope id, timed out)."""

    async def _deliver(
        self,
        kind: str,
        request: JSON,
        team: SlackTeam,
        user: SlackUser | None,
        *,
        accepts_response_payload: bool,
        response_url: ResponseUrl | None = None,
        trigger_id: str | None = None,
        retry_attempt: int = 0,
    ) -> Delivery:
        delivery = Delivery(
            kind=kind,
            request=request,
            team_id=team.id,
            user_id=user.id if user is not None else None,
            response_url=response_url,
            trigger_id=trigger_id,
            retry_attempt=retry_attempt,
        )
        self.fake.deliveries.append(delivery)
        started = time.monotonic()
        status, body, payload, envelope_id, timed_out = await self._send(
            kind, request, accepts_response_payload=accepts_response_payload, retry_attempt=retry_attempt
        )
        delivery.elapsed = time.monotonic() - started
        delivery.status, delivery.body, delivery.payload = status, body, payload
        delivery.envelope_id, delivery.timed_out = envelope_id, timed_out
        return delivery

    # -- slash commands -----------------------------------------------------------------------------

    async def slash_command(self, channel: SlackChannel, user: SlackUser, command: str, text: str = "") -> Delivery:
        """``user`` types ``/command text`` in ``channel``. The ack's text/blocks, if any, reach the user
        (ephemeral, or the channel with ``response_type: in_channel``), as Slack does."""
        team = self.fake.team_of(channel)
        response_url = self.fake.issue_response_url(team, channel, user)
        trigger_id = self.fake.issue_trigger(team, user)
        request = {
            "token": self.fake.verification_token,
            "team_id": team.id,
            "team_domain": team.domain,
            "channel_id": channel.id,
            "channel_name": "directmessage" if channel.is_im else channel.name,
            "user_id": user.id,
            "user_name": user.name,
            "command": command if command.startswith("/") else f"/{command}",
            "text": text,
            "api_app_id": self.fake.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url.url,
            "trigger_id": trigger_id,
        }
        delivery = await self._deliver(
            "slash_commands",
            request,
            team,
            user,
            accepts_response_payload=True,
            response_url=response_url,
            trigger_id=trigger_id,
        )
        if delivery.acked and delivery.payload and (delivery.payload.get("text") or delivery.payload.get("blocks")):
            status, error = self.fake.apply_response(response_url, delivery.payload, source="ack")
            response_url.posts.append(ResponseUrlPost(delivery.payload, status, error, time.monotonic(), via_ack=True))
        return delivery

    # -- block actions ------------------------------------------------------------------------------

    async def click(
        self,
        target: SlackMessage | EphemeralMessage | SlackView,
        user: SlackUser,
        action_id: str,
        *,
        value: str | None = None,
        selected: str | None = None,
    ) -> Delivery:
        """``user`` clicks the button (or picks ``selected`` in the select) ``action_id`` of a message,
        an ephemeral message or a view (Home tab, modal). The element must exist, and the message or
        view must still be there, as in Slack's client."""
        if target.closed if isinstance(target, SlackView) else target.deleted:
            raise NotAllowed(f"{target!r} is gone")
        element = next((e for e in iter_elements(target.blocks) if e.get("action_id") == action_id), None)
        if element is None:
            raise NotAllowed(f"no element with action_id {action_id!r} in {target!r}")
        team = self.fake.team_of(target.team_id)
        action: JSON = {
            "action_id": action_id,
            "block_id": element["block_id"],
            "type": element.get("type", "button"),
            "action_ts": f"{time.time():.6f}",
        }
        if action["type"] == "button":
            action["text"] = element.get("text", {})
            button_value = value if value is not None else element.get("value")
            if button_value is not None:
                action["value"] = button_value
        else:
            action.update({k: v for k, v in _element_value(element, selected).items() if k != "type"})
        trigger_id = self.fake.issue_trigger(team, user)
        request: JSON = {
            "type": "block_actions",
            "user": _user_json(user),
            "api_app_id": self.fake.app_id,
            "token": self.fake.verification_token,
            "trigger_id": trigger_id,
            "team": {"id": team.id, "domain": team.domain},
            "enterprise": None,
            "is_enterprise_install": False,
            "actions": [action],
            "state": {"values": {}},
        }
        response_url = None
        if isinstance(target, SlackView):
            request["container"] = {"type": "view", "view_id": target.id}
            request["view"] = target.to_json(self.fake.app_id, team.bot_id)
        else:
            channel = team.conversation(target.channel_id)
            assert channel is not None
            response_url = self.fake.issue_response_url(team, channel, user, message=target)
            ephemeral = isinstance(target, EphemeralMessage)
            request["container"] = {
                "type": "message",
                "message_ts": target.ts,
                "channel_id": channel.id,
                "is_ephemeral": ephemeral,
            }
            request["channel"] = {"id": channel.id, "name": channel.name or "directmessage"}
            if not ephemeral:
                assert isinstance(target, SlackMessage)
                request["message"] = self.fake.message_json(target)
            request["response_url"] = response_url.url
        return await self._deliver(
            "interactive",
            request,
            team,
            user,
            accepts_response_payload=False,
            response_url=response_url,
            trigger_id=trigger_id,
        )

    # -- view submissions ---------------------------------------------------------------------------

    async def submit_view(
        self, view: SlackView, values: dict[str, dict[str, Any]] | None = None, *, user: SlackUser | None = None
    ) -> Delivery:
        """The person presses the modal's submit button with ``values`` (``{block_id: {action_id: text or
        option value or a raw state dict}}``) in its inputs. The ack's ``response_action`` is applied:
        ``errors`` keeps the modal open, ``update`` replaces it, ``push`` opens another, otherwise it closes."""
        if view.closed:
            raise NotAllowed(f"view {view.id} is closed")
        if view.type != "modal" or not view.view.get("submit"):
            raise NotAllowed(f"view {view.id} has no submit button")
        team = self.fake.team_of(view.team_id)
        person = user if user is not None else team.users[view.user_id]
        inputs = {(e["block_id"], e.get("action_id")): e for e in iter_elements(view.blocks)}
        state: JSON = {}
        for block_id, entries in (values or {}).items():
            for action_id, raw in entries.items():
                element = inputs.get((block_id, action_id))
                if element is None:
                    raise NotAllowed(f"no input {block_id}/{action_id} in view {view.id}")
                state.setdefault(block_id, {})[action_id] = _element_value(element, raw)
        trigger_id = self.fake.issue_trigger(team, person)
        request = self._view_payload("view_submission", view, person, state, trigger_id=trigger_id, response_urls=[])
        delivery = await self._deliver(
            "interactive", request, team, person, accepts_response_payload=True, trigger_id=trigger_id
        )
        if delivery.acked:
            self._apply_response_action(view, person, delivery.payload or {})
        return delivery

    async def close_view(self, view: SlackView, *, user: SlackUser | None = None) -> Delivery | None:
        """The person closes the modal; Slack tells the app (``view_closed``) only if it set ``notify_on_close``."""
        view.closed = True
        if not view.view.get("notify_on_close"):
            return None
        team = self.fake.team_of(view.team_id)
        person = user if user is not None else team.users[view.user_id]
        request = self._view_payload("view_closed", view, person, {}, is_cleared=False)
        return await self._deliver("interactive", request, team, person, accepts_response_payload=False)

    def _view_payload(self, kind: str, view: SlackView, user: SlackUser, state: JSON, **extra: Any) -> JSON:
        team = self.fake.team_of(view.team_id)
        return {
            "type": kind,
            "team": {"id": team.id, "domain": team.domain},
            "user": _user_json(user),
            "api_app_id": self.fake.app_id,
            "token": self.fake.verification_token,
            "view": view.to_json(self.fake.app_id, team.bot_id, state),
            "is_enterprise_install": False,
            "enterprise": None,
            **extra,
        }

    def _apply_response_action(self, view: SlackView, user: SlackUser, payload: JSON) -> None:
        action = payload.get("response_action")
        if action == "errors":
            return
        if action == "update" and isinstance(payload.get("view"), dict):
            self.fake.update_view(view, payload["view"])
            return
        if action == "push" and isinstance(payload.get("view"), dict):
            team = self.fake.team_of(view.team_id)
            self.fake.new_view(team, user.id, payload["view"], previous_view_id=view.id)
            return
        view.closed = True

    # -- events -------------------------------------------------------------------------------------

    async def event(self, team: SlackTeam, event: JSON, *, user: SlackUser | None = None) -> Delivery:
        """Any Events API event, wrapped in its ``event_callback`` envelope."""
        now = time.time()
        event = {"event_ts": f"{now:.6f}", **event}
        request: JSON = {
            "token": self.fake.verification_token,
            "team_id": team.id,
            "api_app_id": self.fake.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": self.fake.ids.next("Ev"),
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team.id,
                    "user_id": team.bot_user.id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{self.fake.ids.next('')}",
        }
        return await self._deliver("events_api", request, team, user, accepts_response_payload=False)

    async def redeliver(self, delivery: Delivery) -> Delivery:
        """Slack's retry of an event the app did not ack in time: the same ``event_id``, with
        ``retry_attempt`` one higher (HTTP: ``X-Slack-Retry-Num``/``X-Slack-Retry-Reason: http_timeout``)."""
        if delivery.kind != "events_api":
            raise NotAllowed("Slack retries Events API deliveries only")
        team = self.fake.team_of(delivery.team_id)
        user = team.users.get(delivery.user_id or "")
        return await self._deliver(
            "events_api",
            delivery.request,
            team,
            user,
            accepts_response_payload=False,
            retry_attempt=delivery.retry_attempt + 1,
        )

    async def user_posts(
        self, channel: SlackChannel, user: SlackUser, text: str, *, thread_ts: str | None = None
    ) -> Delivery:
        """A person posts in a channel or the bot's DM: the message is recorded and a ``message`` event sent."""
        msg = self.fake.user_message(channel, user, text, thread_ts=thread_ts)
        event: JSON = {
            "type": "message",
            "channel": channel.id,
            "user": user.id,
            "text": text,
            "ts": msg.ts,
            "team": channel.team_id,
            "channel_type": "im" if channel.is_im else "group" if channel.is_private else "channel",
        }
        if thread_ts is not None:
            event["thread_ts"] = thread_ts
        return await self.event(self.fake.team_of(channel), event, user=user)

    async def app_home_opened(self, team: SlackTeam, user: SlackUser, *, tab: str = "home") -> Delivery:
        event: JSON = {"type": "app_home_opened", "user": user.id, "channel": team.dm(user).id, "tab": tab}
        home = self.fake.home_view(user)
        if tab == "home" and home is not None:
            event["view"] = home.to_json(self.fake.app_id, team.bot_id)
        return await self.event(team, event, user=user)

    async def member_joined_channel(
        self, channel: SlackChannel, user: SlackUser, *, inviter: SlackUser | None = None
    ) -> Delivery:
        """``user`` joins (the bot itself, when ``user`` is the bot user): membership changes first."""
        team = self.fake.team_of(channel)
        if user.id == team.bot_user.id:
            channel.bot_is_member = True
        else:
            channel.add_member(user)
        event: JSON = {
            "type": "member_joined_channel",
            "user": user.id,
            "channel": channel.id,
            "channel_type": "G" if channel.is_private else "C",
            "team": team.id,
        }
        if inviter is not None:
            event["inviter"] = inviter.id
        return await self.event(team, event, user=user)

    async def app_uninstalled(self, team: SlackTeam) -> Delivery:
        """The workspace removes the app: its tokens stop working, then the event arrives."""
        self.fake.revoke_tokens(team)
        return await self.event(team, {"type": "app_uninstalled"})

    async def tokens_revoked(self, team: SlackTeam) -> Delivery:
        self.fake.revoke_tokens(team)
        return await self.event(team, {"type": "tokens_revoked", "tokens": {"oauth": [], "bot": [team.bot_user.id]}})


def _normalized(body: str, content_type: str) -> JSON | None:
    """An HTTP ack body as bolt's Socket Mode handler would send it: JSON object, {"text": …} or None."""
    if not body:
        return None
    if content_type.startswith("application/json"):
        parsed = json.loads(body)
        return parsed if isinstance(parsed, dict) else {"value": parsed}
    return {"text": body}


class HttpDriver(SlackDriver):
    """POSTs signed requests to the app's Request URL, as Slack does (3 s to answer).

    ``signing_secret`` (default: the fake's) and ``clock_skew`` (seconds added to the request
    timestamp) make forged or stale requests, which bolt must refuse with 401.
    """

    def __init__(
        self, fake: FakeSlack, url: str, *, signing_secret: str | None = None, clock_skew: float = 0.0
    ) -> None:
        super().__init__(fake)
        self.url = url
        self.signing_secret = signing_secret if signing_secret is not None else fake.signing_secret
        self.clock_skew = clock_skew

    def encode(self, kind: str, request: JSON) -> tuple[str, str]:
        """(body, content type) exactly as Slack posts each kind."""
        if kind == "slash_commands":
            return urllib.parse.urlencode(request), "application/x-www-form-urlencoded"
        if kind == "interactive":
            return urllib.parse.urlencode({"payload": dumps(request)}), "application/x-www-form-urlencoded"
        return dumps(request), "application/json"

    async def post(self, body: str, content_type: str, *, retry_attempt: int = 0) -> tuple[int | None, str, str]:
        """POST ``body`` signed; (status, body, content type), status None when the app took too long."""
        timestamp = str(int(time.time() + self.clock_skew))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(self.signing_secret, timestamp, body),
            "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        }
        if retry_attempt:
            headers.update({"X-Slack-Retry-Num": str(retry_attempt), "X-Slack-Retry-Reason": "http_timeout"})
        timeout = aiohttp.ClientTimeout(total=self.fake.ack_deadline)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(self.url, data=body.encode(), headers=headers) as resp,
            ):
                return resp.status, await resp.text(), resp.headers.get("Content-Type", "")
        except TimeoutError:
            return None, "", ""

    async def url_verification(self) -> bool:
        """Slack's check of a new Request URL: did the app echo the challenge?"""
        challenge = secrets.token_urlsafe(24)
        request = {"token": self.fake.verification_token, "challenge": challenge, "type": "url_verification"}
        status, body, content_type = await self.post(dumps(request), "application/json")
        answer = _normalized(body, content_type) or {}
        return status == 200 and challenge in (answer.get("challenge"), answer.get("text"))

    async def _send(
        self, kind: str, request: JSON, *, accepts_response_payload: bool, retry_attempt: int
    ) -> tuple[int | None, str, JSON | None, str | None, bool]:
        status, body, content_type = await self.post(*self.encode(kind, request), retry_attempt=retry_attempt)
        payload = _normalized(body, content_type) if status == 200 else None
        return status, body, payload, None, status is None


class SocketModeDriver(SlackDriver):
    """Sends envelopes over the app's open Socket Mode connection and waits (3 s) for its ack."""

    def __init__(self, fake: FakeSlack, handler: AsyncSocketModeHandler | None = None) -> None:
        super().__init__(fake)
        self.handler = handler

    async def _send(
        self, kind: str, request: JSON, *, accepts_response_payload: bool, retry_attempt: int
    ) -> tuple[int | None, str, JSON | None, str | None, bool]:
        envelope_id, payload, timed_out = await self.fake.send_envelope(
            kind, request, accepts_response_payload=accepts_response_payload, retry_attempt=retry_attempt
        )
        if timed_out:
            return None, "", None, envelope_id, True
        return 200, dumps(payload) if payload is not None else "", payload, envelope_id, False
