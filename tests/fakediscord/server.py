"""FakeDiscord: an aiohttp REST API + gateway that the real discord.py client can talk to."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import BodyPartReader, web

from tests.loopback import LoopbackServer

from ._util import JSON, SnowflakeGenerator, iso_now, permission_value, snowflake_of, to_json, wait_until
from .gateway import Gateway, GatewayConnectionInfo
from .models import (
    DM_CHANNEL,
    STAGE_CHANNEL,
    VOICE_CHANNEL,
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    InteractionCallback,
    RejectedRequest,
    RequestRecord,
    new_everyone_role,
)
from .permissions import (
    DEFAULT_BOT_PERMISSIONS,
    Perm,
    base_permissions,
    highest_role_position,
)
from .ratelimit import (
    BucketState,
    GlobalLimiter,
    bucket_hash,
    global_429_headers,
    route_429_headers,
    success_headers,
)
from .validation import (
    ALREADY_ACKNOWLEDGED,
    CANNOT_DM_USER,
    CANNOT_EDIT_OTHERS_MESSAGE,
    INVALID_FORM_BODY,
    MISSING_ACCESS,
    MISSING_PERMISSIONS,
    UNKNOWN_APPLICATION_COMMAND,
    UNKNOWN_CHANNEL,
    UNKNOWN_GUILD,
    UNKNOWN_INTERACTION,
    UNKNOWN_MEMBER,
    UNKNOWN_MESSAGE,
    UNKNOWN_ROLE,
    UNKNOWN_SCHEDULED_EVENT,
    UNKNOWN_USER,
    UNKNOWN_WEBHOOK,
    ApiError,
    FormErrors,
    api_error,
    validate_choices,
    validate_commands,
    validate_message,
)

JSON_CONTENT_TYPE = "application/json"
DM_APP_PERMISSIONS = int(
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.ADD_REACTIONS
    | Perm.USE_EXTERNAL_EMOJIS
    | Perm.MENTION_EVERYONE
)
INTERACTION_TOKEN_LIFETIME = 15 * 60.0
_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


class InteractionNotAllowed(Exception):
    """Discord would not let this user run this command here (permissions, contexts, disabled button...)."""


@dataclass
class RoleChange:
    """A role the bot added to or removed from a member over REST."""

    action: str  # "add" or "remove"
    guild_id: int
    user_id: int
    role_id: int
    reason: str | None = None


@dataclass
class InjectedFailure:
    method: str | None
    pattern: re.Pattern[str]
    status: int
    code: int
    message: str
    remaining: int | None
    retry_after: float = 0.0
    is_global: bool = False
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        return (self.method is None or self.method == method) and bool(self.pattern.search(path))


@dataclass
class _Reply:
    status: int = 200
    body: Any = None


@dataclass
class _Ctx:
    request: web.Request
    params: dict[str, str]
    query: dict[str, str]
    json: Any
    files: list[FakeAttachment]
    record: RequestRecord

    def body(self) -> JSON:
        if not isinstance(self.json, dict):
            raise ApiError(
                400,
                INVALID_FORM_BODY,
                "Invalid Form Body",
                {"_errors": [{"code": "MODEL_TYPE_REQUIRED", "message": "Must be an object."}]},
            )
        return self.json

    def id(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise ApiError(
                400,
                INVALID_FORM_BODY,
                "Invalid Form Body",
                {name: {"_errors": [{"code": "NUMBER_TYPE_COERCE", "message": "Value is not snowflake."}]}},
            ) from None


Handler = Callable[[_Ctx], Awaitable[Any]]


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    auth: bool = True
    interaction: bool = False
    """Interaction callback/webhook routes: no bot token, not subject to the global rate limit."""


class _RateLimited(Exception):
    def __init__(self, retry_after: float, headers: dict[str, str], is_global: bool, message: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.headers = headers
        self.is_global = is_global
        self.message = message


def _compile(template: str) -> re.Pattern[str]:
    pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template))
    return re.compile(f"^{pattern}$")


def _json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    if status == 204 or body is None:
        resp = web.Response(status=204 if status in (200, 204) else status)
    else:
        resp = web.Response(status=status, body=to_json(body).encode())
        resp.headers["Content-Type"] = JSON_CONTENT_TYPE
    if headers:
        resp.headers.update(headers)
    return resp


class FakeDiscord(LoopbackServer):
    """A Discord-compatible fake server (REST API + gateway) on 127.0.0.1.

    See the package docstring (``tests.fakediscord``) for the full API.
    """

    def __init__(
        self,
        *,
        token: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        bot_name: str = "Ballerina Bot",
        heartbeat_interval_ms: int = 41250,
        global_rate_limit: int | None = None,
        channel_message_rate: tuple[int, float] | None = None,
        nonce_window: float = 300.0,
        callback_deadline: float | None = 3.0,
        privileged_intents: bool = True,
        reject_past_events: bool = False,
        latency: float = 0.0,
        route_latency: Mapping[str, float] | None = None,
    ) -> None:
        self._ids = SnowflakeGenerator()
        self.host = host
        self.port = port
        self.application_id = self._ids.next()
        self.bot_user = FakeUser(
            id=self.application_id, username=bot_name.lower().replace(" ", "-"), global_name=bot_name, bot=True
        )
        self.bot_name = bot_name
        self.app_owner = FakeUser(id=self._ids.next(), username="app-owner", global_name="App Owner")
        self.token = token or f"fake.{self.application_id}.{secrets.token_urlsafe(16)}"
        self.application_flags = (1 << 15) | (1 << 19) | (1 << 23)  # members/content/presence limited
        self.users: dict[int, FakeUser] = {self.bot_user.id: self.bot_user, self.app_owner.id: self.app_owner}
        self.guilds: dict[int, FakeGuild] = {}
        self.dm_channels: dict[int, FakeChannel] = {}
        self.messages: dict[int, FakeMessage] = {}
        self.interactions: dict[int, FakeInteraction] = {}
        self._interactions_by_token: dict[str, FakeInteraction] = {}
        self._global_commands: dict[int, JSON] = {}
        self._guild_commands: dict[int, dict[int, JSON]] = {}
        self.command_syncs: list[tuple[int | None, list[JSON]]] = []
        """Every bulk overwrite (PUT) as (guild_id or None, commands sent)."""
        self.requests: list[RequestRecord] = []
        self.events: list[tuple[str, JSON]] = []
        """Every gateway event dispatched to a connected (or resumable) bot session."""
        self.role_changes: list[RoleChange] = []
        self.closed_dms: set[int] = set()
        self.rate_limited_count = 0
        self.nonce_dedup_count = 0
        self.nonce_window = nonce_window
        self.callback_deadline = callback_deadline
        self.recommended_shards = 1
        """What ``GET /gateway/bot`` recommends; an auto-sharded client without a count connects that many."""
        self.reject_past_events = reject_past_events
        self._failures: list[InjectedFailure] = []
        self._global_limiter = GlobalLimiter(global_rate_limit) if global_rate_limit else None
        self._route_limits: dict[tuple[str, str], tuple[int, float]] = {}
        if channel_message_rate is not None:
            self.set_route_limit("POST", "/channels/{channel_id}/messages", *channel_message_rate)
        self._buckets: dict[tuple[str, str], BucketState] = {}
        self._nonces: dict[tuple[int, str], tuple[float, FakeMessage]] = {}
        self.gateway = Gateway(self, heartbeat_interval_ms, privileged_intents)
        self._routes: list[_Route] = []
        self._install_routes()
        self.latency = latency
        """Seconds every REST request takes to reach the fake, unless its route has its own."""
        self._route_latency: dict[str, float] = {}
        for route, seconds in (route_latency or {}).items():
            self.set_route_latency(route, seconds)

    # ==============================================================================================
    # lifecycle
    # ==============================================================================================

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/resume-gateway", self.gateway.handle)
        app.router.add_route("*", "/api/v{version:\\d+}/{tail:.*}", self._handle_rest)
        return app

    async def close_connections(self) -> None:
        await self.gateway.close_all()

    @property
    def api_base(self) -> str:
        """Set ``discord.http.Route.BASE`` to this."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """Set ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(...)`` to this."""
        return f"ws://{self.host}:{self.port}/gateway"

    @property
    def resume_gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/resume-gateway"

    # ==============================================================================================
    # Hub protocol (used by model objects)
    # ==============================================================================================

    def new_id(self) -> int:
        return self._ids.next()

    def register_user(self, user: FakeUser) -> None:
        self.users[user.id] = user

    def dispatch(self, event: str, data: JSON) -> None:
        """Dispatch a gateway event to the connected bot (dropped when no bot session exists)."""
        guild_id = data.get("guild_id")
        if guild_id is not None and int(guild_id) not in self.guilds:
            return  # an object of a guild that is not (yet) part of the world
        if self.gateway.dispatch(event, data) is not None:
            self.events.append((event, data))

    # ==============================================================================================
    # world building
    # ==============================================================================================

    def add_user(self, username: str, *, global_name: str | None = None, bot: bool = False) -> FakeUser:
        user = FakeUser(id=self.new_id(), username=username, global_name=global_name, bot=bot)
        self.register_user(user)
        return user

    def add_guild(
        self,
        name: str,
        *,
        owner: FakeUser | str | None = None,
        bot_permissions: object = DEFAULT_BOT_PERMISSIONS,
        bot_role_position: int = 100,
        locale: str = "en-US",
        features: Sequence[str] = (),
        shard: tuple[int, int] | None = None,
    ) -> FakeGuild:
        """Add a guild the bot is in (owner, @everyone, the bot's managed role and member included).

        Dispatches GUILD_CREATE when a bot is already connected. ``shard=(id, count)``: a guild id
        that Discord routes to that shard.
        """
        guild_id = self.new_id() if shard is None else _on_shard(self.new_id(), *shard)
        guild = FakeGuild(id=guild_id, name=name, hub=self, locale=locale, features=list(features))
        guild.roles[guild.id] = new_everyone_role(guild)
        bot_role = FakeRole(
            id=self.new_id(),
            guild=guild,
            name=self.bot_name,
            permissions=permission_value(bot_permissions),
            position=bot_role_position,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        guild.bot_role_id = bot_role.id
        guild.members[self.bot_user.id] = FakeMember(user=self.bot_user, guild=guild, role_ids=[bot_role.id])
        if owner is None or isinstance(owner, str):
            owner_user = self.add_user(owner or f"{name.lower().replace(' ', '-')}-owner")
        else:
            owner_user = owner
            self.register_user(owner_user)
        guild.owner_id = owner_user.id
        guild.members[owner_user.id] = FakeMember(user=owner_user, guild=guild)
        self.guilds[guild.id] = guild
        joined = guild.create_payload(include_all_members=self.gateway.members_intent())
        # A server joined, not one coming back from an outage: Discord sends no ``unavailable``
        # (discord.py tells ``on_guild_join`` from ``on_guild_available`` by it).
        del joined["unavailable"]
        self.dispatch("GUILD_CREATE", joined)
        return guild

    def remove_guild(self, guild: object) -> None:
        """The bot leaves/is kicked from the guild: GUILD_DELETE."""
        removed = self.guilds.pop(snowflake_of(guild))
        self._guild_commands.pop(removed.id, None)
        if self.gateway.dispatch("GUILD_DELETE", {"id": str(removed.id)}) is not None:
            self.events.append(("GUILD_DELETE", {"id": str(removed.id)}))

    def channel(self, channel_id: object) -> FakeChannel | None:
        cid = snowflake_of(channel_id)
        for guild in self.guilds.values():
            found = guild.channels.get(cid)
            if found is not None:
                return found
        for dm in self.dm_channels.values():
            if dm.id == cid:
                return dm
        return None

    def dm_channel(self, user: object, *, create: bool = False) -> FakeChannel | None:
        uid = snowflake_of(user)
        existing = self.dm_channels.get(uid)
        if existing is None and create:
            recipient = self.users.get(uid)
            if recipient is None:
                raise KeyError(f"unknown user {uid}")
            existing = FakeChannel(id=self.new_id(), type=DM_CHANNEL, name="", recipient=recipient)
            self.dm_channels[uid] = existing
        return existing

    def user_message(self, channel: object, author: object, content: str, **extra: Any) -> FakeMessage:
        """A user posts a message (dispatches MESSAGE_CREATE, content subject to the MESSAGE_CONTENT intent)."""
        ch = self._require_channel(channel)
        user = self._user_of(author)
        msg = FakeMessage(
            id=self.new_id(),
            channel_id=ch.id,
            guild_id=ch.guild_id,
            author=user,
            content=content,
            source="user",
            request=dict(extra),
        )
        self._resolve_mentions(msg, ch, None)
        self._store_message(msg, ch, dispatch=True)
        return msg

    # ==============================================================================================
    # commands registered by the bot
    # ==============================================================================================

    @property
    def global_commands(self) -> list[JSON]:
        return list(self._global_commands.values())

    def guild_commands(self, guild: object) -> list[JSON]:
        return list(self._guild_commands.get(snowflake_of(guild), {}).values())

    def find_command(self, name: str, guild: object | None = None, *, type: int = 1) -> JSON | None:
        """The registered command the Discord client would run: the guild's first, then the global one."""
        if guild is not None:
            for cmd in self._guild_commands.get(snowflake_of(guild), {}).values():
                if cmd["name"] == name and cmd.get("type", 1) == type:
                    return cmd
        for cmd in self._global_commands.values():
            if cmd["name"] == name and cmd.get("type", 1) == type:
                return cmd
        return None

    # ==============================================================================================
    # interactions sent to the bot
    # ==============================================================================================

    async def slash(
        self,
        guild: FakeGuild | None,
        channel: FakeChannel | None,
        user: object,
        *path: str,
        options: Mapping[str, object] | None = None,
        locale: str | None = None,
        check: bool = True,
    ) -> FakeInteraction:
        """Run a registered slash command as ``user``: ``slash(guild, channel, member, "group", "sub", options=...)``.

        ``guild=None`` runs it in the user's DM with the bot. Returns immediately after the
        INTERACTION_CREATE was sent; await ``inter.response()`` for the bot's callback.
        ``check=False`` skips what Discord's client/permission settings would enforce
        (default_member_permissions, contexts, required options, choices, ranges, channel types,
        option channels of other guilds) so tests can check that the bot defends itself.
        """
        return await self._command_interaction(2, guild, channel, user, path, options or {}, None, locale, check)

    async def autocomplete(
        self,
        guild: FakeGuild | None,
        channel: FakeChannel | None,
        user: object,
        path: str | Sequence[str],
        *,
        options: Mapping[str, object] | None = None,
        focused: str,
        timeout: float = 5.0,  # noqa: ASYNC109
        locale: str | None = None,
        check: bool = True,
    ) -> list[JSON]:
        """Send an autocomplete interaction and return the choices the bot answered with (callback type 8)."""
        inter = await self.autocomplete_interaction(
            guild, channel, user, path, options=options, focused=focused, locale=locale, check=check
        )
        callback = await inter.response(timeout)
        if callback.type != 8:
            raise AssertionError(f"expected an autocomplete result (type 8), got callback type {callback.type}")
        return callback.choices

    async def autocomplete_interaction(
        self,
        guild: FakeGuild | None,
        channel: FakeChannel | None,
        user: object,
        path: str | Sequence[str],
        *,
        options: Mapping[str, object] | None = None,
        focused: str,
        locale: str | None = None,
        check: bool = True,
    ) -> FakeInteraction:
        names = (path,) if isinstance(path, str) else tuple(path)
        opts = dict(options or {})
        opts.setdefault(focused, "")
        return await self._command_interaction(4, guild, channel, user, names, opts, focused, locale, check)

    async def click(
        self,
        message: FakeMessage | int,
        custom_id: str,
        user: object,
        *,
        values: Sequence[object] | None = None,
        check: bool = True,
        locale: str | None = None,
    ) -> FakeInteraction:
        """Click a button (or pick select ``values``) on a stored message as ``user``."""
        msg = message if isinstance(message, FakeMessage) else self.messages[message]
        comp = msg.find_component(custom_id)
        if check:
            if comp is None:
                raise InteractionNotAllowed(
                    f"message {msg.id} has no component with custom_id {custom_id!r} (has {msg.custom_ids()})"
                )
            if comp.get("disabled"):
                raise InteractionNotAllowed(f"component {custom_id!r} is disabled")
            if msg.deleted:
                raise InteractionNotAllowed(f"message {msg.id} was deleted")
        ctype = int(comp["type"]) if comp is not None else 2
        channel = self._require_channel(msg.channel_id)
        guild = channel.guild
        data: JSON = {"custom_id": custom_id, "component_type": ctype}
        if ctype in (3, 5, 6, 7, 8):
            data["values"] = [str(snowflake_of(v)) if not isinstance(v, str) else v for v in values or []]
            resolved = self._resolve_select_values(ctype, values or [], guild, channel)
            if resolved:
                data["resolved"] = resolved
        return await self._send_interaction(
            3, guild, channel, user, data, f"click {custom_id!r} on message {msg.id}", msg, locale
        )

    async def submit_modal(
        self,
        interaction: FakeInteraction,
        values: Mapping[str, str],
        *,
        user: object | None = None,
        locale: str | None = None,
    ) -> FakeInteraction:
        """Submit the modal the bot opened (callback type 9) on ``interaction`` with text input ``values``."""
        modal = next((c for c in interaction.callbacks if c.type == 9), None)
        if modal is None:
            raise InteractionNotAllowed(f"the bot did not open a modal for {interaction.description}")
        unused = set(values)

        def fill(components: Sequence[JSON]) -> list[JSON]:
            out: list[JSON] = []
            for comp in components:
                ctype = comp.get("type")
                if ctype == 1:
                    out.append({"type": 1, "components": fill(comp.get("components") or [])})
                elif ctype == 18:
                    inner = comp.get("component")
                    filled = fill([inner]) if isinstance(inner, dict) else []
                    if filled:
                        out.append({"type": 18, "component": filled[0]})
                elif ctype == 4:
                    cid = str(comp.get("custom_id"))
                    if cid not in values and comp.get("required", True):
                        raise InteractionNotAllowed(f"required text input {cid!r} has no value")
                    value = values.get(cid, "")
                    unused.discard(cid)
                    out.append({"type": 4, "custom_id": cid, "value": value})
            return out

        components = fill(modal.components)
        if unused:
            raise InteractionNotAllowed(f"the modal has no text inputs {sorted(unused)}")
        data: JSON = {"custom_id": modal.data.get("custom_id"), "components": components}
        who = user if user is not None else interaction.user
        return await self._send_interaction(
            5,
            interaction.guild,
            interaction.channel,
            who,
            data,
            f"modal {data['custom_id']!r} submit",
            interaction.message,
            locale,
        )

    # ==============================================================================================
    # assertions helpers
    # ==============================================================================================

    def channel_messages(
        self,
        channel: object,
        *,
        include_interactions: bool = False,
        include_ephemeral: bool = False,
        include_deleted: bool = False,
    ) -> list[FakeMessage]:
        """Messages in a channel, oldest first.

        By default only those the bot POSTed to /channels/{id}/messages; ``include_interactions``
        adds interaction responses and followups (ephemeral ones only with ``include_ephemeral``).
        """
        cid = snowflake_of(channel)
        return [
            m
            for m in self.messages.values()
            if m.channel_id == cid
            and (include_deleted or not m.deleted)
            and (include_interactions or m.source == "channel")
            and (include_ephemeral or not m.ephemeral)
        ]

    async def wait_for_messages(
        self,
        channel: object,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        include_interactions: bool = False,
    ) -> list[FakeMessage]:
        return await wait_until(
            lambda: (
                msgs
                if len(msgs := self.channel_messages(channel, include_interactions=include_interactions)) >= count
                else None
            ),
            timeout,
            f"{count} message(s) in channel {snowflake_of(channel)}",
        )

    def dm_messages(self, user: object) -> list[FakeMessage]:
        """Messages the bot sent to a user's DM channel, oldest first."""
        dm = self.dm_channels.get(snowflake_of(user))
        return [] if dm is None else self.channel_messages(dm.id)

    async def wait_for_dm_messages(self, user: object, count: int = 1, timeout: float = 5.0) -> list[FakeMessage]:  # noqa: ASYNC109
        return await wait_until(
            lambda: msgs if len(msgs := self.dm_messages(user)) >= count else None,
            timeout,
            f"{count} DM(s) to user {snowflake_of(user)}",
        )

    def find_requests(self, method: str | None = None, path: str = "") -> list[RequestRecord]:
        """Logged REST requests whose method matches and whose path matches the regex ``path``."""
        rx = re.compile(path)
        return [r for r in self.requests if (method is None or r.method == method) and rx.search(r.path)]

    async def wait_for_request(
        self,
        method: str | None,
        path: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[RequestRecord]:
        return await wait_until(
            lambda: found if len(found := [r for r in self.find_requests(method, path) if r.status]) >= count else None,
            timeout,
            f"{count} {method or '*'} request(s) matching {path!r}",
        )

    def scheduled_events(self, guild: object) -> list[JSON]:
        return list(self.guilds[snowflake_of(guild)].scheduled_events.values())

    @property
    def last_interaction(self) -> FakeInteraction | None:
        return next(reversed(self.interactions.values()), None)

    # ==============================================================================================
    # gateway hooks
    # ==============================================================================================

    @property
    def identify_count(self) -> int:
        return self.gateway.identify_count

    @property
    def resume_count(self) -> int:
        return self.gateway.resume_count

    @property
    def gateway_connections(self) -> list[GatewayConnectionInfo]:
        return self.gateway.connections

    @property
    def bot_connected(self) -> bool:
        return self.gateway.connected

    @property
    def last_identify(self) -> JSON | None:
        return self.gateway.identify_payloads[-1] if self.gateway.identify_payloads else None

    async def wait_for_identify(self, timeout: float = 10.0, *, min_count: int = 1) -> None:  # noqa: ASYNC109
        """Wait until the bot has IDENTIFIED (``min_count`` times in total, counting every shard) and
        every shard got its READY + all GUILD_CREATEs."""

        def done() -> bool:
            sessions = self.gateway.shards.values()
            return (
                self.gateway.identify_count >= min_count
                and bool(sessions)
                and all(session.delivered_seq >= session.initial_seq for session in sessions)
            )

        await wait_until(done, timeout, f"the bot to identify (#{min_count})")

    async def wait_for_resume(self, timeout: float = 10.0, *, min_count: int = 1) -> None:  # noqa: ASYNC109
        await wait_until(lambda: self.gateway.resume_count >= min_count, timeout, f"the bot to resume (#{min_count})")

    async def wait_for_disconnect(self, timeout: float = 10.0) -> None:  # noqa: ASYNC109
        await wait_until(lambda: not self.gateway.connected, timeout, "the bot to disconnect")

    async def drop_gateway(self, *, resume: bool = True, reconnect_opcode: bool = False, code: int = 4000) -> None:
        """Drop the bot's gateway connection.

        ``resume=True``: close with ``code`` (default 4000), or send op 7 RECONNECT when
        ``reconnect_opcode``; the session stays resumable and events dispatched meanwhile are replayed
        on RESUME. ``resume=False``: send op 9 INVALID_SESSION so the bot identifies afresh.
        """
        await self.gateway.drop(resume=resume, reconnect_opcode=reconnect_opcode, code=code)

    async def flush_gateway(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every dispatched event has been written to the bot's socket."""
        session = self.gateway.current
        if session is None or session.conn is None:
            return
        target = session.seq
        await wait_until(
            lambda: session.conn is None or session.delivered_seq >= target, timeout, "the gateway to flush"
        )

    # ==============================================================================================
    # error and rate-limit injection
    # ==============================================================================================

    def fail_requests(
        self,
        method: str | None,
        path: str,
        *,
        status: int,
        code: int = 0,
        message: str | None = None,
        times: int | None = None,
    ) -> InjectedFailure:
        """Answer matching requests (``path`` is a regex on the path below /api/v10) with an error."""
        failure = InjectedFailure(
            method=method.upper() if method else None,
            pattern=re.compile(path),
            status=status,
            code=code,
            message=message or api_error(status, code).message,
            remaining=times,
        )
        self._failures.append(failure)
        return failure

    def fail_channel(
        self,
        channel: object,
        *,
        status: int = 403,
        code: int = MISSING_PERMISSIONS,
        message: str | None = None,
        method: str | None = None,
        times: int | None = None,
    ) -> InjectedFailure:
        """Every request to /channels/{id}[/...] fails (e.g. 403/50013, 404/10003)."""
        cid = snowflake_of(channel)
        return self.fail_requests(
            method, f"^/channels/{cid}(/|$)", status=status, code=code, message=message, times=times
        )

    def inject_rate_limit(
        self,
        method: str | None = None,
        path: str = "",
        *,
        retry_after: float = 0.2,
        is_global: bool = True,
        times: int = 1,
    ) -> InjectedFailure:
        """The next ``times`` matching requests get a 429 (global by default)."""
        failure = InjectedFailure(
            method=method.upper() if method else None,
            pattern=re.compile(path),
            status=429,
            code=0,
            message="You are being rate limited.",
            remaining=times,
            retry_after=retry_after,
            is_global=is_global,
        )
        self._failures.append(failure)
        return failure

    def clear_failures(self) -> None:
        self._failures.clear()

    def remove_failure(self, failure: InjectedFailure) -> None:
        if failure in self._failures:
            self._failures.remove(failure)

    def close_dms(self, user: object) -> None:
        """The user does not accept DMs from the bot: sending to their DM fails with 403/50007."""
        self.closed_dms.add(snowflake_of(user))

    def open_dms(self, user: object) -> None:
        self.closed_dms.discard(snowflake_of(user))

    def set_route_limit(self, method: str, template: str, limit: int, per: float) -> None:
        """Per-route bucket, keyed by the route's major parameter (channel_id/guild_id/webhook)."""
        self._route_limits[(method.upper(), template)] = (limit, per)

    def set_global_rate_limit(self, per_second: int | None) -> None:
        self._global_limiter = GlobalLimiter(per_second) if per_second else None

    # ==============================================================================================
    # network latency
    # ==============================================================================================

    def set_route_latency(self, route: str, seconds: float | None) -> None:
        """Requests of ``route`` take ``seconds`` to arrive (None: back to ``fake.latency``).

        ``route`` is a template as the fake serves it, with or without a method:
        ``"POST /interactions/{interaction_id}/{token}/callback"``, ``"/channels/{channel_id}/messages"``.
        An unknown template raises ``ValueError`` rather than silently delaying nothing.
        """
        method, _, template = route.rpartition(" ")
        method = method.upper()
        if not any(r.template == template and method in ("", r.method) for r in self._routes):
            raise ValueError(f"the fake serves no route {route!r}")
        key = f"{method} {template}" if method else template
        if seconds is None:
            self._route_latency.pop(key, None)
        elif seconds < 0:
            raise ValueError(f"latency must be >= 0 seconds, got {seconds}")
        else:
            self._route_latency[key] = seconds

    def latency_for(self, method: str, template: str) -> float:
        """The delay of one request: its method and route's, else its route's, else ``fake.latency``."""
        by_route = self._route_latency.get(template, self.latency)
        return self._route_latency.get(f"{method} {template}", by_route)

    # ==============================================================================================
    # REST plumbing
    # ==============================================================================================

    def _route(
        self, method: str, template: str, handler: Handler, *, auth: bool = True, interaction: bool = False
    ) -> None:
        self._routes.append(_Route(method, template, _compile(template), handler, auth, interaction))

    def _install_routes(self) -> None:
        r = self._route
        r("GET", "/users/@me", self._get_me)
        r("POST", "/users/@me/channels", self._create_dm)
        r("GET", "/users/{user_id}", self._get_user)
        r("GET", "/applications/@me", self._get_application)
        r("GET", "/oauth2/applications/@me", self._get_application)
        r("GET", "/gateway", self._get_gateway, auth=False)
        r("GET", "/gateway/bot", self._get_gateway_bot)
        app = "/applications/{application_id}"
        r("GET", f"{app}/commands", self._list_commands)
        r("PUT", f"{app}/commands", self._bulk_commands)
        r("POST", f"{app}/commands", self._upsert_command)
        r("GET", f"{app}/commands/{{command_id}}", self._get_command)
        r("PATCH", f"{app}/commands/{{command_id}}", self._edit_command)
        r("DELETE", f"{app}/commands/{{command_id}}", self._delete_command)
        r("GET", f"{app}/guilds/{{guild_id}}/commands/permissions", self._command_permissions)
        r("GET", f"{app}/guilds/{{guild_id}}/commands", self._list_commands)
        r("PUT", f"{app}/guilds/{{guild_id}}/commands", self._bulk_commands)
        r("POST", f"{app}/guilds/{{guild_id}}/commands", self._upsert_command)
        r("GET", f"{app}/guilds/{{guild_id}}/commands/{{command_id}}", self._get_command)
        r("PATCH", f"{app}/guilds/{{guild_id}}/commands/{{command_id}}", self._edit_command)
        r("DELETE", f"{app}/guilds/{{guild_id}}/commands/{{command_id}}", self._delete_command)
        r("POST", "/interactions/{interaction_id}/{token}/callback", self._callback, auth=False, interaction=True)
        hook = "/webhooks/{webhook_id}/{token}"
        r("POST", hook, self._followup, auth=False, interaction=True)
        r("GET", f"{hook}/messages/{{message_id}}", self._get_webhook_message, auth=False, interaction=True)
        r("PATCH", f"{hook}/messages/{{message_id}}", self._edit_webhook_message, auth=False, interaction=True)
        r("DELETE", f"{hook}/messages/{{message_id}}", self._delete_webhook_message, auth=False, interaction=True)
        ch = "/channels/{channel_id}"
        r("GET", ch, self._get_channel)
        r("GET", f"{ch}/messages", self._list_messages)
        r("POST", f"{ch}/messages", self._create_message)
        r("GET", f"{ch}/messages/{{message_id}}", self._get_message)
        r("PATCH", f"{ch}/messages/{{message_id}}", self._edit_message)
        r("DELETE", f"{ch}/messages/{{message_id}}", self._delete_message)
        r("POST", f"{ch}/typing", self._typing)
        r("PUT", f"{ch}/messages/{{message_id}}/reactions/{{emoji}}/@me", self._add_reaction)
        r("DELETE", f"{ch}/messages/{{message_id}}/reactions/{{emoji}}/@me", self._remove_reaction)
        g = "/guilds/{guild_id}"
        r("GET", g, self._get_guild)
        r("GET", f"{g}/channels", self._guild_channels)
        r("GET", f"{g}/roles", self._list_roles)
        r("POST", f"{g}/roles", self._create_role)
        r("PATCH", f"{g}/roles/{{role_id}}", self._edit_role)
        r("DELETE", f"{g}/roles/{{role_id}}", self._delete_role)
        r("GET", f"{g}/members", self._list_members)
        r("GET", f"{g}/members/{{user_id}}", self._get_member)
        r("PATCH", f"{g}/members/{{user_id}}", self._edit_member)
        r("PUT", f"{g}/members/{{user_id}}/roles/{{role_id}}", self._add_member_role)
        r("DELETE", f"{g}/members/{{user_id}}/roles/{{role_id}}", self._remove_member_role)
        r("GET", f"{g}/scheduled-events", self._list_events)
        r("POST", f"{g}/scheduled-events", self._create_event)
        r("GET", f"{g}/scheduled-events/{{event_id}}", self._get_event)
        r("PATCH", f"{g}/scheduled-events/{{event_id}}", self._edit_event)
        r("DELETE", f"{g}/scheduled-events/{{event_id}}", self._delete_event)

    def _match(self, method: str, path: str) -> tuple[_Route | None, dict[str, str], bool]:
        path_exists = False
        for route in self._routes:
            m = route.regex.match(path)
            if m is None:
                continue
            path_exists = True
            if route.method == method:
                return route, m.groupdict(), True
        return None, {}, path_exists

    async def _read_body(self, request: web.Request) -> tuple[Any, list[FakeAttachment]]:
        if not request.can_read_body:
            return None, []
        ctype = request.content_type
        if ctype.startswith("multipart/"):
            payload: Any = None
            files: list[FakeAttachment] = []
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                if part.name == "payload_json":
                    payload = json.loads(await part.text())
                else:
                    raw = await part.read(decode=False)
                    files.append(
                        FakeAttachment(
                            id=self.new_id(),
                            filename=part.filename or "file",
                            content=bytes(raw),
                            content_type=part.headers.get("Content-Type"),
                        )
                    )
            if isinstance(payload, dict):
                for index, meta in enumerate(payload.get("attachments") or []):
                    if index < len(files) and isinstance(meta, dict) and meta.get("description"):
                        files[index].description = str(meta["description"])
            return payload, files
        text = await request.text()
        if not text:
            return None, []
        try:
            return json.loads(text), []
        except ValueError:
            raise ApiError(400, 50109, "The request body contains invalid JSON.") from None

    def _major(self, route: _Route, params: dict[str, str]) -> str:
        for key in ("channel_id", "guild_id"):
            if key in params:
                return f"{key}={params[key]}"
        if "webhook_id" in params:
            return f"webhook={params['webhook_id']}:{params.get('token', '')}"
        if "interaction_id" in params:
            return f"interaction={params['interaction_id']}"
        return ""

    def _check_limits(self, route: _Route, params: dict[str, str], method: str, path: str) -> dict[str, str]:
        now = time.monotonic()
        for failure in self._failures:
            if failure.status == 429 and failure.matches(method, path):
                failure.hits += 1
                if failure.remaining is not None:
                    failure.remaining -= 1
                if failure.is_global:
                    raise _RateLimited(
                        failure.retry_after, global_429_headers(failure.retry_after), True, failure.message
                    )
                bucket = bucket_hash(f"{route.method} {route.template}")
                raise _RateLimited(
                    failure.retry_after, route_429_headers(bucket, 1, failure.retry_after), False, failure.message
                )
        if self._global_limiter is not None and not route.interaction:
            wait = self._global_limiter.try_acquire(now)
            if wait is not None:
                raise _RateLimited(wait, global_429_headers(wait), True, "You are being rate limited.")
        key = (route.method, route.template)
        bucket_id = bucket_hash(f"{route.method} {route.template}")
        limits = self._route_limits.get(key)
        if limits is None:
            return success_headers(bucket_id, 10000, 9999, 1.0)
        state_key = (f"{route.method} {route.template}", self._major(route, params))
        state = self._buckets.get(state_key)
        if state is None:
            state = self._buckets[state_key] = BucketState(limit=limits[0], per=limits[1])
        if not state.try_acquire(now):
            wait = state.reset_after(now)
            raise _RateLimited(
                wait, route_429_headers(bucket_id, state.limit, wait), False, "You are being rate limited."
            )
        return success_headers(bucket_id, state.limit, state.remaining(now), state.reset_after(now))

    def _check_injected_errors(self, method: str, path: str) -> None:
        for failure in self._failures:
            if failure.status != 429 and failure.matches(method, path):
                failure.hits += 1
                if failure.remaining is not None:
                    failure.remaining -= 1
                raise ApiError(failure.status, failure.code, failure.message)

    async def _handle_rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        method = request.method.upper()
        route, params, path_exists = self._match(method, path)
        # The request's round trip, spent before the fake looks at it: it arrives late, so
        # deadlines and rate limits see it late too, and the bot waits the whole trip.
        delay = self.latency_for(method, route.template) if route is not None else self.latency
        if delay > 0:
            await asyncio.sleep(delay)
        reason = request.headers.get("X-Audit-Log-Reason")
        record = RequestRecord(
            method=method,
            path=path,
            route=route.template if route else "?",
            query=dict(request.query),
            json=None,
            timestamp=time.time(),
            reason=urllib.parse.unquote(reason) if reason else None,
        )
        self.requests.append(record)
        headers: dict[str, str] = {}
        try:
            body, files = await self._read_body(request)
            record.json = body
            record.files = files
            if route is None:
                if path_exists:
                    raise ApiError(405, 0, "405: Method Not Allowed")
                raise ApiError(404, 0, "404: Not Found")
            if route.auth and request.headers.get("Authorization") != f"Bot {self.token}":
                raise ApiError(401, 0, "401: Unauthorized")
            headers = self._check_limits(route, params, method, path)
            self._check_injected_errors(method, path)
            ctx = _Ctx(request, params, dict(request.query), body, files, record)
            result = await route.handler(ctx)
            reply = result if isinstance(result, _Reply) else _Reply(200 if result is not None else 204, result)
        except _RateLimited as rl:
            self.rate_limited_count += 1
            body_429 = {"message": rl.message, "retry_after": round(rl.retry_after, 3), "global": rl.is_global}
            if not rl.is_global:
                body_429["code"] = 0
            record.status = 429
            record.response = body_429
            return _json_response(429, body_429, rl.headers)
        except ApiError as err:
            reply = _Reply(err.status, err.body())
        record.status = reply.status
        record.response = reply.body
        return _json_response(reply.status, reply.body, headers)

    # ==============================================================================================
    # helpers
    # ==============================================================================================

    def bot_user_payload(self) -> JSON:
        data = self.bot_user.payload()
        data.update(verified=True, mfa_enabled=False, locale="en-US", email=None, flags=0)
        return data

    def _user_of(self, who: object) -> FakeUser:
        if isinstance(who, FakeUser):
            return who
        if isinstance(who, FakeMember):
            return who.user
        uid = snowflake_of(who)
        user = self.users.get(uid)
        if user is None:
            raise KeyError(f"unknown user {uid}")
        return user

    def _require_channel(self, channel: object) -> FakeChannel:
        found = self.channel(channel)
        if found is None:
            raise KeyError(f"unknown channel {snowflake_of(channel)}")
        return found

    def _guild_or_404(self, ctx: _Ctx) -> FakeGuild:
        guild = self.guilds.get(ctx.id("guild_id"))
        if guild is None:
            raise api_error(404, UNKNOWN_GUILD)
        return guild

    def _channel_or_404(self, ctx: _Ctx) -> FakeChannel:
        channel = self.channel(ctx.id("channel_id"))
        if channel is None:
            raise api_error(404, UNKNOWN_CHANNEL)
        return channel

    def _message_or_404(self, ctx: _Ctx, channel: FakeChannel) -> FakeMessage:
        msg = self.messages.get(ctx.id("message_id"))
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            raise api_error(404, UNKNOWN_MESSAGE)
        return msg

    def _require_guild_perms(self, guild: FakeGuild, perms: int, channel: FakeChannel | None = None) -> None:
        have = guild.bot_permissions(channel)
        if have & perms != perms:
            raise api_error(403, MISSING_PERMISSIONS)

    def _require_channel_access(self, channel: FakeChannel, perms: int) -> None:
        if channel.guild is None:
            return
        have = channel.guild.bot_permissions(channel)
        if not have & Perm.VIEW_CHANNEL:
            raise api_error(403, MISSING_ACCESS)
        if have & perms != perms:
            raise api_error(403, MISSING_PERMISSIONS)

    def _can_manage_role(self, guild: FakeGuild, role: FakeRole) -> None:
        self._require_guild_perms(guild, Perm.MANAGE_ROLES)
        if guild.owner_id == self.bot_user.id:
            return
        if role.managed or role.is_everyone:
            raise api_error(403, MISSING_PERMISSIONS)
        if highest_role_position(guild, guild.bot_member) <= role.position:
            raise api_error(403, MISSING_PERMISSIONS)

    def _resolve_mentions(self, msg: FakeMessage, channel: FakeChannel, referenced: FakeMessage | None) -> None:
        am = msg.allowed_mentions
        content = msg.content or ""
        user_ids = [int(u) for u in _USER_MENTION.findall(content)]
        role_ids = [int(r) for r in _ROLE_MENTION.findall(content)]
        everyone = "@everyone" in content or "@here" in content
        if am is None:
            allowed_users, allowed_roles, allow_everyone, replied = set(user_ids), set(role_ids), True, True
        else:
            parse = am.get("parse") or []
            allowed_users = set(user_ids) if "users" in parse else {int(u) for u in am.get("users") or []}
            allowed_roles = set(role_ids) if "roles" in parse else {int(r) for r in am.get("roles") or []}
            allow_everyone = "everyone" in parse
            replied = bool(am.get("replied_user", False))
        guild = channel.guild
        if guild is not None and msg.author.id == self.bot_user.id:
            perms = guild.bot_permissions(channel)
            if not perms & Perm.MENTION_EVERYONE:
                allow_everyone = False
                allowed_roles = {r for r in allowed_roles if r in guild.roles and guild.roles[r].mentionable}
        mentioned: list[FakeUser] = []
        for uid in dict.fromkeys(user_ids):
            if uid in allowed_users and uid in self.users:
                mentioned.append(self.users[uid])
        if referenced is not None and replied and referenced.author not in mentioned:
            mentioned.append(referenced.author)
        msg.mentions = mentioned
        msg.mention_role_ids = [r for r in dict.fromkeys(role_ids) if r in allowed_roles]
        msg.mention_everyone = everyone and allow_everyone

    def _store_message(self, msg: FakeMessage, channel: FakeChannel | None, *, dispatch: bool) -> None:
        self.messages[msg.id] = msg
        if channel is not None:
            channel.last_message_id = msg.id
        if dispatch and not msg.ephemeral:
            self.dispatch("MESSAGE_CREATE", self._gateway_message(msg))

    def _gateway_message(self, msg: FakeMessage) -> JSON:
        data = msg.payload(self.base_url)
        if msg.guild_id is not None:
            guild = self.guilds.get(msg.guild_id)
            member = guild.members.get(msg.author.id) if guild else None
            if member is not None:
                data["member"] = member.payload(with_user=False)
        return data

    def _apply_edit(self, msg: FakeMessage, body: JSON, files: list[FakeAttachment], channel: FakeChannel) -> None:
        if "content" in body:
            msg.content = body["content"] or ""
        if "embeds" in body:
            msg.embeds = list(body["embeds"] or [])
        if "components" in body:
            msg.components = list(body["components"] or [])
        if "flags" in body and body["flags"] is not None:
            keep = msg.flags & (64 | 128)  # ephemeral/loading cannot be toggled by an edit
            msg.flags = (int(body["flags"]) & ~(64 | 128)) | keep
        if "allowed_mentions" in body:
            msg.allowed_mentions = body["allowed_mentions"]
        if "attachments" in body:
            keep_ids = {str(a.get("id")) for a in body["attachments"] or [] if isinstance(a, dict)}
            msg.attachments = [a for a in msg.attachments if str(a.id) in keep_ids]
        msg.attachments.extend(files)
        msg.edited_timestamp = iso_now()
        msg.edits.append(body)
        self._resolve_mentions(msg, channel, None)

    def _new_message(
        self,
        body: JSON,
        files: list[FakeAttachment],
        channel: FakeChannel,
        *,
        source: str,
        flags: int | None = None,
        msg_type: int = 0,
        interaction: FakeInteraction | None = None,
    ) -> FakeMessage:
        msg = FakeMessage(
            id=self.new_id(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=self.bot_user,
            content=body.get("content") or "",
            embeds=list(body.get("embeds") or []),
            components=list(body.get("components") or []),
            flags=int(body.get("flags") or 0) if flags is None else flags,
            request=body,
            source=source,
            nonce=str(body["nonce"]) if body.get("nonce") is not None else None,
            allowed_mentions=body.get("allowed_mentions"),
            message_reference=body.get("message_reference"),
            attachments=list(files),
            tts=bool(body.get("tts", False)),
            type=msg_type,
        )
        if interaction is not None:
            msg.interaction_id = interaction.id
            msg.application_id = self.application_id
            msg.webhook_id = self.application_id
            msg.interaction_metadata = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": interaction.user.payload(),
                "authorizing_integration_owners": interaction.payload.get("authorizing_integration_owners", {}),
            }
            if interaction.message is not None:
                msg.interaction_metadata["interacted_message_id"] = str(interaction.message.id)
        return msg

    # ==============================================================================================
    # REST: users, application, gateway
    # ==============================================================================================

    async def _get_me(self, ctx: _Ctx) -> JSON:
        return self.bot_user_payload()

    async def _get_user(self, ctx: _Ctx) -> JSON:
        user = self.users.get(ctx.id("user_id"))
        if user is None:
            raise api_error(404, UNKNOWN_USER)
        return user.payload()

    async def _get_application(self, ctx: _Ctx) -> JSON:
        return {
            "id": str(self.application_id),
            "name": self.bot_name,
            "icon": None,
            "description": "A fake application",
            "summary": "",
            "type": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.app_owner.payload(),
            "team": None,
            "flags": self.application_flags,
            "bot": self.bot_user.payload(),
            "rpc_origins": [],
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}},
        }

    async def _get_gateway(self, ctx: _Ctx) -> JSON:
        return {"url": self.gateway_url}

    async def _get_gateway_bot(self, ctx: _Ctx) -> JSON:
        return {
            "url": self.gateway_url,
            "shards": self.recommended_shards,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 86400000, "max_concurrency": 1},
        }

    async def _create_dm(self, ctx: _Ctx) -> JSON:
        body = ctx.body()
        try:
            uid = int(body.get("recipient_id"))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise api_error(400, INVALID_FORM_BODY) from None
        if uid not in self.users or uid == self.bot_user.id:
            raise api_error(400, 50033, "Invalid Recipient(s)")
        dm = self.dm_channel(uid, create=True)
        assert dm is not None
        return dm.payload()

    # ==============================================================================================
    # REST: application commands
    # ==============================================================================================

    def _command_store(self, ctx: _Ctx) -> tuple[dict[int, JSON], int | None]:
        if ctx.id("application_id") != self.application_id:
            raise api_error(403, MISSING_ACCESS)
        if "guild_id" not in ctx.params:
            return self._global_commands, None
        gid = ctx.id("guild_id")
        if gid not in self.guilds:
            raise api_error(403, MISSING_ACCESS)
        return self._guild_commands.setdefault(gid, {}), gid

    def _normalize_command(self, cmd: JSON, existing: JSON | None, guild_id: int | None) -> JSON:
        ctype = int(cmd.get("type", 1))
        perms = cmd.get("default_member_permissions")
        stored: JSON = {
            "id": existing["id"] if existing else str(self.new_id()),
            "application_id": str(self.application_id),
            "version": str(self.new_id()),
            "type": ctype,
            "name": cmd["name"],
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", "") if ctype == 1 else "",
            "description_localizations": cmd.get("description_localizations"),
            "default_member_permissions": str(perms) if perms is not None else None,
            "dm_permission": cmd.get("dm_permission", True),
            "nsfw": bool(cmd.get("nsfw", False)),
            "contexts": cmd.get("contexts"),
            "integration_types": cmd.get("integration_types") or [0],
        }
        if ctype == 1:
            stored["options"] = cmd.get("options") or []
        if guild_id is not None:
            stored["guild_id"] = str(guild_id)
        return stored

    async def _list_commands(self, ctx: _Ctx) -> list[JSON]:
        store, _ = self._command_store(ctx)
        return list(store.values())

    async def _bulk_commands(self, ctx: _Ctx) -> list[JSON]:
        store, gid = self._command_store(ctx)
        commands = ctx.json
        validate_commands(commands)
        by_key = {(c["name"], c["type"]): c for c in store.values()}
        new: dict[int, JSON] = {}
        for cmd in commands:
            stored = self._normalize_command(cmd, by_key.get((cmd["name"], int(cmd.get("type", 1)))), gid)
            new[int(stored["id"])] = stored
        store.clear()
        store.update(new)
        self.command_syncs.append((gid, list(commands)))
        return list(store.values())

    async def _upsert_command(self, ctx: _Ctx) -> _Reply:
        store, gid = self._command_store(ctx)
        cmd = ctx.body()
        validate_commands([cmd])
        existing = next(
            (c for c in store.values() if c["name"] == cmd["name"] and c["type"] == int(cmd.get("type", 1))), None
        )
        stored = self._normalize_command(cmd, existing, gid)
        store[int(stored["id"])] = stored
        return _Reply(200 if existing else 201, stored)

    def _command_or_404(self, ctx: _Ctx) -> tuple[dict[int, JSON], JSON, int | None]:
        store, gid = self._command_store(ctx)
        cmd = store.get(ctx.id("command_id"))
        if cmd is None:
            raise api_error(404, UNKNOWN_APPLICATION_COMMAND)
        return store, cmd, gid

    async def _get_command(self, ctx: _Ctx) -> JSON:
        return self._command_or_404(ctx)[1]

    async def _edit_command(self, ctx: _Ctx) -> JSON:
        store, cmd, gid = self._command_or_404(ctx)
        merged = {**cmd, **ctx.body()}
        validate_commands([merged])
        stored = self._normalize_command(merged, cmd, gid)
        store[int(stored["id"])] = stored
        return stored

    async def _delete_command(self, ctx: _Ctx) -> None:
        store, cmd, _ = self._command_or_404(ctx)
        del store[int(cmd["id"])]

    async def _command_permissions(self, ctx: _Ctx) -> list[JSON]:
        self._command_store(ctx)
        return []

    # ==============================================================================================
    # interactions: building and sending
    # ==============================================================================================

    async def _command_interaction(
        self,
        itype: int,
        guild: FakeGuild | None,
        channel: FakeChannel | None,
        user: object,
        path: Sequence[str],
        options: Mapping[str, object],
        focused: str | None,
        locale: str | None,
        check: bool,
    ) -> FakeInteraction:
        names = [part for item in path for part in item.split()]
        if not names:
            raise ValueError("give the command name (and subcommand group/subcommand names)")
        cmd = self.find_command(names[0], guild)
        if cmd is None:
            known = sorted(
                {c["name"] for c in self.global_commands}
                | ({c["name"] for c in self.guild_commands(guild)} if guild else set())
            )
            raise InteractionNotAllowed(
                f"/{names[0]} is not registered {'in ' + guild.name if guild else 'globally'}; "
                f"registered: {known} (did the bot sync its command tree?)"
            )
        if check:
            self._check_command_allowed(cmd, guild, user)
        resolved: JSON = {}
        defs: list[JSON] = list(cmd.get("options") or [])
        top: list[JSON] = []
        target = top
        for sub in names[1:]:
            d = next((o for o in defs if o.get("name") == sub and o.get("type") in (1, 2)), None)
            if d is None:
                raise InteractionNotAllowed(f"/{' '.join(names)}: no subcommand (group) {sub!r}")
            node: JSON = {"type": d["type"], "name": sub, "options": []}
            target.append(node)
            target = node["options"]
            defs = list(d.get("options") or [])
        subs = [o["name"] for o in defs if o.get("type") in (1, 2)]
        if subs:
            raise InteractionNotAllowed(f"/{' '.join(names)} needs a subcommand: one of {subs}")
        for name, value in options.items():
            d = next((o for o in defs if o.get("name") == name), None)
            if d is None:
                raise InteractionNotAllowed(
                    f"/{' '.join(names)} has no option {name!r} (options: {[o.get('name') for o in defs]})"
                )
            invoker = guild.get_member(user) if guild is not None else None
            target.append(self._option_value(d, value, guild, channel, resolved, focused == name, check, invoker))
        if itype == 2 and check:
            missing = [o["name"] for o in defs if o.get("required") and o["name"] not in options]
            if missing:
                raise InteractionNotAllowed(f"/{' '.join(names)}: missing required option(s) {missing}")
        if focused is not None and focused not in {o.get("name") for o in defs}:
            raise InteractionNotAllowed(f"/{' '.join(names)} has no option {focused!r} to autocomplete")
        data: JSON = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": top}
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        if resolved:
            data["resolved"] = resolved
        what = ("autocomplete " if itype == 4 else "") + "/" + " ".join(names)
        return await self._send_interaction(itype, guild, channel, user, data, what, None, locale)

    def _check_command_allowed(self, cmd: JSON, guild: FakeGuild | None, user: object) -> None:
        contexts = cmd.get("contexts")
        if guild is None:
            if cmd.get("guild_id"):
                raise InteractionNotAllowed(f"/{cmd['name']} is a guild command; it is not available in DMs")
            if cmd.get("dm_permission") is False or (contexts is not None and 1 not in contexts):
                raise InteractionNotAllowed(f"/{cmd['name']} is not available in DMs")
            return
        if contexts is not None and 0 not in contexts:
            raise InteractionNotAllowed(f"/{cmd['name']} is not available in guilds")
        required = cmd.get("default_member_permissions")
        if required is None:
            return
        member = guild.get_member(user)
        if member is None:
            return
        perms = base_permissions(guild, member)
        need = int(required)
        if perms & need != need:
            raise InteractionNotAllowed(
                f"{member.user.username} lacks default_member_permissions={need} for /{cmd['name']}"
            )

    def _option_value(
        self,
        d: JSON,
        value: object,
        guild: FakeGuild | None,
        channel: FakeChannel | None,
        resolved: JSON,
        focused: bool,
        check: bool = True,
        invoker: FakeMember | None = None,
    ) -> JSON:
        otype = int(d["type"])
        name = str(d["name"])
        opt: JSON = {"name": name, "type": otype}
        if focused:
            opt["value"] = value if isinstance(value, str | int | float) else str(value)
            opt["focused"] = True
            return opt
        if otype == 3:
            if not isinstance(value, str):
                raise InteractionNotAllowed(f"option {name!r} is a string option, got {value!r}")
            if check and d.get("min_length") is not None and len(value) < int(d["min_length"]):
                raise InteractionNotAllowed(f"option {name!r} is shorter than min_length")
            if check and d.get("max_length") is not None and len(value) > int(d["max_length"]):
                raise InteractionNotAllowed(f"option {name!r} is longer than max_length")
            opt["value"] = value
        elif otype == 4:
            if not isinstance(value, int) or isinstance(value, bool):
                raise InteractionNotAllowed(f"option {name!r} is an integer option, got {value!r}")
            opt["value"] = value
        elif otype == 5:
            if not isinstance(value, bool):
                raise InteractionNotAllowed(f"option {name!r} is a boolean option, got {value!r}")
            opt["value"] = value
        elif otype == 10:
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise InteractionNotAllowed(f"option {name!r} is a number option, got {value!r}")
            opt["value"] = value
        elif otype in (6, 9) and not isinstance(value, FakeRole):
            user = self._user_of(value)
            opt["value"] = str(user.id)
            resolved.setdefault("users", {})[str(user.id)] = user.payload()
            member = guild.get_member(user.id) if guild is not None else None
            if member is not None:
                mdata = member.payload(with_user=False)
                mdata["permissions"] = str(member.permissions_in(channel))
                resolved.setdefault("members", {})[str(user.id)] = mdata
        elif otype in (8, 9):
            if guild is None:
                raise InteractionNotAllowed("role options need a guild")
            role = guild.roles.get(snowflake_of(value))
            if role is None:
                raise InteractionNotAllowed(f"option {name!r}: unknown role {value!r}")
            opt["value"] = str(role.id)
            resolved.setdefault("roles", {})[str(role.id)] = role.payload()
        elif otype == 7:
            ch = self._require_channel(value)
            types = d.get("channel_types")
            if check and guild is not None and ch.guild is not guild:
                raise InteractionNotAllowed(f"option {name!r}: channel {ch.name!r} is not in {guild.name!r}")
            if check and types and ch.type not in types:
                raise InteractionNotAllowed(f"option {name!r} only accepts channel types {types}")
            opt["value"] = str(ch.id)
            cdata: JSON = {
                "id": str(ch.id),
                "name": ch.name,
                "type": ch.type,
                "permissions": str(
                    invoker.permissions_in(ch) if invoker is not None and ch.guild is invoker.guild else 0
                ),
            }
            if ch.guild_id is not None:
                cdata["guild_id"] = str(ch.guild_id)
            if ch.parent_id is not None:
                cdata["parent_id"] = str(ch.parent_id)
            resolved.setdefault("channels", {})[str(ch.id)] = cdata
        elif otype == 11:
            if isinstance(value, FakeAttachment):
                att = value
            elif isinstance(value, Mapping):
                raw = value.get("content", b"")
                att = FakeAttachment(
                    id=self.new_id(),
                    filename=str(value.get("filename", "file.txt")),
                    content=raw if isinstance(raw, bytes) else str(raw).encode(),
                    content_type=str(value.get("content_type", "text/plain")),
                )
            else:
                raise InteractionNotAllowed(f"option {name!r} needs a FakeAttachment or mapping")
            opt["value"] = str(att.id)
            resolved.setdefault("attachments", {})[str(att.id)] = att.payload(self.base_url)
        else:
            raise InteractionNotAllowed(f"option {name!r} has unsupported type {otype}")
        if not check:
            return opt
        choices = d.get("choices")
        if choices and opt["value"] not in [c.get("value") for c in choices]:
            raise InteractionNotAllowed(
                f"option {name!r} must be one of {[c.get('value') for c in choices]}, got {value!r}"
            )
        if otype in (4, 10):
            low, high = d.get("min_value"), d.get("max_value")
            if (low is not None and opt["value"] < low) or (high is not None and opt["value"] > high):
                raise InteractionNotAllowed(f"option {name!r} must be within [{low}, {high}], got {value!r}")
        return opt

    def _resolve_select_values(
        self, ctype: int, values: Sequence[object], guild: FakeGuild | None, channel: FakeChannel
    ) -> JSON:
        resolved: JSON = {}
        if ctype == 3:
            return resolved
        for value in values:
            vid = snowflake_of(value) if not isinstance(value, str) else int(value)
            if guild is not None and vid in guild.roles and ctype in (6, 7):
                resolved.setdefault("roles", {})[str(vid)] = guild.roles[vid].payload()
            elif vid in self.users and ctype in (5, 7):
                user = self.users[vid]
                resolved.setdefault("users", {})[str(vid)] = user.payload()
                member = guild.get_member(vid) if guild is not None else None
                if member is not None:
                    mdata = member.payload(with_user=False)
                    mdata["permissions"] = str(member.permissions_in(channel))
                    resolved.setdefault("members", {})[str(vid)] = mdata
            elif ctype == 8 and (ch := self.channel(vid)) is not None:
                resolved.setdefault("channels", {})[str(vid)] = {
                    "id": str(ch.id),
                    "name": ch.name,
                    "type": ch.type,
                    "permissions": "0",
                }
        return resolved

    async def _send_interaction(
        self,
        itype: int,
        guild: FakeGuild | None,
        channel: FakeChannel | None,
        who: object,
        data: JSON,
        description: str,
        message: FakeMessage | None,
        locale: str | None,
    ) -> FakeInteraction:
        if not self.gateway.reachable(guild.id if guild is not None else None):
            raise RuntimeError(
                "no bot session: start the bot (and await fake.wait_for_identify()) first; "
                "the bot is not connected to the fake gateway on this guild's shard"
            )
        user = self._user_of(who)
        payload: JSON = {
            "id": "",
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": "",
            "version": 1,
            "locale": locale or user.locale,  # the clicker's app language unless a test overrides it
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if guild is not None:
            member = guild.get_member(user.id)
            if member is None:
                raise InteractionNotAllowed(f"{user.username} is not a member of {guild.name}")
            if channel is None:
                channel = guild.text_channels[0] if guild.text_channels else None
            if channel is None or channel.guild is not guild:
                raise InteractionNotAllowed("give a channel of the guild the interaction happens in")
            member_payload = member.payload()
            member_payload["permissions"] = str(member.permissions_in(channel))
            channel_payload = channel.payload()
            channel_payload["permissions"] = member_payload["permissions"]
            payload.update(
                guild_id=str(guild.id),
                guild_locale=guild.locale,
                guild={"id": str(guild.id), "locale": guild.locale, "features": list(guild.features)},
                member=member_payload,
                channel=channel_payload,
                channel_id=str(channel.id),
                app_permissions=str(guild.bot_permissions(channel)),
                context=0,
                authorizing_integration_owners={"0": str(guild.id)},
            )
        else:
            dm = self.dm_channel(user, create=True)
            assert dm is not None
            channel = dm
            payload.update(
                user=user.payload(),
                channel=dm.payload(),
                channel_id=str(dm.id),
                app_permissions=str(DM_APP_PERMISSIONS),
                context=1,
                authorizing_integration_owners={"0": "0"},
            )
        if message is not None:
            payload["message"] = message.payload(self.base_url)
        inter = FakeInteraction(
            id=self.new_id(),
            token=secrets.token_urlsafe(48),
            type=itype,
            payload=payload,
            user=user,
            guild=guild,
            channel=channel,
            description=description,
            message=message,
        )
        payload["id"] = str(inter.id)
        payload["token"] = inter.token
        self.interactions[inter.id] = inter
        self._interactions_by_token[inter.token] = inter
        self.dispatch("INTERACTION_CREATE", payload)
        await self.flush_gateway()
        return inter

    # ==============================================================================================
    # REST: interaction callbacks and webhooks
    # ==============================================================================================

    def _reject(self, inter: FakeInteraction, ctx: _Ctx, err: ApiError) -> ApiError:
        inter.rejected.append(RejectedRequest(ctx.record.method, ctx.record.path, err.status, err.body()))
        return err

    async def _callback(self, ctx: _Ctx) -> JSON:
        inter = self.interactions.get(ctx.id("interaction_id"))
        if inter is None or inter.token != ctx.params["token"]:
            raise api_error(404, UNKNOWN_INTERACTION)
        age = (datetime.now(UTC) - inter.created_at).total_seconds()
        if self.callback_deadline is not None and age > self.callback_deadline:
            raise self._reject(inter, ctx, api_error(404, UNKNOWN_INTERACTION))
        if inter.callbacks:
            raise self._reject(inter, ctx, api_error(400, ALREADY_ACKNOWLEDGED))
        body = ctx.body()
        ctype = body.get("type")
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        assert isinstance(data, dict)
        allowed = {1: {1}, 2: {4, 5, 9, 10, 12}, 3: {4, 5, 6, 7, 9, 10, 12}, 4: {8}, 5: {4, 5, 6, 7, 10, 12}}
        if ctype not in allowed.get(inter.type, set()):
            raise self._reject(
                inter,
                ctx,
                ApiError(
                    400,
                    INVALID_FORM_BODY,
                    "Invalid Form Body",
                    {
                        "type": {
                            "_errors": [
                                {
                                    "code": "INTERACTION_RESPONSE_TYPE_INVALID",
                                    "message": f"Response type {ctype} is invalid for interaction type {inter.type}",
                                }
                            ]
                        }
                    },
                ),
            )
        try:
            if ctype == 4:
                validate_message(data, file_count=len(ctx.files))
            elif ctype == 7:
                validate_message(data, partial=True)
            elif ctype == 8:
                validate_choices(data.get("choices"))
            elif ctype == 9:
                errs = FormErrors()
                for key in ("custom_id", "title", "components"):
                    if not data.get(key):
                        errs.add(f"data.{key}", "BASE_TYPE_REQUIRED", "This field is required")
                errs.raise_if_any()
        except ApiError as err:
            raise self._reject(inter, ctx, err) from None
        inter.record_callback(InteractionCallback(type=int(ctype), raw=body, files=list(ctx.files)))
        channel = inter.channel
        response: JSON = {"interaction": {"id": str(inter.id), "type": inter.type}}
        resource: JSON | None = None
        if ctype in (4, 5):
            flags = int(data.get("flags") or 0)
            if ctype == 5:
                flags = (flags & 64) | 128
            msg = self._new_message(
                data if ctype == 4 else {},
                list(ctx.files),
                channel,
                source="interaction",
                flags=flags,
                msg_type=20 if inter.type == 2 else 0,
                interaction=inter,
            )
            self._resolve_mentions(msg, channel, None)
            inter.original = msg
            self._store_message(msg, channel, dispatch=True)
            resource = {"type": ctype, "message": msg.payload(self.base_url)}
            response["interaction"].update(
                response_message_id=str(msg.id),
                response_message_loading=ctype == 5,
                response_message_ephemeral=bool(flags & 64),
            )
        elif ctype in (6, 7) and inter.message is not None:
            target = inter.message
            inter.original = target
            if ctype == 7:
                self._apply_edit(target, data, list(ctx.files), channel)
                self.dispatch("MESSAGE_UPDATE", self._gateway_message(target))
            resource = {"type": ctype, "message": target.payload(self.base_url)}
            response["interaction"].update(
                response_message_id=str(target.id),
                response_message_loading=False,
                response_message_ephemeral=target.ephemeral,
            )
        if resource is not None:
            response["resource"] = resource
        return response

    def _webhook_interaction(self, ctx: _Ctx) -> FakeInteraction:
        inter = self._interactions_by_token.get(ctx.params["token"])
        if inter is None or ctx.id("webhook_id") != self.application_id:
            raise api_error(404, UNKNOWN_WEBHOOK)
        age = (datetime.now(UTC) - inter.created_at).total_seconds()
        if age > INTERACTION_TOKEN_LIFETIME:
            raise self._reject(inter, ctx, api_error(401, 50027, "Invalid Webhook Token"))
        if not inter.callbacks:
            raise self._reject(inter, ctx, api_error(404, UNKNOWN_WEBHOOK))
        return inter

    async def _followup(self, ctx: _Ctx) -> JSON | None:
        inter = self._webhook_interaction(ctx)
        body = ctx.body()
        try:
            validate_message(body, file_count=len(ctx.files))
        except ApiError as err:
            raise self._reject(inter, ctx, err) from None
        channel = inter.channel
        original = inter.original
        if original is not None and original.flags & 128 and inter.callbacks[0].type == 5:
            # The first followup after a deferred "thinking" response replaces that message.
            self._apply_edit(original, body, list(ctx.files), channel)
            original.flags &= ~128
            inter.followups.append(original)
            if not original.ephemeral:
                self.dispatch("MESSAGE_UPDATE", self._gateway_message(original))
            msg = original
        else:
            msg = self._new_message(
                body, list(ctx.files), channel, source="followup", flags=int(body.get("flags") or 0), interaction=inter
            )
            self._resolve_mentions(msg, channel, None)
            inter.followups.append(msg)
            self._store_message(msg, channel, dispatch=True)
        if ctx.query.get("wait", "false").lower() in ("1", "true"):
            return msg.payload(self.base_url)
        return None

    def _webhook_message(self, ctx: _Ctx, inter: FakeInteraction) -> FakeMessage:
        mid = ctx.params["message_id"]
        if mid == "@original":
            if inter.original is None or inter.original_deleted:
                raise self._reject(inter, ctx, api_error(404, UNKNOWN_MESSAGE))
            return inter.original
        msg = next((m for m in inter.followups if str(m.id) == mid and not m.deleted), None)
        if msg is None:
            raise self._reject(inter, ctx, api_error(404, UNKNOWN_MESSAGE))
        return msg

    async def _get_webhook_message(self, ctx: _Ctx) -> JSON:
        inter = self._webhook_interaction(ctx)
        return self._webhook_message(ctx, inter).payload(self.base_url)

    async def _edit_webhook_message(self, ctx: _Ctx) -> JSON:
        inter = self._webhook_interaction(ctx)
        msg = self._webhook_message(ctx, inter)
        body = ctx.body()
        try:
            validate_message(body, partial=True)
        except ApiError as err:
            raise self._reject(inter, ctx, err) from None
        self._apply_edit(msg, body, list(ctx.files), inter.channel)
        msg.flags &= ~128
        if ctx.params["message_id"] == "@original":
            inter.original_edits.append(body)
        if not msg.ephemeral:
            self.dispatch("MESSAGE_UPDATE", self._gateway_message(msg))
        return msg.payload(self.base_url)

    async def _delete_webhook_message(self, ctx: _Ctx) -> None:
        inter = self._webhook_interaction(ctx)
        msg = self._webhook_message(ctx, inter)
        msg.deleted = True
        if ctx.params["message_id"] == "@original":
            inter.original_deleted = True
        self._dispatch_delete(msg)

    def _dispatch_delete(self, msg: FakeMessage) -> None:
        if msg.ephemeral:
            return
        data: JSON = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        self.dispatch("MESSAGE_DELETE", data)

    # ==============================================================================================
    # REST: channels and messages
    # ==============================================================================================

    async def _get_channel(self, ctx: _Ctx) -> JSON:
        channel = self._channel_or_404(ctx)
        if channel.guild is not None and not channel.guild.bot_permissions(channel) & Perm.VIEW_CHANNEL:
            raise api_error(403, MISSING_ACCESS)
        return channel.payload()

    async def _list_messages(self, ctx: _Ctx) -> list[JSON]:
        channel = self._channel_or_404(ctx)
        self._require_channel_access(channel, Perm.READ_MESSAGE_HISTORY)
        msgs = sorted(
            (m for m in self.messages.values() if m.channel_id == channel.id and not m.deleted and not m.ephemeral),
            key=lambda m: m.id,
            reverse=True,
        )
        limit = max(1, min(100, int(ctx.query.get("limit", "50"))))
        if "before" in ctx.query:
            msgs = [m for m in msgs if m.id < int(ctx.query["before"])]
        if "after" in ctx.query:
            msgs = [m for m in msgs if m.id > int(ctx.query["after"])][-limit:]
        return [m.payload(self.base_url) for m in msgs[:limit]]

    async def _get_message(self, ctx: _Ctx) -> JSON:
        channel = self._channel_or_404(ctx)
        self._require_channel_access(channel, Perm.READ_MESSAGE_HISTORY)
        return self._message_or_404(ctx, channel).payload(self.base_url)

    async def _create_message(self, ctx: _Ctx) -> JSON:
        channel = self._channel_or_404(ctx)
        body = ctx.body()
        if channel.is_dm:
            assert channel.recipient is not None
            if channel.recipient.id in self.closed_dms:
                raise api_error(403, CANNOT_DM_USER)
        else:
            needed = int(Perm.SEND_MESSAGES)
            if ctx.files:
                needed |= Perm.ATTACH_FILES
            if body.get("message_reference"):
                needed |= Perm.READ_MESSAGE_HISTORY
            self._require_channel_access(channel, needed)
        validate_message(body, file_count=len(ctx.files))
        nonce = body.get("nonce")
        now = time.monotonic()
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel.id, str(nonce)))
            if seen is not None and now - seen[0] <= self.nonce_window:
                self.nonce_dedup_count += 1
                return seen[1].payload(self.base_url)
        referenced: FakeMessage | None = None
        ref = body.get("message_reference")
        if isinstance(ref, dict) and ref.get("message_id") is not None:
            referenced = self.messages.get(int(ref["message_id"]))
            ref_channel = int(ref.get("channel_id") or channel.id)
            if referenced is None or referenced.deleted or ref_channel != referenced.channel_id:
                referenced = None
                if ref.get("fail_if_not_exists", True):
                    raise ApiError(
                        400,
                        INVALID_FORM_BODY,
                        "Invalid Form Body",
                        {
                            "message_reference": {
                                "_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]
                            }
                        },
                    )
        msg = self._new_message(
            body, list(ctx.files), channel, source="channel", msg_type=19 if referenced is not None else 0
        )
        self._resolve_mentions(msg, channel, referenced)
        if nonce is not None and body.get("enforce_nonce"):
            self._nonces[(channel.id, str(nonce))] = (now, msg)
        self._store_message(msg, channel, dispatch=True)
        return msg.payload(self.base_url)

    async def _edit_message(self, ctx: _Ctx) -> JSON:
        channel = self._channel_or_404(ctx)
        self._require_channel_access(channel, 0)
        msg = self._message_or_404(ctx, channel)
        body = ctx.body()
        if msg.author.id != self.bot_user.id:
            if set(body) - {"flags"}:
                raise api_error(403, CANNOT_EDIT_OTHERS_MESSAGE)
            if channel.guild is not None:
                self._require_guild_perms(channel.guild, Perm.MANAGE_MESSAGES, channel)
        validate_message(body, partial=True)
        self._apply_edit(msg, body, list(ctx.files), channel)
        self.dispatch("MESSAGE_UPDATE", self._gateway_message(msg))
        return msg.payload(self.base_url)

    async def _delete_message(self, ctx: _Ctx) -> None:
        channel = self._channel_or_404(ctx)
        self._require_channel_access(channel, 0)
        msg = self._message_or_404(ctx, channel)
        if msg.author.id != self.bot_user.id:
            if channel.guild is None:
                raise api_error(403, 50003, "Cannot execute action on a DM channel")
            self._require_guild_perms(channel.guild, Perm.MANAGE_MESSAGES, channel)
        msg.deleted = True
        self._dispatch_delete(msg)

    async def _typing(self, ctx: _Ctx) -> None:
        channel = self._channel_or_404(ctx)
        self._require_channel_access(channel, Perm.SEND_MESSAGES)

    async def _add_reaction(self, ctx: _Ctx) -> None:
        channel = self._channel_or_404(ctx)
        self._require_channel_access(channel, Perm.ADD_REACTIONS | Perm.READ_MESSAGE_HISTORY)
        msg = self._message_or_404(ctx, channel)
        emoji = urllib.parse.unquote(ctx.params["emoji"])
        msg.reactions.setdefault(emoji, set()).add(self.bot_user.id)

    async def _remove_reaction(self, ctx: _Ctx) -> None:
        channel = self._channel_or_404(ctx)
        msg = self._message_or_404(ctx, channel)
        emoji = urllib.parse.unquote(ctx.params["emoji"])
        msg.reactions.get(emoji, set()).discard(self.bot_user.id)

    # ==============================================================================================
    # REST: guilds, roles, members
    # ==============================================================================================

    async def _get_guild(self, ctx: _Ctx) -> JSON:
        guild = self._guild_or_404(ctx)
        data = guild.payload()
        if ctx.query.get("with_counts", "").lower() in ("1", "true"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return data

    async def _guild_channels(self, ctx: _Ctx) -> list[JSON]:
        return [c.payload() for c in self._guild_or_404(ctx).channels.values()]

    async def _list_roles(self, ctx: _Ctx) -> list[JSON]:
        guild = self._guild_or_404(ctx)
        return [r.payload() for r in sorted(guild.roles.values(), key=lambda r: r.position)]

    async def _create_role(self, ctx: _Ctx) -> JSON:
        guild = self._guild_or_404(ctx)
        self._require_guild_perms(guild, Perm.MANAGE_ROLES)
        body = ctx.json if isinstance(ctx.json, dict) else {}
        perms = (
            int(body.get("permissions") or 0)
            if body.get("permissions") is not None
            else int(guild.everyone_role.permissions)
        )
        if perms & ~guild.bot_permissions() and guild.owner_id != self.bot_user.id:
            raise api_error(403, MISSING_PERMISSIONS)
        name = str(body.get("name") or "new role")
        if len(name) > 100:
            raise ApiError(
                400,
                INVALID_FORM_BODY,
                "Invalid Form Body",
                {"name": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 100 or fewer in length."}]}},
            )
        for other in guild.roles.values():
            if other.id != guild.id and other.position >= 1:
                other.position += 1
        role = FakeRole(
            id=self.new_id(),
            guild=guild,
            name=name,
            permissions=perms,
            position=1,
            color=int(body.get("color") or 0),
            hoist=bool(body.get("hoist", False)),
            mentionable=bool(body.get("mentionable", False)),
        )
        guild.roles[role.id] = role
        self.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.payload()})
        for other in guild.roles.values():
            if other.id not in (guild.id, role.id):
                self.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": other.payload()})
        return role.payload()

    def _role_or_404(self, ctx: _Ctx, guild: FakeGuild) -> FakeRole:
        role = guild.roles.get(ctx.id("role_id"))
        if role is None:
            raise api_error(404, UNKNOWN_ROLE)
        return role

    async def _edit_role(self, ctx: _Ctx) -> JSON:
        guild = self._guild_or_404(ctx)
        role = self._role_or_404(ctx, guild)
        self._can_manage_role(guild, role)
        body = ctx.body()
        if "name" in body and body["name"] is not None:
            role.name = str(body["name"])
        if "permissions" in body and body["permissions"] is not None:
            perms = int(body["permissions"])
            if perms & ~guild.bot_permissions() and guild.owner_id != self.bot_user.id:
                raise api_error(403, MISSING_PERMISSIONS)
            role.permissions = perms
        for key in ("color", "hoist", "mentionable"):
            if key in body and body[key] is not None:
                setattr(role, key, type(getattr(role, key))(body[key]))
        self.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(guild.id), "role": role.payload()})
        return role.payload()

    async def _delete_role(self, ctx: _Ctx) -> None:
        guild = self._guild_or_404(ctx)
        role = self._role_or_404(ctx, guild)
        self._can_manage_role(guild, role)
        del guild.roles[role.id]
        for member in guild.members.values():
            if role.id in member.role_ids:
                member.role_ids.remove(role.id)
        self.dispatch("GUILD_ROLE_DELETE", {"guild_id": str(guild.id), "role_id": str(role.id)})

    def _member_or_404(self, ctx: _Ctx, guild: FakeGuild) -> FakeMember:
        raw = ctx.params["user_id"]
        member = guild.members.get(self.bot_user.id if raw == "@me" else ctx.id("user_id"))
        if member is None:
            raise api_error(404, UNKNOWN_MEMBER)
        return member

    async def _list_members(self, ctx: _Ctx) -> list[JSON]:
        guild = self._guild_or_404(ctx)
        limit = max(1, min(1000, int(ctx.query.get("limit", "1"))))
        after = int(ctx.query.get("after", "0"))
        members = sorted((m for m in guild.members.values() if m.id > after), key=lambda m: m.id)
        return [m.payload() for m in members[:limit]]

    async def _get_member(self, ctx: _Ctx) -> JSON:
        guild = self._guild_or_404(ctx)
        return self._member_or_404(ctx, guild).payload()

    async def _edit_member(self, ctx: _Ctx) -> JSON:
        guild = self._guild_or_404(ctx)
        member = self._member_or_404(ctx, guild)
        body = ctx.body()
        if "nick" in body:
            self._require_guild_perms(
                guild, Perm.MANAGE_NICKNAMES if member.id != self.bot_user.id else Perm.CHANGE_NICKNAME
            )
            member.nick = body["nick"]
        if "roles" in body and body["roles"] is not None:
            wanted = [int(r) for r in body["roles"]]
            for rid in wanted:
                if rid not in guild.roles:
                    raise api_error(404, UNKNOWN_ROLE)
            changed = set(wanted) ^ set(member.role_ids)
            for rid in changed:
                self._can_manage_role(guild, guild.roles[rid])
            reason = ctx.record.reason
            for rid in changed:
                action = "add" if rid in wanted else "remove"
                self.role_changes.append(RoleChange(action, guild.id, member.id, rid, reason))
            member.role_ids = wanted
        self.dispatch("GUILD_MEMBER_UPDATE", member.update_payload())
        return member.payload()

    async def _add_member_role(self, ctx: _Ctx) -> None:
        await self._change_member_role(ctx, add=True)

    async def _remove_member_role(self, ctx: _Ctx) -> None:
        await self._change_member_role(ctx, add=False)

    async def _change_member_role(self, ctx: _Ctx, *, add: bool) -> None:
        guild = self._guild_or_404(ctx)
        member = self._member_or_404(ctx, guild)
        role = self._role_or_404(ctx, guild)
        self._can_manage_role(guild, role)
        self.role_changes.append(
            RoleChange("add" if add else "remove", guild.id, member.id, role.id, ctx.record.reason)
        )
        if add and role.id not in member.role_ids:
            member.role_ids.append(role.id)
        elif not add and role.id in member.role_ids:
            member.role_ids.remove(role.id)
        self.dispatch("GUILD_MEMBER_UPDATE", member.update_payload())

    # ==============================================================================================
    # REST: scheduled events
    # ==============================================================================================

    def _event_perms(self, guild: FakeGuild, channel: FakeChannel | None, *, own: bool) -> None:
        have = guild.bot_permissions(channel)
        if have & Perm.MANAGE_EVENTS:
            return
        if own and have & Perm.CREATE_EVENTS:
            return
        raise api_error(403, MISSING_PERMISSIONS)

    def _validate_event(self, guild: FakeGuild, event: JSON, *, creating: bool) -> FakeChannel | None:
        errs = FormErrors()
        name = event.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 100:
            errs.add("name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        description = event.get("description")
        if description is not None and (not isinstance(description, str) or len(description) > 1000):
            errs.add("description", "BASE_TYPE_MAX_LENGTH", "Must be 1000 or fewer in length.")
        if event.get("privacy_level") != 2:
            errs.add("privacy_level", "BASE_TYPE_CHOICES", "Value must be one of {2}.")
        start = _parse_time(event.get("scheduled_start_time"))
        end = _parse_time(event.get("scheduled_end_time"))
        if start is None:
            errs.add("scheduled_start_time", "DATE_TIME_TYPE_PARSE", "Could not parse the date and time.")
        elif creating and self.reject_past_events and start < datetime.now(UTC):
            errs.add(
                "scheduled_start_time", "GUILD_SCHEDULED_EVENT_SCHEDULE_PAST", "Cannot schedule event in the past."
            )
        if event.get("scheduled_end_time") is not None and end is None:
            errs.add("scheduled_end_time", "DATE_TIME_TYPE_PARSE", "Could not parse the date and time.")
        if start is not None and end is not None and end <= start:
            errs.add(
                "scheduled_end_time",
                "GUILD_SCHEDULED_EVENT_END_BEFORE_START",
                "Cannot schedule event to end before starting.",
            )
        entity_type = event.get("entity_type")
        channel: FakeChannel | None = None
        if entity_type == 3:
            meta = event.get("entity_metadata") or {}
            location = meta.get("location") if isinstance(meta, dict) else None
            if not isinstance(location, str) or not 1 <= len(location) <= 100:
                errs.add("entity_metadata.location", "BASE_TYPE_REQUIRED", "This field is required")
            if event.get("channel_id") is not None:
                errs.add(
                    "channel_id", "GUILD_SCHEDULED_EVENT_CHANNEL_NOT_ALLOWED", "External events cannot have a channel"
                )
            if end is None:
                errs.add("scheduled_end_time", "BASE_TYPE_REQUIRED", "This field is required")
        elif entity_type in (1, 2):
            cid = event.get("channel_id")
            channel = self.channel(int(cid)) if cid is not None else None
            wanted = STAGE_CHANNEL if entity_type == 1 else VOICE_CHANNEL
            if channel is None or channel.guild is not guild or channel.type != wanted:
                errs.add(
                    "channel_id",
                    "GUILD_SCHEDULED_EVENT_INVALID_CHANNEL",
                    "A valid channel of the matching type is required",
                )
        else:
            errs.add("entity_type", "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3}.")
        errs.raise_if_any()
        return channel

    def _event_or_404(self, ctx: _Ctx, guild: FakeGuild) -> JSON:
        event = guild.scheduled_events.get(ctx.id("event_id"))
        if event is None:
            raise api_error(404, UNKNOWN_SCHEDULED_EVENT)
        return event

    async def _list_events(self, ctx: _Ctx) -> list[JSON]:
        guild = self._guild_or_404(ctx)
        return list(guild.scheduled_events.values())

    async def _get_event(self, ctx: _Ctx) -> JSON:
        guild = self._guild_or_404(ctx)
        return self._event_or_404(ctx, guild)

    async def _create_event(self, ctx: _Ctx) -> JSON:
        guild = self._guild_or_404(ctx)
        body = ctx.body()
        cid = body.get("channel_id")
        self._event_perms(guild, self.channel(int(cid)) if cid is not None else None, own=True)
        self._validate_event(guild, body, creating=True)
        event: JSON = {
            "id": str(self.new_id()),
            "guild_id": str(guild.id),
            "channel_id": str(cid) if cid is not None else None,
            "creator_id": str(self.bot_user.id),
            "creator": self.bot_user.payload(),
            "name": body["name"],
            "description": body.get("description"),
            "scheduled_start_time": body["scheduled_start_time"],
            "scheduled_end_time": body.get("scheduled_end_time"),
            "privacy_level": 2,
            "status": 1,
            "entity_type": body["entity_type"],
            "entity_id": None,
            "entity_metadata": body.get("entity_metadata"),
            "user_count": 0,
            "image": None,
            "recurrence_rule": body.get("recurrence_rule"),
        }
        guild.scheduled_events[int(event["id"])] = event
        self.dispatch("GUILD_SCHEDULED_EVENT_CREATE", event)
        return event

    async def _edit_event(self, ctx: _Ctx) -> JSON:
        guild = self._guild_or_404(ctx)
        event = self._event_or_404(ctx, guild)
        body = ctx.body()
        merged = {**event, **body}
        if body.get("entity_type") == 3 and "channel_id" not in body:
            merged["channel_id"] = None
        cid = merged.get("channel_id")
        own = event.get("creator_id") == str(self.bot_user.id)
        self._event_perms(guild, self.channel(int(cid)) if cid is not None else None, own=own)
        self._validate_event(guild, merged, creating=False)
        if "status" in body and body["status"] != event["status"]:
            transitions = {1: {2, 4}, 2: {3}}
            if body["status"] not in transitions.get(int(event["status"]), set()):
                raise ApiError(
                    400,
                    INVALID_FORM_BODY,
                    "Invalid Form Body",
                    {
                        "status": {
                            "_errors": [
                                {
                                    "code": "GUILD_SCHEDULED_EVENT_INVALID_STATUS_TRANSITION",
                                    "message": "Invalid Guild Scheduled Event Status Transition",
                                }
                            ]
                        }
                    },
                )
        for key in (
            "name",
            "description",
            "scheduled_start_time",
            "scheduled_end_time",
            "entity_type",
            "entity_metadata",
            "status",
            "recurrence_rule",
        ):
            if key in body:
                event[key] = body[key]
        event["channel_id"] = str(cid) if cid is not None else None
        self.dispatch("GUILD_SCHEDULED_EVENT_UPDATE", event)
        return event

    async def _delete_event(self, ctx: _Ctx) -> None:
        guild = self._guild_or_404(ctx)
        event = self._event_or_404(ctx, guild)
        cid = event.get("channel_id")
        own = event.get("creator_id") == str(self.bot_user.id)
        self._event_perms(guild, self.channel(int(cid)) if cid is not None else None, own=own)
        del guild.scheduled_events[int(event["id"])]
        self.dispatch("GUILD_SCHEDULED_EVENT_DELETE", event)


def _parse_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _on_shard(snowflake: int, shard_id: int, shard_count: int) -> int:
    """``snowflake`` moved forward by at most ``shard_count - 1`` ms so that
    ``(id >> 22) % shard_count == shard_id``."""
    ms = snowflake >> 22
    return ((ms + (shard_id - ms) % shard_count) << 22) | (snowflake & ((1 << 22) - 1))
