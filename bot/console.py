"""The offline console: type ``/ballerina cast`` and read the same answers Discord users get.

It speaks the terminal's language (``--lang``, else ``LC_ALL``/``LC_MESSAGES``/``LANG``) unless the
member picks one with ``/ballerina language``, and writes times in the member's zone (the one
``/ballerina timezone`` stored, else ``--timezone``), as Babel writes them in that language.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.core.commandline import CommandLineError, parse_options, split_words
from bot.core.film_commands import FilmFacts
from bot.core.i18n import DEFAULT_LANGUAGE, Language, _, format_instant, language_of, speaking
from bot.core.markup import EMPHASIS, replace_timestamps
from bot.core.parties import RSVP, Parties
from bot.core.replies import ZERO_WIDTH_SPACE, Reply
from bot.core.services import Core
from bot.core.storage import Platform

Handler = Callable[[dict[str, str]], Reply | Awaitable[Reply]]

PROMPT = "ballerina> "
MENTION = re.compile(r"<@!?&?([\w-]+)>")
CHANNEL = re.compile(r"<#[\w-]+>")
ESCAPED = re.compile(r"\\([\\*_~`|>#\[\]()<])")
ASCII_DIGITS = re.compile(r"[0-9]{1,30}")  # longer is no id either (and int() refuses 4,300 digits)


def render_reply(reply: Reply, zone: tzinfo, now: datetime) -> str:
    """A reply as terminal text in the current language, timestamps written in ``zone``."""
    lines: list[str] = []
    if reply.content:
        lines.append(reply.content)
    if reply.title:
        lines += [reply.title, "=" * len(reply.title)]
    if reply.description:
        lines.append(reply.description)
    for field in reply.fields:
        lines += ["", f"{field.name}:", *(f"  {line}" for line in field.value.splitlines())]
    if reply.buttons:
        lines += ["", "  ".join(f"[{button.label}]" for button in reply.buttons)]
    if reply.footer:
        lines += ["", reply.footer]
    you, someone = _("@you"), _("@member")
    text = MENTION.sub(lambda match: you if match.group(1) == CONSOLE_USER else someone, "\n".join(lines))
    text = CHANNEL.sub(_("#channel"), text).replace(ZERO_WIDTH_SPACE, "")
    text = replace_timestamps(text, lambda instant, style: format_instant(instant, style, zone, now))
    text = EMPHASIS.sub(lambda match: match.group(1) or match.group(2), text)
    return ESCAPED.sub(r"\1", text)


SERVER_ONLY = frozenset({"remind", "forget-me"})
"""Commands about a member of a server (roles, DMs, their data there): nothing to do offline."""

CONSOLE_GUILD = "console"
CONSOLE_CHANNEL = "console"
CONSOLE_USER = "you"


class ConsoleSession:
    """One member talking to the bot in a terminal, with no network and no token.

    With a :class:`Core` (on a throwaway database) the watch-party commands work too; the
    card's buttons become ``/ballerina party going|maybe|no|leave id:N``.
    """

    def __init__(
        self, facts: FilmFacts, zone: tzinfo, core: Core | None = None, language: Language | None = None
    ) -> None:
        """``zone`` until the member stores their own; ``language`` the terminal's (None: not known)."""
        self.facts = facts
        self.zone = zone
        self.core = core
        self.terminal_language = language
        self.commands: dict[str, Handler] = {
            "about": lambda _: facts.about(),
            "cast": lambda _: facts.cast(),
            "director": lambda _: facts.director(),
            "release": lambda _: facts.release(),
            "character": lambda options: facts.character(options.get("name", "")),
            "help": lambda _: facts.help(),
        }
        if core is not None:
            self.commands |= party_commands(core.parties)
            languages = core.languages
            self.commands["language"] = lambda options: languages.member_command(
                CONSOLE_USER, options.get("name", ""), language
            )

    async def language(self) -> Language:
        """The member's choice, else the terminal's language. The console's pretend server is the
        member's own: its default follows them, so the party cards they make speak it too."""
        if self.core is None:
            return self.terminal_language or DEFAULT_LANGUAGE
        languages = self.core.languages
        language = await languages.for_member(CONSOLE_USER, self.terminal_language, CONSOLE_GUILD)
        await languages.for_server(CONSOLE_GUILD, Platform.DISCORD, reported=language)
        return language

    async def member_zone(self) -> tzinfo:
        """The zone ``/ballerina timezone`` stored for the member, else the console's."""
        if self.core is None:
            return self.zone
        stored = (await self.core.parties.parties.user_settings(CONSOLE_USER)).timezone
        return ZoneInfo(stored) if stored else self.zone

    async def handle(self, line: str) -> str | None:
        """The answer to one typed line in the member's language, or None for a blank line."""
        with speaking(await self.language()):
            return await self._answer(line)

    async def _answer(self, line: str) -> str | None:
        try:
            words = split_words(line)
        except CommandLineError as exc:
            return _("I couldn't read that line. {problem}").format(problem=exc)
        if not words:
            return None
        texts = [word.text for word in words]
        if texts[0] != "/ballerina" or len(texts) < 2:
            return _("Commands start with /ballerina, for example: /ballerina cast (try /ballerina help).")
        name = texts[1] if texts[1] != "party" or len(texts) < 3 else f"party {texts[2]}"
        handler = self.commands.get(name)
        if handler is None and texts[1] in SERVER_ONLY:
            refusal = _("/ballerina {command} works in a server or workspace, with its members and channels: not here.")
            return refusal.format(command=texts[1])
        if handler is None:
            return _("There is no /ballerina {command} command. Try /ballerina help.").format(command=name[:30])
        try:
            options = parse_options(words[len(name.split()) + 1 :])
        except CommandLineError as exc:
            return _("{problem} Try /ballerina help.").format(problem=exc)
        reply = handler(options)
        if not isinstance(reply, Reply):
            reply = await reply
        return render_reply(reply, await self.member_zone(), self.facts.clock.now())

    async def run(self, lines: Iterable[str], out: TextIO = sys.stdout, interactive: bool = False) -> None:
        if interactive:
            with speaking(await self.language()):
                out.write(_("Ballerina bot, offline console. Try /ballerina help; Ctrl-D to quit.") + "\n" + PROMPT)
            out.flush()
        for line in lines:
            answer = await self.handle(line)
            if answer is not None:
                out.write(answer + "\n\n")
            if interactive:
                out.write(PROMPT)
            out.flush()


