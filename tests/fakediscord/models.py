"""The fake server's world: users, guilds, roles, channels, members, messages, interactions.

Mutating methods on these objects (adding roles, changing overwrites, ...) update the fake's state and,
when a bot is connected, dispatch the matching gateway event (GUILD_ROLE_UPDATE, CHANNEL_UPDATE, ...).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from ._util import JSON, iso_now, permission_value, snowflake_of, wait_until
from .permissions import (
    DEFAULT_EVERYONE_PERMISSIONS,
    Perm,
    base_permissions,
    channel_permissions,
)

if TYPE_CHECKING:
    pass


class Hub(Protocol):
    """What model objects need from the server."""

    def new_id(self) -> int: ...

    def dispatch(self, event: str, data: JSON) -> None: ...

    def register_user(self, user: FakeUser) -> None: ...


# Channel types (subset).
TEXT_CHANNEL = 0
DM_CHANNEL = 1
VOICE_CHANNEL = 2
CATEGORY_CHANNEL = 4
ANNOUNCEMENT_CHANNEL = 5
STAGE_CHANNEL = 13
FORUM_CHANNEL = 15


@dataclass(eq=False)
class FakeUser:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    locale: str = "en-US"
    """The language of the user's Discord app: the ``locale`` of their interactions."""

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": self.avatar,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
        }
        if self.bot:
            data["bot"] = True
        return data


@dataclass(eq=False)
class FakeRole:
    id: int
    guild: FakeGuild
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<@&{self.id}>"

    @property
    def is_everyone(self) -> bool:
        return self.id == self.guild.id

    def payload(self) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {"primary_color": self.color, "secondary_color": None, "tertiary_color": None},
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.bot_id is not None:
            data["tags"] = {"bot_id": str(self.bot_id)}
        return data

    def update(
        self,
        *,
        name: str | None = None,
        permissions: object | None = None,
        position: int | None = None,
        color: int | None = None,
        mentionable: bool | None = None,
        hoist: bool | None = None,
    ) -> None:
        """Change the role and dispatch GUILD_ROLE_UPDATE."""
        if name is not None:
            self.name = name
        if permissions is not None:
            self.permissions = permission_value(permissions)
        if position is not None:
            self.position = position
        if color is not None:
            self.color = color
        if mentionable is not None:
            self.mentionable = mentionable
        if hoist is not None:
            self.hoist = hoist
        self.guild.hub.dispatch("GUILD_ROLE_UPDATE", {"guild_id": str(self.guild.id), "role": self.payload()})

    def set_permissions(self, permissions: object) -> None:
        self.update(permissions=permissions)


@dataclass
class FakeOverwrite:
    id: int
    type: int  # 0 = role, 1 = member
    allow: int = 0
    deny: int = 0

    def payload(self) -> JSON:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass(eq=False)
class FakeChannel:
    id: int
    type: int
    name: str
    guild: FakeGuild | None = None
    position: int = 0
    topic: str | None = None
    parent_id: int | None = None
    nsfw: bool = False
    overwrites: dict[int, FakeOverwrite] = field(default_factory=dict)
    recipient: FakeUser | None = None
    last_message_id: int | None = None

    @property
    def mention(self) -> str:
        return f"<#{self.id}>"

    @property
    def guild_id(self) -> int | None:
        return self.guild.id if self.guild is not None else None

    @property
    def is_dm(self) -> bool:
        return self.type == DM_CHANNEL

    def payload(self) -> JSON:
        if self.type == DM_CHANNEL:
            assert self.recipient is not None
            return {
                "id": str(self.id),
                "type": DM_CHANNEL,
                "last_message_id": str(self.last_message_id) if self.last_message_id else None,
                "flags": 0,
                "recipients": [self.recipient.payload()],
            }
        assert self.guild is not None
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [ow.payload() for ow in self.overwrites.values()],
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "nsfw": self.nsfw,
            "flags": 0,
        }
        if self.type in (TEXT_CHANNEL, ANNOUNCEMENT_CHANNEL, FORUM_CHANNEL):
            data.update(
                topic=self.topic,
                rate_limit_per_user=0,
                last_message_id=str(self.last_message_id) if self.last_message_id else None,
                default_auto_archive_duration=1440,
            )
        if self.type in (VOICE_CHANNEL, STAGE_CHANNEL):
            data.update(
                bitrate=64000,
                user_limit=0,
                rtc_region=None,
                rate_limit_per_user=0,
                last_message_id=str(self.last_message_id) if self.last_message_id else None,
            )
        return data

    def set_overwrite(self, target: object, *, allow: object = 0, deny: object = 0) -> FakeOverwrite:
        """Set a role (FakeRole) or member (FakeMember/FakeUser) overwrite; dispatches CHANNEL_UPDATE."""
        if self.guild is None:
            raise ValueError("DM channels have no permission overwrites")
        target_id = snowflake_of(target)
        kind = 0 if (isinstance(target, FakeRole) or target_id in self.guild.roles) else 1
        ow = FakeOverwrite(target_id, kind, permission_value(allow), permission_value(deny))
        self.overwrites[target_id] = ow
        self.guild.hub.dispatch("CHANNEL_UPDATE", self.payload())
        return ow

    def remove_overwrite(self, target: object) -> None:
        if self.guild is None:
            return
        self.overwrites.pop(snowflake_of(target), None)
        self.guild.hub.dispatch("CHANNEL_UPDATE", self.payload())


