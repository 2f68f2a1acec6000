"""Stored languages: a guild's (chosen, and its platform's default) and a member's (chosen, and last seen)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from bot.core.i18n import Language
from bot.core.storage.database import Database, Row
from bot.core.storage.models import Platform
from bot.core.storage.store import Store


@dataclass(frozen=True)
class StoredLanguages:
    chosen: Language | None = None
    """Set by a command (a moderator's for a guild, the member's own); None: automatic."""
    platform: Language | None = None
    """What the platform reported last: the guild's default locale, the member's client locale."""


def _stored(row: Row | None) -> StoredLanguages:
    if row is None:
        return StoredLanguages()
    return StoredLanguages(cast("Language | None", row["chosen"]), cast("Language | None", row["platform"]))


class LanguageStore:
    def __init__(self, db: Database, store: Store) -> None:
        self._db = db
        self._store = store

    async def guilds(self, guild_ids: Sequence[str]) -> list[StoredLanguages]:
        """Several guilds' languages in one database trip, in the order of ``guild_ids``."""
        async with self._db.read() as session:
            rows = await session.fetchall(
                "SELECT guild_id, language AS chosen, platform_language AS platform FROM guild_settings"
                f" WHERE guild_id IN ({', '.join('?' * len(guild_ids))})",
                tuple(guild_ids),
            )
        found = {row["guild_id"]: _stored(row) for row in rows}
        return [found.get(guild_id, StoredLanguages()) for guild_id in guild_ids]

    async def set_guild(
        self, guild_id: str, platform: Platform, *, chosen: Language | None, reported: Language | None
    ) -> None:
        """Store both of a guild's languages (creating its settings row on ``platform`` if needed)."""
        await self._store.ensure_guild(guild_id, platform)
        async with self._db.transaction() as session:
            await session.execute(
                "UPDATE guild_settings SET language = ?, platform_language = ? WHERE guild_id = ?",
                (chosen, reported, guild_id),
            )

    async def members(self, user_ids: Sequence[str]) -> list[StoredLanguages]:
        """Several members' languages in one database trip, in the order of ``user_ids``."""
        async with self._db.read() as session:
            rows = await session.fetchall(
                "SELECT user_id, language AS chosen, seen_language AS platform FROM user_settings"
                f" WHERE user_id IN ({', '.join('?' * len(user_ids))})",
                tuple(user_ids),
            )
        found = {row["user_id"]: _stored(row) for row in rows}
        return [found.get(user_id, StoredLanguages()) for user_id in user_ids]

    async def set_member(self, user_id: str, *, chosen: Language | None, seen: Language | None) -> None:
        await self.set_members([(user_id, StoredLanguages(chosen, seen))])

    async def set_members(self, members: Sequence[tuple[str, StoredLanguages]]) -> None:
        """Store several members' languages (chosen, last seen) in one transaction."""
        async with self._db.transaction() as session:
            await session.execute(
                "INSERT INTO user_settings (user_id, language, seen_language) VALUES "
                + ", ".join("(?, ?, ?)" for _ in members)
                + " ON CONFLICT (user_id) DO UPDATE SET language = excluded.language,"
                " seen_language = excluded.seen_language",
                tuple(value for user_id, stored in members for value in (user_id, stored.chosen, stored.platform)),
            )
