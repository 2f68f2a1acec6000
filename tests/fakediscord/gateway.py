"""The fake gateway: HELLO, IDENTIFY/READY/GUILD_CREATE, heartbeats, RESUME with replay, dispatch."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from ._util import JSON, to_json

if TYPE_CHECKING:
    from .server import FakeDiscord

# Gateway opcodes.
OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

# Intents.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_DIRECT_MESSAGE_REACTIONS = 1 << 13
INTENT_MESSAGE_CONTENT = 1 << 15
INTENT_GUILD_SCHEDULED_EVENTS = 1 << 16
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

_GUILD_EVENTS = {
    "GUILD_CREATE",
    "GUILD_UPDATE",
    "GUILD_DELETE",
    "GUILD_ROLE_CREATE",
    "GUILD_ROLE_UPDATE",
    "GUILD_ROLE_DELETE",
    "CHANNEL_CREATE",
    "CHANNEL_UPDATE",
    "CHANNEL_DELETE",
}
_MEMBER_EVENTS = {"GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"}
_MESSAGE_EVENTS = {"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"}
_REACTION_EVENTS = {"MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"}


@dataclass
class GatewayConnectionInfo:
    """One websocket connection the bot opened (public record for assertions)."""

    path: str
    query: dict[str, str]
    opened_at: float
    closed_at: float | None = None
    close_code: int | None = None
    """The close code aiohttp recorded for the connection (the client's reply to a server close)."""
    server_close_code: int | None = None
    """The code the fake closed the connection with, when the fake closed it."""
    identified: bool = False
    resumed: bool = False
    heartbeats: int = 0


@dataclass
class GatewaySession:
    session_id: str
    intents: int
    identify: JSON
    shard: tuple[int, int] = (0, 1)
    """IDENTIFY's ``[shard_id, shard_count]``: the session gets the events of that shard's guilds."""
    seq: int = 0
    delivered_seq: int = 0
    initial_seq: int = 0
    """Sequence of the last GUILD_CREATE sent after IDENTIFY."""
    log: list[JSON] = field(default_factory=list)
    conn: GatewayConnection | None = None
    resumable: bool = True
    expect_reconnect: bool = False
    """The fake dropped the connection on purpose; the bot is expected to come back (RESUME/IDENTIFY)."""

    def has_intent(self, bit: int) -> bool:
        return bool(self.intents & bit)


class GatewayConnection:
    def __init__(self, ws: web.WebSocketResponse, info: GatewayConnectionInfo) -> None:
        self.ws = ws
        self.info = info
        self.session: GatewaySession | None = None
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self.closed = asyncio.Event()

    def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name="fakediscord-gateway-writer")

    def send(self, payload: JSON) -> None:
        self._queue.put_nowait(to_json(payload))

    async def _write_loop(self) -> None:
        while True:
            item = await self._queue.get()
            try:
                if item is None:
                    return
                if self.ws.closed:
                    continue
                try:
                    await self.ws.send_str(item)
                except (ConnectionError, RuntimeError):
                    continue
                if item.startswith('{"op":0') and self.session is not None and self.session.conn is self:
                    seq = json.loads(item).get("s")
                    if isinstance(seq, int) and seq > self.session.delivered_seq:
                        self.session.delivered_seq = seq
            finally:
                self._queue.task_done()

    async def stop(self) -> None:
        self._queue.put_nowait(None)
        if self._writer is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await asyncio.wait_for(self._writer, 2.0)

    async def close(self, code: int, message: str = "") -> None:
        if self.info.server_close_code is None:
            self.info.server_close_code = code
        await self.flush()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.ws.close(code=code, message=message.encode()), 5.0)

    async def flush(self) -> None:
        """Wait (at most 2 s) until everything queued so far has been written."""
        if self.ws.closed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), 2.0)