@dataclass(eq=False)
class FakeMember:
    user: FakeUser
    guild: FakeGuild
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def mention(self) -> str:
        return f"<@{self.id}>"

    @property
    def roles(self) -> list[FakeRole]:
        return [self.guild.roles[r] for r in self.role_ids if r in self.guild.roles]

    def payload(self, *, with_user: bool = True) -> JSON:
        data: JSON = {
            "roles": [str(r) for r in self.role_ids],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": self.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
            "communication_disabled_until": None,
            "avatar_decoration_data": None,
        }
        if with_user:
            data["user"] = self.user.payload()
        return data

    def update_payload(self) -> JSON:
        data = self.payload()
        data["guild_id"] = str(self.guild.id)
        return data

    def guild_permissions(self) -> int:
        return base_permissions(self.guild, self)

    def permissions_in(self, channel: FakeChannel | None) -> int:
        return channel_permissions(self.guild, channel, self)

    def has_role(self, role: object) -> bool:
        return snowflake_of(role) in self.role_ids

    def add_role(self, role: object) -> None:
        """Give the member a role (test-side, as a moderator would); dispatches GUILD_MEMBER_UPDATE."""
        rid = snowflake_of(role)
        if rid not in self.guild.roles:
            raise KeyError(f"role {rid} is not in guild {self.guild.name!r}")
        if rid not in self.role_ids:
            self.role_ids.append(rid)
        self.guild.hub.dispatch("GUILD_MEMBER_UPDATE", self.update_payload())

    def remove_role(self, role: object) -> None:
        rid = snowflake_of(role)
        if rid in self.role_ids:
            self.role_ids.remove(rid)
        self.guild.hub.dispatch("GUILD_MEMBER_UPDATE", self.update_payload())


