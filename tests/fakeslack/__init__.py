"""A Slack-compatible fake for end-to-end tests of the real slack_sdk and slack_bolt.

``FakeSlack`` serves Slack's Web API (``/api/<method>``), response_urls (``/response/<token>``)
and Socket Mode (``/socket``) on 127.0.0.1 (random free port). The app under test is an
unmodified ``slack_bolt.async_app.AsyncApp`` with an unmodified ``AsyncWebClient``; the only change
is where the client points::

    AsyncWebClient(token=team.bot_token, base_url=fake.api_base)   # "http://127.0.0.1:PORT/api/"
    AsyncApp(client=that_client, signing_secret=fake.signing_secret)
    AsyncSocketModeHandler(app, fake.app_token)                    # apps.connections.open -> ws://…/socket

Slack's side is played by a driver: ``HttpDriver`` POSTs signed requests to the app's Request URL
(bolt's own ``AsyncSlackAppServer`` serving it on 127.0.0.1), ``SocketModeDriver`` sends envelopes
over the app's websocket and collects its acks. Both build the same payloads and return the same
``Delivery``, so one test can run in both modes (see ``tests/test_fake_slack.py``'s ``running``).

Quick start::

    from tests.fakeslack import FakeSlack, bolt_app, http_app, socket_mode_app

    async def test_cast() -> None:
        async with FakeSlack() as fake:
            team = fake.add_team("Film Club")
            alice = team.add_user("alice", tz="Asia/Seoul")
            general = team.add_channel("general", members=[alice])
            app = make_app(bolt_app(fake, team))            # or the adapter's own AsyncApp
            async with http_app(fake, app) as slack:        # or socket_mode_app(fake, app)
                delivery = await slack.slash_command(general, alice, "/ballerina", "cast")
                assert delivery.acked                       # HTTP 200 / envelope acked within 3 s
                [msg] = await fake.wait_for_messages(general)
                assert "Jeon Jong-seo" in msg.all_text()

Server (``FakeSlack``)
----------------------
``FakeSlack(*, host="127.0.0.1", port=0, signing_secret=None, app_token=None, trigger_lifetime=3.0,
ack_deadline=3.0, max_text_length=40000, channel_message_rate=None, tier_limits=False,
tier_window=60.0)``

* ``async with FakeSlack() as fake`` or ``await fake.start()`` / ``await fake.close()``.
* ``fake.api_base`` (``base_url`` of ``AsyncWebClient``), ``fake.base_url``, ``fake.port``,
  ``fake.app_id`` (``A…``), ``fake.signing_secret``, ``fake.app_token`` (``xapp-…``, for Socket Mode),
  ``fake.verification_token`` (the legacy ``token`` field of payloads).
* ``ack_deadline``: how long a driver waits for the app's answer (Slack's 3 s); later, the
  ``Delivery`` is ``timed_out`` with ``status None``. Settable at run time.
* ``trigger_lifetime``: trigger_ids work once, within this many seconds (Slack's 3 s).

World building (Slack-shaped, deterministic ids: ``T…``, ``U…``, ``B…``, ``C…``, ``D…``, ``S…``, ``V…``)
-----------------------------------------------------------------------------------------------------
* ``fake.add_team(name, *, domain=None, bot_name="ballerina", scopes=DEFAULT_SCOPES) -> SlackTeam``:
  a workspace with the app installed: ``team.bot_user`` (``SlackUser``, ``is_bot``), ``team.bot_id``,
  ``team.bot_token`` (``xoxb-…``; auth.test answers with this workspace), ``team.scopes`` (add
  ``"chat:write.public"`` to post in public channels the bot has not joined), ``team.installed``.
  ``fake.teams``, ``fake.team_of(team_or_user_or_channel_or_id)``.
* ``team.add_user(name, *, real_name=None, tz="America/Los_Angeles", tz_offset=None, locale="en-US",
  is_admin=False, is_owner=False, is_primary_owner=False, is_restricted=False,
  is_ultra_restricted=False, deleted=False, is_bot=False) -> SlackUser`` (``tz_offset`` defaults to
  the zone's current offset; owners are admins; ultra-restricted guests are restricted).
* ``team.add_channel(name, *, private=False, members=(), bot_member=True, archived=False, topic="",
  purpose="") -> SlackChannel``; ``channel.add_member(u)``, ``remove_member(u)``, ``archive()``,
  ``channel.bot_is_member`` (plain attribute), ``channel.members`` (user ids, without the bot).
* ``team.add_usergroup(handle, *, name=None, users=(), description="", disabled=False)``.
* ``team.dm(user) -> SlackChannel`` (``D…``, ``is_im``; what conversations.open returns);
  ``team.users`` / ``channels`` / ``usergroups`` / ``dms``, ``team.user_named(n)``,
  ``team.channel_named(n)``, ``team.conversation(id)``.
* ``fake.user_message(channel, user, text, *, thread_ts=None) -> SlackMessage``: a person's post, for
  history and threads (no event: ``driver.user_posts`` sends one).
* ``fake.revoke_tokens(team)``: every later call with the team's token gets ``token_revoked``.

Web API (form, query-string or JSON arguments; ``Authorization: Bearer`` or a ``token`` argument)
------------------------------------------------------------------------------------------------
Errors are HTTP 200 ``{"ok": false, "error": code}`` as Slack sends them; every call needs a token
(``not_authed``, ``invalid_auth``, ``token_revoked``; the app token only opens Socket Mode and a bot
token cannot: ``not_allowed_token_type``). An unknown method answers ``unknown_method`` with
``req_method``. Methods and the errors they give:

* ``auth.test``: ``url``, ``team``, ``user``, ``team_id``, ``user_id``, ``bot_id``.
* ``chat.postMessage`` (``channel`` = ``C…``, ``D…``, a user id (the bot's DM) or ``#name``; ``text``,
  ``blocks``, ``thread_ts`` (a reply to a reply joins the same thread), ``reply_broadcast``,
  ``metadata``): ``channel_not_found`` (unknown, or private without the bot), ``not_in_channel``,
  ``is_archived``, ``no_text``, ``msg_too_long`` (> ``max_text_length``), ``invalid_blocks`` (Block Kit
  limits, see blocks.py, with ``response_metadata.messages``), ``invalid_blocks_format``,
  ``invalid_metadata_format``. Answers ``channel``, ``ts``, ``message``.
* ``chat.postEphemeral`` (``channel``, ``user``): as above plus ``user_not_found``,
  ``user_not_in_channel``; answers ``message_ts``.
* ``chat.update`` / ``chat.delete`` (``channel``, ``ts``): ``message_not_found``,
  ``cant_update_message`` / ``cant_delete_message`` (not the bot's), ``is_archived``.
* ``chat.getPermalink`` (``channel``, ``message_ts``).
* ``conversations.open`` (``users`` = one user id, or ``channel``; ``return_im``): ``user_not_found``,
  ``cannot_dm_bot``, ``user_disabled`` (a deactivated person, as Slack documents it).
  Multi-person DMs are not faked (``fake_unsupported``).
* ``conversations.history`` (``oldest``, ``latest``, ``inclusive``, ``limit``, ``cursor``,
  ``include_all_metadata``): top-level messages newest first (parents carry ``reply_count``),
  ``metadata`` only when asked; ``not_in_channel`` when the bot is not a member.
  ``conversations.replies`` (``ts``): the thread, oldest first; ``thread_not_found``.
* ``conversations.info`` (``include_num_members``), ``conversations.members`` (``limit``, ``cursor``;
  the bot included when it is a member).
* ``users.info`` (``include_locale``): ``user_not_found``.
* ``usergroups.list`` (``include_users``, ``include_disabled``).
* ``views.open`` (``trigger_id``, ``view``): ``invalid_trigger_id``, ``exchanged_trigger_id`` (used),
  ``expired_trigger_id`` (older than ``trigger_lifetime``), ``invalid_arguments`` with messages (not a
  modal, title over 24 characters, no ``submit`` with inputs, block problems). ``views.update``
  (``view_id`` or ``external_id``, ``hash``): ``not_found``, ``hash_conflict``. ``views.publish``
  (``user_id``, a ``home`` view, ``hash``).
* ``apps.connections.open`` (app token): a one-time ``ws://…/socket?ticket=…`` URL.

Recording and queries
---------------------
* ``fake.calls`` (``ApiCall``: ``method``, ``args`` (merged, token removed), ``team_id``,
  ``http_method``, ``time`` (monotonic, at arrival), ``status``, ``response``, ``ok``, ``error``);
  ``fake.find_calls(method=None, *, team=None)``, ``await fake.wait_for_call(method, count=1, timeout=5.0)``.
* ``SlackMessage``: ``team_id``, ``channel_id``, ``ts``, ``text``, ``blocks``, ``user``, ``bot_id``,
  ``thread_ts``, ``is_reply``, ``metadata``, ``source`` ("api", "response_url", "ack", "user"),
  ``request`` (the arguments sent), ``edits`` (earlier versions), ``deleted``, ``action_ids()``,
  ``all_text()`` (text plus every text in the blocks). ``fake.messages`` (all).
* ``fake.channel_messages(channel, *, include_replies=True, include_deleted=False)``,
  ``fake.thread(channel, ts)``, ``fake.dm_messages(user)``,
  ``await fake.wait_for_messages(channel, count=1, timeout=5.0)``, ``await fake.wait_for_dm_messages(user, ...)``.
* ``EphemeralMessage`` (``user_id``, ``channel_id``, ``text``, ``blocks``, ``source``, ``edits``,
  ``deleted``): ``fake.ephemerals`` (all), ``fake.ephemeral_messages(user, *, channel=None)``,
  ``await fake.wait_for_ephemeral(user, count)``.
* ``SlackView`` (``id``, ``user_id``, ``type``, ``callback_id``, ``view`` (as sent), ``blocks``, ``hash``,
  ``trigger_id``, ``closed``, ``updates``, ``all_text()``): ``fake.views`` (by id),
  ``fake.modals(user=None)``, ``fake.home_view(user)``, ``await fake.wait_for_modal(user, count=1)``,
  ``await fake.wait_for_home(user)``; ``fake.new_view(team, user_id, view)`` to stage one.
* ``fake.issue_trigger(team, user) -> str`` / ``fake.expire_trigger(value)``; ``fake.triggers``.
* ``fake.issue_response_url(team, channel, user, *, message=None) -> ResponseUrl`` (``url``,
  ``posts``: ``ResponseUrlPost`` with ``body``, ``status``, ``error``, ``via_ack``). A response_url
  takes JSON bodies: ``response_type: in_channel`` posts in the channel, otherwise the user gets an
  ephemeral message; ``replace_original`` / ``delete_original`` act on the message the action came
  from. Five uses in 30 minutes (then 404 ``used_url`` / ``expired_url``).
* ``fake.deliveries``: every ``Delivery`` a driver made.

Rate limits, failures, latency (all settable at run time)
---------------------------------------------------------
A limited call gets HTTP 429, ``Retry-After: <whole seconds>`` and ``{"ok": false, "error":
"ratelimited"}``: ``SlackApiError`` (``e.response.status_code == 429``), or a retry after
``Retry-After`` with slack_sdk's ``AsyncRateLimitErrorRetryHandler``.

* ``fake.inject_rate_limit(method, *, times=1, retry_after=1, team=None) -> RateLimitStorm``: the next
  ``times`` calls get 429 (``storm.served``).
* ``fake.set_channel_message_rate(rate=1.0, burst=3)`` (or ``FakeSlack(channel_message_rate=(1.0, 3))``):
  chat.postMessage per channel, Slack's one per second with short bursts; ``rate=None`` turns it off.
* ``fake.set_tier_limits(enabled=True, *, window=None)`` (or ``FakeSlack(tier_limits=True)``): Slack's
  documented tiers (1/20/50/100 per minute, see ratelimit.py) per workspace and method;
  ``fake.set_method_limit(method, limit, *, team=None)`` for one method (``None`` removes it).
* ``fake.rate_limited`` (``Counter`` of 429s by method), ``fake.rate_limited_count``.
* ``fake.fail_calls(method, error, *, times=1, channel=None) -> InjectedError``: the next calls answer
  ``{"ok": false, "error": error}`` (``times=None``: every call). ``fake.clear_failures()`` ends every
  injected error and 429 storm.
* ``fake.set_latency(seconds, method=None)``: every answer (or one method's) is delayed;
  ``fake.latency_default``, ``fake.latency_overrides``.

Drivers (``SlackDriver``; ``HttpDriver`` and ``SocketModeDriver``)
------------------------------------------------------------------
* ``await d.slash_command(channel, user, "/cmd", text="") -> Delivery``: with a fresh
  ``response_url`` and ``trigger_id``. A non-empty ack (``ack("text")``, ``ack(blocks=…,
  response_type="in_channel")``) reaches the user or the channel as Slack shows it (``source="ack"``).
* ``await d.click(message_or_ephemeral_or_view, user, action_id, *, value=None, selected=None)``:
  a ``block_actions`` payload for a button (or a select with ``selected``) that must exist in the
  blocks of a message or view still there (else ``NotAllowed``); messages get a ``response_url``
  tied to the message, views (Home tab, modal) a ``container`` of type ``view`` and the ``view``.
* ``await d.submit_view(view, {block_id: {action_id: text or option value or raw state}}, *, user=None)``:
  ``view_submission``; the ack's ``response_action`` is applied (``errors`` keeps the modal open,
  ``update`` replaces it, ``push`` stacks a new one, anything else closes it).
  ``await d.close_view(view)``: ``view_closed`` when the view asked for ``notify_on_close`` (else None).
* Events (``event_callback`` with ``event_id``, ``authorizations``): ``await d.event(team, event_dict,
  *, user=None)``, ``d.app_home_opened(team, user, *, tab="home")``, ``d.member_joined_channel(channel,
  user, *, inviter=None)`` (membership changes first; the bot user sets ``bot_is_member``),
  ``d.user_posts(channel, user, text, *, thread_ts=None)`` (``message``), ``d.app_uninstalled(team)``
  and ``d.tokens_revoked(team)`` (tokens revoked first, as Slack does), ``d.redeliver(delivery)``
  (Slack's retry: same ``event_id``, ``retry_attempt`` + 1).
* ``Delivery``: ``kind`` ("slash_commands", "interactive", "events_api"), ``request`` (what Slack
  sent), ``status`` (HTTP status; Socket Mode: 200 once acked; None on timeout), ``acked``, ``body``
  (raw), ``payload`` (normalized ack: the JSON object, ``{"text": …}`` or None, the same in both
  modes), ``elapsed``, ``timed_out``, ``envelope_id``, ``response_url``, ``responses``,
  ``await wait_for_responses(count=1)`` (bolt's ``respond()`` runs after the ack), ``trigger_id``,
  ``retry_attempt``.
* ``HttpDriver(fake, url, *, signing_secret=None, clock_skew=0.0)``: slash commands form-encoded,
  interactions as ``payload=<json>``, events as JSON, each signed with ``X-Slack-Request-Timestamp``
  and ``X-Slack-Signature`` (``slack_signature(secret, ts, body)``: ``v0=`` HMAC-SHA256 of
  ``v0:{ts}:{body}``). A wrong ``signing_secret`` or a ``clock_skew`` beyond 5 minutes makes requests
  bolt refuses with 401. ``await d.url_verification() -> bool`` (Slack's challenge);
  ``await d.post(body, content_type)`` for raw requests.
* ``SocketModeDriver(fake, handler=None)``: envelopes ``{envelope_id, type, payload,
  accepts_response_payload}`` (true for slash commands and view submissions; events carry
  ``retry_attempt``/``retry_reason``) to the newest connection; the ack ``{envelope_id, payload?}``
  ends the wait.

Socket Mode server
------------------
apps.connections.open hands out a one-time ticket URL; on connect the fake sends ``hello``
(slack_sdk's aiohttp client does not wait for it, but Slack sends it) and answers pings.
``fake.socket_connections`` (``SocketConnection``: ``ws``, ``acks``, ``closed``), ``fake.socket`` (the
open one), ``await fake.wait_for_socket(timeout=5.0, *, min_count=1)``, ``await
fake.disconnect_socket(reason="refresh_requested")`` (Slack's ``disconnect`` message: the client
opens a new URL and reconnects), ``await fake.send_envelope(kind, payload, *, accepts_response_payload)``.

Harness (``tests.fakeslack.harness``)
-------------------------------------
* ``web_client(fake, team, **kwargs) -> AsyncWebClient`` (e.g. ``retry_handlers=[...]``).
* ``bolt_app(fake, team, **kwargs) -> AsyncApp``: single-workspace app with the fake's secret and API.
* ``async with http_app(fake, app, *, path="/slack/events") as driver`` (``HttpDriver``; ``driver.url``),
  ``async with serving_http(app) as served`` (``served.url``) to serve without a driver.
* ``async with socket_mode_app(fake, app) as driver`` (``SocketModeDriver``; ``driver.handler`` is bolt's
  ``AsyncSocketModeHandler``, connected, closed on exit).

Not faked: OAuth installs, Enterprise Grid, files, reactions, multi-person DMs, shortcuts,
block_suggestion, Events API retries on their own (``redeliver`` sends one on demand).
"""

