"""The fake Slack's world (workspaces, users, channels, user groups) and what it records.

World objects are plain dataclasses that tests build through ``FakeSlack.add_team`` and the
``SlackTeam.add_*`` methods; records (messages, views, calls, deliveries) are what the app under
test did, kept for assertions.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tests.fakediscord._util import wait_until

JSON = dict[str, Any]
"""A decoded JSON object as Slack sends and receives it."""

_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class IdAllocator:
    """Slack-shaped ids: a type letter and ten upper-case base-36 characters (``C00000000A1``).

    Deterministic (a counter, not random) so a failing test prints the same ids on every run.
    """

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def next(self, prefix: str) -> str:
        n = next(self._counter)
        digits = ""
        while n:
            n, rem = divmod(n, 36)
            digits = _ID_ALPHABET[rem] + digits
        return prefix + digits.rjust(10, "0")


class TsClock:
    """Message timestamps as Slack writes them (``"1701234567.000100"``), strictly increasing.

    Slack's ``ts`` is a message's id within its channel, so two posts in the same microsecond
    still need distinct values.
    """

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> str:
        micros = max(int(time.time() * 1_000_000), self._last + 1)
        self._last = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def utc_offset_seconds(tz: str) -> int:
    """The zone's current offset from UTC, as Slack reports it in ``tz_offset``."""
    offset = datetime.now(UTC).astimezone(ZoneInfo(tz)).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@dataclass(eq=False)
class SlackUser:
    id: str
    team_id: str
    name: str
    real_name: str
    tz: str = "America/Los_Angeles"
    tz_offset: int = 0
    locale: str = "en-US"
    is_admin: bool = False
    is_owner: bool = False
    is_primary_owner: bool = False
    is_restricted: bool = False
    is_ultra_restricted: bool = False
    deleted: bool = False
    is_bot: bool = False
    bot_id: str | None = None

    def to_json(self, *, include_locale: bool = False) -> JSON:
        """The ``user`` object of users.info."""
        data: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": self.tz_offset,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": self.is_primary_owner,
            "is_restricted": self.is_restricted,
            "is_ultra_restricted": self.is_ultra_restricted,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": 1700000000,
            "profile": {
                "real_name": self.real_name,
                "display_name": self.name,
                "real_name_normalized": self.real_name,
                "display_name_normalized": self.name,
                "team": self.team_id,
            },
        }
        if self.bot_id is not None:
            data["profile"]["bot_id"] = self.bot_id
        if include_locale:
            data["locale"] = self.locale
        return data


@dataclass(eq=False)
class SlackChannel:
    """A public or private channel, or a DM (``is_im``, id ``D…``) between the bot and ``dm_user``."""

    id: str
    team_id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    members: list[str] = field(default_factory=list)
    bot_is_member: bool = True
    topic: str = ""
    purpose: str = ""
    dm_user: str | None = None
    created: int = 1700000000

    def add_member(self, user: SlackUser) -> None:
        if user.id not in self.members:
            self.members.append(user.id)

    def remove_member(self, user: SlackUser) -> None:
        if user.id in self.members:
            self.members.remove(user.id)

    def archive(self) -> None:
        self.is_archived = True

    def to_json(self, *, include_num_members: bool = False) -> JSON:
        """The ``channel`` object of conversations.info."""
        if self.is_im:
            return {"id": self.id, "created": self.created, "is_im": True, "is_org_shared": False, "user": self.dm_user}
        data: JSON = {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": self.name == "general",
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": self.bot_is_member,
            "created": self.created,
            "creator": self.members[0] if self.members else "",
            "context_team_id": self.team_id,
            "topic": {"value": self.topic, "creator": "", "last_set": 0},
            "purpose": {"value": self.purpose, "creator": "", "last_set": 0},
        }
        if include_num_members:
            data["num_members"] = len(self.members) + (1 if self.bot_is_member else 0)
        return data


