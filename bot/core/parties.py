"""Watch parties: schedule, RSVP, edit, cancel, and the reminders and notices around them.

Platform-neutral: commands return a :class:`PartyOutcome` (the reply to the member, plus the
party card to post or put in place) and the adapter mirrors it (on Discord: the card message
and the guild scheduled event). Reminders and notices go through the same outbox as release
reminders, as event kinds ``party`` and ``party_notice``.
"""

from __future__ import annotations

import unicodedata
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from babel import dates

from bot.core.batching import GroupCommit
from bot.core.clock import Clock
from bot.core.film import Film, Translations
from bot.core.film_commands import countdown
from bot.core.i18n import N_, Word, _, current_language, ngettext, speaking
from bot.core.languages import Languages
from bot.core.replies import (
    MENTIONS_PER_MESSAGE,
    Button,
    ButtonStyle,
    Field,
    Reply,
    error,
    escape_user_text,
    mention_channel,
    mention_user,
    pinging,
    thread_mentions,
    timestamp,
)
from bot.core.storage import FanOut, OutboxRow, Reminder, Store, Target, Via
from bot.core.storage.parties import (
    NOTICE_KIND,
    PARTY_KIND,
    RSVP,
    Attendance,
    HostingCapReached,
    MemberParty,
    NoticeKind,
    Party,
    PartySettings,
    PartyStore,
    RsvpClick,
    RsvpContext,
)
from bot.core.timeparse import (
    TimeParseError,
    describe_offset,
    format_offsets,
    parse_offsets,
    parse_timezone,
    parse_when,
)

__all__ = [
    "CANCEL_CUSTOM_ID",
    "RSVP",
    "RSVP_CUSTOM_ID",
    "CardBoard",
    "MemberParty",
    "Parties",
    "Party",
    "PartyOutcome",
    "cancel_custom_id",
    "rsvp_custom_id",
]

PARTY_LENGTH = timedelta(hours=2)  # for calendar entries (scheduled events) and "is it over?"
TITLE_LIMIT = 100
DEFAULT_TITLE = N_("Ballerina watch party")
"""The title of a party created without one, in its host's language (translate with ``_()``)."""
CARD_ATTENDEES = 10  # Going members named on the card; the rest are counted
MAX_PARTY_OFFSETS = 6
MAX_PARTY_OFFSET = timedelta(days=7)

CALENDAR_TEMPLATE = "https://calendar.google.com/calendar/render"
RSVP_CUSTOM_ID = r"party:(?P<party>[0-9]{1,18}):(?P<choice>going|maybe|no|leave)"
CANCEL_CUSTOM_ID = r"party:(?P<party>[0-9]{1,18}):cancel"
NOT_FOUND = N_("I can't find that watch party in this server. /ballerina party list shows the upcoming ones.")


_ANSWERS: dict[RSVP, tuple[str, str]] = {
    RSVP.GOING: (N_("You're going to {title}."), N_("You're going to {title} already.")),
    RSVP.MAYBE: (N_("You might come to {title}."), N_("You might come to {title} already.")),
    RSVP.NOT_GOING: (N_("You're not going to {title}."), N_("You're not going to {title} already.")),
}
"""A member's answer to a party, as a sentence: when it changed, and when it was already so."""


def _answer_text(choice: RSVP, title: str, *, already: bool) -> str:
    changed, unchanged = _ANSWERS[choice]
    return _(unchanged if already else changed).format(title=Word(f"“{title}”"))


def rsvp_custom_id(party_id: int, choice: RSVP | None) -> str:
    """Stable custom ids of the card's buttons: ``party:42:going`` … ``party:42:leave``."""
    return f"party:{party_id}:{choice.value if choice else 'leave'}"


def cancel_custom_id(party_id: int) -> str:
    return f"party:{party_id}:cancel"


