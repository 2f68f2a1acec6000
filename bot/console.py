"""The offline console: type ``/ballerina cast`` and read the same answers Discord users get."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, tzinfo
from typing import TextIO

from bot.core.film_commands import FilmFacts
from bot.core.markup import EMPHASIS, format_instant, replace_timestamps
from bot.core.replies import Reply
from bot.core.timeparse import humanize_delta

Handler = Callable[[dict[str, str]], Reply | Awaitable[Reply]]

PROMPT = "ballerina> "


def render_reply(reply: Reply, zone: tzinfo, now: datetime) -> str:
    """A reply as terminal text, timestamps written in ``zone``."""
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
    text = "\n".join(lines)
    text = replace_timestamps(text, lambda instant, style: format_instant(instant, style, zone, now, humanize_delta))
    return EMPHASIS.sub(lambda match: match.group(1) or match.group(2), text)


class ConsoleSession:
    """One member talking to the bot in a terminal, with no network and no token."""

    def __init__(self, facts: FilmFacts, zone: tzinfo) -> None:
        self.facts = facts
        self.zone = zone
        self.commands: dict[str, Handler] = {
            "about": lambda _: facts.about(),
            "cast": lambda _: facts.cast(),
            "director": lambda _: facts.director(),
            "release": lambda _: facts.release(),
            "character": lambda options: facts.character(options.get("name", "")),
            "help": lambda _: facts.help(),
        }

    async def handle(self, line: str) -> str | None:
        """The answer to one typed line, or None for a blank line."""
        try:
            words = shlex.split(line)
        except ValueError:
            return "I couldn't read that line: check the quotes."
        if not words:
            return None
        if words[0] != "/ballerina" or len(words) < 2:
            return "Commands start with /ballerina, for example: /ballerina cast (try /ballerina help)."
        name, options = words[1], parse_options(words[2:])
        handler = self.commands.get(name)
        if handler is None:
            return f"There is no /ballerina {name[:30]} command. Try /ballerina help."
        reply = handler(options)
        if not isinstance(reply, Reply):
            reply = await reply
        return render_reply(reply, self.zone, self.facts.clock.now())

    async def run(self, lines: Iterable[str], out: TextIO = sys.stdout, interactive: bool = False) -> None:
        if interactive:
            out.write("Ballerina bot, offline console. Try /ballerina help; Ctrl-D to quit.\n" + PROMPT)
            out.flush()
        for line in lines:
            answer = await self.handle(line)
            if answer is not None:
                out.write(answer + "\n\n")
            if interactive:
                out.write(PROMPT)
            out.flush()


def parse_options(words: list[str]) -> dict[str, str]:
    """``name:Ok-ju`` style options; bare words after the command become ``name``."""
    options: dict[str, str] = {}
    loose: list[str] = []
    for word in words:
        key, sep, value = word.partition(":")
        if sep and key.isidentifier():
            options[key] = value
        else:
            loose.append(word)
    if loose:
        options.setdefault("name", " ".join(loose))
    return options
