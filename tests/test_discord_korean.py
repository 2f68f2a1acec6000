"""English and Korean on Discord, end to end through discord.py and the fake Discord.

A member's own replies follow their app's language (``locale``) or their choice; what a channel
sees follows the server's (``guild_locale``) or its moderators' choice; a DM follows the member's
language as last seen. Korean replies are scanned for English left in them.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from bot.core.privacy import FORGET_CONFIRM_ID
from bot.core.reminders import RESET_CONFIRM_ID
from bot.discord.language import CommandTextTranslator
from bot.discord.parties import card_edits
from tests.fakediscord import FakeMember, FakeMessage, InteractionCallback, Perm
from tests.leftover_english import english_words
from tests.world import RELEASE, World, world

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # after the release: parties, film facts
HANGUL = re.compile(r"[\uac00-\ud7a3]")
TITLE = "영화의 밤"  # a party title as a Korean member types it
ROLE = "발레리나 팬"


def json_texts(payload: dict[str, Any]) -> list[str]:
    """What a reader sees of a message or callback: content, embeds, button labels."""
    texts = [payload.get("content") or ""]
    for embed in payload.get("embeds") or []:
        texts += [embed.get("title") or "", embed.get("description") or ""]
        texts += [text for field in embed.get("fields") or [] for text in (field["name"], field["value"])]
        texts.append((embed.get("footer") or {}).get("text") or "")
    for row in payload.get("components") or []:
        texts += [child.get("label") or "" for child in row.get("components") or []]
    return [text for text in texts if text]


def seen(reply: InteractionCallback | FakeMessage) -> list[str]:
    if isinstance(reply, FakeMessage):
        return json_texts({"content": reply.content, "embeds": reply.embeds, "components": reply.components})
    return json_texts(reply.data)


def leftover_english(
    replies: dict[str, InteractionCallback | FakeMessage], allowed: Iterable[str] = ()
) -> dict[str, list[str]]:
    """Per reply, the English words found in it (none expected)."""
    allowed = (TITLE, ROLE, "Asia/Seoul", *allowed)
    found = {what: [w for text in seen(reply) for w in english_words(text, allowed)] for what, reply in replies.items()}
    return {what: words for what, words in found.items() if words}


def korean(reply: InteractionCallback | FakeMessage) -> bool:
    """Whether the bot's own words in ``reply`` are Korean (what members typed aside)."""
    return any(HANGUL.search(text.replace(TITLE, "").replace(ROLE, "")) for text in seen(reply))


@pytest.fixture
async def korean_server(tmp_path: Path) -> AsyncIterator[World]:
    """A server whose Discord default is Korean, after the release."""
    async with world(tmp_path, NOW, guild_locale="ko") as w:
        yield w


@pytest.fixture
async def english_server(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path, NOW) as w:
        yield w


def korean_member(w: World, name: str = "jiwoo", **options: Any) -> FakeMember:
    return w.guild.add_member(name, locale="ko", **options)


async def click_on_last_reply(w: World, custom_id: str, who: FakeMember) -> InteractionCallback:
    assert w.fake.last_interaction is not None
    message = await w.fake.last_interaction.wait_for_original()
    return await (await w.fake.click(message, custom_id, who)).response()


async def cards_settled(card: FakeMessage) -> None:
    async with asyncio.timeout(5):
        await card_edits.settled(card.id)


async def posted_card(w: World, count: int = 1) -> FakeMessage:
    return (await w.fake.wait_for_messages(w.channel, count=count))[-1]


# -- command metadata ------------------------------------------------------------------------------


def _described(commands: list[dict[str, Any]]) -> Iterable[tuple[str, dict[str, Any]]]:
    """(path, command/subcommand/option) of every described thing of the synced commands."""
    for command in commands:
        yield command["name"], command
        stack = [(command["name"], option) for option in command.get("options") or []]
        while stack:
            path, option = stack.pop()
            yield f"{path} {option['name']}", option
            stack += [(f"{path} {option['name']}", sub) for sub in option.get("options") or []]