class Gateway:
    def __init__(self, fake: FakeDiscord, heartbeat_interval_ms: int, privileged_intents: bool) -> None:
        self.fake = fake
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.privileged_intents = privileged_intents
        self.sessions: dict[str, GatewaySession] = {}
        self.shards: dict[int, GatewaySession] = {}
        """The live session of each shard id (one, shard 0 of 1, for an unsharded bot)."""
        self.connections: list[GatewayConnectionInfo] = []
        self._open: list[GatewayConnection] = []
        self.identify_count = 0
        self.resume_count = 0
        self.identify_payloads: list[JSON] = []
        self.presence_updates: list[JSON] = []
        self.voice_state_updates: list[JSON] = []
        self.member_requests: list[JSON] = []

    # -- dispatch ------------------------------------------------------------------------------------

    def _wants(self, session: GatewaySession, event: str, data: JSON) -> bool:
        if event in _GUILD_EVENTS:
            return session.has_intent(INTENT_GUILDS)
        if event in _MEMBER_EVENTS:
            user = data.get("user") or {}
            if event == "GUILD_MEMBER_UPDATE" and str(user.get("id")) == str(self.fake.bot_user.id):
                return True
            return session.has_intent(INTENT_GUILD_MEMBERS)
        if event.startswith("GUILD_SCHEDULED_EVENT_"):
            return session.has_intent(INTENT_GUILD_SCHEDULED_EVENTS)
        if event in _MESSAGE_EVENTS:
            return session.has_intent(INTENT_GUILD_MESSAGES if "guild_id" in data else INTENT_DIRECT_MESSAGES)
        if event in _REACTION_EVENTS:
            return session.has_intent(
                INTENT_GUILD_MESSAGE_REACTIONS if "guild_id" in data else INTENT_DIRECT_MESSAGE_REACTIONS
            )
        return True

    def _strip_content(self, session: GatewaySession, event: str, data: JSON) -> JSON:
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE") or session.has_intent(INTENT_MESSAGE_CONTENT):
            return data
        bot_id = str(self.fake.bot_user.id)
        author = data.get("author") or {}
        mentioned = any(str(u.get("id")) == bot_id for u in data.get("mentions") or [])
        if "guild_id" not in data or str(author.get("id")) == bot_id or mentioned:
            return data
        stripped = dict(data)
        stripped.update(content="", embeds=[], attachments=[], components=[])
        return stripped

    @property
    def current(self) -> GatewaySession | None:
        """Shard 0's session (the only one of an unsharded bot)."""
        return self.shards.get(0)

    def session_for(self, guild_id: int | None) -> GatewaySession | None:
        """The session of the shard a guild belongs to, ``(guild_id >> 22) % shard_count`` as
        Discord routes; events without a guild go to shard 0."""
        if not self.shards or guild_id is None:
            return self.current
        count = next(iter(self.shards.values())).shard[1]
        return self.shards.get((guild_id >> 22) % count)

    def dispatch(self, event: str, data: JSON, session: GatewaySession | None = None) -> int | None:
        """Send (or, while disconnected, buffer for RESUME) an event to ``session``, by default
        to the shard of the event's guild; returns its sequence number."""
        session = session or self.session_for(_guild_of(event, data))
        if session is None or not self._wants(session, event, data):
            return None
        data = self._strip_content(session, event, data)
        session.seq += 1
        payload: JSON = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
        session.log.append(payload)
        if session.conn is not None:
            session.conn.send(payload)
        return session.seq

    def members_intent(self) -> bool:
        return self.current is not None and self.current.has_intent(INTENT_GUILD_MEMBERS)

    @property
    def connected(self) -> bool:
        """Some shard is connected and none of the identified ones is down."""
        return bool(self.shards) and all(session.conn is not None for session in self.shards.values())

    def reachable(self, guild_id: int | None) -> bool:
        """The guild's shard is connected, or dropped by the fake and expected back (events are
        buffered for RESUME)."""
        session = self.session_for(guild_id)
        return session is not None and (session.conn is not None or session.expect_reconnect)

    # -- websocket handler ---------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        info = GatewayConnectionInfo(path=request.path, query=dict(request.query), opened_at=time.time())
        self.connections.append(info)
        conn = GatewayConnection(ws, info)
        self._open.append(conn)
        conn.start()
        conn.send(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval_ms, "_trace": ['["fake-gateway",{}]']},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        payload = json.loads(msg.data)
                    except ValueError:
                        await conn.close(4002, "Error while decoding payload.")
                        break
                    if not isinstance(payload, dict):
                        await conn.close(4002, "Error while decoding payload.")
                        break
                    await self._on_payload(conn, payload)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            info.closed_at = time.time()
            info.close_code = int(ws.close_code) if ws.close_code is not None else None
            await conn.stop()
            if conn in self._open:
                self._open.remove(conn)
            session = conn.session
            if session is not None and session.conn is conn:
                session.conn = None
                if ws.close_code in (1000, 1001) and not session.expect_reconnect:
                    # A clean close ends the session (discord.py's Client.close()).
                    session.resumable = False
                    if self.shards.get(session.shard[0]) is session:
                        del self.shards[session.shard[0]]
            conn.closed.set()
        return ws

    async def _on_payload(self, conn: GatewayConnection, payload: JSON) -> None:
        op = payload.get("op")
        data: Any = payload.get("d")
        if op == OP_HEARTBEAT:
            conn.info.heartbeats += 1
            conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
            return
        if op == OP_IDENTIFY:
            await self._identify(conn, data if isinstance(data, dict) else {})
            return
        if op == OP_RESUME:
            self._resume(conn, data if isinstance(data, dict) else {})
            return
        if conn.session is None:
            await conn.close(4003, "Not authenticated.")
            return
        if op == OP_PRESENCE:
            self.presence_updates.append(data)
        elif op == OP_VOICE_STATE:
            self.voice_state_updates.append(data)
        elif op == OP_REQUEST_MEMBERS:
            self._request_members(data if isinstance(data, dict) else {})
        else:
            await conn.close(4001, "Unknown opcode.")

    async def _identify(self, conn: GatewayConnection, data: JSON) -> None:
        if conn.session is not None:
            await conn.close(4005, "Already authenticated.")
            return
        if data.get("token") != self.fake.token:
            await conn.close(4004, "Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            await conn.close(4013, "Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS and not self.privileged_intents:
            await conn.close(4014, "Disallowed intent(s).")
            return
        shard = _shard(data.get("shard"))
        if shard is None:
            await conn.close(4010, "Invalid shard.")
            return
        for other in list(self.shards.values()):
            if other.shard[0] == shard[0] or other.shard[1] != shard[1]:
                # a new session of the same shard, or a new shard count, ends the old sessions
                other.resumable = False
                del self.shards[other.shard[0]]
        session = GatewaySession(session_id=secrets.token_hex(16), intents=intents, identify=data, shard=shard)
        session.conn = conn
        conn.session = session
        conn.info.identified = True
        self.sessions[session.session_id] = session
        self.shards[shard[0]] = session
        self.identify_payloads.append(data)
        fake = self.fake
        ready: JSON = {
            "v": 10,
            "user": fake.bot_user_payload(),
            "guilds": [{"id": str(g), "unavailable": True} for g in fake.guilds if _on_shard(g, shard)],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": fake.resume_gateway_url,
            "application": {"id": str(fake.application_id), "flags": fake.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["fake"],
            "user_settings": {},
            "auth": {},
            "_trace": ['["fake-gateway",{}]'],
        }
        if "shard" in data:
            ready["shard"] = list(shard)
        self.dispatch("READY", ready, session)
        members = session.has_intent(INTENT_GUILD_MEMBERS)
        for guild in list(fake.guilds.values()):
            if not guild.unavailable and self.session_for(guild.id) is session:
                self.dispatch("GUILD_CREATE", guild.create_payload(include_all_members=members), session)
        session.initial_seq = session.seq
        self.identify_count += 1

    def _resume(self, conn: GatewayConnection, data: JSON) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        if (
            session is None
            or not session.resumable
            or self.shards.get(session.shard[0]) is not session
            or data.get("token") != self.fake.token
        ):
            conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        if session.conn is not None and session.conn is not conn:
            old = session.conn
            old.session = None
            asyncio.get_running_loop().create_task(old.close(4009, "Session superseded."))
        session.conn = conn
        session.expect_reconnect = False
        conn.session = session
        conn.info.resumed = True
        last = seq if isinstance(seq, int) else 0
        for payload in session.log:
            if payload["s"] > last:
                conn.send(payload)
        self.dispatch("RESUMED", {"_trace": ['["fake-gateway",{}]']}, session)
        self.resume_count += 1

    def _request_members(self, data: JSON) -> None:
        self.member_requests.append(data)
        guild = self.fake.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        members = list(guild.members.values())
        user_ids = data.get("user_ids")
        not_found: list[str] = []
        if user_ids:
            wanted = {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            not_found = [str(u) for u in wanted if u not in guild.members]
            members = [m for m in members if m.id in wanted]
        elif data.get("query"):
            query = str(data["query"]).lower()
            members = [m for m in members if m.user.username.lower().startswith(query)]
        limit = data.get("limit") or 0
        if isinstance(limit, int) and limit > 0:
            members = members[:limit]
        chunk: JSON = {
            "guild_id": str(guild.id),
            "members": [m.payload() for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": not_found,
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        self.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    # -- test hooks ----------------------------------------------------------------------------------

    async def drop(self, *, resume: bool, reconnect_opcode: bool, code: int) -> None:
        session = self.current
        if session is None or session.conn is None:
            raise RuntimeError("no bot is connected to the fake gateway")
        conn = session.conn
        session.expect_reconnect = True
        if not resume:
            session.resumable = False
            conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
        elif reconnect_opcode:
            conn.send({"op": OP_RECONNECT, "d": None, "s": None, "t": None})
        else:
            await conn.close(code, "fake gateway drop")
        await asyncio.wait_for(conn.closed.wait(), 10.0)

    async def close_all(self) -> None:
        for conn in list(self._open):
            await conn.close(1001, "fake server shutting down")
        self.shards.clear()


def _shard(value: object) -> tuple[int, int] | None:
    """IDENTIFY's ``shard`` field as (id, count), (0, 1) when absent; None when invalid."""
    if value is None:
        return (0, 1)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(n, int) for n in value)
        and 0 <= value[0] < value[1]
    ):
        return (value[0], value[1])
    return None


def _on_shard(guild_id: int, shard: tuple[int, int]) -> bool:
    return (guild_id >> 22) % shard[1] == shard[0]


def _guild_of(event: str, data: JSON) -> int | None:
    """The guild an event belongs to, which decides the shard it travels on."""
    guild_id = data.get("guild_id")
    if guild_id is None and event in ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"):
        guild_id = data.get("id")
    return int(guild_id) if guild_id is not None else None