def party_commands(parties: Parties) -> dict[str, Handler]:
    """The party commands for the console's one member, in its one pretend server."""
    me = {"guild_id": CONSOLE_GUILD, "user_id": CONSOLE_USER}

    def party_id(options: dict[str, str]) -> int:
        """The typed id; 0 (no party) unless it is plain digits: ``str.isdigit`` also takes "²" and "١"."""
        typed = options.get("id", "")
        return int(typed) if ASCII_DIGITS.fullmatch(typed) else 0

    async def create(options: dict[str, str]) -> Reply:
        outcome = await parties.create(
            guild_id=CONSOLE_GUILD,
            host_id=CONSOLE_USER,
            channel_id=CONSOLE_CHANNEL,
            when=options.get("when", options.get("name", "")),
            title=options.get("title"),
            timezone=options.get("timezone"),
            remind=options.get("remind"),
        )
        return outcome.reply if outcome.card is None else replace(outcome.card, content=outcome.reply.description)

    def answer(choice: RSVP | None) -> Handler:
        async def rsvp(options: dict[str, str]) -> Reply:
            outcome = await parties.rsvp(
                guild_id=CONSOLE_GUILD, party_id=party_id(options), user_id=CONSOLE_USER, choice=choice
            )
            return outcome.reply if outcome.card is None else replace(outcome.card, content=outcome.reply.content)

        return rsvp

    async def cancel(options: dict[str, str]) -> Reply:
        outcome = await parties.cancel(**me, party_id=party_id(options), is_moderator=True)
        return outcome.reply

    return {
        "party create": create,
        "party list": lambda _: parties.list_upcoming(CONSOLE_GUILD),
        "party info": lambda options: parties.info(CONSOLE_GUILD, party_id(options)),
        "party going": answer(RSVP.GOING),
        "party maybe": answer(RSVP.MAYBE),
        "party no": answer(RSVP.NOT_GOING),
        "party leave": answer(None),
        "party cancel": cancel,
        "timezone": lambda options: parties.set_member_timezone(**me, name=options.get("name", "")),
    }


def terminal_language(environ: Mapping[str, str]) -> Language | None:
    """The language of the terminal's locale, as POSIX picks it: ``LC_ALL``, else ``LC_MESSAGES``,
    else ``LANG`` (``ko_KR.UTF-8`` → Korean); None when none is set."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return language_of(environ[name])
    return None