@dataclass(eq=False)
class SlackUserGroup:
    id: str
    team_id: str
    handle: str
    name: str
    users: list[str] = field(default_factory=list)
    description: str = ""
    disabled: bool = False

    def to_json(self, *, include_users: bool = False) -> JSON:
        data: JSON = {
            "id": self.id,
            "team_id": self.team_id,
            "is_usergroup": True,
            "name": self.name,
            "description": self.description,
            "handle": self.handle,
            "is_external": False,
            "date_create": 1700000000,
            "date_update": 1700000000,
            "date_delete": 1700000001 if self.disabled else 0,
            "auto_type": None,
            "created_by": "",
            "updated_by": "",
            "deleted_by": None,
            "prefs": {"channels": [], "groups": []},
            "user_count": len(self.users),
        }
        if include_users:
            data["users"] = list(self.users)
        return data


@dataclass(eq=False)
class SlackTeam:
    """A workspace the app is installed in: its bot user, bot token, people, channels, groups."""

    id: str
    name: str
    domain: str
    ids: IdAllocator
    bot_user: SlackUser
    bot_token: str
    installed: bool = True
    scopes: set[str] = field(default_factory=set)
    users: dict[str, SlackUser] = field(default_factory=dict)
    channels: dict[str, SlackChannel] = field(default_factory=dict)
    usergroups: dict[str, SlackUserGroup] = field(default_factory=dict)
    dms: dict[str, SlackChannel] = field(default_factory=dict)
    """The bot's DM channel with each user, by user id (made by conversations.open or ``dm``)."""

    @property
    def bot_id(self) -> str:
        assert self.bot_user.bot_id is not None
        return self.bot_user.bot_id

    def add_user(
        self,
        name: str,
        *,
        real_name: str | None = None,
        tz: str = "America/Los_Angeles",
        tz_offset: int | None = None,
        locale: str = "en-US",
        is_admin: bool = False,
        is_owner: bool = False,
        is_primary_owner: bool = False,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        deleted: bool = False,
        is_bot: bool = False,
    ) -> SlackUser:
        """A person (or another app's bot with ``is_bot``); ``tz_offset`` defaults to the zone's current one."""
        user = SlackUser(
            id=self.ids.next("U"),
            team_id=self.id,
            name=name,
            real_name=real_name if real_name is not None else name.title(),
            tz=tz,
            tz_offset=utc_offset_seconds(tz) if tz_offset is None else tz_offset,
            locale=locale,
            is_admin=is_admin or is_owner or is_primary_owner,
            is_owner=is_owner or is_primary_owner,
            is_primary_owner=is_primary_owner,
            is_restricted=is_restricted or is_ultra_restricted,
            is_ultra_restricted=is_ultra_restricted,
            deleted=deleted,
            is_bot=is_bot,
            bot_id=self.ids.next("B") if is_bot else None,
        )
        self.users[user.id] = user
        return user

    def add_channel(
        self,
        name: str,
        *,
        private: bool = False,
        members: tuple[SlackUser, ...] | list[SlackUser] = (),
        bot_member: bool = True,
        archived: bool = False,
        topic: str = "",
        purpose: str = "",
    ) -> SlackChannel:
        """A channel (``C…`` for public and private alike, as Slack does today) with these members."""
        channel = SlackChannel(
            id=self.ids.next("C"),
            team_id=self.id,
            name=name,
            is_private=private,
            is_archived=archived,
            members=[m.id for m in members],
            bot_is_member=bot_member,
            topic=topic,
            purpose=purpose,
        )
        self.channels[channel.id] = channel
        return channel

    def add_usergroup(
        self,
        handle: str,
        *,
        name: str | None = None,
        users: tuple[SlackUser, ...] | list[SlackUser] = (),
        description: str = "",
        disabled: bool = False,
    ) -> SlackUserGroup:
        group = SlackUserGroup(
            id=self.ids.next("S"),
            team_id=self.id,
            handle=handle,
            name=name if name is not None else handle,
            users=[u.id for u in users],
            description=description,
            disabled=disabled,
        )
        self.usergroups[group.id] = group
        return group

    def dm(self, user: SlackUser) -> SlackChannel:
        """The bot's DM with ``user`` (created on first use, like conversations.open)."""
        existing = self.dms.get(user.id)
        if existing is None:
            existing = SlackChannel(
                id=self.ids.next("D"), team_id=self.id, name="", is_im=True, members=[user.id], dm_user=user.id
            )
            self.dms[user.id] = existing
        return existing

    def user_named(self, name: str) -> SlackUser:
        return next(u for u in self.users.values() if u.name == name)

    def channel_named(self, name: str) -> SlackChannel:
        return next(c for c in self.channels.values() if c.name == name)

    def conversation(self, channel_id: str) -> SlackChannel | None:
        """A channel or DM of this workspace by id."""
        found = self.channels.get(channel_id)
        if found is not None:
            return found
        return next((dm for dm in self.dms.values() if dm.id == channel_id), None)


