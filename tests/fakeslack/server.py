"""FakeSlack: Slack's Web API, response_urls and Socket Mode on 127.0.0.1, for the real slack_sdk/slack_bolt."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.fakediscord._util import wait_until
from tests.loopback import LoopbackServer

from .blocks import block_problems
from .models import (
    JSON,
    ApiCall,
    Delivery,
    EphemeralMessage,
    IdAllocator,
    ResponseUrl,
    ResponseUrlPost,
    SlackChannel,
    SlackMessage,
    SlackTeam,
    SlackUser,
    SlackView,
    TriggerId,
    TsClock,
    dumps,
)
from .ratelimit import (
    METHOD_TIERS,
    TIER_LIMITS,
    RateLimitStorm,
    SlidingWindow,
    TokenBucket,
    retry_after_header,
)

DEFAULT_SCOPES = frozenset(
    {
        "chat:write",
        "commands",
        "channels:read",
        "channels:history",
        "groups:read",
        "groups:history",
        "im:write",
        "im:history",
        "users:read",
        "usergroups:read",
    }
)
"""The bot scopes a fresh workspace grants; add ``chat:write.public`` to post in public channels
the bot has not joined (Slack's rule)."""

MAX_BLOCKS_MESSAGE = 50
MAX_BLOCKS_VIEW = 100
MAX_VIEW_TITLE = 24
RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = 30 * 60.0

_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})


class SlackError(Exception):
    """A Web API error: answered as HTTP 200 ``{"ok": false, "error": code, ...extra}``."""

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


class _RateLimited(Exception):
    def __init__(self, retry_after: str) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


@dataclass
class InjectedError:
    """The next ``remaining`` calls of ``method`` (in ``channel``, if given) answer ``error``."""

    method: str
    error: str
    remaining: int | None
    channel_id: str | None = None
    hits: int = 0

    def matches(self, method: str, args: JSON) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        return self.method == method and self.channel_id in (None, args.get("channel"))


@dataclass
class SocketConnection:
    """One Socket Mode websocket the app opened with a ticket from apps.connections.open."""

    ws: web.WebSocketResponse
    ticket: str
    opened_at: float
    acks: list[JSON] = field(default_factory=list)
    closed: bool = False


@dataclass
class _Call:
    """What a method handler gets: the caller's workspace (None for the app token) and the arguments."""

    team: SlackTeam | None
    args: JSON


Handler = Callable[[_Call], Awaitable[JSON]]


def _flag(value: Any) -> bool:
    """Slack's booleans arrive as true/false (JSON), "true"/"1"/"0" (forms and query strings)."""
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return bool(value)


