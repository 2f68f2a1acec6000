"""Release reminders: member opt-in, moderator configuration and the reminder posts themselves."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Protocol

from bot.core.clock import Clock
from bot.core.engine.release import ReleaseNotice
from bot.core.film import Film, Translations
from bot.core.film_commands import countdown
from bot.core.i18n import N_, Language, Word, _, current_language, ngettext, speaking
from bot.core.languages import Languages
from bot.core.replies import (
    Button,
    ButtonStyle,
    Field,
    Reply,
    error,
    mention_channel,
    mention_group,
    timestamp,
)
from bot.core.role_backfill import RoleBackfills
from bot.core.storage import BackfillState, ErrorKind, GuildSettings, RoleBackfill, Store, Subscription, Target, Via
from bot.core.timeparse import TimeParseError, describe_offset, format_offsets, parse_offsets, parse_timezone

log = logging.getLogger(__name__)

RESET_CONFIRM_ID = "admin:reset:confirm"
PROBLEM_NAMES: dict[ErrorKind, str] = {
    ErrorKind.MISSING_CHANNEL: N_("missing channel"),
    ErrorKind.FORBIDDEN: N_("forbidden"),
    ErrorKind.DMS_CLOSED: N_("dms closed"),
    ErrorKind.UNKNOWN_USER: N_("unknown user"),
    ErrorKind.RECIPIENT_LEFT: N_("recipient left"),
    ErrorKind.ARCHIVED: N_("archived"),
    ErrorKind.ACCOUNT_INACTIVE: N_("account inactive"),
    ErrorKind.POSSIBLY_DUPLICATED: N_("possibly duplicated"),
    ErrorKind.TRANSIENT: N_("transient"),
    ErrorKind.UNEXPECTED: N_("unexpected"),
}
"""Each delivery problem as moderators read it (translated with ``_()`` where shown)."""
LANGUAGE_WORDS: dict[Language, str] = {"en": N_("English"), "ko": N_("한국어")}
"""Each language as the status names it: Korean in its own word for everyone, English in the reader's."""


class MemberRoles(Protocol):
    """Hands the ping role to the member who asked, or takes it back (a platform port)."""

    async def give(self, role_id: str) -> str | None:
        """None when done, else why it could not be done, in words for the member."""
        ...

    async def take(self, role_id: str) -> str | None: ...


def describe_schedule(offsets: Sequence[timedelta]) -> str:
    return ", ".join(describe_offset(offset) for offset in offsets) or _("no reminders")


def describe_backfill(backfill: RoleBackfill) -> str:
    """How far giving the ping role to the members who opted in before it has got."""
    failed = (
        " "
        + ngettext(
            "{count} could not be given it (errors): setting the role again retries them.",
            "{count} could not be given it (errors): setting the role again retries them.",
            backfill.failed,
        ).format(count=backfill.failed)
        if backfill.failed
        else ""
    )
    if backfill.state is BackfillState.DONE:
        return _("done: the members who opted in before have it.") + failed
    if backfill.state is BackfillState.STOPPED:
        return (
            _("stopped at {handled} of {total}: {note} Once that is fixed, set the role again to continue.").format(
                handled=backfill.handled, total=backfill.total, note=backfill.note
            )
            + failed
        )
    return _("{handled} of {total} so far.").format(handled=backfill.handled, total=backfill.total) + failed


