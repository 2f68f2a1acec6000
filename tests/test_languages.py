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


async def test_the_language_command_answers_in_the_language_chosen_and_refuses_others(offline_core: Core) -> None:
    languages = offline_core.languages
    chosen = await languages.member_command("u1", "ko", client="en")
    assert chosen.content == "이제부터 한국어로 답할게요."
    refused = await languages.member_command("u1", "français", client="en")
    assert refused.ephemeral and refused.content is not None and "`ko`" in refused.content
    assert await languages.member_choice("u1") == "ko", "a refused choice changes nothing"
    automatic = await languages.member_command("u1", "auto", client="en")
    assert automatic.content == "I'll answer you in your app's language."
    assert await languages.member_choice("u1") is None


async def test_the_server_language_command_sets_what_channels_see(offline_core: Core) -> None:
    languages = offline_core.languages
    answer = await languages.server_command("g1", Platform.DISCORD, "한국어")
    assert answer.content == "이제부터 이 서버의 채널 글은 한국어로 올라가요."
    assert await languages.for_server("g1") == "ko"
    assert (await languages.server_command("g1", Platform.DISCORD, "klingon")).ephemeral
    assert await languages.for_server("g1") == "ko"