# ------------------------------------------------------------------------------------------------
# What the app did
# ------------------------------------------------------------------------------------------------


class _Readable:
    """What a person sees of a message: its ``text`` and its blocks."""

    text: str
    blocks: list[JSON]

    def action_ids(self) -> list[str]:
        """Every interactive element's action_id in the blocks, in order."""
        return [e["action_id"] for e in iter_elements(self.blocks) if "action_id" in e]

    def all_text(self) -> str:
        """``text`` plus every text in the blocks: what a person reads, for assertions."""
        return "\n".join([self.text, *block_texts(self.blocks)])


@dataclass(eq=False)
class SlackMessage(_Readable):
    """A message in a channel or DM: posted by the bot, a response_url/ack reply, or a user."""

    team_id: str
    channel_id: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str
    bot_id: str | None
    thread_ts: str | None = None
    metadata: JSON | None = None
    source: str = "api"
    """"api" (chat.postMessage), "response_url", "ack" (a slash command's in_channel ack) or "user"."""
    request: JSON = field(default_factory=dict)
    edits: list[JSON] = field(default_factory=list)
    deleted: bool = False
    reply_broadcast: bool = False

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_json(self, *, include_metadata: bool = True) -> JSON:
        data: JSON = {"type": "message", "text": self.text, "user": self.user, "ts": self.ts, "team": self.team_id}
        if self.bot_id is not None:
            data["bot_id"] = self.bot_id
        if self.blocks:
            data["blocks"] = self.blocks
        if self.thread_ts is not None:
            data["thread_ts"] = self.thread_ts
        if self.edits:
            data["edited"] = {"user": self.user, "ts": self.edits[-1]["ts"]}
        if include_metadata and self.metadata is not None:
            data["metadata"] = self.metadata
        return data


@dataclass(eq=False)
class EphemeralMessage(_Readable):
    """Shown to one user in one channel (chat.postEphemeral, an ephemeral response_url/ack reply)."""

    team_id: str
    channel_id: str
    user_id: str
    ts: str
    text: str
    blocks: list[JSON]
    thread_ts: str | None = None
    source: str = "api"
    request: JSON = field(default_factory=dict)
    edits: list[JSON] = field(default_factory=list)
    deleted: bool = False


@dataclass(eq=False)
class SlackView:
    """A modal opened (views.open/push) or a Home tab published (views.publish)."""

    id: str
    team_id: str
    user_id: str
    view: JSON
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    trigger_id: str | None = None
    closed: bool = False
    updates: list[JSON] = field(default_factory=list)
    """Every earlier version of ``view`` (views.update, a response_action "update")."""

    @property
    def type(self) -> str:
        return str(self.view.get("type", ""))

    @property
    def callback_id(self) -> str:
        return str(self.view.get("callback_id", ""))

    @property
    def blocks(self) -> list[JSON]:
        blocks = self.view.get("blocks", [])
        return blocks if isinstance(blocks, list) else []

    def to_json(self, app_id: str, bot_id: str, state_values: JSON | None = None) -> JSON:
        """The ``view`` object Slack returns and sends in view_submission payloads."""
        return {
            "id": self.id,
            "team_id": self.team_id,
            "type": self.type,
            "title": self.view.get("title"),
            "submit": self.view.get("submit"),
            "close": self.view.get("close"),
            "blocks": self.blocks,
            "private_metadata": self.view.get("private_metadata", ""),
            "callback_id": self.callback_id,
            "external_id": self.view.get("external_id", ""),
            "state": {"values": state_values or {}},
            "hash": self.hash,
            "clear_on_close": bool(self.view.get("clear_on_close", False)),
            "notify_on_close": bool(self.view.get("notify_on_close", False)),
            "root_view_id": self.root_view_id,
            "previous_view_id": self.previous_view_id,
            "app_id": app_id,
            "app_installed_team_id": self.team_id,
            "bot_id": bot_id,
        }

    def all_text(self) -> str:
        return "\n".join(block_texts(self.blocks))


