"""Members' languages looked up and stored in batches: many members first seen at once share
database trips, on each back end, and each gets their own language."""

from __future__ import annotations

import asyncio

from bot.core.services import Core
from bot.core.storage.languages import LanguageStore


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