@dataclass(eq=False)
class FakeGuild:
    id: int
    name: str
    hub: Hub
    owner_id: int = 0
    locale: str = "en-US"
    roles: dict[int, FakeRole] = field(default_factory=dict)
    channels: dict[int, FakeChannel] = field(default_factory=dict)
    members: dict[int, FakeMember] = field(default_factory=dict)
    scheduled_events: dict[int, JSON] = field(default_factory=dict)
    features: list[str] = field(default_factory=list)
    bot_role_id: int = 0
    joined_at: str = field(default_factory=iso_now)
    # In an outage: listed in READY as unavailable, and no GUILD_CREATE follows at IDENTIFY.
    unavailable: bool = False

    # -- lookups -------------------------------------------------------------------------------------

    @property
    def everyone_role(self) -> FakeRole:
        return self.roles[self.id]

    @property
    def bot_role(self) -> FakeRole:
        return self.roles[self.bot_role_id]

    @property
    def bot_member(self) -> FakeMember:
        return self.members[self.bot_user_id]

    @property
    def bot_user_id(self) -> int:
        role = self.roles[self.bot_role_id]
        assert role.bot_id is not None
        return role.bot_id

    @property
    def owner(self) -> FakeMember:
        return self.members[self.owner_id]

    @property
    def text_channels(self) -> list[FakeChannel]:
        return [c for c in self.channels.values() if c.type == TEXT_CHANNEL]

    def get_member(self, user: object) -> FakeMember | None:
        return self.members.get(snowflake_of(user))

    def get_role(self, role: object) -> FakeRole | None:
        return self.roles.get(snowflake_of(role))

    def role_named(self, name: str) -> FakeRole:
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(f"no role named {name!r} in guild {self.name!r}")

    def channel_named(self, name: str) -> FakeChannel:
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(f"no channel named {name!r} in guild {self.name!r}")

    def permissions_for(self, member: object, channel: FakeChannel | None = None) -> int:
        """Resolved permissions of a member (or the bot) in a channel, or guild-wide if channel is None."""
        m = self.members[snowflake_of(member)]
        return channel_permissions(self, channel, m) if channel is not None else base_permissions(self, m)

    def bot_permissions(self, channel: FakeChannel | None = None) -> int:
        return self.permissions_for(self.bot_user_id, channel)

    # -- payloads ------------------------------------------------------------------------------------

    def payload(self) -> JSON:
        """The guild object (as GET /guilds/{id} returns it)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(self.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": [r.payload() for r in sorted(self.roles.values(), key=lambda r: r.position)],
            "emojis": [],
            "stickers": [],
            "features": list(self.features),
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.locale,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
        }

    def create_payload(self, *, include_all_members: bool) -> JSON:
        """The GUILD_CREATE payload."""
        data = self.payload()
        members = (
            list(self.members.values())
            if include_all_members
            else [m for m in self.members.values() if m.id == self.bot_user_id]
        )
        data.update(
            unavailable=False,
            joined_at=self.joined_at,
            large=len(self.members) > 250,
            member_count=len(self.members),
            members=[m.payload() for m in members],
            channels=[c.payload() for c in self.channels.values()],
            threads=[],
            presences=[],
            voice_states=[],
            stage_instances=[],
            guild_scheduled_events=list(self.scheduled_events.values()),
            soundboard_sounds=[],
            embedded_activities=[],
            lazy=True,
        )
        return data

    # -- mutations -----------------------------------------------------------------------------------

    def _next_channel_position(self) -> int:
        return 1 + max((c.position for c in self.channels.values()), default=-1)

    def _add_channel(
        self,
        kind: int,
        name: str,
        *,
        topic: str | None,
        category: FakeChannel | None,
        position: int | None,
        nsfw: bool,
    ) -> FakeChannel:
        channel = FakeChannel(
            id=self.hub.new_id(),
            type=kind,
            name=name,
            guild=self,
            position=self._next_channel_position() if position is None else position,
            topic=topic,
            parent_id=category.id if category is not None else None,
            nsfw=nsfw,
        )
        self.channels[channel.id] = channel
        self.hub.dispatch("CHANNEL_CREATE", channel.payload())
        return channel

    def add_text_channel(
        self,
        name: str,
        *,
        topic: str | None = None,
        category: FakeChannel | None = None,
        position: int | None = None,
        nsfw: bool = False,
    ) -> FakeChannel:
        return self._add_channel(TEXT_CHANNEL, name, topic=topic, category=category, position=position, nsfw=nsfw)

    def add_voice_channel(
        self, name: str, *, category: FakeChannel | None = None, position: int | None = None
    ) -> FakeChannel:
        return self._add_channel(VOICE_CHANNEL, name, topic=None, category=category, position=position, nsfw=False)

    def add_stage_channel(self, name: str, *, category: FakeChannel | None = None) -> FakeChannel:
        return self._add_channel(STAGE_CHANNEL, name, topic=None, category=category, position=None, nsfw=False)

    def add_category(self, name: str, *, position: int | None = None) -> FakeChannel:
        return self._add_channel(CATEGORY_CHANNEL, name, topic=None, category=None, position=position, nsfw=False)

    def remove_channel(self, channel: object) -> None:
        ch = self.channels.pop(snowflake_of(channel))
        self.hub.dispatch("CHANNEL_DELETE", ch.payload())

    def add_role(
        self,
        name: str,
        *,
        permissions: object = 0,
        position: int | None = None,
        color: int = 0,
        mentionable: bool = False,
        hoist: bool = False,
    ) -> FakeRole:
        """Add a role. Default position: just above the highest non-bot role, below the bot's role."""
        if position is None:
            below_bot = [r.position for r in self.roles.values() if r.id not in (self.id, self.bot_role_id)]
            position = 1 + max(below_bot, default=0)
        role = FakeRole(
            id=self.hub.new_id(),
            guild=self,
            name=name,
            permissions=permission_value(permissions),
            position=position,
            color=color,
            mentionable=mentionable,
            hoist=hoist,
        )
        self.roles[role.id] = role
        self.hub.dispatch("GUILD_ROLE_CREATE", {"guild_id": str(self.id), "role": role.payload()})
        return role

    def remove_role(self, role: object) -> None:
        rid = snowflake_of(role)
        if rid in (self.id, self.bot_role_id):
            raise ValueError("cannot remove @everyone or the bot's managed role")
        self.roles.pop(rid)
        for member in self.members.values():
            if rid in member.role_ids:
                member.role_ids.remove(rid)
        self.hub.dispatch("GUILD_ROLE_DELETE", {"guild_id": str(self.id), "role_id": str(rid)})

    def add_member(
        self,
        user: FakeUser | str,
        *,
        roles: Iterable[object] = (),
        permissions: object | None = None,
        nick: str | None = None,
        global_name: str | None = None,
        bot: bool = False,
        locale: str = "en-US",
    ) -> FakeMember:
        """Add a member (a new user when given a name). ``permissions=`` gives them a personal role;
        ``locale`` is their Discord app's language (a new user's).

        Dispatches GUILD_MEMBER_ADD when a bot is connected.
        """
        if isinstance(user, str):
            fake_user = FakeUser(id=self.hub.new_id(), username=user, global_name=global_name, bot=bot, locale=locale)
            self.hub.register_user(fake_user)
        else:
            fake_user = user
        if fake_user.id in self.members:
            raise ValueError(f"{fake_user.username!r} is already a member of {self.name!r}")
        role_ids = [snowflake_of(r) for r in roles]
        for rid in role_ids:
            if rid not in self.roles:
                raise KeyError(f"role {rid} is not in guild {self.name!r}")
        if permissions is not None:
            personal = self.add_role(f"{fake_user.username} permissions", permissions=permissions)
            role_ids.append(personal.id)
        member = FakeMember(user=fake_user, guild=self, role_ids=role_ids, nick=nick)
        self.members[member.id] = member
        self.hub.dispatch("GUILD_MEMBER_ADD", member.update_payload())
        return member

    def remove_member(self, member: object) -> None:
        m = self.members.pop(snowflake_of(member))
        self.hub.dispatch("GUILD_MEMBER_REMOVE", {"guild_id": str(self.id), "user": m.user.payload()})

    def set_bot_permissions(self, permissions: object) -> None:
        """Set the permissions of the bot's managed role (dispatches GUILD_ROLE_UPDATE)."""
        self.bot_role.update(permissions=permissions)

    def set_bot_role_position(self, position: int) -> None:
        self.bot_role.update(position=position)

    def set_everyone_permissions(self, permissions: object) -> None:
        self.everyone_role.update(permissions=permissions)

    def set_locale(self, locale: str) -> None:
        """A moderator changes the server's default language (Server Settings): GUILD_UPDATE."""
        self.locale = locale
        self.hub.dispatch("GUILD_UPDATE", self.payload())


