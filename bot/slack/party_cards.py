"""Party cards on Slack: posted with chat.postMessage, kept in step with chat.update.

A click on a card is acknowledged at once (Slack allows 3 s) and recorded through the core; the
card then follows through the core's :class:`~bot.core.card_edits.CardEdits`: at most one
chat.update per card under way (Tier 3, about 50 a minute per workspace), and the clicks that
came meanwhile share the next one, which reads the counts afresh. So 50 simultaneous clicks
cost a couple of edits, and the last one counts 50.

Slack has nothing like Discord's scheduled events: each card carries an "Add to calendar" link
(a Google Calendar template, see :meth:`bot.core.parties.Parties.calendar_url`) instead.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import replace
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.core.card_edits import CardEdits
from bot.core.engine.errors import RateLimited
from bot.core.i18n import _, speaking
from bot.core.parties import Party
from bot.core.replies import Button, ButtonStyle, Reply
from bot.slack.render import JSON, message_kwargs
from bot.slack.transport import delivery_error

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger(__name__)

SLACK_FAILED = (SlackApiError, aiohttp.ClientError, TimeoutError)
"""Slack refused a post or an edit, or the network lost it: logged; an edited card waits for the next change."""
CALENDAR_ACTION = r"party:(?P<party>[0-9]{1,18}):calendar"
"""Slack sends a block action for a link button too: it is only acknowledged."""


def rate_limit_wait(exc: BaseException) -> float | None:
    """The wait Slack asked for when it rate-limited an edit (chat.update is Tier 3)."""
    error = delivery_error(exc) if isinstance(exc, Exception) else None
    return error.retry_after if isinstance(error, RateLimited) else None


def calendar_action_id(party_id: int) -> str:
    return f"party:{party_id}:calendar"


class SlackCards:
    """The core's :class:`~bot.core.parties.CardBoard` on Slack, and the edits of posted cards."""

    def __init__(self, bot: SlackBot) -> None:
        self.bot = bot
        self.edits = CardEdits(SLACK_FAILED, retry_after=rate_limit_wait)

    def with_calendar(self, party: Party, card: Reply) -> Reply:
        """The core's card plus the "Add to calendar" link, left out (like the buttons) once cancelled."""
        link = Button(
            label=_("Add to calendar"),
            style=ButtonStyle.LINK,
            url=self.bot.core.parties.calendar_url(party),
            custom_id=calendar_action_id(party.id),
            disabled=party.cancelled,
        )
        return replace(card, buttons=(*card.buttons, link))

    async def channel_card(self, party: Party, card: Reply) -> Reply:
        """The core's card (in the workspace's language) plus its calendar link, labelled in it too."""
        with speaking(await self.bot.core.languages.for_server(party.guild_id)):
            return self.with_calendar(party, card)

    async def read(self, party: Party) -> Reply | None:
        """The card as the database has it now, whoever clicked; None once the party is gone."""
        parties = self.bot.core.parties
        current = await parties.get(party.guild_id, party.id)
        return await self.channel_card(current, await parties.card(current)) if current is not None else None

    async def message(self, party: Party, card: Reply) -> JSON:
        """``text`` and ``blocks`` of the card in a channel: the Slack wording in the workspace's
        language, fallbacks in the party's own zone."""
        with speaking(await self.bot.core.languages.for_server(party.guild_id)):
            return message_kwargs(card, await self.bot.members.reader_in(ZoneInfo(party.timezone), card))

    async def post_card(self, party: Party, card: Reply) -> str | None:
        assert party.channel_id is not None  # a party is created with its card's channel
        message = await self.message(party, await self.channel_card(party, card))
        try:
            answer = await self.bot.client.chat_postMessage(channel=party.channel_id, **message)
        except SLACK_FAILED as exc:
            log.warning("could not post the card of party %s: %s", party.id, exc)
            return None
        return str(answer["ts"])

    async def create_event(self, party: Party) -> str | None:
        return None  # no calendar on Slack: the card's link adds the party to the member's own

    @staticmethod
    def key(party: Party) -> str | None:
        """The posted card's key in :attr:`edits`: a message ``ts`` is unique within its channel."""
        if party.channel_id is None or party.card_message_id is None:
            return None
        return f"{party.channel_id}/{party.card_message_id}"

    async def refresh_card(self, party: Party) -> None:
        """The party changed: its posted card follows (read afresh when edited)."""
        key = self.key(party)
        if key is None:
            return
        await self.edits.refresh(key, functools.partial(self.read, party), functools.partial(self._edit, party))

    async def _edit(self, party: Party, card: Reply) -> None:
        assert party.channel_id is not None and party.card_message_id is not None
        await self.bot.client.chat_update(
            channel=party.channel_id, ts=party.card_message_id, **await self.message(party, card)
        )