@dataclass(frozen=True)
class PartyOutcome:
    """What a party command did, for the adapter to mirror."""

    reply: Reply
    """To the member who ran the command."""
    party: Party | None = None
    """The party after the change; None when the command was refused."""
    card: Reply | None = None
    """The party card to post (create) or to put in place of the old one (edits, RSVPs, cancel)."""


class CardBoard(Protocol):
    """Where a platform shows a new party: its card message and, where the platform has them,
    a calendar entry (Discord's scheduled events)."""

    async def post_card(self, party: Party, card: Reply) -> str | None:
        """The posted card message's id; None when the platform refused (the adapter logs why)."""
        ...

    async def create_event(self, party: Party) -> str | None:
        """The calendar entry's id; None when the platform has none or refused."""
        ...


class PartyError(ValueError):
    """A refusal whose message is the reply to show."""


def clean_title(raw: str | None) -> str:
    if raw is None:
        return _(DEFAULT_TITLE)
    title = " ".join(raw.split())
    visible = [c for c in title if c.isprintable() and unicodedata.category(c) not in ("Cf", "Zs", "Mn")]
    if not visible:
        raise PartyError(_("A title needs at least one visible character."))
    if len(title) > TITLE_LIMIT:
        raise PartyError(
            _("Titles can be up to {limit} characters; yours has {length}.").format(
                limit=TITLE_LIMIT, length=len(title)
            )
        )
    return title


def ping_messages(card: Reply, going: Sequence[str]) -> list[Reply]:
    """``card`` pinging exactly ``going``: the first chunk of mentions on the card, the rest in
    follow-ups in its thread, so no message pings more than MENTIONS_PER_MESSAGE."""
    first = pinging(going[:MENTIONS_PER_MESSAGE])
    return [
        replace(card, content=first.content, mentions=first.mentions),
        *thread_mentions(going[MENTIONS_PER_MESSAGE:]),
    ]