async def test_every_command_option_and_choice_has_korean_text_and_names_stay_english(
    english_server: World,
) -> None:
    commands = english_server.fake.global_commands
    assert {command["name"] for command in commands} == {"ballerina", "ballerina-admin"}
    untranslated = [
        path
        for path, item in _described(commands)
        if not HANGUL.search((item.get("description_localizations") or {}).get("ko", ""))
    ]
    assert untranslated == []
    assert [path for path, item in _described(commands) if item.get("name_localizations")] == []
    choices = {
        (path, choice["name"]): (choice.get("name_localizations") or {}).get("ko")
        for path, item in _described(commands)
        for choice in item.get("choices") or []
    }
    assert choices[("ballerina language language", "Automatic")] == "자동"
    assert choices[("ballerina-admin language language", "Automatic")] == "자동"
    assert choices[("ballerina remind on via", "channel")] == "채널"
    assert choices[("ballerina party reminders via", "dm")] == "DM"
    # "English" and "한국어" are each language's own name: the same in every client.
    assert choices[("ballerina language language", "한국어")] is None


class Reworded(CommandTextTranslator):
    """The shipped translations with one Korean description changed, as a catalog update would."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        if string.message == "Who plays whom" and locale is discord.Locale.korean:
            return "출연진과 배역"
        return await super().translate(string, locale, context)


async def test_a_changed_korean_description_changes_the_digest_that_decides_the_sync(
    english_server: World,
) -> None:
    bot = english_server.bot
    assert bot is not None
    shipped = await bot.command_digest()
    assert await bot.command_digest() == shipped
    await bot.tree.set_translator(Reworded())
    assert await bot.command_digest() != shipped


# -- who reads which language ----------------------------------------------------------------------


async def test_korean_member_gets_every_command_button_and_refusal_in_korean(korean_server: World) -> None:
    w = korean_server
    jiwoo = korean_member(w)
    minji = korean_member(w, "minji-mod", permissions=Perm.MANAGE_GUILD)
    role = w.guild.add_role(ROLE, mentionable=True)
    replies: dict[str, InteractionCallback | FakeMessage] = {}

    async def run(who: FakeMember, *path: str, check: bool = True, **options: object) -> InteractionCallback:
        reply = await w.run(who, *path, options=options, check=check)
        typed = " ".join(f"{name}:{value}" for name, value in options.items() if isinstance(value, str | int))
        replies[f"{len(replies)} /{' '.join(path)} {typed}"] = reply
        return reply

    for command in ("about", "cast", "director", "release", "help"):
        await run(jiwoo, "ballerina", command)
    await run(jiwoo, "ballerina", "character", name="옥주")
    await run(jiwoo, "ballerina", "character", name="Nobody")
    await run(minji, "ballerina-admin", "channel", channel=w.channel)
    await run(minji, "ballerina-admin", "role", role=role)
    await run(minji, "ballerina-admin", "schedule", offsets="7d,1d,0")
    await run(minji, "ballerina-admin", "schedule", offsets="someday")
    await run(minji, "ballerina-admin", "timezone", name="Asia/Seoul")
    await run(minji, "ballerina-admin", "timezone", name="Mars/Olympus")
    await run(minji, "ballerina-admin", "party-settings", remind="1h", cap=3)
    await run(minji, "ballerina-admin", "status")
    await run(minji, "ballerina-admin", "preview")
    await run(jiwoo, "ballerina-admin", "status", check=False)  # not a moderator
    await run(jiwoo, "ballerina", "remind", "on")
    await run(jiwoo, "ballerina", "remind", "status")
    await run(jiwoo, "ballerina", "remind", "off")
    await run(jiwoo, "ballerina", "timezone", name="Asia/Seoul")
    await run(jiwoo, "ballerina", "party", "reminders", via="dm")
    await run(jiwoo, "ballerina", "party", "create", when="2026-11-29 20:00", title=TITLE)
    await run(jiwoo, "ballerina", "party", "create", when="yesterday at noon")
    card = await posted_card(w)
    replies["party card"] = card
    party_id = int(card.custom_ids()[0].split(":")[1])
    await run(jiwoo, "ballerina", "party", "list")
    await run(jiwoo, "ballerina", "party", "info", id=party_id)
    await run(jiwoo, "ballerina", "party", "info", id=999)
    await run(jiwoo, "ballerina", "party", "edit", id=party_id, title=TITLE, clear_voice=True)
    await run(jiwoo, "ballerina", "language", check=False, language="fr")

    click = await w.fake.click(card, f"party:{party_id}:going", minji)
    replies["click going"] = await click.response()
    await run(minji, "ballerina-admin", "reset")
    replies["reset confirmed"] = await click_on_last_reply(w, RESET_CONFIRM_ID, minji)
    await run(jiwoo, "ballerina", "party", "cancel", id=party_id)
    await run(jiwoo, "ballerina", "forget-me")
    replies["forget confirmed"] = await click_on_last_reply(w, FORGET_CONFIRM_ID, jiwoo)
    replies["cancelled card"] = w.fake.messages[card.id]
    choices = await w.fake.autocomplete(w.guild, w.channel, jiwoo, ("ballerina", "character"), focused="name")
    assert choices and all(HANGUL.search(choice["name"]) for choice in choices), choices

    assert {what: seen(reply)[:2] for what, reply in replies.items() if not korean(reply)} == {}
    assert leftover_english(replies, allowed=["Nobody", "someday", "Mars/Olympus", "yesterday at noon"]) == {}


async def test_channel_posts_follow_the_server_while_each_member_is_answered_in_their_own(
    english_server: World,
) -> None:
    w = english_server
    jiwoo = korean_member(w)
    created = await w.run(jiwoo, "ballerina", "party", "create", options={"when": "2026-11-29 20:00", "title": TITLE})
    assert created.ephemeral and korean(created)
    card = await posted_card(w)
    assert not korean(card)  # the channel's: English
    party_id = int(card.custom_ids()[0].split(":")[1])
    info = await w.run(w.member, "ballerina", "party", "info", options={"id": party_id})
    assert info.ephemeral and not korean(info)
    click = await w.fake.click(card, f"party:{party_id}:going", jiwoo)
    await click.response()
    assert not korean(w.fake.messages[card.id])  # the card a Korean member clicked stays English
    own = await w.run(jiwoo, "ballerina", "party", "info", options={"id": party_id})
    assert own.ephemeral and korean(own)  # their own copy of the card is theirs
    copy = await w.fake.last_interaction.wait_for_original()  # type: ignore[union-attr]
    answered = await (await w.fake.click(copy, f"party:{party_id}:maybe", jiwoo)).response()
    assert korean(answered)  # a click on their copy answers with their copy
    await cards_settled(card)
    assert not korean(w.fake.messages[card.id])  # while the channel's card follows, in English
    [event] = w.fake.scheduled_events(w.guild)
    assert event["description"] == "A Ballerina watch party: RSVP with the buttons on the party card."

    switched = await w.run(w.moderator, "ballerina-admin", "language", options={"language": "ko"})
    assert korean(switched)  # the answer is in the language the channel posts are in now
    click = await w.fake.click(card, f"party:{party_id}:maybe", w.member)
    assert korean(await click.response())  # the click's answer is the card itself, now the server's Korean
    assert korean(w.fake.messages[card.id])
    edited = await w.run(
        w.moderator, "ballerina", "party", "edit", options={"id": party_id, "when": "2026-11-29 21:00"}
    )
    assert not korean(edited)  # an English moderator of a Korean server: still answered in English
    korean_event = "발레리나 같이 보기 모임이에요. 모임 카드의 버튼으로 참석 응답을 해 주세요."
    for _attempt in range(500):  # the event follows the edit after the member's answer
        if w.fake.scheduled_events(w.guild)[0]["description"] == korean_event:
            break
        await asyncio.sleep(0.01)
    [event] = w.fake.scheduled_events(w.guild)
    assert event["description"] == korean_event


async def test_reminder_in_the_channel_is_in_the_servers_language(tmp_path: Path) -> None:
    async with world(tmp_path, RELEASE - timedelta(days=16), guild_locale="ko") as w:
        await w.run(w.moderator, "ballerina-admin", "channel", options={"channel": w.channel})
        await w.advance(timedelta(days=9))
        [post] = w.fake.channel_messages(w.channel)
        assert korean(post)
        assert leftover_english({"reminder post": post}, allowed=[str(post.nonce)]) == {}


async def test_dm_reminder_to_a_korean_member_is_korean_in_an_english_server(tmp_path: Path) -> None:
    async with world(tmp_path, RELEASE - timedelta(days=16)) as w:
        jiwoo = korean_member(w)
        await w.run(w.moderator, "ballerina-admin", "channel", options={"channel": w.channel})
        opted_in = await w.run(jiwoo, "ballerina", "remind", "on", options={"via": "dm"})
        assert korean(opted_in)
        await w.restart()  # nothing of the member's session is left: only what was stored
        await w.advance(timedelta(days=9))
        [dm] = w.fake.dm_messages(jiwoo)
        [post] = w.fake.channel_messages(w.channel)
        assert korean(dm) and not korean(post)
        assert leftover_english({"DM reminder": dm}, allowed=[str(dm.nonce)]) == {}


async def test_language_command_switches_an_english_clients_replies_and_auto_gives_them_back(
    english_server: World,
) -> None:
    w = english_server
    chosen = await w.run(w.member, "ballerina", "language", options={"language": "ko"})
    assert chosen.ephemeral and chosen.content == "이제부터 한국어로 답할게요."
    refusal = await w.run(w.member, "ballerina", "party", "info", options={"id": 999})
    assert korean(refusal)
    back = await w.run(w.member, "ballerina", "language", options={"language": "auto"})
    assert back.content == "I'll answer you in your app's language."
    assert not korean(await w.run(w.member, "ballerina", "party", "info", options={"id": 999}))


async def test_an_unknown_language_is_refused_and_changes_nothing(english_server: World) -> None:
    w = english_server
    assert w.core is not None
    refused = await w.run(w.member, "ballerina", "language", options={"language": "fr"}, check=False)
    assert refused.ephemeral and "`ko`" in (refused.content or refused.embed["description"])  # type: ignore[index]
    assert await w.core.languages.member_choice(str(w.member.id)) is None
    refused = await w.run(w.moderator, "ballerina-admin", "language", options={"language": "klingon"}, check=False)
    assert refused.ephemeral
    assert await w.core.languages.server_choice(str(w.guild.id)) is None


async def test_a_member_without_manage_server_cannot_set_the_servers_language(english_server: World) -> None:
    w = english_server
    assert w.core is not None
    refused = await w.run(w.member, "ballerina-admin", "language", options={"language": "ko"}, check=False)
    assert refused.ephemeral
    assert "Manage Server" in (refused.content or refused.embed["description"])  # type: ignore[index]
    assert await w.core.languages.server_choice(str(w.guild.id)) is None


async def test_a_server_joined_or_changed_has_its_default_language_before_anyone_runs_a_command(
    english_server: World,
) -> None:
    w = english_server
    assert w.core is not None and w.bot is not None
    await w.bot.wait_until_ready()  # a server joined during start-up is taken as one already known
    joined = w.fake.add_guild("영화 동호회", locale="ko")
    await server_language_becomes(w, str(joined.id), "ko")
    joined.set_locale("en-US")  # its moderators change it in Discord's server settings
    await server_language_becomes(w, str(joined.id), "en")


async def server_language_becomes(w: World, guild_id: str, language: str) -> None:
    """The bot hears of a server by the gateway, a moment later."""
    assert w.core is not None
    for _attempt in range(500):
        if await w.core.languages.for_server(guild_id) == language:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"server {guild_id} is still not in {language}")


class BadlyNamed(CommandTextTranslator):
    """A translator that names a command as Discord's name rule forbids (a space)."""

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        if context.location is TranslationContextLocation.command_name and locale is discord.Locale.korean:
            return "출연진 보기"
        return await super().translate(string, locale, context)


async def test_the_fake_refuses_a_localized_name_that_discord_would_refuse_at_sync(english_server: World) -> None:
    bot = english_server.bot
    assert bot is not None
    await bot.tree.set_translator(BadlyNamed())
    with pytest.raises(app_commands.CommandSyncFailure) as refused:
        await bot.sync_commands()
    assert refused.value.code == 50035


async def test_an_unknown_way_to_be_reminded_is_refused_in_the_members_language(english_server: World) -> None:
    w = english_server
    assert w.core is not None
    jiwoo = korean_member(w)
    refused = await w.run(jiwoo, "ballerina", "remind", "on", options={"via": "sms"}, check=False)
    assert refused.ephemeral and refused.content == "`channel`이나 `dm` 중에서 골라 주세요."
    assert await w.core.store.get_subscription(str(w.guild.id), str(jiwoo.id)) is None
