"""The Slack adapter: one bolt ``AsyncApp`` over one ``AsyncWebClient``, on the shared core.

Built like bolt-python's template: this module builds the app, ``bot.slack.listeners`` registers
one module of listeners per kind (commands, actions, events). Every Web API call goes through
``SlackBot.client``, whose ``base_url`` is ``SLACK_API_BASE`` (slack_sdk reads no such variable).
A workspace (team id) plays the part a Discord server plays in the core.

Languages (:mod:`bot.core.languages`): one global middleware sets the language of each request
before any listener runs, from the member's Slack ``locale`` (``users.info`` with
``include_locale``, cached by :class:`SlackMembers`) or their own choice. bolt runs each listener
in a task it creates after the middleware (``asyncio.ensure_future``, which copies the context),
so the listener and everything it awaits speak that language. Slack tells nobody a workspace's
language (``team.info`` has no locale): channel posts are English until a moderator picks
another with ``/ballerina-admin language``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.app.async_server import AsyncSlackAppServer
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.i18n import DEFAULT_LANGUAGE, Language, set_language
from bot.core.replies import Reply
from bot.core.services import Core
from bot.core.storage import Platform
from bot.settings import Settings
from bot.slack.dispatch import Invocation, body_invocation
from bot.slack.listeners import register
from bot.slack.members import SlackMembers
from bot.slack.party_cards import SlackCards
from bot.slack.render import message_kwargs

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
LOCALE_LOOKUP_BUDGET = 1.0
"""Seconds a request waits for the member's ``users.info`` before it is acknowledged (Slack
allows 3 s): past it, the member's stored language is used."""


class SlackBot:
    """What every Slack listener needs: the core, the app, its one client and the member cache."""

    def __init__(self, core: Core, client: AsyncWebClient, signing_secret: str | None) -> None:
        self.core = core
        self.client = client
        self.app = AsyncApp(
            client=client,
            signing_secret=signing_secret,
            # Socket Mode has no signed requests: Slack's websocket is authenticated by the app token.
            request_verification_enabled=signing_secret is not None,
            logger=logging.getLogger("slack_bolt"),
        )
        self.members = SlackMembers(client, core.store, core.clock)
        self.cards = SlackCards(self)
        self._known_teams: set[str] = set()
        self._own_team: str | None = None
        self._unfinished: set[asyncio.Future[Language]] = set()
        self.app.use(self._speak_to_reader)
        register(self)

    async def _speak_to_reader(
        self, context: AsyncBoltContext, next: Callable[[], Awaitable[BoltResponse]]
    ) -> BoltResponse:
        """The one place a request's language is set (see the module's docstring)."""
        set_language(await self.language_of_request(context.team_id, context.user_id))
        return await next()

    async def language_of_request(self, team_id: str | None, user_id: str | None) -> Language:
        """The member's language (chosen, else their Slack's, else as last seen, else the
        workspace's); the workspace's for a request no member made.

        It is settled before the listener runs, so before the ack: past
        :data:`LOCALE_LOOKUP_BUDGET` (Slack slow to answer ``users.info``, the database locked
        while it stores a changed locale) the member's Slack locale is used, and the store
        finishes in the background."""
        languages = self.core.languages
        if user_id is None:
            return await languages.for_server(team_id) if team_id is not None else DEFAULT_LANGUAGE
        deadline = asyncio.get_running_loop().time() + LOCALE_LOOKUP_BUDGET
        try:
            async with asyncio.timeout_at(deadline):
                member = await self.members.get(user_id)
        except TimeoutError:
            member = None
        client = member.language if member is not None else None
        lookup = asyncio.ensure_future(languages.for_member(user_id, client, team_id))
        done, _pending = await asyncio.wait({lookup}, timeout=max(0.0, deadline - asyncio.get_running_loop().time()))
        if done:
            return lookup.result()
        self._unfinished.add(lookup)  # never cancelled mid-write: it stores the locale when it can
        lookup.add_done_callback(self._unfinished.discard)
        return client or DEFAULT_LANGUAGE

    async def own_team_id(self) -> str:
        """The workspace of the bot's token (``auth.test``, asked once): whose language its
        channel posts speak."""
        if self._own_team is None:
            self._own_team = str((await self.client.auth_test())["team_id"])
        return self._own_team

    async def ensure_team(self, team_id: str) -> None:
        """Create the workspace's settings row as a Slack one, before anything else writes for it."""
        if team_id not in self._known_teams:
            await self.core.store.ensure_guild(team_id, Platform.SLACK)
            self._known_teams.add(team_id)

    def forget_team(self, team_id: str) -> None:
        self._known_teams.discard(team_id)

    def slash_command(self, name: str, run: Callable[[Invocation, str], Awaitable[Reply | None]]) -> None:
        """Register a slash command: acknowledged at once, within Slack's 3 s whatever the database
        is doing, then answered through its response_url (unless it opened a modal instead)."""

        async def listener(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
            await ack()
            invocation = body_invocation(body)
            reply = await run(invocation, str(body.get("text") or ""))
            if reply is not None:
                await self.answer(respond, invocation.user_id, reply)

        self.app.command(name)(listener)

    async def answer(self, respond: AsyncRespond, user_id: str, reply: Reply, **extra: Any) -> None:
        """Send ``reply`` through the command's or click's response_url: ephemeral unless the
        channel should see it, rendered for the member who asked (their zone, names)."""
        reader = await self.members.reader(user_id, reply)
        await respond(
            response_type="ephemeral" if reply.ephemeral else "in_channel",
            **message_kwargs(reply, reader),
            **extra,
        )


def build_slack(core: Core, settings: Settings) -> SlackBot:
    client = AsyncWebClient(token=settings.slack_bot_token.reveal(), base_url=settings.slack_api_base)
    secret = None if settings.slack_socket_mode else settings.slack_signing_secret.reveal()
    return SlackBot(core, client, secret)


async def serve_slack(bot: SlackBot, settings: Settings, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set: Socket Mode with an app token, else HTTP on SLACK_HOST:SLACK_PORT."""
    if settings.slack_socket_mode:
        handler = AsyncSocketModeHandler(bot.app, settings.slack_app_token.reveal())
        log.info("Slack: connecting in Socket Mode")
        await handler.connect_async()  # type: ignore[no-untyped-call]
        try:
            await stop.wait()
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]
        return
    server = AsyncSlackAppServer(port=settings.slack_port, path=EVENTS_PATH, app=bot.app, host=settings.slack_host)
    runner = web.AppRunner(server.web_app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, settings.slack_host, settings.slack_port).start()
    log.info("Slack: serving HTTP on %s:%s%s", settings.slack_host, settings.slack_port, EVENTS_PATH)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