class Parties:
    """The party commands. Every lookup checks the guild: an id from another server finds nothing."""

    def __init__(
        self,
        film: Film,
        store: Store,
        parties: PartyStore,
        clock: Clock,
        on_change: Callable[[], None],
        languages: Languages,
    ) -> None:
        self.film = film
        self.languages = languages
        self.store = store
        self.parties = parties
        self.clock = clock
        self.on_change = on_change
        self.translations = Translations(film)
        # Clicks on different parties share a database trip; two on one party take turns.
        self._clicks = GroupCommit(self._record_answers, key=lambda click: click.party_id)

    # -- the card ------------------------------------------------------------------------------

    async def card(self, party: Party, attendance: Attendance | None = None) -> Reply:
        """The party card, in the server's language: the whole channel reads it, whoever's click
        changed it. ``attendance`` saves a query when the caller already knows it."""
        if attendance is None:
            attendance = await self.parties.attendance(party.id, CARD_ATTENDEES)
        with speaking(await self.languages.for_server(party.guild_id)):
            return self._card(party, attendance)

    def _card(self, party: Party, attendance: Attendance) -> Reply:
        """The party card in the current language."""
        going = attendance.counts[RSVP.GOING]
        names = ", ".join(mention_user(user) for user in attendance.first_going)
        more = going - len(attendance.first_going)
        if more > 0:
            names = ngettext("{names} and {count} more", "{names} and {count} more", more).format(
                names=names, count=more
            )
        title = escape_user_text(party.title)
        buttons = tuple(
            Button(label=label, style=style, custom_id=rsvp_custom_id(party.id, choice), disabled=party.cancelled)
            for label, style, choice in (
                (_("Going"), ButtonStyle.SUCCESS, RSVP.GOING),
                (_("Maybe"), ButtonStyle.PRIMARY, RSVP.MAYBE),
                (_("Not going"), ButtonStyle.SECONDARY, RSVP.NOT_GOING),
                (_("Leave"), ButtonStyle.DANGER, None),
            )
        )
        return Reply(
            title=_("Cancelled: {title}").format(title=title) if party.cancelled else title,
            description=_(
                "Hosted by {host}\n**Starts** {when} ({relative})\n**Where** {where}\n"
                "**Watching** {film}, streaming on {platform}"
            ).format(
                host=mention_user(party.host_id),
                when=timestamp(party.starts_at, "F"),
                relative=timestamp(party.starts_at, "R"),
                where=self.where(party),
                film=self.translations[current_language()].title,
                platform=self.film.release.platform,
            ),
            fields=(
                Field(name=_("Going ({count})").format(count=going), value=names or _("Nobody yet: be the first!")),
                Field(
                    name=_("Maybe ({count})").format(count=attendance.counts[RSVP.MAYBE]), value="\u200b", inline=True
                ),
                Field(
                    name=_("Not going ({count})").format(count=attendance.counts[RSVP.NOT_GOING]),
                    value="\u200b",
                    inline=True,
                ),
            ),
            footer=_(
                "Party #{id} · Going members are reminded {offsets} before, here or by DM (/ballerina party reminders)"
            ).format(id=party.id, offsets=format_offsets(party.offsets)),
            buttons=buttons,
        )

    def where(self, party: Party) -> str:
        """Where the party watches: its voice channel, else the platform at home."""
        if party.voice_channel_id:
            return mention_channel(party.voice_channel_id)
        return _("{platform} at home").format(platform=self.film.release.platform)

    # -- members -------------------------------------------------------------------------------

    async def _zone(self, guild_id: str, user_id: str, explicit: str | None, platform_zone: str | None) -> ZoneInfo:
        """The zone typed times are read in: given, else the member's own, else the one the
        platform knows for them (Slack's profile), else the server's."""
        if explicit:
            return parse_timezone(explicit)
        own = (await self.parties.user_settings(user_id)).timezone or platform_zone
        return ZoneInfo(own or (await self.store.get_guild_settings(guild_id)).timezone)

    async def default_channel(self, guild_id: str) -> str | None:
        return (await self.parties.party_settings(guild_id)).channel_id

    async def create(
        self,
        *,
        guild_id: str,
        host_id: str,
        channel_id: str,
        when: str,
        title: str | None = None,
        voice_channel_id: str | None = None,
        timezone: str | None = None,
        remind: str | None = None,
        platform_zone: str | None = None,
    ) -> PartyOutcome:
        """``platform_zone``: the member's zone as the platform knows it, when it does (Slack)."""
        now = self.clock.now()
        settings = await self.parties.party_settings(guild_id)
        try:
            clean = clean_title(title)
            zone = await self._zone(guild_id, host_id, timezone, platform_zone)
            starts_at = parse_when(when, now=now, tz=zone)
            offsets = self._offsets(remind) if remind else settings.offsets
        except (TimeParseError, PartyError) as exc:
            return PartyOutcome(error(str(exc)))
        await self.store.ensure_guild(guild_id)
        try:
            party = await self.parties.create(
                guild_id=guild_id,
                host_id=host_id,
                title=clean,
                starts_at=starts_at,
                timezone=zone.key,
                channel_id=channel_id,
                voice_channel_id=voice_channel_id,
                offsets=offsets,
                now=now,
                cap=settings.cap,
            )
        except HostingCapReached as full:
            return PartyOutcome(
                error(
                    ngettext(
                        "You already host {count} upcoming watch party here, this server's limit. "
                        "Cancel it (/ballerina party cancel) or wait until it has happened.",
                        "You already host {count} upcoming watch parties here, this server's limit. "
                        "Cancel one (/ballerina party cancel) or wait until one has happened.",
                        full.hosted,
                    ).format(count=full.hosted)
                )
            )
        self.on_change()
        reply = Reply(
            title=_("Watch party scheduled"),
            description=_(
                "**{title}** starts {when} ({relative}), reading your time in {zone}. "
                "Not what you meant? Cancel it and create it again."
            ).format(
                title=escape_user_text(clean),
                when=timestamp(starts_at, "F"),
                relative=timestamp(starts_at, "R"),
                zone=zone.key,
            ),
            buttons=(Button(_("Cancel this party"), ButtonStyle.DANGER, custom_id=cancel_custom_id(party.id)),),
            ephemeral=True,
        )
        return PartyOutcome(reply, party, await self.card(party))

    @staticmethod
    def _offsets(text: str) -> tuple[timedelta, ...]:
        return parse_offsets(text, max_count=MAX_PARTY_OFFSETS, max_offset=MAX_PARTY_OFFSET)

    def _check_open(self, party: Party | None) -> Party:
        """The party if members can still answer or change it; else why not, as a PartyError."""
        if party is None:
            raise PartyError(_(NOT_FOUND))
        title = Word(f"“{escape_user_text(party.title)}”")
        if party.cancelled:
            raise PartyError(_("{title} was cancelled.").format(title=title))
        if self._is_over(party):
            raise PartyError(_("{title} is over.").format(title=title))
        return party

    def _is_over(self, party: Party) -> bool:
        return party.starts_at + PARTY_LENGTH <= self.clock.now()

    def _takes_answers(self, party: Party) -> bool:
        return not party.cancelled and not self._is_over(party)

    async def get(self, guild_id: str, party_id: int) -> Party | None:
        """The party, only if it belongs to ``guild_id``."""
        return await self.parties.get(guild_id, party_id)

    async def rsvp(self, *, guild_id: str, party_id: int, user_id: str, choice: RSVP | None) -> PartyOutcome:
        context = await self._clicks.submit(RsvpClick(guild_id, party_id, user_id, choice))
        try:
            party = self._check_open(context.party if context else None)
        except PartyError as exc:
            return PartyOutcome(error(str(exc)))
        assert context is not None
        previous = context.answer
        title = escape_user_text(party.title)
        quoted = Word(f"“{title}”")
        if choice is None:
            text = (_("You left {title}.") if previous else _("You hadn't answered for {title}.")).format(title=quoted)
        elif choice is previous:
            text = _answer_text(choice, title, already=True)
        else:
            text = _answer_text(choice, title, already=False)
            if choice is RSVP.GOING:
                reminded = (
                    _("I'll remind you by DM ({offsets} before).")
                    if context.party_via is Via.DM
                    else _("I'll remind you in the party channel ({offsets} before).")
                )
                text += " " + reminded.format(offsets=format_offsets(party.offsets))
        attendance = context.attendance.answered(user_id, previous, choice, CARD_ATTENDEES)
        return PartyOutcome(Reply(content=text, ephemeral=True), party, await self.card(party, attendance))

    async def _record_answers(self, clicks: Sequence[RsvpClick]) -> list[RsvpContext | None]:
        # The next Going member too, to fill the place of one who leaves (Attendance.answered).
        return await self.parties.answer(clicks, CARD_ATTENDEES + 1, self.clock.now(), self._takes_answers)

    async def list_upcoming(self, guild_id: str) -> Reply:
        parties = await self.parties.upcoming(guild_id, self.clock.now(), limit=10)
        if not parties:
            return Reply(
                title=_("No watch parties planned"),
                description=_("Start one: /ballerina party create when: tomorrow 8pm"),
                ephemeral=True,
            )
        lines = []
        for party in parties:
            going = (await self.parties.attendance(party.id, 0)).counts[RSVP.GOING]
            lines.append(
                ngettext(
                    "**#{id} {title}**: {when} ({relative}), {count} going",
                    "**#{id} {title}**: {when} ({relative}), {count} going",
                    going,
                ).format(
                    id=party.id,
                    title=escape_user_text(party.title),
                    when=timestamp(party.starts_at, "F"),
                    relative=timestamp(party.starts_at, "R"),
                    count=going,
                )
            )
        return Reply(title=_("Upcoming watch parties"), description="\n".join(lines), ephemeral=True)

    async def info(self, guild_id: str, party_id: int) -> Reply:
        party = await self.parties.get(guild_id, party_id)
        if party is None:
            return error(_(NOT_FOUND))
        # The member's own copy, in their language.
        attendance = await self.parties.attendance(party.id, CARD_ATTENDEES)
        return replace(self._card(party, attendance), ephemeral=True)

    async def suggest(self, guild_id: str, query: str) -> list[tuple[str, int]]:
        found = await self.parties.upcoming(guild_id, self.clock.now(), limit=25, query=query.strip()[:100])
        # TRANSLATORS: a Babel (CLDR) date pattern for a party's start in autocomplete: "Sat 05 Dec 20:00".
        pattern = _("EEE dd MMM HH:mm")
        language = current_language()

        def label(party: Party) -> str:
            start = party.starts_at.astimezone(ZoneInfo(party.timezone))
            return f"#{party.id} {party.title} · {dates.format_datetime(start, pattern, locale=language)}"[:100]

        return [(label(party), party.id) for party in found]

    async def set_member_timezone(self, *, guild_id: str, user_id: str, name: str) -> Reply:
        try:
            zone = parse_timezone(name)
        except TimeParseError as exc:
            return error(str(exc))
        await self.parties.set_user_timezone(user_id, zone.key)
        return Reply(
            content=_("Your time zone is now {zone}: times you type for watch parties are read in it.").format(
                zone=zone.key
            ),
            ephemeral=True,
        )

    async def set_reminder_via(self, *, guild_id: str, user_id: str, via: str) -> Reply:
        try:
            how = Via(via)
        except ValueError:
            return error(_("Choose `channel` or `dm`."))
        await self.parties.set_user_party_via(user_id, how)
        content = (
            _("Watch party reminders will reach you by DM.")
            if how is Via.DM
            else _("Watch party reminders will reach you with a ping in the party's channel.")
        )
        return Reply(content=content, ephemeral=True)

    # -- hosts and moderators ------------------------------------------------------------------

    async def _own_party(self, guild_id: str, party_id: int, user_id: str, is_moderator: bool) -> Party:
        party = self._check_open(await self.parties.get(guild_id, party_id))
        if party.host_id != user_id and not is_moderator:
            raise PartyError(_("Only the host or a moderator can change this watch party."))
        return party

    async def edit(
        self,
        *,
        guild_id: str,
        party_id: int,
        user_id: str,
        is_moderator: bool,
        when: str | None = None,
        title: str | None = None,
        voice_channel_id: str | None = None,
        clear_voice_channel: bool = False,
    ) -> PartyOutcome:
        if when is None and title is None and voice_channel_id is None and not clear_voice_channel:
            return PartyOutcome(error(_("Tell me what to change: when, title or voice_channel.")))
        try:
            party = await self._own_party(guild_id, party_id, user_id, is_moderator)
            new_title = clean_title(title) if title is not None else party.title
            zone = ZoneInfo(party.timezone)
            starts_at = parse_when(when, now=self.clock.now(), tz=zone) if when is not None else party.starts_at
        except (TimeParseError, PartyError) as exc:
            return PartyOutcome(error(str(exc)))
        voice = None if clear_voice_channel else (voice_channel_id or party.voice_channel_id)
        updated = await self.parties.update(
            party, title=new_title, starts_at=starts_at, voice_channel_id=voice, now=self.clock.now()
        )
        self.on_change()
        moved = starts_at != party.starts_at
        quoted = Word(f"“{escape_user_text(new_title)}”")
        if moved:
            text = _("{title} updated. It now starts {when}; everyone going has been told.").format(
                title=quoted, when=timestamp(starts_at, "F")
            )
        else:
            text = _("{title} updated.").format(title=quoted)
        return PartyOutcome(Reply(content=text, ephemeral=True), updated, await self.card(updated))

    async def cancel(self, *, guild_id: str, party_id: int, user_id: str, is_moderator: bool) -> PartyOutcome:
        try:
            party = await self._own_party(guild_id, party_id, user_id, is_moderator)
        except PartyError as exc:
            return PartyOutcome(error(str(exc)))
        cancelled = await self.parties.cancel(party, self.clock.now())
        self.on_change()
        reply = Reply(
            content=_("{title} is cancelled; everyone going has been told.").format(
                title=Word(f"“{escape_user_text(party.title)}”")
            ),
            ephemeral=True,
        )
        return PartyOutcome(reply, cancelled, await self.card(cancelled))

    async def publish(self, party: Party, card: Reply, board: CardBoard) -> Reply | None:
        """A new party's card and calendar entry, posted and recorded: the life cycle every
        platform shares. Returns what to tell the host when the card could not be posted."""
        problem = None
        message_id = await board.post_card(party, card)
        if message_id is None:
            problem = error(
                _("The party is planned, but I couldn't post its card in {channel}.").format(
                    channel=mention_channel(party.channel_id)
                )
                if party.channel_id
                else _("The party is planned, but I couldn't post its card in its channel.")
            )
        else:
            await self.parties.record_card(party.id, message_id)
        event_id = await board.create_event(party)
        if event_id is not None:
            await self.parties.record_scheduled_event(party.id, event_id)
        return problem

    async def record_scheduled_event(self, party_id: int, event_id: str | None) -> None:
        await self.parties.record_scheduled_event(party_id, event_id)

    def calendar_details(self) -> str:
        """What a calendar entry of a party says about it (Discord's event, the calendar link)."""
        return _("A {title} watch party: answer with the buttons on the party card.").format(
            title=self.translations[current_language()].title
        )

    def calendar_url(self, party: Party) -> str:
        """A Google Calendar template link adding the party (two hours long), for platforms with
        no calendar of their own."""

        def stamp(instant: datetime) -> str:
            return instant.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

        query = {
            "action": "TEMPLATE",
            "text": party.title,
            "dates": f"{stamp(party.starts_at)}/{stamp(party.starts_at + PARTY_LENGTH)}",
            "details": self.calendar_details(),
            "location": _("{platform} at home").format(platform=self.film.release.platform),
        }
        return f"{CALENDAR_TEMPLATE}?{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}"

    async def of_member(self, guild_id: str, user_id: str) -> Reply:
        """The member's upcoming parties (hosted or answered), with their answers."""
        found = await self.parties.upcoming_of_member(guild_id, user_id, self.clock.now(), limit=10)
        if not found:
            return Reply(
                title=_("Your watch parties"),
                description=_(
                    "None coming up. /ballerina party list shows them all; /ballerina party create plans one."
                ),
            )
        lines = [self._member_line(user_id, mine) for mine in found]
        return Reply(title=_("Your watch parties"), description="\n".join(lines))

    @staticmethod
    def _member_line(user_id: str, mine: MemberParty) -> str:
        party = mine.party
        answer = {
            RSVP.GOING: _("You're going."),
            RSVP.MAYBE: _("You might come."),
            RSVP.NOT_GOING: _("You're not going."),
            None: _("You haven't answered."),
        }[mine.answer]
        line = (
            _("**#{id} {title}** (you host it): {when} ({relative}). {answer}")
            if party.host_id == user_id
            else _("**#{id} {title}**: {when} ({relative}). {answer}")
        )
        return line.format(
            id=party.id,
            title=escape_user_text(party.title),
            when=timestamp(party.starts_at, "F"),
            relative=timestamp(party.starts_at, "R"),
            answer=answer,
        )

    async def configure(
        self,
        *,
        guild_id: str,
        channel_id: str | None = None,
        clear_channel: bool = False,
        remind: str | None = None,
        cap: int | None = None,
    ) -> Reply:
        current = await self.parties.party_settings(guild_id)
        try:
            offsets = self._offsets(remind) if remind is not None else current.offsets
        except TimeParseError as exc:
            return error(_("{problem} Nothing was changed.").format(problem=exc))
        if cap is not None and not 1 <= cap <= 100:
            return error(_("The cap must be between 1 and 100 upcoming parties per member. Nothing was changed."))
        channel = None if clear_channel else (channel_id or current.channel_id)
        settings = PartySettings(guild_id, channel, offsets, cap if cap is not None else current.cap)
        await self.store.ensure_guild(guild_id)
        await self.parties.update_party_settings(settings)
        return Reply(
            title=_("Watch party settings"),
            fields=(
                Field(
                    name=_("Default channel"),
                    value=mention_channel(channel) if channel else _("where /ballerina party create runs"),
                ),
                Field(name=_("Default reminders"), value=", ".join(describe_offset(o) for o in offsets)),
                Field(name=_("Upcoming parties per member"), value=str(settings.cap)),
            ),
            ephemeral=True,
        )


