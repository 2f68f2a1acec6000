"""Finds English left in a Korean reply: what a Korean member must never meet.

Allowed: code spans (commands, ``en``/``ko``, time zone names as typed), URLs, mentions and
timestamps of the reply markup, and the few Latin words Korean writes as they are
(:data:`ALLOWED`). Member-written text (party titles) is the member's own and is passed in
``allowed`` by the test that typed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.core.replies import Reply

ALLOWED = frozenset({"Netflix", "DM", "DMs", "ID", "IDs", "UTC", "BIFF", "OK", "RSVP", "Slack", "Discord", "Google"})
_SKIPPED = re.compile(
    r"`[^`]*`|https?://\S+|<[@#][&!]?[A-Za-z0-9]+>|<t:-?\d+(?::[a-zA-Z])?>|/ballerina(?:-admin)?(?: [a-z-]+){0,2}"
)
_WORD = re.compile(r"[A-Za-z][A-Za-z']+")


def english_words(text: str, allowed: Iterable[str] = ()) -> list[str]:
    """The Latin-script words of ``text`` that are neither allowed nor inside a skipped span."""
    allowed_words = ALLOWED | {word for phrase in allowed for word in _WORD.findall(phrase)}
    return [word for word in _WORD.findall(_SKIPPED.sub(" ", text)) if word not in allowed_words]


def reply_texts(reply: Reply) -> list[str]:
    """Every text of a reply a reader sees: content, card title, description, fields, footer, buttons."""
    texts = [reply.content, reply.title, reply.description, reply.footer]
    texts += [text for field in reply.fields for text in (field.name, field.value)]
    texts += [button.label for button in reply.buttons]
    return [text for text in texts if text]