def new_everyone_role(guild: FakeGuild) -> FakeRole:
    return FakeRole(id=guild.id, guild=guild, name="@everyone", permissions=DEFAULT_EVERYONE_PERMISSIONS)


@dataclass
class FakeAttachment:
    """A file the bot uploaded (multipart) with a message, callback or followup."""

    id: int
    filename: str
    content: bytes
    content_type: str | None = None
    description: str | None = None

    def payload(self, base_url: str) -> JSON:
        return {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.content),
            "url": f"{base_url}/attachments/{self.id}/{self.filename}",
            "proxy_url": f"{base_url}/attachments/{self.id}/{self.filename}",
            "content_type": self.content_type,
            "description": self.description,
        }


@dataclass(eq=False)
class FakeMessage:
    """A message stored by the fake, with the request payload the bot sent (``request``)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: FakeUser
    content: str = ""
    embeds: list[JSON] = field(default_factory=list)
    components: list[JSON] = field(default_factory=list)
    flags: int = 0
    request: JSON = field(default_factory=dict)
    source: str = "channel"
    """"channel" (POST /channels/{id}/messages), "interaction" (callback), "followup", or "user"."""
    nonce: str | None = None
    allowed_mentions: JSON | None = None
    message_reference: JSON | None = None
    attachments: list[FakeAttachment] = field(default_factory=list)
    tts: bool = False
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    edits: list[JSON] = field(default_factory=list)
    deleted: bool = False
    interaction_id: int | None = None
    interaction_metadata: JSON | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    mentions: list[FakeUser] = field(default_factory=list)
    mention_role_ids: list[int] = field(default_factory=list)
    mention_everyone: bool = False
    type: int = 0
    reactions: dict[str, set[int]] = field(default_factory=dict)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    @property
    def embed(self) -> JSON | None:
        return self.embeds[0] if self.embeds else None

    @property
    def mentioned_user_ids(self) -> list[int]:
        return [u.id for u in self.mentions]

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in iter_components(self.components) if "custom_id" in c]

    def find_component(self, custom_id: str) -> JSON | None:
        for comp in iter_components(self.components):
            if comp.get("custom_id") == custom_id:
                return comp
        return None

    def payload(self, base_url: str) -> JSON:
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "channel_id": str(self.channel_id),
            "author": self.author.payload(),
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": self.tts,
            "mention_everyone": self.mention_everyone,
            "mentions": [u.payload() for u in self.mentions],
            "mention_roles": [str(r) for r in self.mention_role_ids],
            "attachments": [a.payload(base_url) for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
            "reactions": [
                {"emoji": {"id": None, "name": name}, "count": len(users), "me": True, "burst_colors": []}
                for name, users in self.reactions.items()
                if users
            ],
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        return data


def iter_components(components: Sequence[JSON]) -> Iterable[JSON]:
    """Every component, depth first, through action rows, containers, sections and labels."""
    for comp in components:
        yield comp
        children = comp.get("components")
        if isinstance(children, list):
            yield from iter_components(children)
        accessory = comp.get("accessory")
        if isinstance(accessory, dict):
            yield accessory
        inner = comp.get("component")
        if isinstance(inner, dict):
            yield from iter_components([inner])


@dataclass
class RequestRecord:
    """One REST request the bot made, with the status the fake answered."""

    method: str
    path: str
    """Path below the API base, e.g. ``/channels/123/messages``."""
    route: str
    """Route template, e.g. ``/channels/{channel_id}/messages`` (``?`` when unknown)."""
    query: dict[str, str]
    json: Any
    timestamp: float
    status: int = 0
    response: Any = None
    reason: str | None = None
    """The ``X-Audit-Log-Reason`` header, URL-decoded."""
    files: list[FakeAttachment] = field(default_factory=list)

    @property
    def params(self) -> dict[str, str]:
        return self.query


@dataclass
class InteractionCallback:
    """One POST /interactions/{id}/{token}/callback the bot made (type 4, 5, 6, 7, 8, 9...)."""

    type: int
    raw: JSON
    files: list[FakeAttachment] = field(default_factory=list)
    timestamp: str = field(default_factory=iso_now)

    @property
    def data(self) -> JSON:
        inner = self.raw.get("data")
        return inner if isinstance(inner, dict) else {}

    @property
    def content(self) -> str | None:
        value = self.data.get("content")
        return value if isinstance(value, str) else None

    @property
    def embeds(self) -> list[JSON]:
        value = self.data.get("embeds")
        return value if isinstance(value, list) else []

    @property
    def embed(self) -> JSON | None:
        return self.embeds[0] if self.embeds else None

    @property
    def components(self) -> list[JSON]:
        value = self.data.get("components")
        return value if isinstance(value, list) else []

    @property
    def flags(self) -> int:
        value = self.data.get("flags")
        return value if isinstance(value, int) else 0

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)

    @property
    def allowed_mentions(self) -> JSON | None:
        value = self.data.get("allowed_mentions")
        return value if isinstance(value, dict) else None

    @property
    def choices(self) -> list[JSON]:
        value = self.data.get("choices")
        return value if isinstance(value, list) else []

    @property
    def deferred(self) -> bool:
        return self.type in (5, 6)

    @property
    def is_modal(self) -> bool:
        return self.type == 9

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in iter_components(self.components) if "custom_id" in c]


@dataclass
class RejectedRequest:
    """A request of the bot's for an interaction that the fake refused (bad payload, double ack...)."""

    method: str
    path: str
    status: int
    error: JSON