class PartyReminders:
    """The ``party`` event kind: reminders before a party to its channel and Going members."""

    name = PARTY_KIND

    def __init__(self, parties: Parties) -> None:
        self.parties = parties

    async def _party(self, reminder: Reminder) -> Party | None:
        party = await self.parties.parties.get(reminder.guild_id, int(reminder.event_id))
        return party if party is not None and not party.cancelled else None

    async def fan_out(self, fan: FanOut) -> None:
        if not await PartyStore.fan_out(fan):
            fan.skip("party cancelled or without a channel")

    async def render(self, reminder: Reminder, row: OutboxRow) -> Sequence[Reply]:
        party = await self._party(reminder)
        if party is None:
            return ()
        card = self.reminder_card(party, reminder.offset, late=row.late)
        return await deliver_to_going(self.parties.parties, party, row, card)

    def reminder_card(self, party: Party, offset: timedelta, *, late: bool) -> Reply:
        title = Word(escape_user_text(party.title))
        heading = (
            _("{title} starts in {countdown}").format(title=title, countdown=countdown(offset))
            if offset
            else _("{title} is starting now!").format(title=title)
        )
        fields = [
            Field(name=_("Where"), value=self.parties.where(party), inline=True),
            Field(name=_("Host"), value=mention_user(party.host_id), inline=True),
        ]
        if late:
            fields.append(Field(name=_("Posted late"), value=_("I was offline when this reminder was due.")))
        return Reply(
            title=heading,
            description=f"{timestamp(party.starts_at, 'F')} ({timestamp(party.starts_at, 'R')})",
            fields=tuple(fields),
            footer=_("Party #{id} · you get this because you're going").format(id=party.id),
        )