def _json_arg(value: Any, error: str) -> Any:
    """Form-encoded calls carry blocks, metadata and views as JSON strings."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise SlackError(error) from None
    return value


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: Any) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(str(cursor)).decode().removeprefix("offset:"))
    except ValueError:
        raise SlackError("invalid_cursor") from None


def _page(items: list[Any], args: JSON, default_limit: int, max_limit: int) -> tuple[list[Any], JSON]:
    start = _offset(args.get("cursor"))
    limit = min(int(args.get("limit") or default_limit), max_limit)
    chunk = items[start : start + limit]
    more = start + limit < len(items)
    return chunk, {"next_cursor": _cursor(start + limit) if more else ""}


class FakeSlack(LoopbackServer):
    """A Slack-compatible fake: Web API, response_urls and Socket Mode on one loopback port.

    See the package docstring (``tests.fakeslack``) for the full API.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        signing_secret: str | None = None,
        app_token: str | None = None,
        trigger_lifetime: float = 3.0,
        ack_deadline: float = 3.0,
        max_text_length: int = 40_000,
        channel_message_rate: tuple[float, int] | None = None,
        tier_limits: bool = False,
        tier_window: float = 60.0,
    ) -> None:
        self.host = host
        self.port = port
        self.ids = IdAllocator()
        self._ts = TsClock()
        self.app_id = self.ids.next("A")
        self.signing_secret = signing_secret or secrets.token_hex(16)
        self.app_token = app_token or f"xapp-1-{self.app_id}-{secrets.token_hex(12)}"
        self.verification_token = secrets.token_urlsafe(18)
        self.trigger_lifetime = trigger_lifetime
        self.ack_deadline = ack_deadline
        self.max_text_length = max_text_length
        self.teams: dict[str, SlackTeam] = {}
        # records
        self.calls: list[ApiCall] = []
        self.messages: list[SlackMessage] = []
        self.ephemerals: list[EphemeralMessage] = []
        self.views: dict[str, SlackView] = {}
        self.response_urls: dict[str, ResponseUrl] = {}
        self.triggers: dict[str, TriggerId] = {}
        self.deliveries: list[Delivery] = []
        # rate limits, failures, latency
        self.rate_limited: Counter[str] = Counter()
        """429s served, by method ("response_url" never rate limits)."""
        self.tier_window = tier_window
        self._tier_limits: dict[str, int] = {}
        self._team_limits: dict[tuple[str, str], int] = {}
        self._windows: dict[tuple[str, str], SlidingWindow] = {}
        self.set_tier_limits(tier_limits)
        self._channel_rate = channel_message_rate
        self._channel_buckets: dict[tuple[str, str], TokenBucket] = {}
        self._storms: list[RateLimitStorm] = []
        self._errors: list[InjectedError] = []
        self.latency_default = 0.0
        self.latency_overrides: dict[str, float] = {}
        # socket mode
        self._tickets: set[str] = set()
        self.socket_connections: list[SocketConnection] = []
        self._pending_acks: dict[str, asyncio.Future[JSON | None]] = {}
        self._methods: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "users.info": self._users_info,
            "usergroups.list": self._usergroups_list,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
        }

    # ==============================================================================================
    # lifecycle
    # ==============================================================================================

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{token}", self._handle_response_url)
        app.router.add_get("/socket", self._handle_socket)
        return app

    async def close_connections(self) -> None:
        for conn in self.socket_connections:
            if not conn.ws.closed:
                await conn.ws.close()

    @property
    def api_base(self) -> str:
        """``AsyncWebClient(base_url=fake.api_base)``."""
        return f"{self.base_url}/api/"

    # ==============================================================================================
    # world building
    # ==============================================================================================

    def add_team(
        self,
        name: str,
        *,
        domain: str | None = None,
        bot_name: str = "ballerina",
        scopes: frozenset[str] | set[str] = DEFAULT_SCOPES,
    ) -> SlackTeam:
        """A workspace with the app installed: its own bot user (``U…``, ``bot_id`` ``B…``) and ``xoxb-`` token."""
        team_id = self.ids.next("T")
        bot = SlackUser(
            id=self.ids.next("U"),
            team_id=team_id,
            name=bot_name,
            real_name=bot_name.title(),
            is_bot=True,
            bot_id=self.ids.next("B"),
        )
        team = SlackTeam(
            id=team_id,
            name=name,
            domain=domain or re.sub(r"[^a-z0-9-]", "-", name.lower()),
            ids=self.ids,
            bot_user=bot,
            bot_token=f"xoxb-{team_id}-{secrets.token_hex(12)}",
            scopes=set(scopes),
        )
        team.users[bot.id] = bot
        self.teams[team.id] = team
        return team

    def team_of(self, obj: SlackTeam | SlackUser | SlackChannel | str) -> SlackTeam:
        """The workspace of a team, user or channel (or its id)."""
        if isinstance(obj, SlackTeam):
            return obj
        team_id = obj if isinstance(obj, str) else obj.team_id
        return self.teams[team_id]

    def revoke_tokens(self, team: SlackTeam) -> None:
        """The app is uninstalled / its tokens revoked: every later call with them gets ``token_revoked``."""
        team.installed = False

    def user_message(
        self, channel: SlackChannel, user: SlackUser, text: str, *, thread_ts: str | None = None
    ) -> SlackMessage:
        """A person posts (for history and threads; no event is sent: use a driver's ``event``)."""
        msg = SlackMessage(
            team_id=channel.team_id,
            channel_id=channel.id,
            ts=self._ts.next(),
            text=text,
            blocks=[],
            user=user.id,
            bot_id=None,
            thread_ts=thread_ts,
            source="user",
        )
        self.messages.append(msg)
        return msg

    # ==============================================================================================
    # queries
    # ==============================================================================================

    def find_calls(self, method: str | None = None, *, team: SlackTeam | None = None) -> list[ApiCall]:
        return [
            c for c in self.calls if (method is None or c.method == method) and (team is None or c.team_id == team.id)
        ]

    async def wait_for_call(self, method: str, count: int = 1, timeout: float = 5.0) -> list[ApiCall]:  # noqa: ASYNC109
        """Wait until ``count`` calls of ``method`` have been answered."""
        return await wait_until(
            lambda: found if len(found := [c for c in self.find_calls(method) if c.status]) >= count else None,
            timeout,
            f"{count} {method} call(s)",
        )

    def channel_messages(
        self, channel: SlackChannel, *, include_replies: bool = True, include_deleted: bool = False
    ) -> list[SlackMessage]:
        """Messages in a channel or DM, oldest first (thread replies too unless ``include_replies=False``)."""
        return [
            m
            for m in self.messages
            if m.channel_id == channel.id
            and (include_deleted or not m.deleted)
            and (include_replies or not m.is_reply or m.reply_broadcast)
        ]

    def thread(self, channel: SlackChannel, ts: str) -> list[SlackMessage]:
        """The replies to the message ``ts``, oldest first."""
        return [m for m in self.channel_messages(channel) if m.is_reply and m.thread_ts == ts]

    def dm_messages(self, user: SlackUser) -> list[SlackMessage]:
        dm = self.team_of(user).dms.get(user.id)
        return [] if dm is None else self.channel_messages(dm)

    def ephemeral_messages(
        self, user: SlackUser, *, channel: SlackChannel | None = None, include_deleted: bool = False
    ) -> list[EphemeralMessage]:
        return [
            e
            for e in self.ephemerals
            if e.user_id == user.id
            and (channel is None or e.channel_id == channel.id)
            and (include_deleted or not e.deleted)
        ]

    def modals(self, user: SlackUser | None = None) -> list[SlackView]:
        """Modals opened (views.open), oldest first."""
        return [v for v in self.views.values() if v.type == "modal" and (user is None or v.user_id == user.id)]

    def home_view(self, user: SlackUser) -> SlackView | None:
        """The Home tab last published for ``user``."""
        homes = [v for v in self.views.values() if v.type == "home" and v.user_id == user.id]
        return homes[-1] if homes else None

    async def wait_for_messages(
        self,
        channel: SlackChannel,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        include_replies: bool = True,
    ) -> list[SlackMessage]:
        return await wait_until(
            lambda: (
                found
                if len(found := self.channel_messages(channel, include_replies=include_replies)) >= count
                else None
            ),
            timeout,
            f"{count} message(s) in {channel.id}",
        )

    async def wait_for_dm_messages(
        self,
        user: SlackUser,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[SlackMessage]:
        return await wait_until(
            lambda: found if len(found := self.dm_messages(user)) >= count else None,
            timeout,
            f"{count} DM(s) to {user.id}",
        )

    async def wait_for_ephemeral(
        self,
        user: SlackUser,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[EphemeralMessage]:
        return await wait_until(
            lambda: found if len(found := self.ephemeral_messages(user)) >= count else None,
            timeout,
            f"{count} ephemeral message(s) to {user.id}",
        )

    async def wait_for_modal(self, user: SlackUser, count: int = 1, timeout: float = 5.0) -> SlackView:  # noqa: ASYNC109
        """The ``count``-th modal opened for ``user``."""
        found = await wait_until(
            lambda: modals if len(modals := self.modals(user)) >= count else None,
            timeout,
            f"{count} modal(s) for {user.id}",
        )
        return found[count - 1]

    async def wait_for_home(self, user: SlackUser, timeout: float = 5.0) -> SlackView:  # noqa: ASYNC109
        return await wait_until(lambda: self.home_view(user), timeout, f"a Home tab for {user.id}")

    # ==============================================================================================
    # rate limits, failures, latency
    # ==============================================================================================

    @property
    def rate_limited_count(self) -> int:
        return sum(self.rate_limited.values())

    def set_tier_limits(self, enabled: bool = True, *, window: float | None = None) -> None:
        """Turn Slack's per-method tier limits (per workspace, per ``window`` s, 60 by default) on or off."""
        self._tier_limits = {m: TIER_LIMITS[t] for m, t in METHOD_TIERS.items()} if enabled else {}
        if window is not None:
            self.tier_window = window
        self._windows.clear()

    def set_method_limit(self, method: str, limit: int | None, *, team: SlackTeam | None = None) -> None:
        """At most ``limit`` calls of ``method`` per ``tier_window`` (for ``team`` only, or every
        workspace); ``None`` removes the limit."""
        if team is not None:
            if limit is None:
                self._team_limits.pop((team.id, method), None)
            else:
                self._team_limits[(team.id, method)] = limit
        elif limit is None:
            self._tier_limits.pop(method, None)
        else:
            self._tier_limits[method] = limit
        self._windows = {k: w for k, w in self._windows.items() if k[1] != method}

    def set_channel_message_rate(self, rate: float | None = 1.0, burst: int = 3) -> None:
        """chat.postMessage per channel: ``rate`` per second with bursts of ``burst`` (None: unlimited)."""
        self._channel_rate = None if rate is None else (rate, burst)
        self._channel_buckets.clear()

    def inject_rate_limit(
        self, method: str, *, times: int = 1, retry_after: int = 1, team: SlackTeam | None = None
    ) -> RateLimitStorm:
        """The next ``times`` calls of ``method`` get 429 with ``Retry-After: retry_after``."""
        storm = RateLimitStorm(method, times, retry_after, team.id if team is not None else None)
        self._storms.append(storm)
        return storm

    def fail_calls(
        self, method: str, error: str, *, times: int | None = 1, channel: SlackChannel | None = None
    ) -> InjectedError:
        """The next ``times`` calls of ``method`` (in ``channel``) answer ``{"ok": false, "error": error}``."""
        injected = InjectedError(method, error, times, channel.id if channel is not None else None)
        self._errors.append(injected)
        return injected

    def clear_failures(self) -> None:
        """End every injected error and 429 storm."""
        self._errors.clear()
        self._storms.clear()

    def set_latency(self, seconds: float, method: str | None = None) -> None:
        """Delay answers by ``seconds``: every method's default, or one method's override."""
        if method is None:
            self.latency_default = seconds
        else:
            self.latency_overrides[method] = seconds

    def _check_rate_limits(self, method: str, team: SlackTeam | None) -> None:
        team_id = team.id if team is not None else None
        storm = next((s for s in self._storms if s.matches(method, team_id)), None)
        if storm is not None:
            storm.remaining -= 1
            storm.served += 1
            raise _RateLimited(str(storm.retry_after))
        if team is None:
            return
        limit = self._team_limits.get((team.id, method), self._tier_limits.get(method))
        if limit is not None:
            window = self._windows.setdefault((team.id, method), SlidingWindow(limit, self.tier_window))
            wait = window.try_acquire(time.monotonic())
            if wait is not None:
                raise _RateLimited(retry_after_header(wait))

    def _check_channel_rate(self, channel: SlackChannel) -> None:
        if self._channel_rate is None:
            return
        bucket = self._channel_buckets.setdefault((channel.team_id, channel.id), TokenBucket(*self._channel_rate))
        wait = bucket.try_acquire(time.monotonic())
        if wait is not None:
            raise _RateLimited(retry_after_header(wait))

    # ==============================================================================================
    # the Web API
    # ==============================================================================================

    async def _read_args(self, request: web.Request) -> JSON:
        args: JSON = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    args.update(body)
            else:
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
        return args

    def _authenticate(self, method: str, request: web.Request, record: ApiCall) -> SlackTeam | None:
        """The workspace of the call's token (None for the app token), refusing tokens Slack refuses;
        ``record.team_id`` is set even when the workspace revoked the token."""
        args = record.args
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else args.pop("token", "")
        args.pop("token", None)
        if not token:
            raise SlackError("not_authed")
        if token == self.app_token:
            if method not in _APP_TOKEN_METHODS:
                raise SlackError("not_allowed_token_type")
            return None
        team = next((t for t in self.teams.values() if t.bot_token == token), None)
        if team is None:
            raise SlackError("invalid_auth")
        record.team_id = team.id
        if not team.installed:
            raise SlackError("token_revoked")
        if method in _APP_TOKEN_METHODS:
            raise SlackError("not_allowed_token_type")
        return team

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args = await self._read_args(request)
        record = ApiCall(method=method, args=args, team_id=None, http_method=request.method, time=time.monotonic())
        self.calls.append(record)
        delay = self.latency_overrides.get(method, self.latency_default)
        if delay > 0:
            await asyncio.sleep(delay)
        headers: dict[str, str] = {}
        try:
            handler = self._methods.get(method)
            if handler is None:
                raise SlackError("unknown_method", req_method=method)
            team = self._authenticate(method, request, record)
            if team is not None:  # Slack names the token's scopes on every answer
                headers["X-OAuth-Scopes"] = ",".join(sorted(team.scopes))
            self._check_rate_limits(method, team)
            injected = next((e for e in self._errors if e.matches(method, args)), None)
            if injected is not None:
                injected.hits += 1
                if injected.remaining is not None:
                    injected.remaining -= 1
                raise SlackError(injected.error)
            body = {"ok": True, **await handler(_Call(team, args))}
            status = 200
        except SlackError as exc:
            status, body = 200, {"ok": False, "error": exc.code, **exc.extra}
        except _RateLimited as exc:
            self.rate_limited[method] += 1
            status, body = 429, {"ok": False, "error": "ratelimited"}
            headers["Retry-After"] = exc.retry_after
        record.status, record.response = status, body
        return web.Response(status=status, text=dumps(body), content_type="application/json", headers=headers)

    # -- helpers shared by methods -----------------------------------------------------------------

    @staticmethod
    def _team(call: _Call) -> SlackTeam:
        assert call.team is not None  # only apps.connections.open runs without a workspace
        return call.team

    def _channel(self, call: _Call, *, for_posting: bool = False) -> SlackChannel:
        """Resolve a channel argument (``C…``/``D…`` id, ``#name``, or a user id for the bot's DM),
        refusing what Slack refuses."""
        team = self._team(call)
        raw = str(call.args.get("channel") or "")
        channel = team.conversation(raw)
        if channel is None and raw in team.users and for_posting:
            user = team.users[raw]
            channel = None if user.is_bot else team.dm(user)
        if channel is None and raw:
            name = raw.removeprefix("#")
            channel = next((c for c in team.channels.values() if c.name == name), None)
        if channel is None or (channel.is_private and not channel.bot_is_member):
            raise SlackError("channel_not_found")
        return channel

    def _postable(self, call: _Call, channel: SlackChannel) -> None:
        if channel.is_im:
            return
        if not channel.bot_is_member and "chat:write.public" not in self._team(call).scopes:
            raise SlackError("not_in_channel")
        if channel.is_archived:
            raise SlackError("is_archived")

    def _content(self, args: JSON) -> tuple[str, list[JSON]]:
        """``text`` and ``blocks`` of a message, validated like chat.postMessage does."""
        text = str(args.get("text") or "")
        blocks = _json_arg(args.get("blocks"), "invalid_blocks_format") if args.get("blocks") else []
        if not isinstance(blocks, list):
            raise SlackError("invalid_blocks_format")
        problems = block_problems(blocks)
        if len(blocks) > MAX_BLOCKS_MESSAGE:
            problems.append(f"[ERROR] no more than {MAX_BLOCKS_MESSAGE} items allowed [json-pointer:/blocks]")
        if problems:
            raise SlackError("invalid_blocks", response_metadata={"messages": problems})
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        if len(text) > self.max_text_length:
            raise SlackError("msg_too_long")
        return text, blocks

    def _message(self, channel: SlackChannel, ts: Any) -> SlackMessage:
        """The live message ``ts`` of ``channel``, else Slack's ``message_not_found``."""
        found = next(
            (m for m in self.messages if m.channel_id == channel.id and m.ts == str(ts or "") and not m.deleted),
            None,
        )
        if found is None:
            raise SlackError("message_not_found")
        return found

    def _bot_message(
        self, team: SlackTeam, channel: SlackChannel, text: str, blocks: list[JSON], **kw: Any
    ) -> SlackMessage:
        msg = SlackMessage(
            team_id=team.id,
            channel_id=channel.id,
            ts=self._ts.next(),
            text=text,
            blocks=blocks,
            user=team.bot_user.id,
            bot_id=team.bot_id,
            **kw,
        )
        self.messages.append(msg)
        return msg

    def _edit(self, msg: SlackMessage | EphemeralMessage, text: str, blocks: list[JSON], request: JSON) -> None:
        """Replace a message's content, keeping the earlier version in ``edits``."""
        msg.edits.append({"ts": self._ts.next(), "text": msg.text, "blocks": msg.blocks, "request": request})
        msg.text, msg.blocks = text, blocks

    def message_json(self, msg: SlackMessage, *, include_metadata: bool = True) -> JSON:
        """A message as the Web API and interaction payloads show it (thread parents with ``reply_count``)."""
        data = msg.to_json(include_metadata=include_metadata)
        replies = [m for m in self.messages if m.is_reply and m.thread_ts == msg.ts and m.channel_id == msg.channel_id]
        if replies and not msg.is_reply:
            data.update(thread_ts=msg.ts, reply_count=len([r for r in replies if not r.deleted]))
        if msg.bot_id is not None:
            data["app_id"] = self.app_id
        return data

    # -- methods ------------------------------------------------------------------------------------

    async def _auth_test(self, call: _Call) -> JSON:
        team = self._team(call)
        return {
            "url": f"https://{team.domain}.slack.com/",
            "team": team.name,
            "user": team.bot_user.name,
            "team_id": team.id,
            "user_id": team.bot_user.id,
            "bot_id": team.bot_id,
            "is_enterprise_install": False,
        }

    async def _apps_connections_open(self, call: _Call) -> JSON:
        ticket = secrets.token_hex(16)
        self._tickets.add(ticket)
        return {"url": f"ws://{self.host}:{self.port}/socket?ticket={ticket}&app_id={self.app_id}"}

    async def _chat_post_message(self, call: _Call) -> JSON:
        team, args = self._team(call), call.args
        channel = self._channel(call, for_posting=True)
        self._postable(call, channel)
        text, blocks = self._content(args)
        metadata = _json_arg(args.get("metadata"), "invalid_metadata_format") if args.get("metadata") else None
        if metadata is not None and not (
            isinstance(metadata, dict)
            and isinstance(metadata.get("event_type"), str)
            and isinstance(metadata.get("event_payload"), dict)
        ):
            raise SlackError("invalid_metadata_format")
        thread_ts = str(args["thread_ts"]) if args.get("thread_ts") else None
        if thread_ts is not None:
            parent = next((m for m in self.messages if m.channel_id == channel.id and m.ts == thread_ts), None)
            if parent is not None and parent.thread_ts is not None:
                thread_ts = parent.thread_ts  # replying to a reply lands in the same thread, as in Slack
        self._check_channel_rate(channel)
        msg = self._bot_message(
            team,
            channel,
            text,
            blocks,
            thread_ts=thread_ts,
            metadata=metadata,
            request=dict(args),
            reply_broadcast=_flag(args.get("reply_broadcast")),
        )
        return {"channel": channel.id, "ts": msg.ts, "message": self.message_json(msg)}

    async def _chat_post_ephemeral(self, call: _Call) -> JSON:
        team, args = self._team(call), call.args
        channel = self._channel(call)
        self._postable(call, channel)
        user = team.users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        if user.id not in channel.members:
            raise SlackError("user_not_in_channel")
        text, blocks = self._content(args)
        ts = self._ts.next()
        self.ephemerals.append(
            EphemeralMessage(
                team_id=team.id,
                channel_id=channel.id,
                user_id=user.id,
                ts=ts,
                text=text,
                blocks=blocks,
                thread_ts=str(args["thread_ts"]) if args.get("thread_ts") else None,
                request=dict(args),
            )
        )
        return {"message_ts": ts}

    async def _chat_update(self, call: _Call) -> JSON:
        team = self._team(call)
        channel = self._channel(call)
        msg = self._message(channel, call.args.get("ts"))
        if msg.user != team.bot_user.id:
            raise SlackError("cant_update_message")
        if channel.is_archived:
            raise SlackError("is_archived")
        text, blocks = self._content(call.args)
        self._edit(msg, text, blocks, dict(call.args))
        return {"channel": channel.id, "ts": msg.ts, "text": text, "message": self.message_json(msg)}

    async def _chat_delete(self, call: _Call) -> JSON:
        team = self._team(call)
        channel = self._channel(call)
        msg = self._message(channel, call.args.get("ts"))
        if msg.user != team.bot_user.id:
            raise SlackError("cant_delete_message")
        msg.deleted = True
        return {"channel": channel.id, "ts": msg.ts}

    async def _chat_get_permalink(self, call: _Call) -> JSON:
        team = self._team(call)
        channel = self._channel(call)
        msg = self._message(channel, call.args.get("message_ts"))
        return {
            "channel": channel.id,
            "permalink": f"https://{team.domain}.slack.com/archives/{channel.id}/p{msg.ts.replace('.', '')}",
        }

    async def _conversations_open(self, call: _Call) -> JSON:
        team, args = self._team(call), call.args
        if args.get("channel"):
            dm = team.conversation(str(args["channel"]))
            if dm is None or not dm.is_im:
                raise SlackError("channel_not_found")
        else:
            user_ids = [u for u in str(args.get("users") or "").split(",") if u]
            if not user_ids:
                raise SlackError("users_list_not_supplied")
            if len(user_ids) > 1:
                raise SlackError("fake_unsupported", detail="the fake opens 1:1 DMs only")
            user = team.users.get(user_ids[0])
            if user is None:
                raise SlackError("user_not_found")
            if user.is_bot:
                raise SlackError("cannot_dm_bot")
            if user.deleted:
                raise SlackError("user_disabled")
            dm = team.dm(user)
        if _flag(args.get("return_im")):
            return {"channel": dm.to_json()}
        return {"channel": {"id": dm.id}}

    def _readable(self, call: _Call) -> SlackChannel:
        channel = self._channel(call)
        if not channel.is_im and not channel.bot_is_member:
            raise SlackError("not_in_channel")
        return channel

    async def _conversations_history(self, call: _Call) -> JSON:
        args = call.args
        channel = self._readable(call)
        oldest = float(args.get("oldest") or 0)
        latest = float(args["latest"]) if args.get("latest") else float("inf")
        inclusive = _flag(args.get("inclusive"))

        def in_range(ts: float) -> bool:
            return (oldest <= ts <= latest) if inclusive else (oldest < ts < latest)

        top_level = [m for m in self.channel_messages(channel, include_replies=False) if in_range(float(m.ts))]
        newest_first = sorted(top_level, key=lambda m: float(m.ts), reverse=True)
        chunk, meta = _page(newest_first, args, 100, 999)
        with_metadata = _flag(args.get("include_all_metadata"))
        return {
            "messages": [self.message_json(m, include_metadata=with_metadata) for m in chunk],
            "has_more": bool(meta["next_cursor"]),
            "pin_count": 0,
            "response_metadata": meta,
        }

    async def _conversations_replies(self, call: _Call) -> JSON:
        channel = self._readable(call)
        ts = str(call.args.get("ts") or "")
        parent = next((m for m in self.channel_messages(channel) if m.ts == ts), None)
        if parent is None:
            raise SlackError("thread_not_found")
        root = parent.thread_ts if parent.is_reply else parent.ts
        thread = [m for m in self.channel_messages(channel) if m.ts == root or m.thread_ts == root]
        chunk, meta = _page(thread, call.args, 1000, 1000)
        with_metadata = _flag(call.args.get("include_all_metadata"))
        return {
            "messages": [self.message_json(m, include_metadata=with_metadata) for m in chunk],
            "has_more": bool(meta["next_cursor"]),
            "response_metadata": meta,
        }

    async def _conversations_info(self, call: _Call) -> JSON:
        channel = self._channel(call)
        return {"channel": channel.to_json(include_num_members=_flag(call.args.get("include_num_members")))}

    async def _conversations_members(self, call: _Call) -> JSON:
        team = self._team(call)
        channel = self._channel(call)
        members = list(channel.members)
        if channel.bot_is_member:
            members.append(team.bot_user.id)
        chunk, meta = _page(members, call.args, 100, 1000)
        return {"members": chunk, "response_metadata": meta}

    async def _users_info(self, call: _Call) -> JSON:
        team = self._team(call)
        user = team.users.get(str(call.args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.to_json(include_locale=_flag(call.args.get("include_locale")))}

    async def _usergroups_list(self, call: _Call) -> JSON:
        team, args = self._team(call), call.args
        groups = [g for g in team.usergroups.values() if _flag(args.get("include_disabled")) or not g.disabled]
        return {"usergroups": [g.to_json(include_users=_flag(args.get("include_users"))) for g in groups]}

    # -- views --------------------------------------------------------------------------------------

    def _view_arg(self, call: _Call, expected_type: str | None) -> JSON:
        """The ``view`` argument, refused with Slack's ``invalid_arguments`` messages when malformed."""
        view = _json_arg(call.args.get("view"), "invalid_arguments")
        problems: list[str] = []
        if not isinstance(view, dict):
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing field: view"]})
        view_type = view.get("type")
        if expected_type is not None and view_type != expected_type:
            problems.append(f"[ERROR] must be '{expected_type}' [json-pointer:/view/type]")
        blocks = view.get("blocks")
        if not isinstance(blocks, list):
            problems.append("[ERROR] missing required field: blocks [json-pointer:/view/blocks]")
            blocks = []
        problems.extend(block_problems(blocks, pointer="/view/blocks"))
        if len(blocks) > MAX_BLOCKS_VIEW:
            problems.append(f"[ERROR] no more than {MAX_BLOCKS_VIEW} items allowed [json-pointer:/view/blocks]")
        if view_type == "modal":
            title = view.get("title")
            if not isinstance(title, dict) or not title.get("text"):
                problems.append("[ERROR] missing required field: title [json-pointer:/view/title]")
            elif len(str(title["text"])) > MAX_VIEW_TITLE:
                problems.append(
                    f"[ERROR] must be less than {MAX_VIEW_TITLE + 1} characters [json-pointer:/view/title/text]"
                )
            if any(isinstance(b, dict) and b.get("type") == "input" for b in blocks) and not view.get("submit"):
                problems.append("[ERROR] submit is required when an input block is present [json-pointer:/view/submit]")
        if problems:
            raise SlackError("invalid_arguments", response_metadata={"messages": problems})
        return view

    def _use_trigger(self, call: _Call) -> TriggerId:
        """Spend the call's trigger_id: one use, within ``trigger_lifetime``, in its own workspace."""
        value = str(call.args.get("trigger_id") or "")
        if not value:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] missing field: trigger_id"]})
        trigger = self.triggers.get(value)
        if trigger is None or trigger.team_id != self._team(call).id:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued_at > self.trigger_lifetime:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    def new_view(self, team: SlackTeam, user_id: str, view: JSON, **kw: Any) -> SlackView:
        """Record a view shown to ``user_id`` (views.open, views.publish, a ``push``; or staged by a test)."""
        view_id = self.ids.next("V")
        record = SlackView(
            id=view_id,
            team_id=team.id,
            user_id=user_id,
            view=view,
            hash=secrets.token_hex(8),
            root_view_id=view_id,
            **kw,
        )
        self.views[view_id] = record
        return record

    def update_view(self, record: SlackView, view: JSON) -> None:
        """Replace a view's content (views.update, a view_submission's ``response_action: update``)."""
        record.updates.append(record.view)
        record.view = view
        record.hash = secrets.token_hex(8)

    async def _views_open(self, call: _Call) -> JSON:
        team = self._team(call)
        view = self._view_arg(call, "modal")
        trigger = self._use_trigger(call)
        record = self.new_view(team, trigger.user_id, view, trigger_id=trigger.value)
        return {"view": record.to_json(self.app_id, team.bot_id)}

    async def _views_update(self, call: _Call) -> JSON:
        team, args = self._team(call), call.args
        view = self._view_arg(call, None)
        if args.get("view_id"):
            record = self.views.get(str(args["view_id"]))
        elif args.get("external_id"):
            record = next((v for v in self.views.values() if v.view.get("external_id") == args["external_id"]), None)
        else:
            raise SlackError("invalid_arguments", response_metadata={"messages": ["[ERROR] view_id or external_id"]})
        if record is None or record.team_id != team.id:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != record.hash:
            raise SlackError("hash_conflict")
        self.update_view(record, view)
        return {"view": record.to_json(self.app_id, team.bot_id)}

    async def _views_publish(self, call: _Call) -> JSON:
        team, args = self._team(call), call.args
        view = self._view_arg(call, "home")
        user = team.users.get(str(args.get("user_id") or ""))
        if user is None:
            raise SlackError("user_not_found")
        current = self.home_view(user)
        if args.get("hash") and (current is None or args["hash"] != current.hash):
            raise SlackError("hash_conflict")
        if current is None:
            current = self.new_view(team, user.id, view)
        else:
            self.update_view(current, view)
        return {"view": current.to_json(self.app_id, team.bot_id)}

    # ==============================================================================================
    # triggers and response_urls (issued when Slack sends the app a command or an action)
    # ==============================================================================================

    def issue_trigger(self, team: SlackTeam, user: SlackUser) -> str:
        """A trigger_id valid for ``trigger_lifetime`` seconds and one views.open."""
        value = f"{int(time.time())}.{team.id}.{secrets.token_hex(16)}"
        self.triggers[value] = TriggerId(value, team.id, user.id, time.monotonic())
        return value

    def expire_trigger(self, value: str) -> None:
        self.triggers[value].issued_at = -self.trigger_lifetime - 1.0

    def issue_response_url(
        self,
        team: SlackTeam,
        channel: SlackChannel,
        user: SlackUser,
        *,
        message: SlackMessage | EphemeralMessage | None = None,
    ) -> ResponseUrl:
        token = secrets.token_hex(16)
        response_url = ResponseUrl(
            token=token,
            url=f"{self.base_url}/response/{token}",
            team_id=team.id,
            channel_id=channel.id,
            user_id=user.id,
            issued_at=time.monotonic(),
            message_ts=message.ts if message is not None else None,
            message_is_ephemeral=isinstance(message, EphemeralMessage),
        )
        self.response_urls[token] = response_url
        return response_url

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        target = self.response_urls.get(request.match_info["token"])
        if target is None:
            return web.json_response({"ok": False, "error": "invalid_token"}, status=404)
        try:
            body = await request.json()
        except json.JSONDecodeError:
            body = None
        uses = len([p for p in target.posts if not p.via_ack])
        error: str | None
        if time.monotonic() - target.issued_at > RESPONSE_URL_LIFETIME:
            status, error = 404, "expired_url"
        elif uses >= RESPONSE_URL_USES:
            status, error = 404, "used_url"
        elif not isinstance(body, dict):
            status, error = 400, "invalid_payload"
        else:
            status, error = self.apply_response(target, body)
        target.posts.append(ResponseUrlPost(body if isinstance(body, dict) else {}, status, error, time.monotonic()))
        if error is not None:
            return web.json_response({"ok": False, "error": error}, status=status)
        return web.json_response({"ok": True})

    def apply_response(
        self, target: ResponseUrl, body: JSON, *, source: str = "response_url"
    ) -> tuple[int, str | None]:
        """What Slack does with a response_url body or a slash command's ack body: replace or delete
        the original message, or post in the channel (``response_type: in_channel``) or to the user
        only (the default). Returns (HTTP status, error)."""
        team = self.teams[target.team_id]
        channel = team.conversation(target.channel_id)
        assert channel is not None
        original: SlackMessage | EphemeralMessage | None = None
        if target.message_ts is not None:
            pool: list[Any] = self.ephemerals if target.message_is_ephemeral else self.messages
            original = next((m for m in pool if m.channel_id == channel.id and m.ts == target.message_ts), None)
        if _flag(body.get("delete_original")):
            if original is None:
                return 404, "message_not_found"
            original.deleted = True
            return 200, None
        try:
            text, blocks = self._content(body)
        except SlackError as exc:
            return 400, exc.code
        if _flag(body.get("replace_original")) and original is not None:
            self._edit(original, text, blocks, body)
            return 200, None
        thread_ts = str(body["thread_ts"]) if body.get("thread_ts") else None
        if body.get("response_type") == "in_channel":
            self._bot_message(team, channel, text, blocks, thread_ts=thread_ts, source=source, request=body)
        else:
            self.ephemerals.append(
                EphemeralMessage(
                    team_id=team.id,
                    channel_id=channel.id,
                    user_id=target.user_id,
                    ts=self._ts.next(),
                    text=text,
                    blocks=blocks,
                    thread_ts=thread_ts,
                    source=source,
                    request=body,
                )
            )
        return 200, None

    # ==============================================================================================
    # Socket Mode
    # ==============================================================================================

    @property
    def socket(self) -> SocketConnection | None:
        """The connection envelopes go to: the newest open one."""
        return next((c for c in reversed(self.socket_connections) if not c.closed and not c.ws.closed), None)

    async def wait_for_socket(self, timeout: float = 5.0, *, min_count: int = 1) -> SocketConnection:  # noqa: ASYNC109
        """Wait until the app has opened ``min_count`` Socket Mode connections in all and one is open."""
        return await wait_until(
            lambda: self.socket if len(self.socket_connections) >= min_count else None,
            timeout,
            f"Socket Mode connection #{min_count}",
        )

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.Response(status=401, text="invalid ticket")
        self._tickets.discard(ticket)  # single use, like Slack's
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = SocketConnection(ws=ws, ticket=ticket, opened_at=time.monotonic())
        self.socket_connections.append(conn)
        await ws.send_str(
            dumps(
                {
                    "type": "hello",
                    "num_connections": len([c for c in self.socket_connections if not c.closed]),
                    "debug_info": {"host": "fakeslack", "approximate_connection_time": 18060},
                    "connection_info": {"app_id": self.app_id},
                }
            )
        )
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                ack = json.loads(message.data)
                conn.acks.append(ack)
                future = self._pending_acks.pop(str(ack.get("envelope_id")), None)
                if future is not None and not future.done():
                    future.set_result(ack.get("payload"))
        finally:
            conn.closed = True
        return ws

    async def send_envelope(
        self, kind: str, payload: JSON, *, accepts_response_payload: bool, retry_attempt: int = 0
    ) -> tuple[str, JSON | None, bool]:
        """Send one envelope to the app; returns (envelope_id, ack payload, timed_out)."""
        conn = self.socket
        if conn is None:
            raise RuntimeError("no Socket Mode connection is open")
        envelope_id = str(uuid.uuid4())
        future: asyncio.Future[JSON | None] = asyncio.get_running_loop().create_future()
        self._pending_acks[envelope_id] = future
        envelope: JSON = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else "")
        await conn.ws.send_str(dumps(envelope))
        try:
            return envelope_id, await asyncio.wait_for(future, self.ack_deadline), False
        except TimeoutError:
            self._pending_acks.pop(envelope_id, None)
            return envelope_id, None, True

    async def disconnect_socket(self, reason: str = "refresh_requested") -> None:
        """Ask the app to reconnect, as Slack does every few hours (``{"type": "disconnect"}``)."""
        conn = self.socket
        if conn is None:
            raise RuntimeError("no Socket Mode connection is open")
        await conn.ws.send_str(dumps({"type": "disconnect", "reason": reason, "debug_info": {"host": "fakeslack"}}))
