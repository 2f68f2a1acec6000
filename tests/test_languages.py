"""Who reads which language, stored on each back end (see bot/core/languages.py)."""

from __future__ import annotations

from bot.core.languages import Languages
from bot.core.services import Core
from bot.core.storage import Platform
from bot.core.storage.languages import LanguageStore


async def test_a_members_language_follows_their_choice_then_their_client_then_the_server(
    offline_core: Core,
) -> None:
    languages = offline_core.languages
    assert await languages.for_member("u1", None, "g1") == "en"
    await languages.for_server("g1", Platform.DISCORD, reported="ko")
    assert await languages.for_member("u1", None, "g1") == "ko", "no client locale yet: the server's"
    assert await languages.for_member("u1", "en", "g1") == "en", "the client's locale now"
    assert await languages.for_member("u1", None, "g1") == "en", "the client's locale as last seen (a DM)"
    await languages.choose_for_member("u1", "ko")
    assert await languages.for_member("u1", "en", "g1") == "ko", "a choice beats the client"
    await languages.choose_for_member("u1", None)
    assert await languages.for_member("u1", "en", "g1") == "en"


async def test_a_servers_language_is_the_moderators_choice_else_the_platforms(offline_core: Core) -> None:
    languages = offline_core.languages
    assert await languages.for_server("g1") == "en"
    assert await languages.for_server("g1", Platform.SLACK, reported="ko") == "ko"
    await languages.choose_for_server("g1", Platform.SLACK, "en")
    assert await languages.for_server("g1", Platform.SLACK, reported="ko") == "en"
    assert (await offline_core.store.get_guild_settings("g1")).platform is Platform.SLACK


async def test_stored_languages_survive_a_restart(offline_core: Core) -> None:
    """A fresh service (as after a restart, or in another process) reads what the first one stored."""
    await offline_core.languages.choose_for_member("u1", "ko")
    await offline_core.languages.for_server("g1", Platform.DISCORD, reported="ko")
    fresh = Languages(LanguageStore(offline_core.db, offline_core.store))
    assert await fresh.member_choice("u1") == "ko"
    assert await fresh.for_server("g1") == "ko"
    assert await fresh.for_member("u2", None, "g1") == "ko"
