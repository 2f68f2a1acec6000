"""Who reads which language: a member their own (chosen, else their client's), a channel its server's.

* A member's own replies: the language they chose with ``language``, else the one their client
  shows now (Discord's ``interaction.locale``, Slack's ``users.info`` locale, the console's
  ``--lang``/``LANG``), else the one it showed last, else their server's.
* What a channel sees: the language its moderators chose, else the platform's default for the
  server (Discord's ``guild_locale``, the workspace's locale), else English.
* A DM: the member's, as last seen or chosen (stored, so a reminder at 3 a.m. is right too).

Reads are cached for a short while (:data:`CACHE_SECONDS`): every interaction asks, and several
processes may share the database, so a choice made through another one shows within that time.
Hundreds of interactions (or deliveries) may arrive at once: lookups of one server (or member)
share one read, lookups of different ones and the store of the language a member's client shows
are group-committed (:mod:`bot.core.batching`), and a change is cached before it is written, so
only the first caller that sees it writes it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from bot.core.batching import GroupCommit
from bot.core.engine.protocols import EventKind, RenderingOf
from bot.core.i18n import DEFAULT_LANGUAGE, LANGUAGE_NAMES, LANGUAGES, Language, _, parse_language, speaking
from bot.core.replies import Reply, error
from bot.core.storage import OutboxRow, Platform, Reminder, Target
from bot.core.storage.languages import LanguageStore, StoredLanguages

CACHE_SECONDS = 30.0
AUTOMATIC = "auto"
"""The choice that hands the language back to the platform (the member's client, the server's default)."""


def language_choices() -> list[tuple[str, str]]:
    """(shown name, value) of each choice of the ``language`` commands, automatic last."""
    return [(LANGUAGE_NAMES[language], language) for language in LANGUAGES] + [(_("Automatic"), AUTOMATIC)]


def _parse_choice(text: str) -> tuple[bool, Language | None]:
    """(understood, the language chosen or None for automatic)."""
    if text.strip().lower() in (AUTOMATIC, "automatic", "자동"):
        return True, None
    language = parse_language(text)
    return language is not None, language


class _Recent:
    """Stored languages read lately, each kept :data:`CACHE_SECONDS`; a key missing or expired is
    read once however many callers ask for it meanwhile."""

    def __init__(self, load: Callable[[str], Awaitable[StoredLanguages]]) -> None:
        self._load = load
        self._entries: dict[str, tuple[float, StoredLanguages]] = {}
        self._loading: dict[str, asyncio.Future[StoredLanguages]] = {}

    def remember(self, key: str, value: StoredLanguages) -> None:
        if len(self._entries) > 50_000:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + CACHE_SECONDS, value)

    def _fresh(self, key: str) -> StoredLanguages | None:
        entry = self._entries.get(key)
        return entry[1] if entry is not None and entry[0] > time.monotonic() else None

    async def get(self, key: str) -> StoredLanguages:
        stored = self._fresh(key)
        if stored is not None:
            return stored
        loading = self._loading.get(key)
        if loading is None:
            loading = self._loading[key] = asyncio.ensure_future(self._load(key))
            loading.add_done_callback(lambda _: self._loading.pop(key, None))
        fetched = await asyncio.shield(loading)
        stored = self._fresh(key)  # a change remembered since the read began is newer
        if stored is None:
            stored = fetched
            self.remember(key, stored)
        return stored


class Languages:
    def __init__(self, store: LanguageStore) -> None:
        self._store = store
        self._seen_writes = GroupCommit(self._write_seen, key=lambda member: member[0])
        self._members = _Recent(GroupCommit(store.members, key=lambda user_id: user_id).submit)
        self._guilds = _Recent(GroupCommit(store.guilds, key=lambda guild_id: guild_id).submit)

    async def _write_seen(self, members: Sequence[tuple[str, StoredLanguages]]) -> list[None]:
        await self._store.set_members(members)
        return [None] * len(members)

    async def for_member(self, user_id: str, client: Language | None, server_id: str | None = None) -> Language:
        """The language of a member's own replies; ``client`` is what their client shows now, stored
        when it changed so that DMs follow it."""
        stored = await self._members.get(user_id)
        if client is not None and client != stored.platform:
            stored = StoredLanguages(stored.chosen, client)
            self._members.remember(user_id, stored)  # first: callers meanwhile see no change to write
            await self._seen_writes.submit((user_id, stored))
        language = stored.chosen or stored.platform
        if language is not None:
            return language
        return await self.for_server(server_id) if server_id is not None else DEFAULT_LANGUAGE

    async def member_choice(self, user_id: str) -> Language | None:
        return (await self._members.get(user_id)).chosen

    async def choose_for_member(self, user_id: str, language: Language | None) -> None:
        """A member's own choice (None: automatic again, from their client)."""
        stored = StoredLanguages(language, (await self._members.get(user_id)).platform)
        await self._store.set_member(user_id, chosen=language, seen=stored.platform)
        self._members.remember(user_id, stored)

    async def for_server(
        self, server_id: str, platform: Platform | None = None, reported: Language | None = None
    ) -> Language:
        """The language of what a server's channels see; ``reported`` is the platform's default
        for it (stored when it changed, on ``platform``)."""
        stored = await self._guilds.get(server_id)
        if reported is not None and platform is not None and reported != stored.platform:
            stored = StoredLanguages(stored.chosen, reported)
            self._guilds.remember(server_id, stored)  # first: callers meanwhile see no change to write
            await self._store.set_guild(server_id, platform, chosen=stored.chosen, reported=reported)
        return stored.chosen or stored.platform or DEFAULT_LANGUAGE

    async def server_choice(self, server_id: str) -> Language | None:
        return (await self._guilds.get(server_id)).chosen

    async def choose_for_server(self, server_id: str, platform: Platform, language: Language | None) -> None:
        """A moderator's choice for the server (None: the platform's default again)."""
        stored = StoredLanguages(language, (await self._guilds.get(server_id)).platform)
        await self._store.set_guild(server_id, platform, chosen=language, reported=stored.platform)
        self._guilds.remember(server_id, stored)

    async def member_command(self, user_id: str, text: str, client: Language | None) -> Reply:
        """``/ballerina language en|ko|auto``: the answer comes in the language now in force."""
        understood, language = _parse_choice(text)
        if not understood:
            return error(_("I speak English (`en`) and Korean (`ko`); `auto` follows your app's language."))
        await self.choose_for_member(user_id, language)
        now_speaking = await self.for_member(user_id, client)
        with speaking(now_speaking):
            if language is None:
                return Reply(content=_("I'll answer you in your app's language."), ephemeral=True)
            answer = _("I'll answer you in {language} from now on.")
            return Reply(content=answer.format(language=LANGUAGE_NAMES[now_speaking]), ephemeral=True)

    async def server_command(self, server_id: str, platform: Platform, text: str) -> Reply:
        """``/ballerina-admin language en|ko|auto``: the language of this server's channel posts."""
        understood, language = _parse_choice(text)
        if not understood:
            return error(_("Choose `en` (English), `ko` (Korean) or `auto` (the server's own default)."))
        await self.choose_for_server(server_id, platform, language)
        now_posting = await self.for_server(server_id)
        with speaking(now_posting):
            if language is None:
                answer = _("Channel posts here follow the server's default language again ({language}).")
            else:
                answer = _("Channel posts here are in {language} from now on.")
            return Reply(content=answer.format(language=LANGUAGE_NAMES[now_posting]), ephemeral=True)

    async def for_row(self, row: OutboxRow) -> Language:
        """The language of one delivery: a DM the member's, a post its server's."""
        if row.target is Target.DM:
            return await self.for_member(row.target_id, None, row.guild_id)
        return await self.for_server(row.guild_id)


class InReadersLanguage(RenderingOf):
    """An event kind whose messages are rendered in their reader's language (see :class:`Languages`)."""

    def __init__(self, kind: EventKind, languages: Languages) -> None:
        super().__init__(kind)
        self._languages = languages

    async def render(self, reminder: Reminder, row: OutboxRow) -> Sequence[Reply]:
        with speaking(await self._languages.for_row(row)):
            return await self._kind.render(reminder, row)