class ReleaseReminders:
    """The release reminder posts' text, and the commands that configure them."""

    def __init__(
        self, film: Film, store: Store, clock: Clock, on_change: Callable[[], None], languages: Languages
    ) -> None:
        self.film = film
        self.store = store
        self.languages = languages
        self.clock = clock
        # Tells the engine that reminders changed, so it can re-arm its wake-up.
        self.on_change = on_change
        self.role_backfills = RoleBackfills(store)
        self.translations = Translations(film)

    @property
    def released(self) -> bool:
        return self.clock.now() >= self.film.release.instant

    def render_notice(self, notice: ReleaseNotice) -> Sequence[Reply]:
        """The text of one reminder post; the engine's release kind decides who it may ping."""
        return [self.reminder_post(notice.offset, notice.target, notice.settings, late=notice.late)]

    def reminder_post(self, offset: timedelta, target: Target, settings: GuildSettings, *, late: bool) -> Reply:
        film, release = self.translations[current_language()], self.film.release
        instant = release.instant
        title_word = Word(film.title)
        if offset:
            title = _("{title} arrives on {platform} in {countdown}").format(
                title=title_word, platform=release.platform, countdown=countdown(offset)
            )
            description = f"{timestamp(instant, 'F')} ({timestamp(instant, 'R')})"
        else:
            title = _("{title} is out now on {platform}").format(title=title_word, platform=release.platform)
            description = _("Streaming since {when}. Press play!").format(when=timestamp(instant, "F"))
        fields = [
            Field(
                name=_("Where to watch"),
                value=_("{platform}, {genre}").format(platform=release.platform, genre=film.genre.lower()),
            )
        ]
        if late:
            fields.append(Field(name=_("Posted late"), value=_("I was offline when this reminder was due.")))
        content = mention_group(settings.ping_role_id) if target is Target.CHANNEL and settings.ping_role_id else None
        footer = (
            _("You asked for this reminder: /ballerina remind off stops them.")
            if target is Target.DM
            else _("/ballerina remind on: get these reminders yourself.")
        )
        return Reply(
            title=title,
            description=description,
            fields=tuple(fields),
            footer=footer,
            content=content,
        )

    # -- members -------------------------------------------------------------------------------

    def _already_out(self) -> Reply:
        release = self.film.release
        return error(
            _(
                "{title} is already streaming on {platform} (since {date}), so there is no release left to "
                "count down. Plan a watch party instead with /ballerina party create: "
                "everyone who RSVPs gets reminders before it starts."
            ).format(
                title=Word(self.translations[current_language()].title),
                platform=release.platform,
                date=timestamp(release.instant, "D"),
            )
        )

    async def opt_in(self, guild_id: str, user_id: str, via: Via, roles: MemberRoles | None) -> Reply:
        """``roles`` is None on a platform without a ping role to hand out (Slack)."""
        if self.released:
            return self._already_out()
        async with self.role_backfills.member_lock(guild_id, user_id):
            return await self._opt_in(guild_id, user_id, via, roles)

    async def _opt_in(self, guild_id: str, user_id: str, via: Via, roles: MemberRoles | None) -> Reply:
        settings = await self.store.get_guild_settings(guild_id)
        notes: list[str] = []
        if via is Via.CHANNEL:
            if roles is None:
                if settings.channel_id is None:
                    notes.append(_("Moderators haven't picked a reminder channel yet."))
                if settings.ping_role_id is None:
                    notes.append(_("Each reminder post mentions you once, in a reply in its thread."))
                else:
                    notes.append(
                        _(
                            "Reminder posts mention the group {group} and nobody else: "
                            "if you're not in it, /ballerina remind on dm sends them to you directly."
                        ).format(group=mention_group(settings.ping_role_id))
                    )
            elif settings.channel_id is None:
                notes.append(_("Moderators haven't picked a reminder channel yet; you'll be pinged once they do."))
            elif settings.ping_role_id is None:
                notes.append(_("There is no ping role yet, so channel posts won't ping you until moderators set one."))
            else:
                problem = await roles.give(settings.ping_role_id)
                if problem is not None:
                    return error(problem)
        previous = await self.store.subscribe(guild_id, user_id, via)
        if previous is Via.CHANNEL and via is Via.DM and settings.ping_role_id and roles is not None:
            problem = await roles.take(settings.ping_role_id)
            if problem is not None:
                log.warning(
                    "guild %s: member %s switched to DMs but keeps the ping role: %s", guild_id, user_id, problem
                )
                notes.append(problem)
        self.on_change()
        schedule = describe_schedule(settings.release_offsets)
        if via is Via.DM:
            description = _("I'll remind you by DM: {schedule} the release.").format(schedule=schedule)
        elif settings.channel_id:
            description = _("I'll remind you in {channel}: {schedule} the release.").format(
                channel=mention_channel(settings.channel_id), schedule=schedule
            )
        else:
            description = _("I'll remind you here: {schedule} the release.").format(schedule=schedule)
        return Reply(
            title=_("Reminders on"),
            description=description,
            fields=(self._next_field(settings),),
            footer=" ".join(notes) or _("/ballerina remind off stops them at any time."),
            ephemeral=True,
        )

    async def opt_out(self, guild_id: str, user_id: str, roles: MemberRoles | None) -> Reply:
        async with self.role_backfills.member_lock(guild_id, user_id):
            return await self._opt_out(guild_id, user_id, roles)

    async def _opt_out(self, guild_id: str, user_id: str, roles: MemberRoles | None) -> Reply:
        subscription = await self.store.get_subscription(guild_id, user_id)
        if subscription is None:
            return error(_("You weren't getting release reminders here, so there was nothing to turn off."))
        problem = await self.take_ping_role(guild_id, subscription, roles)
        await self.store.unsubscribe(guild_id, user_id)
        self.on_change()
        fields: tuple[Field, ...] = ()
        if problem is not None:
            # Opted out all the same: they asked to be, and staying subscribed would not remove the role.
            log.warning("guild %s: member %s opted out but keeps the ping role: %s", guild_id, user_id, problem)
            fields = (Field(name=_("The ping role stays for now"), value=problem),)
        return Reply(
            title=_("Reminders off"),
            description=_("You won't get any more release reminders."),
            fields=fields,
            ephemeral=True,
        )

    async def take_ping_role(self, guild_id: str, subscription: Subscription, roles: MemberRoles | None) -> str | None:
        """Take back the ping role a channel sign-up gave; None when done or nothing to take."""
        role_id = (await self.store.get_guild_settings(guild_id)).ping_role_id
        if subscription.via is not Via.CHANNEL or not role_id or roles is None:
            return None
        return await roles.take(role_id)

    async def status(self, guild_id: str, user_id: str) -> Reply:
        if self.released:
            return self._already_out()
        subscription = await self.store.get_subscription(guild_id, user_id)
        settings = await self.store.get_guild_settings(guild_id)
        if subscription is None:
            return Reply(
                title=_("Reminders are off for you"),
                description=_("/ballerina remind on turns them on (in the channel, or by DM with via: dm)."),
                fields=(self._next_field(settings),),
                ephemeral=True,
            )
        schedule = describe_schedule(settings.release_offsets)
        description = (
            _("You get them by DM: {schedule} the release.")
            if subscription.via is Via.DM
            else _("You get them in the reminder channel: {schedule} the release.")
        )
        return Reply(
            title=_("Reminders are on for you"),
            description=description.format(schedule=schedule),
            fields=(self._next_field(settings),),
            ephemeral=True,
        )

    def _next_field(self, settings: GuildSettings) -> Field:
        now, instant = self.clock.now(), self.film.release.instant
        upcoming = [instant - offset for offset in settings.release_offsets if instant - offset > now]
        value = "\n".join(f"{timestamp(when, 'F')} ({timestamp(when, 'R')})" for when in upcoming) or _("none left")
        return Field(name=_("Coming up"), value=value)

    # -- moderators ----------------------------------------------------------------------------

    async def set_channel(self, guild_id: str, channel_id: str, problem: str | None) -> Reply:
        """``problem``: why the bot cannot post there and what to do, in the platform's words."""
        if problem is not None:
            return error(
                _("I can't post reminders in {channel} yet: {problem} Nothing was changed.").format(
                    channel=mention_channel(channel_id), problem=problem
                )
            )
        await self.store.update_guild_settings(guild_id, channel_id=channel_id)
        self.on_change()
        return Reply(
            content=_("Reminder posts will go to {channel}.").format(channel=mention_channel(channel_id)),
            ephemeral=True,
        )

    async def set_role(self, guild_id: str, role_id: str | None, problem: str | None) -> Reply:
        if problem is not None:
            return error(_("{problem} Nothing was changed.").format(problem=problem))
        previous = (await self.store.get_guild_settings(guild_id)).ping_role_id
        backfill = await self.store.set_ping_role(guild_id, role_id)
        await self.role_backfills.restart(guild_id)
        if role_id is None:
            content = _("Ping role cleared: reminder posts will ping nobody.")
        else:
            content = _("Members who opt in will get {role}, and reminder posts will ping it.").format(
                role=mention_group(role_id)
            )
            if backfill is not None:
                content += " " + ngettext(
                    "I'm giving it to the {count} member who opted in before: "
                    "/ballerina-admin status shows how far I got.",
                    "I'm giving it to the {count} members who opted in before, one at a time: "
                    "/ballerina-admin status shows how far I got.",
                    backfill.total,
                ).format(count=backfill.total)
        if previous is not None and previous != role_id:
            content += " " + _(
                "Members keep the previous ping role: I don't take it back, since some may have had it "
                "before I gave it to them. Remove it yourself if it served only for reminders."
            )
        return Reply(content=content, ephemeral=True)

    async def set_ping_group(self, guild_id: str, group_id: str | None) -> Reply:
        """On a platform whose groups the bot does not hand out (a Slack user group): posts
        mention the group instead of naming the members who opted in."""
        await self.store.update_guild_settings(guild_id, ping_role_id=group_id)
        if group_id is None:
            content = _("Ping group cleared: each reminder post mentions the members who opted in, in its thread.")
        else:
            content = _(
                "Reminder posts will mention {group} and nobody else. Members who opt in are"
                " not added to it: they are notified only if they are in it."
            ).format(group=mention_group(group_id))
        return Reply(content=content, ephemeral=True)

    async def set_schedule(self, guild_id: str, text: str) -> Reply:
        try:
            offsets = parse_offsets(text)
        except TimeParseError as exc:
            return error(_("{problem} Nothing was changed.").format(problem=exc))
        await self.store.update_guild_settings(guild_id, release_offsets=offsets)
        self.on_change()
        return Reply(
            content=_("Reminder schedule set to `{offsets}`: {schedule} the release.").format(
                offsets=format_offsets(offsets), schedule=describe_schedule(offsets)
            ),
            ephemeral=True,
        )

    async def set_timezone(self, guild_id: str, text: str) -> Reply:
        try:
            zone = parse_timezone(text)
        except TimeParseError as exc:
            return error(_("{problem} Nothing was changed.").format(problem=exc))
        await self.store.update_guild_settings(guild_id, timezone=zone.key)
        return Reply(content=_("Server time zone set to {zone}.").format(zone=zone.key), ephemeral=True)

    async def admin_status(
        self, guild_id: str, *, ping_groups: bool = True, problem_help: Mapping[ErrorKind, str] | None = None
    ) -> Reply:
        """``ping_groups``: whether the platform has a group for reminder posts to ping (a Discord
        role); without one the status neither shows it nor asks for it. ``problem_help``: what
        each delivery problem means on the platform, and what to do about it."""
        problem_help = problem_help or {}
        settings = await self.store.get_guild_settings(guild_id)
        counts = await self.store.count_subscribers(guild_id)
        problems = await self.store.delivery_problems(guild_id)
        upcoming = await self.store.upcoming_reminders(guild_id)
        todo: list[str] = []
        if settings.channel_id is None:
            todo.append(_("Pick a reminder channel: /ballerina-admin channel"))
        if settings.ping_role_id is None and ping_groups:
            todo.append(_("Set a ping role so channel posts reach members who opted in: /ballerina-admin role"))
        fields = [
            Field(
                name=_("Channel"),
                value=mention_channel(settings.channel_id) if settings.channel_id else _("not set"),
                inline=True,
            ),
            Field(name=_("Time zone"), value=settings.timezone, inline=True),
            Field(name=_("Language"), value=await self.server_language(guild_id), inline=True),
            Field(name=_("Schedule"), value=f"`{format_offsets(settings.release_offsets)}`", inline=True),
            Field(
                name=_("Opted in"),
                value=_("{channel} in the channel, {dm} by DM").format(channel=counts[Via.CHANNEL], dm=counts[Via.DM]),
                inline=True,
            ),
            Field(
                name=_("Next posts"),
                value="\n".join(f"{timestamp(r.due_at, 'F')} ({describe_offset(r.offset)})" for r in upcoming)
                or _("none scheduled"),
            ),
            Field(
                name=_("Delivery problems (7 days)"),
                value="\n".join(
                    f"{_(PROBLEM_NAMES[kind])}: {n}" + (f" ({problem_help[kind]})" if kind in problem_help else "")
                    for kind, n in problems.counts.items()
                )
                or _("none"),
            ),
        ]
        if ping_groups:
            role = mention_group(settings.ping_role_id) if settings.ping_role_id else _("not set")
            fields.insert(1, Field(name=_("Ping role"), value=role, inline=True))
        backfill = await self.store.role_backfill(guild_id)
        if backfill is not None:
            fields.append(Field(name=_("Giving the ping role to earlier opt-ins"), value=describe_backfill(backfill)))
        if todo:
            fields.append(Field(name=_("To do"), value="\n".join(f"• {item}" for item in todo)))
        return Reply(title=_("Release reminders: configuration"), fields=tuple(fields), ephemeral=True)

    async def server_language(self, guild_id: str) -> str:
        """The language of the server's channel posts, and whether moderators chose it."""
        posting = _(LANGUAGE_WORDS[await self.languages.for_server(guild_id)])
        if await self.languages.server_choice(guild_id) is None:
            return _("{language} (server default)").format(language=posting)
        return _("{language} (chosen by moderators)").format(language=posting)

    async def preview(self, guild_id: str) -> Reply:
        settings = await self.store.get_guild_settings(guild_id)
        upcoming = await self.store.upcoming_reminders(guild_id, limit=1)
        offset = upcoming[0].offset if upcoming else timedelta(0)
        with speaking(await self.languages.for_server(guild_id)):  # as the channel will read it
            post = self.reminder_post(offset, Target.CHANNEL, settings, late=False)
        footer = (
            _("Preview of the next reminder post, in {language}; only you can see this.")
            if upcoming
            else _("Preview (no reminder is scheduled), in {language}; only you can see this.")
        )
        return replace(post, footer=footer.format(language=await self.server_language(guild_id)), ephemeral=True)

    def reset_prompt(self) -> Reply:
        return Reply(
            content=_("Reset channel, ping role, schedule and time zone to the defaults? Members' opt-ins are kept."),
            buttons=(Button(label=_("Reset"), style=ButtonStyle.DANGER, custom_id=RESET_CONFIRM_ID),),
            ephemeral=True,
        )

    async def reset(self, guild_id: str) -> Reply:
        await self.store.reset_guild_settings(guild_id)
        await self.role_backfills.restart(guild_id)  # there is no role to give any more
        self.on_change()
        return Reply(content=_("Release reminder settings are back to the defaults."), ephemeral=True)