from .driver import HttpDriver, NotAllowed, SlackDriver, SocketModeDriver, slack_signature
from .harness import BoltHttpServer, bolt_app, http_app, serving_http, socket_mode_app, web_client
from .models import (
    ApiCall,
    Delivery,
    EphemeralMessage,
    ResponseUrl,
    ResponseUrlPost,
    SlackChannel,
    SlackMessage,
    SlackTeam,
    SlackUser,
    SlackUserGroup,
    SlackView,
)
from .ratelimit import RateLimitStorm
from .server import DEFAULT_SCOPES, FakeSlack, InjectedError, SlackError, SocketConnection

__all__ = [
    "DEFAULT_SCOPES",
    "ApiCall",
    "BoltHttpServer",
    "Delivery",
    "EphemeralMessage",
    "FakeSlack",
    "HttpDriver",
    "InjectedError",
    "NotAllowed",
    "RateLimitStorm",
    "ResponseUrl",
    "ResponseUrlPost",
    "SlackChannel",
    "SlackDriver",
    "SlackError",
    "SlackMessage",
    "SlackTeam",
    "SlackUser",
    "SlackUserGroup",
    "SlackView",
    "SocketConnection",
    "SocketModeDriver",
    "bolt_app",
    "http_app",
    "serving_http",
    "slack_signature",
    "socket_mode_app",
    "web_client",
]
