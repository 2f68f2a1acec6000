"""The film-facts commands, end to end through discord.py and the fake Discord."""

from __future__ import annotations

from datetime import timedelta

from tests.world import RELEASE, World

RELEASE_UNIX = int(RELEASE.timestamp())


async def test_cast_lists_every_actor_with_their_character(after_release: World) -> None:
    reply = await after_release.run(after_release.member, "ballerina", "cast")
    assert reply.type == 4
    embed = reply.embed
    assert embed is not None and embed["title"] == "Ballerina: the cast"
    names = [field["name"] for field in embed["fields"]]
    assert names == ["Jeon Jong-seo as Ok-ju", "Kim Ji-hoon as Choi Pro", "Park Yu-rim as Min-hee"]
    assert "former bodyguard" in embed["fields"][0]["value"]
    assert reply.allowed_mentions == {"parse": [], "users": [], "roles": []}


async def test_director_names_lee_chung_hyun_and_his_vision(after_release: World) -> None:
    embed = (await after_release.run(after_release.member, "ballerina", "director")).embed
    assert embed is not None
    assert embed["title"] == "Directed by Lee Chung-hyun"
    assert "young visionary" in embed["description"]
    assert "revenge drama genre" in embed["fields"][0]["value"]


async def test_about_gives_the_busan_premiere_and_where_to_watch(after_release: World) -> None:
    embed = (await after_release.run(after_release.member, "ballerina", "about")).embed
    assert embed is not None
    fields = {field["name"]: field["value"] for field in embed["fields"]}
    assert fields["Premiere"] == "28th Busan International Film Festival, “Korean Cinema Today: Special Premiere”"
    assert fields["Where to watch"] == f"Streaming exclusively on **Netflix**, from <t:{RELEASE_UNIX}:D>"
    assert "Ok-ju" in embed["description"]


async def test_release_counts_down_before_the_date(before_release: World) -> None:
    before_release.clock.advance(timedelta(days=13, hours=2, minutes=30))  # 2 days 21 h 30 min left
    embed = (await before_release.run(before_release.member, "ballerina", "release")).embed
    assert embed is not None
    assert embed["title"] == "Ballerina arrives on Netflix"
    assert f"<t:{RELEASE_UNIX}:F> (<t:{RELEASE_UNIX}:R>)" in embed["description"]
    assert "**2 days, 21 hours and 30 minutes**" in embed["description"]


async def test_release_says_streaming_since_after_the_date(after_release: World) -> None:
    embed = (await after_release.run(after_release.member, "ballerina", "release")).embed
    assert embed is not None
    assert embed["title"] == "Ballerina is out now"
    assert embed["description"] == (
        f"Streaming exclusively on **Netflix** since <t:{RELEASE_UNIX}:F> (<t:{RELEASE_UNIX}:R>)."
    )


async def test_release_switches_at_the_exact_instant(before_release: World) -> None:
    before_release.clock.set(RELEASE - timedelta(seconds=1))
    before = (await before_release.run(before_release.member, "ballerina", "release")).embed
    before_release.clock.set(RELEASE)
    after = (await before_release.run(before_release.member, "ballerina", "release")).embed
    assert before is not None and after is not None
    assert "less than a minute" in before["description"]
    assert after["title"] == "Ballerina is out now"


async def test_character_shows_one_role(after_release: World) -> None:
    reply = await after_release.run(after_release.member, "ballerina", "character", options={"name": "choi pro"})
    assert reply.embed is not None
    assert reply.embed["title"] == "Choi Pro"
    assert reply.embed["fields"] == [{"name": "Played by", "value": "Kim Ji-hoon", "inline": True}]


async def test_unknown_character_gets_a_private_friendly_reply(after_release: World) -> None:
    reply = await after_release.run(
        after_release.member, "ballerina", "character", options={"name": "@everyone John Wick"}
    )
    assert reply.ephemeral
    assert reply.content is not None and reply.content.startswith("I don't know a character called")
    assert "Ok-ju, Choi Pro, Min-hee" in reply.content
    assert reply.allowed_mentions is not None and reply.allowed_mentions["parse"] == []


async def test_character_autocomplete_matches_names_and_actors(after_release: World) -> None:
    w = after_release
    ok = await w.fake.autocomplete(
        w.guild, w.channel, w.member, ("ballerina", "character"), focused="name", options={"name": "ok"}
    )
    assert [c["value"] for c in ok] == ["Ok-ju"]
    everyone = await w.fake.autocomplete(
        w.guild, w.channel, w.member, ("ballerina", "character"), focused="name", options={"name": ""}
    )
    assert [c["name"] for c in everyone] == ["Ok-ju", "Choi Pro", "Min-hee"]
    by_actor = await w.fake.autocomplete(
        w.guild, w.channel, w.member, ("ballerina", "character"), focused="name", options={"name": "kim ji"}
    )
    assert [c["value"] for c in by_actor] == ["Choi Pro"]


async def test_help_lists_the_commands(after_release: World) -> None:
    embed = (await after_release.run(after_release.member, "ballerina", "help")).embed
    assert embed is not None
    for name in ("about", "cast", "character", "director", "release", "remind on", "party create", "forget-me"):
        assert f"`/ballerina {name}" in embed["description"]


async def test_commands_are_registered_as_one_group_with_a_separate_admin_group(after_release: World) -> None:
    commands = {command["name"]: command for command in after_release.fake.global_commands}
    assert set(commands) == {"ballerina", "ballerina-admin"}
    subcommands = {option["name"] for option in commands["ballerina"]["options"]}
    assert {"about", "cast", "character", "director", "release", "help", "remind", "party", "forget-me"} <= subcommands
    assert commands["ballerina-admin"]["default_member_permissions"] == str(1 << 5)  # Manage Server
    assert commands["ballerina"].get("default_member_permissions") is None


async def test_restart_does_not_register_an_unchanged_command_set(after_release: World) -> None:
    w = after_release
    assert len(w.fake.command_syncs) == 1
    await w.restart()
    await w.restart()
    assert len(w.fake.command_syncs) == 1


async def test_a_changed_command_set_is_registered_at_the_next_start(after_release: World) -> None:
    w = after_release
    assert w.core is not None
    await w.core.store.set_state("commands:global", "digest of an older release")
    await w.restart()
    assert len(w.fake.command_syncs) == 2
    assert {c["name"] for c in w.fake.global_commands} == {"ballerina", "ballerina-admin"}


async def test_character_autocomplete_and_lookup_take_korean_names(after_release: World) -> None:
    w = after_release
    choices = await w.fake.autocomplete(
        w.guild, w.channel, w.member, ("ballerina", "character"), focused="name", options={"name": "옥"}
    )
    assert [c["value"] for c in choices] == ["Ok-ju"]
    reply = await w.run(w.member, "ballerina", "character", options={"name": "옥주"})
    assert reply.embed is not None and reply.embed["title"] == "Ok-ju"
