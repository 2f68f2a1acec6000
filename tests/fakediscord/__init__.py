"""A Discord-compatible fake server for end-to-end tests of the real discord.py client.

``FakeDiscord`` serves Discord's REST API (``/api/v10``) and gateway websocket on 127.0.0.1
(random free port). The bot under test is an unmodified ``discord.Client``/``commands.Bot``;
the only change is where it connects::

    discord.http.Route.BASE = fake.api_base              # "http://127.0.0.1:PORT/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)

which ``fake_endpoints(fake)`` / ``running_bot(fake, bot)`` do (and undo) for you.

Quick start::

    from tests.fakediscord import FakeDiscord, Perm, running_bot

    async def test_cast() -> None:
        async with FakeDiscord() as fake:
            guild = fake.add_guild("Film Club")
            channel = guild.add_text_channel("general")
            alice = guild.add_member("alice")
            async with running_bot(fake, make_bot()):        # logged in, setup_hook done, guilds cached
                inter = await fake.slash(guild, channel, alice, "ballerina", "cast")
                reply = await inter.response(timeout=5)     # InteractionCallback
                assert reply.type == 4 and "Ana de Armas" in reply.embed["description"]

Server (``FakeDiscord``)
------------------------
``FakeDiscord(*, token=None, host="127.0.0.1", port=0, bot_name="Ballerina Bot",
heartbeat_interval_ms=41250, global_rate_limit=None, channel_message_rate=None, nonce_window=300.0,
callback_deadline=3.0, privileged_intents=True, reject_past_events=False, latency=0.0,
route_latency=None)``

* ``async with FakeDiscord() as fake`` or ``await fake.start()`` / ``await fake.close()``; no event
  loop is bound at construction.
* ``fake.api_base``, ``fake.gateway_url``, ``fake.resume_gateway_url``, ``fake.base_url``, ``fake.port``,
  ``fake.application_id``, ``fake.bot_user`` (``FakeUser``; ``fake.bot_user.id`` is the bot's user id,
  equal to the application id), ``fake.token`` (the fake checks ``Authorization: Bot <token>`` and the
  IDENTIFY token; a wrong token gives 401 / close 4004).
* ``callback_deadline``: interaction callbacks later than this (seconds) get 404 10062 "Unknown
  interaction", as on Discord (3 s). ``None`` disables. Followup tokens last 15 minutes.
* Network latency: ``latency`` (seconds) delays every REST request, ``route_latency`` maps a route
  template, with or without its method, to its own delay: ``{"POST /interactions/{interaction_id}/
  {token}/callback": 0.1, "/channels/{channel_id}/messages/{message_id}": 0.1}`` (every method of
  that route). A method and route beats a route, which beats ``latency``. Change them while the bot
  runs: ``fake.latency = 0.05``, ``fake.set_route_latency(route, seconds)`` (``None`` removes it;
  an unknown route raises ``ValueError``); ``fake.latency_for(method, template)`` tells the delay.
  The delay is spent when the request arrives, before the fake looks at it: the real client waits
  the whole round trip, and the request meets ``callback_deadline`` and the rate limits that much
  later (and appears in ``fake.requests`` only then). Other templates worth delaying: the
  followups ``POST /webhooks/{webhook_id}/{token}`` and their edits ``PATCH /webhooks/{webhook_id}/
  {token}/messages/{message_id}`` (``@original`` too), ``POST /channels/{channel_id}/messages``.
  The gateway is not delayed.
* ``privileged_intents=False``: identifying with members/presences/message-content closes with 4014.
* Shards: IDENTIFY's ``shard: [id, count]`` is honoured: that session's READY (which echoes
  ``shard``) and GUILD_CREATEs list only the guilds with ``(guild_id >> 22) % count == id``, and
  every later event of a guild, interactions included, travels on its shard's connection (events
  without a guild on shard 0). A bad ``shard`` closes with 4010. ``fake.recommended_shards`` (1)
  is what ``GET /gateway/bot`` answers in ``shards``; ``fake.gateway.shards`` maps each shard id
  to its live session. ``fake.add_guild(..., shard=(id, count))`` picks a guild id on that shard.
* ``reject_past_events=True``: scheduled events starting in the past are refused (off by default
  because tests often run bots on frozen clocks).

World building (events are dispatched to a connected bot; objects are plain dataclasses)
-----------------------------------------------------------------------------------------
* ``fake.add_guild(name, *, owner=None, bot_permissions=DEFAULT_BOT_PERMISSIONS,
  bot_role_position=100, locale="en-US", features=()) -> FakeGuild`` (GUILD_CREATE when connected);
  ``fake.remove_guild(guild)`` (GUILD_DELETE). Each guild has ``@everyone`` (id = guild id,
  ``DEFAULT_EVERYONE_PERMISSIONS``), the bot's managed role (``guild.bot_role``, position 100 so it
  can manage roles added by tests) and member (``guild.bot_member``), and an owner member
  (``guild.owner_id``, ``guild.owner``).
* ``fake.add_user(username, *, global_name=None, bot=False) -> FakeUser`` (users outside guilds, DMs).
* ``FakeGuild``: ``add_text_channel(name, *, topic=None, category=None, position=None, nsfw=False)``,
  ``add_voice_channel(name, ...)``, ``add_stage_channel(name)``, ``add_category(name)``,
  ``remove_channel(ch)``; ``add_role(name, *, permissions=0, position=None, color=0,
  mentionable=False, hoist=False) -> FakeRole`` (default position: above other roles, below the
  bot's), ``remove_role(role)``; ``add_member(user_or_name, *, roles=(), permissions=None, nick=None,
  global_name=None, bot=False, locale="en-US") -> FakeMember`` (``permissions=`` gives a personal role),
  ``remove_member(m)``; ``set_bot_permissions(perms)`` and ``set_bot_role_position(pos)``
  (GUILD_ROLE_UPDATE), ``set_everyone_permissions(perms)``, ``set_locale(tag)`` (GUILD_UPDATE);
  lookups ``get_member``, ``get_role``,
  ``role_named``, ``channel_named``, ``text_channels``; ``permissions_for(member, channel=None)`` and
  ``bot_permissions(channel=None)`` resolve permissions exactly like Discord (owner, ADMINISTRATOR,
  @everyone/role/member overwrites); ``scheduled_events`` (dict id -> event payload);
  ``unavailable = True`` (an outage): the next READY lists it as unavailable, no GUILD_CREATE follows.
* ``FakeRole.update(name=, permissions=, position=, color=, mentionable=, hoist=)`` /
  ``set_permissions(p)`` -> GUILD_ROLE_UPDATE. ``FakeMember.add_role(r)`` / ``remove_role(r)`` ->
  GUILD_MEMBER_UPDATE (``guild.bot_member.add_role(...)`` changes the bot's own roles);
  ``has_role``, ``roles``, ``permissions_in(channel)``. ``FakeChannel.set_overwrite(role_or_member,
  *, allow=0, deny=0)`` / ``remove_overwrite(t)`` -> CHANNEL_UPDATE.
* Permission values are ints or ``discord.Permissions``; ``Perm`` is an ``IntFlag`` of every bit
  (``Perm.MANAGE_ROLES | Perm.SEND_MESSAGES``), ``ALL_PERMISSIONS``.
* ``fake.user_message(channel, author, content) -> FakeMessage``: a user posts (MESSAGE_CREATE; the
  content is blanked for bots without the MESSAGE_CONTENT intent unless it mentions the bot).

Interactions (the fake plays the Discord client)
------------------------------------------------
* ``await fake.slash(guild, channel, user, *path, options=None, locale=None) -> FakeInteraction``.
  Every interaction carries ``locale`` (the user's app language: ``user.locale``, set with
  ``add_member(..., locale="ko")``, unless ``locale=`` overrides it) and, in a server,
  ``guild_locale`` (``guild.locale``), as Discord sends them.
  ``path`` is ``"group", "sub"`` or ``"group sub"``; ``options={"offsets": "7d,1d", "role": fake_role,
  "who": member, "where": channel}``. The command must have been registered by the bot (guild
  command first, then global); its id, ``guild_id``, option types and ``resolved`` data come from
  the registration. ``guild=None`` runs it in the user's DM. The fake refuses (raises
  ``InteractionNotAllowed``) what Discord's client would not send: unknown commands/options,
  missing required options, wrong option types/choices/ranges, ``default_member_permissions`` the
  member lacks, commands not available in DMs.
* ``await fake.autocomplete(guild, channel, user, path, *, options=None, focused, timeout=5.0)
  -> list[dict]`` (the choices of the bot's type 8 callback); ``autocomplete_interaction(...)`` for
  the ``FakeInteraction``.
* ``await fake.click(message, custom_id, user, *, values=None, check=True) -> FakeInteraction``:
  a component interaction on a stored ``FakeMessage`` (buttons; selects with ``values``). With
  ``check`` the component must exist and be enabled.
* ``await fake.submit_modal(interaction, {custom_id: value}, *, user=None) -> FakeInteraction`` for
  a modal the bot opened (callback type 9) on ``interaction``.
* ``FakeInteraction``: ``id``, ``token``, ``type``, ``payload`` (what was dispatched), ``user``,
  ``guild``, ``channel``, ``message`` (component's message); ``await response(timeout=5.0) ->
  InteractionCallback`` (first callback); ``callbacks``; ``followups`` (list of ``FakeMessage``;
  after a type 5 defer the first followup *replaces* the thinking message, as on Discord);
  ``original`` (response message; for type 6/7 the component's message) and ``original_edits``
  (PATCH @original bodies); ``await wait_for_followups(count=1, timeout=5.0)``,
  ``await wait_for_original(timeout=5.0, *, edited=False)``, ``await final_message(timeout)``
  (waits through a defer); ``rejected`` (requests of the bot the fake refused: bad payloads, a
  second acknowledgement (400 40060), too late (404 10062)); ``acknowledged``.
* ``InteractionCallback``: ``type``, ``raw`` (full callback body), ``data``, ``content``,
  ``embeds``, ``embed``, ``components``, ``custom_ids()``, ``flags``, ``ephemeral``,
  ``allowed_mentions``, ``choices``, ``deferred``, ``is_modal``, ``files``.
* Payloads the bot sends are validated like Discord does (content <= 2000, embed limits,
  component layout and custom_id rules, allowed_mentions exclusivity, empty messages, autocomplete
  choices, command names/options) and refused with 400 50035 "Invalid Form Body".

Messages, DMs, requests
-----------------------
* ``FakeMessage``: ``id``, ``channel_id``, ``guild_id``, ``author``, ``content``, ``embeds``,
  ``embed``, ``components``, ``custom_ids()``, ``flags``, ``ephemeral``, ``request`` (the body the
  bot sent), ``source`` ("channel", "interaction", "followup", "user"), ``nonce``,
  ``allowed_mentions``, ``message_reference``, ``attachments`` (``FakeAttachment`` with bytes),
  ``mentions``/``mentioned_user_ids``/``mention_role_ids``/``mention_everyone`` (what Discord would
  ping given allowed_mentions), ``edits``, ``edited_timestamp``, ``deleted``, ``reactions``.
* ``fake.channel_messages(channel, *, include_interactions=False, include_ephemeral=False,
  include_deleted=False)``; ``await fake.wait_for_messages(channel, count=1, timeout=5.0, *,
  include_interactions=False)``; ``fake.messages`` (all, by id).
* ``fake.dm_messages(user)``, ``await fake.wait_for_dm_messages(user, count=1, timeout=5.0)``,
  ``fake.dm_channel(user)``. POST /users/@me/channels is idempotent per recipient.
* Sending needs VIEW_CHANNEL (else 403 50001) and SEND_MESSAGES (+ATTACH_FILES for files, +READ_
  MESSAGE_HISTORY for replies) of the bot in the channel (else 403 50013). ``nonce`` with
  ``enforce_nonce`` (discord.py always sets it) in the same channel within ``nonce_window`` seconds
  returns the first message instead of posting again (``fake.nonce_dedup_count``).
* ``fake.requests`` (``RequestRecord``: ``method``, ``path`` below /api/v10, ``route`` template,
  ``query``, ``json``, ``files``, ``status``, ``response``, ``reason`` (audit log), ``timestamp``);
  ``fake.find_requests(method, path_regex)``, ``await fake.wait_for_request(method, path_regex,
  count=1, timeout=5.0)``; ``fake.events`` (gateway events dispatched: (name, data));
  ``fake.role_changes`` (``RoleChange``: ``action`` "add"/"remove", ``guild_id``, ``user_id``,
  ``role_id``, ``reason``); ``fake.interactions``, ``fake.last_interaction``.
* Commands: ``fake.global_commands``, ``fake.guild_commands(guild)``, ``fake.find_command(name,
  guild=None)``, ``fake.command_syncs`` (every bulk PUT). Ids are kept across re-syncs by name.
* Scheduled events: ``fake.scheduled_events(guild)``; create/edit/delete need MANAGE_EVENTS (or
  CREATE_EVENTS for the bot's own events, like Discord) else 403 50013; entity/time/status rules
  are validated.

Errors and rate limits
----------------------
* ``fake.fail_channel(channel, *, status=403, code=50013, message=None, method=None, times=None)``
  (e.g. ``status=404, code=10003``); ``fake.fail_requests(method, path_regex, *, status, code=0,
  message=None, times=None)``; ``fake.close_dms(user)`` / ``open_dms(user)`` (403 50007 "Cannot send
  messages to this user"); ``fake.remove_failure(f)``, ``fake.clear_failures()``.
* ``fake.inject_rate_limit(method=None, path_regex="", *, retry_after=0.2, is_global=True,
  times=1)``: the next matching requests get a 429.
* ``FakeDiscord(global_rate_limit=50)`` / ``fake.set_global_rate_limit(n)``: at most n requests per
  sliding second, else a global 429 (``"global": true``, ``X-RateLimit-Global``, ``X-RateLimit-Scope:
  global``, ``Retry-After``, ``Via``). Interaction callbacks and followups are exempt.
* ``FakeDiscord(channel_message_rate=(5, 5.0))`` / ``fake.set_route_limit(method, template, limit,
  per)``: fixed-window buckets per major parameter with per-route 429s (bucket headers, ``Scope:
  user``). Successful responses always carry ``X-RateLimit-*`` headers.
* ``fake.rate_limited_count`` counts every 429 sent. Responses are ``Content-Type:
  application/json`` exactly (discord.py ignores bodies otherwise).

Gateway
-------
HELLO (``heartbeat_interval_ms``), IDENTIFY -> READY (``resume_gateway_url`` = the fake's
``/resume-gateway``) + one full GUILD_CREATE per guild (all members with the GUILD_MEMBERS intent,
else just the bot), heartbeat ACKs, sequence numbers, REQUEST_GUILD_MEMBERS chunks, RESUME with
replay of missed events (-> RESUMED), events filtered by intents.

* ``await fake.wait_for_identify(timeout=10.0, *, min_count=1)``: the bot identified (``min_count``
  times in all) and READY + every GUILD_CREATE were written to it. Not ``on_ready``, which discord.py
  delays by ``guild_ready_timeout``.
* ``await fake.drop_gateway(*, resume=True, reconnect_opcode=False, code=4000)``: close the socket
  (or send op 7); the bot RESUMEs on ``resume_gateway_url`` and events dispatched meanwhile
  (including interactions) are replayed. ``resume=False`` sends op 9 so the bot IDENTIFYs again
  (discord.py waits 5 s in ``Client.before_identify_hook`` before re-identifying; override that
  public hook in test bots).
* ``await fake.wait_for_resume(timeout=10.0, *, min_count=1)``, ``await fake.wait_for_disconnect()``,
  ``await fake.flush_gateway()`` (every dispatched event written), ``fake.identify_count``,
  ``fake.resume_count``, ``fake.bot_connected``, ``fake.last_identify`` (IDENTIFY payload),
  ``fake.gateway_connections`` (``GatewayConnectionInfo``: ``path``, ``query``, ``identified``,
  ``resumed``, ``server_close_code``, ``heartbeats``...).
* A stopped bot may be replaced by a new client on the same fake (new IDENTIFY, same world and
  registered commands). Interactions need a connected bot (``RuntimeError`` otherwise).

Harness (``tests.fakediscord.harness``)
---------------------------------------
* ``async with running_bot(fake, bot, *, timeout=10.0) as task:`` sets the endpoints, starts
  ``bot.start(fake.token)``, waits until it identified and cached every guild, and on exit closes
  the bot and restores the endpoints. Endpoints are class attributes: one fake per test at a time.
* ``fake_endpoints(fake)`` (sync context manager), ``await start_bot(fake, bot) -> task``,
  ``await stop_bot(bot, task)`` for finer control (e.g. restarting the bot process mid-test).
"""

from .gateway import GatewayConnectionInfo
from .harness import fake_endpoints, running_bot, start_bot, stop_bot
from .models import (
    FakeAttachment,
    FakeChannel,
    FakeGuild,
    FakeInteraction,
    FakeMember,
    FakeMessage,
    FakeRole,
    FakeUser,
    InteractionCallback,
    RequestRecord,
)
from .permissions import ALL_PERMISSIONS, DEFAULT_BOT_PERMISSIONS, DEFAULT_EVERYONE_PERMISSIONS, Perm
from .server import FakeDiscord, InjectedFailure, InteractionNotAllowed, RoleChange

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "FakeAttachment",
    "FakeChannel",
    "FakeDiscord",
    "FakeGuild",
    "FakeInteraction",
    "FakeMember",
    "FakeMessage",
    "FakeRole",
    "FakeUser",
    "GatewayConnectionInfo",
    "InjectedFailure",
    "InteractionCallback",
    "InteractionNotAllowed",
    "Perm",
    "RequestRecord",
    "RoleChange",
    "fake_endpoints",
    "running_bot",
    "start_bot",
    "stop_bot",
]
