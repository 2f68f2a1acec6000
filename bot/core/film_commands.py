"""Command logic for the film-facts commands: each returns a platform-neutral :class:`Reply`."""

from __future__ import annotations

from datetime import timedelta

from bot.core.clock import Clock
from bot.core.film import CastMember, Film, folded_name
from bot.core.replies import Field, Reply, error, timestamp

AUTOCOMPLETE_LIMIT = 25  # Discord shows at most 25 choices

HELP_LINES = (
    ("about", "what the film is about, its premiere and where to watch it"),
    ("cast", "who plays whom"),
    ("character", "one character in detail"),
    ("director", "the director and his vision"),
    ("release", "when it came out on {platform}, in your own time zone"),
    ("remind on|off|status", "reminders before the {platform} release, here or by DM"),
    ("party create|list|info|edit|cancel", "plan a watch party, see who's going, get reminded before it starts"),
    ("party reminders", "party reminders here or by DM"),
    ("timezone", "your own time zone, for the times you type"),
    ("forget-me", "delete what I keep about you (asks first)"),
)


def countdown(remaining: timedelta) -> str:
    """``remaining`` as "3 days, 4 hours and 5 minutes" (whole minutes, largest units first)."""
    minutes = max(0, int(remaining.total_seconds()) // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [
        f"{value} {unit}{'' if value == 1 else 's'}"
        for value, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"))
        if value
    ]
    if not parts:
        return "less than a minute"
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" and {parts[-1]}"


class FilmFacts:
    """Answers the ``/ballerina`` information commands from the loaded film data."""

    def __init__(self, film: Film, clock: Clock) -> None:
        self.film = film
        self.clock = clock

    @property
    def where_to_watch(self) -> str:
        release = self.film.release
        only = " exclusively" if release.exclusive else ""
        return f"Streaming{only} on **{release.platform}**"

    def help(self) -> Reply:
        return Reply(
            title=f"{self.film.title} bot: what I can do",
            description="\n".join(
                f"`/ballerina {name}`: {what.format(platform=self.film.release.platform)}" for name, what in HELP_LINES
            ),
            footer="Moderators: /ballerina-admin configures reminders for this server.",
        )

    def cast(self) -> Reply:
        return Reply(
            title=f"{self.film.title}: the cast",
            fields=tuple(self._cast_field(member) for member in self.film.cast),
            footer="Tip: /ballerina character tells you more about one role.",
        )

    @staticmethod
    def _cast_field(member: CastMember) -> Field:
        return Field(name=f"{member.actor} as {member.character}", value=member.description)

    def director(self) -> Reply:
        director = self.film.director
        return Reply(
            title=f"Directed by {director.name}",
            description=director.summary,
            fields=(Field(name="His vision for the film", value=director.vision),),
        )

    def about(self) -> Reply:
        film = self.film
        premiere = film.premiere
        fields = [
            Field(name="Genre", value=film.genre, inline=True),
            Field(name="Director", value=film.director.name, inline=True),
            Field(name="Starring", value=", ".join(m.actor for m in film.cast[:2]), inline=True),
            Field(name="Premiere", value=f"{premiere.festival}, “{premiere.section}”"),
            Field(name="Where to watch", value=f"{self.where_to_watch}, from {timestamp(film.release.instant, 'D')}"),
        ]
        if film.highlights:
            fields.append(Field(name="Why fans are buzzing", value="\n".join(f"• {h}" for h in film.highlights)))
        return Reply(title=f"{film.title}: {film.tagline}", description=film.synopsis, fields=tuple(fields))

    def release(self) -> Reply:
        release = self.film.release
        instant = release.instant
        now = self.clock.now()
        when = f"{timestamp(instant, 'F')} ({timestamp(instant, 'R')})"
        if now < instant:
            return Reply(
                title=f"{self.film.title} arrives on {release.platform}",
                description=f"{when}\nThat is in **{countdown(instant - now)}**.",
                footer="/ballerina remind on: get a reminder before it starts.",
            )
        return Reply(
            title=f"{self.film.title} is out now",
            description=f"{self.where_to_watch} since {when}.",
            footer="/ballerina party create: plan a watch party with your server.",
        )

    def character(self, name: str) -> Reply:
        member = self.film.find_character(name)
        if member is None:
            known = ", ".join(m.character for m in self.film.cast)
            return error(f"I don't know a character called “{name.strip()[:40]}”. Try one of: {known}.")
        return Reply(
            title=member.character,
            description=member.description,
            fields=(Field(name="Played by", value=member.actor, inline=True),),
        )

    def character_choices(self, query: str) -> list[str]:
        """Character names matching what the member has typed so far, best first.

        The query may be in any language of the film file (``옥`` finds Ok-ju); the names offered
        are the ones the replies use.
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

        ranked = sorted(
            (found, position, member.character)
            for position, member in enumerate(self.film.cast)
            if (found := rank(member)) is not None
        )
        return [name for _, _, name in ranked][:AUTOCOMPLETE_LIMIT]
