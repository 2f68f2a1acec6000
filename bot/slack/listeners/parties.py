"""``/ballerina party …`` on Slack: typed or through a form, the card's buttons, edit and cancel.

The core (``bot.core.parties``) holds every rule; this module picks the channel, checks the bot
may post there (as ``/ballerina-admin channel`` does), and mirrors the core's outcome: the card
posted once, then edited in place (``bot.slack.party_cards``). Guests (single- and multi-channel)
use the film commands but cannot host. Hosts and the bot's moderators edit and cancel.

``/ballerina party create`` with nothing after it opens a modal: a ``datetimepicker`` (Slack shows
it in the member's own zone and sends a Unix time), a title, a ``conversations_select`` and the
reminder choice. The submission is checked before it is acknowledged, so a refusal shows inside
the modal (``response_action: errors``); the party is made after the acknowledgement.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError

from bot.core.i18n import N_, _
from bot.core.parties import (
    CANCEL_CUSTOM_ID,
    DEFAULT_TITLE,
    RSVP,
    RSVP_CUSTOM_ID,
    TITLE_LIMIT,
    PartyError,
    PartyOutcome,
    clean_title,
)
from bot.core.replies import Reply, error
from bot.core.storage.parties import MAX_ROW_ID
from bot.core.timeparse import TimeParseError, parse_when
from bot.slack.dispatch import Invocation, Subcommand, channel_id_in
from bot.slack.listeners.admin import channel_problem
from bot.slack.members import UTC_ZONE
from bot.slack.party_cards import CALENDAR_ACTION
from bot.slack.render import JSON, message_kwargs

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger(__name__)

MODAL_ID = "party:create"
REMIND_CHOICES = (
    ("default", N_("The workspace's usual reminders")),
    ("1d,1h,0", N_("1 day and 1 hour before, and at the start")),
    ("1h,0", N_("1 hour before and at the start")),
    ("0", N_("At the start only")),
)


def guests_cannot_host() -> str:
    return _(
        "Guests of this workspace can use the film commands and answer watch parties, but can't host one. "
        "A full member of the workspace can plan it."
    )


def which_party() -> Reply:
    return error(
        _("Which party? Give its number, e.g. `/ballerina party info 3` (`/ballerina party list` shows them).")
    )


def meet_in_which_channel() -> str:
    return _("Name the channel to meet in as #channel. Nothing was changed.")


def party_id_in(options: dict[str, str]) -> int | None:
    """The party an ``id`` option names (``3`` or ``#3``); None for anything else."""
    typed = options.get("id", "").strip().removeprefix("#")
    return int(typed) if typed.isdigit() and 0 < int(typed) <= MAX_ROW_ID else None


async def guest_refusal(bot: SlackBot, user_id: str) -> Reply | None:
    member = await bot.members.get(user_id)
    return error(guests_cannot_host()) if member is not None and member.is_guest else None


async def published(bot: SlackBot, outcome: PartyOutcome) -> Reply:
    """A new party's card posted and recorded; the reply to the host, with any problem first."""
    if outcome.party is None or outcome.card is None:
        return outcome.reply
    problem = await bot.core.parties.publish(outcome.party, outcome.card, bot.cards)
    return outcome.reply if problem is None else replace(outcome.reply, content=problem.content)


async def changed(bot: SlackBot, outcome: PartyOutcome) -> Reply:
    """After an edit or a cancel: the card follows, then the member hears what happened."""
    if outcome.party is not None and outcome.card is not None:
        await bot.cards.refresh_card(outcome.party)
    return outcome.reply


def subcommands(bot: SlackBot) -> list[Subcommand]:
    parties = bot.core.parties

    async def create(invocation: Invocation, options: dict[str, str]) -> Reply | None:
        refusal = await guest_refusal(bot, invocation.user_id)
        if refusal is not None:
            return refusal
        if not options:
            return await open_modal(bot, invocation)
        typed = options.get("channel")
        channel_id = channel_id_in(typed) if typed is not None else invocation.channel_id
        if channel_id is None:
            return error(
                _("Name the channel for the card as #channel (or leave it out for this one). Nothing was changed.")
            )
        voice = options.get("voice_channel")
        voice_id = channel_id_in(voice) if voice is not None else None
        if voice is not None and voice_id is None:
            return error(meet_in_which_channel())
        problem = await channel_problem(bot, channel_id)
        if problem is not None:
            return error(_("I can't post the party card there: {problem} Nothing was changed.").format(problem=problem))
        member = await bot.members.get(invocation.user_id)
        outcome = await parties.create(
            guild_id=invocation.team_id,
            host_id=invocation.user_id,
            channel_id=channel_id,
            when=options.get("when", ""),
            title=options.get("title"),
            voice_channel_id=voice_id,
            timezone=options.get("timezone"),
            remind=options.get("remind"),
            platform_zone=member.zone.key if member is not None else None,
        )
        return await published(bot, outcome)

    async def list_(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await parties.list_upcoming(invocation.team_id)

    async def info(invocation: Invocation, options: dict[str, str]) -> Reply:
        party_id = party_id_in(options)
        if party_id is None:
            return which_party()
        party = await parties.get(invocation.team_id, party_id)
        reply = await parties.info(invocation.team_id, party_id)
        return bot.cards.with_calendar(party, reply) if party is not None else reply

    async def edit(invocation: Invocation, options: dict[str, str]) -> Reply:
        party_id = party_id_in(options)
        if party_id is None:
            return which_party()
        voice = options.get("voice_channel")
        voice_id = channel_id_in(voice) if voice is not None else None
        if voice is not None and voice_id is None:
            return error(meet_in_which_channel())
        outcome = await parties.edit(
            guild_id=invocation.team_id,
            party_id=party_id,
            user_id=invocation.user_id,
            is_moderator=await bot.members.is_moderator(invocation.team_id, invocation.user_id),
            when=options.get("when"),
            title=options.get("title"),
            voice_channel_id=voice_id,
        )
        return await changed(bot, outcome)

    async def cancel(invocation: Invocation, options: dict[str, str]) -> Reply:
        party_id = party_id_in(options)
        if party_id is None:
            return which_party()
        outcome = await parties.cancel(
            guild_id=invocation.team_id,
            party_id=party_id,
            user_id=invocation.user_id,
            is_moderator=await bot.members.is_moderator(invocation.team_id, invocation.user_id),
        )
        return await changed(bot, outcome)

    async def reminders(invocation: Invocation, options: dict[str, str]) -> Reply:
        return await parties.set_reminder_via(
            guild_id=invocation.team_id, user_id=invocation.user_id, via=options.get("via", "").lower()
        )

    return [
        Subcommand(
            ("party", "create"),
            create,
            ("when", "title", "channel", "voice_channel", "timezone", "remind"),
            "when",
        ),
        Subcommand(("party", "list"), list_),
        Subcommand(("party", "info"), info, ("id",), "id"),
        Subcommand(("party", "edit"), edit, ("id", "when", "title", "voice_channel"), "id"),
        Subcommand(("party", "cancel"), cancel, ("id",), "id"),
        Subcommand(("party", "reminders"), reminders, ("via",), "via"),
    ]


# -- the modal -------------------------------------------------------------------------------------


def _plain(text: str) -> JSON:
    return {"type": "plain_text", "text": text}


def create_modal(channel_id: str) -> JSON:
    options = [{"text": _plain(_(label)), "value": value} for value, label in REMIND_CHOICES]
    return {
        "type": "modal",
        "callback_id": MODAL_ID,
        "title": _plain(_("Plan a watch party")),
        "submit": _plain(_("Schedule")),
        "close": _plain(_("Cancel")),
        "blocks": [
            {
                "type": "input",
                "block_id": "when",
                "label": _plain(_("Starts (in your own time zone)")),
                "element": {"type": "datetimepicker", "action_id": "when"},
            },
            {
                "type": "input",
                "block_id": "title",
                "optional": True,
                "label": _plain(_("Title")),
                "element": {
                    "type": "plain_text_input",
                    "action_id": "title",
                    "max_length": TITLE_LIMIT,
                    "placeholder": _plain(_(DEFAULT_TITLE)),
                },
            },
            {
                "type": "input",
                "block_id": "channel",
                "label": _plain(_("Post the party card in")),
                "element": {
                    "type": "conversations_select",
                    "action_id": "channel",
                    "initial_conversation": channel_id,
                    "filter": {"include": ["public", "private"], "exclude_bot_users": True},
                },
            },
            {
                "type": "input",
                "block_id": "remind",
                "label": _plain(_("Remind those going")),
                "element": {
                    "type": "static_select",
                    "action_id": "remind",
                    "initial_option": options[0],
                    "options": options,
                },
            },
        ],
    }


async def open_modal(bot: SlackBot, invocation: Invocation) -> Reply | None:
    try:
        await bot.client.views_open(trigger_id=invocation.trigger_id, view=create_modal(invocation.channel_id))
    except SlackApiError as exc:
        log.warning("views.open for party create: %s", exc.response.get("error"))
        return error(
            _(
                "I couldn't open the form just now. Type the party instead: "
                "`/ballerina party create when: tomorrow 8pm title: Movie night`"
            )
        )
    return None


def _state(view: JSON, block: str) -> JSON:
    value = view.get("state", {}).get("values", {}).get(block, {}).get(block, {})
    return value if isinstance(value, dict) else {}


async def submitted(bot: SlackBot, ack: AsyncAck, body: JSON) -> None:
    """Checked before the acknowledgement, so refusals show in the modal; made after it."""
    view, team_id, user_id = body["view"], str(body["team"]["id"]), str(body["user"]["id"])
    unix = _state(view, "when").get("selected_date_time")
    title = _state(view, "title").get("value")
    channel_id = _state(view, "channel").get("selected_conversation")
    remind = (_state(view, "remind").get("selected_option") or {}).get("value", "default")
    member = await bot.members.get(user_id)
    zone = member.zone if member is not None else UTC_ZONE
    errors: dict[str, str] = {}
    if member is not None and member.is_guest:
        errors["when"] = guests_cannot_host()
    try:
        clean_title(title)
    except PartyError as exc:
        errors["title"] = str(exc)
    if unix is None:
        errors.setdefault("when", _("Pick the day and the time the party starts."))
    else:
        try:
            parse_when(str(unix), now=bot.core.clock.now(), tz=zone)
        except TimeParseError as exc:
            errors.setdefault("when", str(exc))
    problem = await channel_problem(bot, str(channel_id)) if channel_id else _("Pick a channel for the card.")
    if problem is not None:
        errors["channel"] = problem
    if errors:
        await ack(response_action="errors", errors=errors)
        return
    await ack()
    await bot.ensure_team(team_id)
    outcome = await bot.core.parties.create(
        guild_id=team_id,
        host_id=user_id,
        channel_id=str(channel_id),
        when=str(unix),
        title=title,
        remind=None if remind == "default" else remind,
        timezone=zone.key,
    )
    await tell(bot, user_id, str(channel_id), await published(bot, outcome))


async def tell(bot: SlackBot, user_id: str, channel_id: str, reply: Reply) -> None:
    """A modal has no response_url: the host hears back in the card's channel, only them, else by DM."""
    message = message_kwargs(reply, await bot.members.reader(user_id, reply))
    try:
        await bot.client.chat_postEphemeral(channel=channel_id, user=user_id, **message)
    except SlackApiError:
        await bot.client.chat_postMessage(channel=user_id, **message)


# -- the buttons -----------------------------------------------------------------------------------


def register(bot: SlackBot) -> None:
    parties = bot.core.parties

    @bot.app.view(MODAL_ID)
    async def modal_submitted(ack: AsyncAck, body: dict[str, Any]) -> None:
        await submitted(bot, ack, body)

    @bot.app.action(re.compile(f"^{RSVP_CUSTOM_ID}$"))
    async def rsvp_clicked(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """Going / Maybe / Not going / Leave, on the card or a private copy of it (party info)."""
        await ack()
        match = re.fullmatch(RSVP_CUSTOM_ID, str(body["actions"][0]["action_id"]))
        assert match is not None  # the listener's own pattern
        user_id = str(body["user"]["id"])
        outcome = await parties.rsvp(
            guild_id=str(body["team"]["id"]),
            party_id=int(match["party"]),
            user_id=user_id,
            choice=None if match["choice"] == "leave" else RSVP(match["choice"]),
        )
        party = outcome.party
        if party is None or outcome.card is None:
            await bot.answer(respond, user_id, outcome.reply)
            return
        if body.get("container", {}).get("is_ephemeral"):  # the member's own copy, in their language
            copy = bot.cards.with_calendar(party, await parties.info(party.guild_id, party.id))
            await bot.answer(respond, user_id, copy, replace_original=True)
        await bot.cards.refresh_card(party)

    @bot.app.action(re.compile(f"^{CANCEL_CUSTOM_ID}$"))
    async def cancel_clicked(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        """The "Cancel this party" button under the host's confirmation."""
        await ack()
        match = re.fullmatch(CANCEL_CUSTOM_ID, str(body["actions"][0]["action_id"]))
        assert match is not None
        team_id, user_id = str(body["team"]["id"]), str(body["user"]["id"])
        outcome = await parties.cancel(
            guild_id=team_id,
            party_id=int(match["party"]),
            user_id=user_id,
            is_moderator=await bot.members.is_moderator(team_id, user_id),
        )
        reply = await changed(bot, outcome)
        await bot.answer(respond, user_id, reply, replace_original=outcome.party is not None)

    @bot.app.action(re.compile(f"^{CALENDAR_ACTION}$"))
    async def calendar_opened(ack: AsyncAck) -> None:
        """A link button: Slack opens the link and tells the app, which has nothing to add."""
        await ack()
