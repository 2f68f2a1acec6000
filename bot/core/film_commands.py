"""Command logic for the film-facts commands: each returns a platform-neutral :class:`Reply`."""

from __future__ import annotations

from datetime import timedelta

from bot.core.clock import Clock
from bot.core.film import CastMember, Film, Translations, folded_name
from bot.core.i18n import N_, Word, _, current_language
from bot.core.replies import Field, Reply, error, timestamp
from bot.core.timeparse import span_parts

AUTOCOMPLETE_LIMIT = 25  # Discord shows at most 25 choices

HELP_LINES = (
    ("about", N_("what the film is about, its premiere and where to watch it")),
    ("cast", N_("who plays whom")),
    ("character", N_("one character in detail")),
    ("director", N_("the director and his vision")),
    ("release", N_("when it came out on {platform}, in your own time zone")),
    ("remind on|off|status", N_("reminders before the {platform} release, here or by DM")),
    ("party create|list|info|edit|cancel", N_("plan a watch party, see who's going, get reminded before it starts")),
    ("party reminders", N_("party reminders here or by DM")),
    ("timezone", N_("your own time zone, for the times you type")),
    ("language", N_("the language I answer you in: English or Korean")),
    ("forget-me", N_("delete what I keep about you (asks first)")),
)


def countdown(remaining: timedelta) -> str:
    """``remaining`` as "3 days, 4 hours and 5 minutes" / "3일 4시간 5분" (whole minutes, largest
    units first) in the current language."""
    minutes = max(0, int(remaining.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = span_parts(days, hours, minutes)
    if not parts:
        return _("less than a minute")
    listed = parts[0]
    for part in parts[1:-1]:
        # TRANSLATORS: a countdown's units one after the other: "3 days, 4 hours".
        listed = _("{units}, {unit}").format(units=listed, unit=part)
    if len(parts) > 1:
        # TRANSLATORS: a countdown's last unit: "3 days, 4 hours and 5 minutes".
        listed = _("{units} and {unit}").format(units=listed, unit=parts[-1])
    return listed


class FilmFacts:
    """Answers the ``/ballerina`` information commands from the loaded film data."""

    def __init__(self, film: Film, clock: Clock) -> None:
        self.film = film
        self.clock = clock
        self.translations = Translations(film)

    @property
    def text(self) -> Film:
        """The film's facts in the current language."""
        return self.translations[current_language()]

    def where_to_watch(self) -> str:
        release = self.film.release
        if release.exclusive:
            return _("Streaming exclusively on **{platform}**").format(platform=release.platform)
        return _("Streaming on **{platform}**").format(platform=release.platform)

    def help(self) -> Reply:
        platform = self.film.release.platform
        return Reply(
            title=_("{title} bot: what I can do").format(title=self.text.title),
            description="\n".join(
                f"`/ballerina {name}`: {_(what).format(platform=platform)}" for name, what in HELP_LINES
            ),
            footer=_("Moderators: /ballerina-admin configures reminders for this server."),
        )

    def cast(self) -> Reply:
        film = self.text
        return Reply(
            title=_("{title}: the cast").format(title=film.title),
            fields=tuple(self._cast_field(member) for member in film.cast),
            footer=_("Tip: /ballerina character tells you more about one role."),
        )

    @staticmethod
    def _cast_field(member: CastMember) -> Field:
        return Field(
            name=_("{actor} as {character}").format(actor=member.actor, character=member.character),
            value=member.description,
        )

    def director(self) -> Reply:
        director = self.text.director
        return Reply(
            title=_("Directed by {director}").format(director=director.name),
            description=director.summary,
            fields=(Field(name=_("His vision for the film"), value=director.vision),),
        )

    def about(self) -> Reply:
        film = self.text
        premiere = film.premiere
        fields = [
            Field(name=_("Genre"), value=film.genre, inline=True),
            Field(name=_("Director"), value=film.director.name, inline=True),
            Field(name=_("Starring"), value=", ".join(m.actor for m in film.cast[:2]), inline=True),
            Field(
                name=_("Premiere"),
                value=_("{festival}, “{section}”").format(festival=premiere.festival, section=premiere.section),
            ),
            Field(
                name=_("Where to watch"),
                value=_("{where}, from {date}").format(
                    where=self.where_to_watch(), date=timestamp(film.release.instant, "D")
                ),
            ),
        ]
        if film.highlights:
            fields.append(Field(name=_("Why fans are buzzing"), value="\n".join(f"• {h}" for h in film.highlights)))
        return Reply(title=f"{film.title}: {film.tagline}", description=film.synopsis, fields=tuple(fields))

    def release(self) -> Reply:
        release = self.film.release
        instant = release.instant
        now = self.clock.now()
        title = Word(self.text.title)
        when = f"{timestamp(instant, 'F')} ({timestamp(instant, 'R')})"
        if now < instant:
            return Reply(
                title=_("{title} arrives on {platform}").format(title=title, platform=release.platform),
                description=_("{when}\nThat is in **{countdown}**.").format(
                    when=when, countdown=countdown(instant - now)
                ),
                footer=_("/ballerina remind on: get a reminder before it starts."),
            )
        return Reply(
            title=_("{title} is out now").format(title=title),
            description=_("{where} since {when}.").format(where=self.where_to_watch(), when=when),
            footer=_("/ballerina party create: plan a watch party with your server."),
        )

    def character(self, name: str) -> Reply:
        found = self.film.find_character(name)
        film = self.text
        if found is None:
            known = ", ".join(m.character for m in film.cast)
            return error(
                _("I don't know a character called “{name}”. Try one of: {known}.").format(
                    name=name.strip()[:40], known=known
                )
            )
        member = film.cast[self.film.cast.index(found)]
        return Reply(
            title=member.character,
            description=member.description,
            fields=(Field(name=_("Played by"), value=member.actor, inline=True),),
        )

    def character_choices(self, query: str) -> list[str]:
        """Character names matching what the member has typed so far, best first.

        The query may be in any language of the film file (``옥`` finds Ok-ju); the names offered
        are the ones the replies use, in the current language (``Ok`` offers 옥주 to a Korean member).
        """
        wanted = folded_name(query)

        def rank(member: CastMember) -> int | None:
            characters = member.names("character")
            if any(name.startswith(wanted) for name in characters):
                return 0
            if any(wanted in name for name in characters):
                return 1
            if any(wanted in name for name in member.names("actor")):
                return 2
            return None

        shown = self.text.cast
        ranked = sorted(
            (found, position, shown[position].character)
            for position, member in enumerate(self.film.cast)
            if (found := rank(member)) is not None
        )
        return [name for _, _, name in ranked][:AUTOCOMPLETE_LIMIT]