class PartyNotices:
    """The ``party_notice`` event kind: "the party moved" and "the party is cancelled"."""

    name = NOTICE_KIND

    def __init__(self, parties: Parties) -> None:
        self.parties = parties

    async def fan_out(self, fan: FanOut) -> None:
        await PartyStore.fan_out(fan)

    async def render(self, reminder: Reminder, row: OutboxRow) -> Sequence[Reply]:
        notice = await self.parties.parties.notice(int(reminder.event_id))
        if notice is None:
            return ()
        party, title = notice.party, escape_user_text(notice.party.title)
        if notice.kind is NoticeKind.CANCELLED:
            card = Reply(
                title=_("Cancelled: {title}").format(title=title),
                description=_("The watch party planned for {when} won't happen.").format(
                    when=timestamp(notice.old_starts_at, "F")
                ),
            )
        else:
            card = Reply(
                title=_("{title} has moved").format(title=Word(title)),
                description=_("Now {when} ({relative}), instead of {before}.").format(
                    when=timestamp(party.starts_at, "F"),
                    relative=timestamp(party.starts_at, "R"),
                    before=timestamp(notice.old_starts_at, "F"),
                ),
            )
        return await deliver_to_going(self.parties.parties, party, row, card)


async def deliver_to_going(store: PartyStore, party: Party, row: OutboxRow, card: Reply) -> Sequence[Reply]:
    """The messages of one outbox row: the channel post pings the Going members who get party
    reminders there; a DM goes only to a member still going."""
    if row.target is Target.DM:
        return [card] if await store.is_going(party.id, row.target_id) else ()
    return ping_messages(card, await store.going_in_channel(party.id))