@dataclass
class ApiCall:
    """One Web API request the app made: method, merged arguments, workspace, outcome."""

    method: str
    args: JSON
    team_id: str | None
    http_method: str
    time: float
    """``time.monotonic()`` at arrival."""
    status: int = 0
    response: JSON | None = None

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))

    @property
    def error(self) -> str | None:
        return None if self.response is None else self.response.get("error")


@dataclass
class ResponseUrlPost:
    """A body POSTed to a response_url (or applied from a slash command's ack) and its outcome."""

    body: JSON
    status: int
    error: str | None
    time: float
    via_ack: bool = False


@dataclass(eq=False)
class ResponseUrl:
    """A response_url the fake issued for one slash command or block action."""

    token: str
    url: str
    team_id: str
    channel_id: str
    user_id: str
    issued_at: float
    message_ts: str | None = None
    """The message the action came from (replace_original / delete_original act on it)."""
    message_is_ephemeral: bool = False
    posts: list[ResponseUrlPost] = field(default_factory=list)


@dataclass
class TriggerId:
    value: str
    team_id: str
    user_id: str
    issued_at: float
    used: bool = False


@dataclass(eq=False)
class Delivery:
    """One request Slack made to the app (HTTP POST or Socket Mode envelope) and the app's ack.

    ``payload`` is the normalized ack body, the same in both modes: the JSON object the app
    acknowledged with, ``{"text": …}`` for a plain-text ack, ``None`` for an empty ack.
    """

    kind: str
    """"slash_commands", "interactive" or "events_api" (the Socket Mode envelope type)."""
    request: JSON
    """What Slack sent: the slash command's fields, the interactive payload, the event_callback."""
    team_id: str
    user_id: str | None
    response_url: ResponseUrl | None = None
    trigger_id: str | None = None
    envelope_id: str | None = None
    status: int | None = None
    """HTTP status of the app's answer (Socket Mode: 200 once acked); None when it timed out."""
    body: str = ""
    """The raw HTTP body (Socket Mode: the ack's payload as JSON, or "")."""
    payload: JSON | None = None
    elapsed: float = 0.0
    timed_out: bool = False
    retry_attempt: int = 0
    """Events API retries (``redeliver``): 1, 2, 3 as Slack counts them."""

    @property
    def acked(self) -> bool:
        return self.status == 200

    @property
    def responses(self) -> list[ResponseUrlPost]:
        """What reached the response_url (and the slash command's ack reply), in order."""
        return [] if self.response_url is None else self.response_url.posts

    async def wait_for_responses(self, count: int = 1, timeout: float = 5.0) -> list[ResponseUrlPost]:  # noqa: ASYNC109
        """Wait until the app has used the response_url ``count`` times (bolt's ``respond`` runs after the ack)."""
        return await wait_until(
            lambda: posts if len(posts := self.responses) >= count else None,
            timeout,
            f"{count} response_url post(s)",
        )


# ------------------------------------------------------------------------------------------------
# Block Kit helpers
# ------------------------------------------------------------------------------------------------


def iter_elements(blocks: list[JSON]) -> Iterator[JSON]:
    """Interactive elements of ``actions`` blocks, section accessories and ``input`` elements."""
    for block in blocks:
        if not isinstance(block, dict):
            continue
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if isinstance(element, dict):
                yield {**element, "block_id": block.get("block_id", "")}
        for key in ("accessory", "element"):
            element = block.get(key)
            if isinstance(element, dict):
                yield {**element, "block_id": block.get("block_id", "")}


def block_texts(blocks: list[JSON]) -> list[str]:
    """Every ``text`` string found anywhere in the blocks (sections, fields, context, headers, buttons)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            text = node.get("text")
            if isinstance(text, str) and node.get("type") in ("plain_text", "mrkdwn"):
                found.append(text)
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return found


def dumps(data: object) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)