class FakeInteraction:
    """An interaction the fake sent to the bot, and everything the bot did with it."""

    def __init__(
        self,
        *,
        id: int,
        token: str,
        type: int,
        payload: JSON,
        user: FakeUser,
        guild: FakeGuild | None,
        channel: FakeChannel,
        description: str,
        message: FakeMessage | None = None,
    ) -> None:
        self.id = id
        self.token = token
        self.type = type
        self.payload = payload
        self.user = user
        self.guild = guild
        self.channel = channel
        self.description = description
        self.message = message
        """The message a component sits on (component and modal interactions)."""
        self.created_at = datetime.now(UTC)
        self.callbacks: list[InteractionCallback] = []
        self._answered = asyncio.Event()
        self.followups: list[FakeMessage] = []
        self.original: FakeMessage | None = None
        """The response message: created by a type 4/5 callback, or the component's message (6/7)."""
        self.original_edits: list[JSON] = []
        self.rejected: list[RejectedRequest] = []
        self.original_deleted = False

    def __repr__(self) -> str:
        return f"<FakeInteraction {self.description} id={self.id} callbacks={[c.type for c in self.callbacks]}>"

    @property
    def acknowledged(self) -> bool:
        return bool(self.callbacks)

    @property
    def channel_id(self) -> int:
        return self.channel.id

    def _explain(self) -> str:
        if self.rejected:
            details = "; ".join(f"{r.method} {r.path} -> {r.status} {r.error}" for r in self.rejected)
            return f" (the fake rejected: {details})"
        return ""

    def record_callback(self, callback: InteractionCallback) -> None:
        self.callbacks.append(callback)
        self._answered.set()

    async def response(self, timeout: float = 5.0) -> InteractionCallback:  # noqa: ASYNC109
        """The bot's (first) interaction callback, waiting for it.

        Woken by the callback itself rather than polling: benchmarks await hundreds of these at
        once, and polling them would take CPU from the bot being measured.
        """
        try:
            await asyncio.wait_for(self._answered.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"timed out after {timeout:g}s waiting for the bot to respond to {self.description}{self._explain()}"
            ) from None
        return self.callbacks[0]

    async def wait_for_followups(self, count: int = 1, timeout: float = 5.0) -> list[FakeMessage]:  # noqa: ASYNC109
        try:
            return await wait_until(
                lambda: list(self.followups) if len(self.followups) >= count else None,
                timeout,
                f"{count} followup(s) to {self.description} (have {len(self.followups)})",
            )
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}{self._explain()}") from None

    async def wait_for_original(self, timeout: float = 5.0, *, edited: bool = False) -> FakeMessage:  # noqa: ASYNC109
        """The response message; with ``edited=True`` only once PATCH @original has happened."""

        def ready() -> FakeMessage | None:
            if self.original is None:
                return None
            if edited and not self.original_edits:
                return None
            return self.original

        try:
            return await wait_until(ready, timeout, f"the original response of {self.description}")
        except TimeoutError as exc:
            raise TimeoutError(f"{exc}{self._explain()}") from None

    async def final_message(self, timeout: float = 5.0) -> FakeMessage:  # noqa: ASYNC109
        """The message the user finally sees: waits through a deferral until @original is edited."""
        first = await self.response(timeout)
        return await self.wait_for_original(timeout, edited=first.type in (5, 6))


__all__ = [
    "ANNOUNCEMENT_CHANNEL",
    "CATEGORY_CHANNEL",
    "DM_CHANNEL",
    "FORUM_CHANNEL",
    "STAGE_CHANNEL",
    "TEXT_CHANNEL",
    "VOICE_CHANNEL",
    "FakeAttachment",
    "FakeChannel",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeOverwrite",
    "FakeRole",
    "FakeUser",
    "Hub",
    "InteractionCallback",
    "Perm",
    "RejectedRequest",
    "RequestRecord",
    "iter_components",
    "new_everyone_role",
]
