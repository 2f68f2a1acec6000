"""Members' languages looked up and stored in batches: many members first seen at once share
database trips, on each back end, and each gets their own language."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from bot.core.i18n import Language
from bot.core.languages import Languages
from bot.core.services import Core
from bot.core.storage import Platform
from bot.core.storage.languages import LanguageStore, StoredLanguages


async def test_members_first_seen_together_each_get_and_keep_their_own_language(offline_core: Core) -> None:
    languages = offline_core.languages
    await languages.choose_for_member("chose-ko", "ko")
    clients = {f"member-{i}": "ko" if i % 3 == 0 else "en" for i in range(60)}
    answers = await asyncio.gather(
        languages.for_member("chose-ko", "en"),
        *(languages.for_member(user, client) for user, client in clients.items()),  # type: ignore[arg-type]
    )
    assert answers == ["ko", *clients.values()]
    stored = await LanguageStore(offline_core.db, offline_core.store).members(["chose-ko", *clients, "never-seen"])
    assert [(s.chosen, s.platform) for s in stored] == [
        ("ko", "en"),
        *((None, client) for client in clients.values()),
        (None, None),
    ]


class CountedStore(LanguageStore):
    """The real store, counting its database trips for a server."""

    reads = writes = 0

    async def guilds(self, guild_ids: Sequence[str]) -> list[StoredLanguages]:
        self.reads += 1
        return await super().guilds(guild_ids)

    async def set_guild(
        self, guild_id: str, platform: Platform, *, chosen: Language | None, reported: Language | None
    ) -> None:
        self.writes += 1
        await super().set_guild(guild_id, platform, chosen=chosen, reported=reported)


async def test_a_burst_of_interactions_in_a_new_server_reads_and_stores_its_language_once(
    offline_core: Core,
) -> None:
    store = CountedStore(offline_core.db, offline_core.store)
    languages = Languages(store)
    answers = await asyncio.gather(*(languages.for_server("new-server", Platform.DISCORD, "ko") for _ in range(200)))
    assert set(answers) == {"ko"}
    assert (store.reads, store.writes) == (1, 1)
    assert await Languages(LanguageStore(offline_core.db, offline_core.store)).for_server("new-server") == "ko"
