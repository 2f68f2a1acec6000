"""Self-tests of tests.fakediscord: a real discord.py ``commands.Bot`` against the fake server."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import (
    FakeChannel,
    FakeDiscord,
    FakeGuild,
    FakeMember,
    InteractionNotAllowed,
    Perm,
    fake_endpoints,
    running_bot,
    stop_bot,
)
from tests.fakediscord._util import wait_until

FILMS = ["Ballerina", "John Wick", "John Wick: Chapter 2", "Nobody", "Atomic Blonde"]


# --------------------------------------------------------------------------------------------------
# The bot under test: a small app_commands group, a persistent button view, autocomplete, a modal.
# --------------------------------------------------------------------------------------------------


class VoteView(discord.ui.View):
    def __init__(self, bot: DemoBot) -> None:
        super().__init__(timeout=None)
        self.bot = bot

    @discord.ui.button(label="Vote", style=discord.ButtonStyle.primary, custom_id="demo:vote")
    async def vote(self, interaction: discord.Interaction, button: discord.ui.Button[VoteView]) -> None:
        self.bot.votes += 1
        await interaction.response.edit_message(content=f"votes: {self.bot.votes}")


class NoteModal(discord.ui.Modal, title="Leave a note"):
    note: discord.ui.TextInput[NoteModal] = discord.ui.TextInput(label="Note", custom_id="demo:note")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"noted: {self.note.value}", ephemeral=True)


class DemoBot(commands.Bot):
    def __init__(self) -> None:
        super().__init__(command_prefix="!", intents=discord.Intents.default())
        self.votes = 0
        self.errors: list[BaseException] = []
        self.tree.add_command(demo)

    async def setup_hook(self) -> None:
        self.add_view(VoteView(self))
        await self.tree.sync()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # discord.py sleeps 5 s before every re-IDENTIFY by default; no need against the fake.
        return None


demo = app_commands.Group(name="demo", description="Demo commands")


@demo.command(description="Reply with an ephemeral embed")
async def ping(interaction: discord.Interaction) -> None:
    embed = discord.Embed(title="Pong", description="Ballerina is ready", colour=0xE50914)
    await interaction.response.send_message("pong", embed=embed, ephemeral=True)


@demo.command(description="Defer, then follow up twice")
async def slow(interaction: discord.Interaction) -> None:
    await interaction.response.defer(thinking=True)
    await asyncio.sleep(0.05)
    await interaction.followup.send("done thinking")
    await interaction.followup.send("one more thing", ephemeral=True)


@demo.command(description="Pick a film")
@app_commands.describe(film="The film")
async def pick(interaction: discord.Interaction, film: str) -> None:
    await interaction.response.send_message(f"you picked {film}")


@pick.autocomplete("film")
async def pick_autocomplete(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
    return [app_commands.Choice(name=f, value=f) for f in FILMS if current.lower() in f.lower()][:25]


@demo.command(description="Post the vote panel")
async def panel(interaction: discord.Interaction) -> None:
    bot = interaction.client
    assert isinstance(bot, DemoBot)
    await interaction.response.send_message("votes: 0", view=VoteView(bot))


@demo.command(description="Give yourself a role")
async def grant(interaction: discord.Interaction, role: discord.Role) -> None:
    assert isinstance(interaction.user, discord.Member)
    try:
        await interaction.user.add_roles(role, reason="asked for it")
    except discord.Forbidden as exc:
        await interaction.response.send_message(f"forbidden {exc.code}", ephemeral=True)
        return
    await interaction.response.send_message(f"granted {role.name}", ephemeral=True)


@demo.command(description="Schedule a screening")
async def screening(interaction: discord.Interaction) -> None:
    assert interaction.guild is not None
    start = datetime.now(UTC) + timedelta(days=7)
    try:
        event = await interaction.guild.create_scheduled_event(
            name="Ballerina screening",
            start_time=start,
            end_time=start + timedelta(hours=2),
            entity_type=discord.EntityType.external,
            location="Cinema 1",
            privacy_level=discord.PrivacyLevel.guild_only,
        )
    except discord.Forbidden as exc:
        await interaction.response.send_message(f"forbidden {exc.code}", ephemeral=True)
        return
    await interaction.response.send_message(f"scheduled {event.id}")


@demo.command(description="Open a modal")
async def note(interaction: discord.Interaction) -> None:
    await interaction.response.send_modal(NoteModal())


# --------------------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------------------


@dataclass
class World:
    fake: FakeDiscord
    guild: FakeGuild
    channel: FakeChannel
    alice: FakeMember
    bot: DemoBot

    def text_channel(self) -> discord.TextChannel:
        channel = self.bot.get_channel(self.channel.id)
        assert isinstance(channel, discord.TextChannel)
        return channel


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
async def world(fake: FakeDiscord) -> AsyncIterator[World]:
    guild = fake.add_guild("Film Club")
    channel = guild.add_text_channel("general")
    alice = guild.add_member("alice", global_name="Alice")
    bot = DemoBot()
    async with running_bot(fake, bot):
        yield World(fake, guild, channel, alice, bot)


# --------------------------------------------------------------------------------------------------
# connection and registration
# --------------------------------------------------------------------------------------------------


async def test_bot_logs_in_identifies_and_registers_commands(world: World) -> None:
    fake = world.fake
    assert [(r.method, r.route) for r in fake.requests[:3]] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("PUT", "/applications/{application_id}/commands"),
    ]
    assert fake.identify_count == 1
    conn = fake.gateway_connections[0]
    assert conn.query == {"encoding": "json", "v": "10", "compress": "zlib-stream"}
    assert fake.last_identify is not None
    assert fake.last_identify["intents"] == discord.Intents.default().value
    [registered] = fake.global_commands
    assert registered["name"] == "demo"
    subcommands = {o["name"]: o for o in registered["options"]}
    assert set(subcommands) == {"ping", "slow", "pick", "panel", "grant", "screening", "note"}
    assert subcommands["pick"]["options"][0]["autocomplete"] is True
    bot_guild = world.bot.get_guild(world.guild.id)
    assert bot_guild is not None and bot_guild.me is not None
    assert bot_guild.get_channel(world.channel.id) is not None
    assert world.bot.user is not None and world.bot.user.id == fake.bot_user.id


async def test_responses_are_plain_application_json_with_ratelimit_headers(world: World) -> None:
    fake = world.fake
    async with aiohttp.ClientSession() as session:
        headers = {"Authorization": f"Bot {fake.token}"}
        async with session.get(f"{fake.api_base}/users/@me", headers=headers) as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "application/json"
            assert "X-RateLimit-Bucket" in resp.headers and "X-RateLimit-Remaining" in resp.headers
            assert (await resp.json())["id"] == str(fake.bot_user.id)
        async with session.get(f"{fake.api_base}/users/@me", headers={"Authorization": "Bot nope"}) as resp:
            assert resp.status == 401


async def test_guild_commands_carry_guild_id_and_keep_ids_across_syncs(world: World) -> None:
    bot, fake = world.bot, world.fake
    guild_obj = discord.Object(world.guild.id)
    bot.tree.copy_global_to(guild=guild_obj)
    first = await bot.tree.sync(guild=guild_obj)
    second = await bot.tree.sync(guild=guild_obj)
    assert first[0].id == second[0].id
    assert [c["guild_id"] for c in fake.guild_commands(world.guild)] == [str(world.guild.id)]
    inter = await fake.slash(world.guild, world.channel, world.alice, "demo", "ping")
    assert inter.payload["data"]["guild_id"] == str(world.guild.id)
    assert inter.payload["data"]["id"] == str(first[0].id)
    assert (await inter.response()).content == "pong"


# --------------------------------------------------------------------------------------------------
# slash commands, followups, autocomplete, components, modals
# --------------------------------------------------------------------------------------------------


async def test_slash_command_reply_has_embed_and_ephemeral_flag(world: World) -> None:
    inter = await world.fake.slash(world.guild, world.channel, world.alice, "demo", "ping")
    reply = await inter.response()
    assert reply.type == 4
    assert reply.content == "pong"
    assert reply.ephemeral and reply.flags & 64
    assert reply.embed is not None and reply.embed["title"] == "Pong"
    assert reply.embed["color"] == 0xE50914
    assert inter.original is not None and inter.original.ephemeral
    # Ephemeral replies are not channel messages.
    assert world.fake.channel_messages(world.channel, include_interactions=True) == []


async def test_deferred_reply_then_followups(world: World) -> None:
    inter = await world.fake.slash(world.guild, world.channel, world.alice, "demo slow")
    first = await inter.response()
    assert first.type == 5 and first.deferred
    followups = await inter.wait_for_followups(2)
    # The first followup replaces the "thinking" message, the second is a new (ephemeral) message.
    assert followups[0] is inter.original
    assert followups[0].content == "done thinking" and not followups[0].ephemeral
    assert followups[1].content == "one more thing" and followups[1].ephemeral
    assert [m.content for m in world.fake.channel_messages(world.channel, include_interactions=True)] == [
        "done thinking"
    ]


async def test_autocomplete_returns_the_bots_choices(world: World) -> None:
    choices = await world.fake.autocomplete(
        world.guild, world.channel, world.alice, ("demo", "pick"), options={"film": "wick"}, focused="film"
    )
    assert [c["name"] for c in choices] == ["John Wick", "John Wick: Chapter 2"]
    inter = await world.fake.slash(world.guild, world.channel, world.alice, "demo", "pick", options={"film": "Nobody"})
    assert (await inter.response()).content == "you picked Nobody"


async def test_persistent_button_click_updates_the_message(world: World) -> None:
    fake = world.fake
    inter = await fake.slash(world.guild, world.channel, world.alice, "demo", "panel")
    reply = await inter.response()
    assert reply.custom_ids() == ["demo:vote"]
    panel = inter.original
    assert panel is not None and panel.components
    for expected in (1, 2):
        click = await fake.click(panel, "demo:vote", world.alice)
        update = await click.response()
        assert update.type == 7
        assert panel.content == f"votes: {expected}"
    assert world.bot.votes == 2
    assert click.payload["message"]["id"] == str(panel.id)
    with pytest.raises(InteractionNotAllowed):
        await fake.click(panel, "demo:nope", world.alice)


async def test_modal_opens_and_submits(world: World) -> None:
    inter = await world.fake.slash(world.guild, world.channel, world.alice, "demo", "note")
    modal = await inter.response()
    assert modal.is_modal and modal.data["title"] == "Leave a note"
    submit = await world.fake.submit_modal(inter, {"demo:note": "loved it"})
    reply = await submit.response()
    assert reply.content == "noted: loved it" and reply.ephemeral


async def test_unregistered_or_malformed_commands_are_refused_by_the_fake(world: World) -> None:
    fake = world.fake
    with pytest.raises(InteractionNotAllowed, match="not registered"):
        await fake.slash(world.guild, world.channel, world.alice, "nope")
    with pytest.raises(InteractionNotAllowed, match="needs a subcommand"):
        await fake.slash(world.guild, world.channel, world.alice, "demo")
    with pytest.raises(InteractionNotAllowed, match="missing required"):
        await fake.slash(world.guild, world.channel, world.alice, "demo", "pick")


async def test_second_acknowledgement_and_bad_payloads_are_rejected(world: World) -> None:
    inter = await world.fake.slash(world.guild, world.channel, world.alice, "demo", "ping")
    await inter.response()
    webhook = discord.Webhook.from_url(
        f"https://discord.com/api/webhooks/{world.fake.application_id}/{inter.token}", client=world.bot
    )
    with pytest.raises(discord.HTTPException) as too_long:
        await webhook.send("x" * 2001)
    assert too_long.value.status == 400 and too_long.value.code == 50035
    async with aiohttp.ClientSession() as session:
        url = f"{world.fake.api_base}/interactions/{inter.id}/{inter.token}/callback"
        async with session.post(url, json={"type": 4, "data": {"content": "again"}}) as resp:
            assert resp.status == 400
            assert (await resp.json())["code"] == 40060
    assert [r.status for r in inter.rejected] == [400, 400]


# --------------------------------------------------------------------------------------------------
# messages, DMs, error injection
# --------------------------------------------------------------------------------------------------


async def test_channel_send_records_allowed_mentions_and_dedups_nonce(world: World) -> None:
    fake, channel = world.fake, world.text_channel()
    other = world.guild.add_member("bob")
    sent = await channel.send(
        f"hey {world.alice.mention} and {other.mention}",
        allowed_mentions=discord.AllowedMentions(users=[discord.Object(world.alice.id)], everyone=False),
        nonce=42,
    )
    again = await channel.send("hey (retry)", nonce=42)
    assert again.id == sent.id and fake.nonce_dedup_count == 1
    [stored] = fake.channel_messages(world.channel)
    assert [int(u) for u in stored.request["allowed_mentions"]["users"]] == [world.alice.id]
    assert stored.mentioned_user_ids == [world.alice.id]
    assert stored.nonce == "42" and stored.request["enforce_nonce"] is True
    assert [u.id for u in sent.mentions] == [world.alice.id]
    await sent.edit(content="edited")
    assert stored.content == "edited" and stored.edited_timestamp is not None
    fetched = await channel.fetch_message(sent.id)
    assert fetched.content == "edited"
    await sent.delete()
    assert fake.channel_messages(world.channel) == []


async def test_files_user_messages_and_dm_commands(world: World) -> None:
    fake, channel = world.fake, world.text_channel()
    await channel.send("poster", file=discord.File(io.BytesIO(b"PNG..."), "poster.png", description="Poster"))
    [stored] = fake.channel_messages(world.channel)
    assert stored.request["content"] == "poster"
    assert [(a.filename, a.content, a.description) for a in stored.attachments] == [("poster.png", b"PNG...", "Poster")]
    seen: list[discord.Message] = []

    async def on_message(message: discord.Message) -> None:
        if not message.author.bot:
            seen.append(message)

    world.bot.add_listener(on_message)
    fake.user_message(world.channel, world.alice, "a secret")
    fake.user_message(world.channel, world.alice, f"hi {fake.bot_user.mention}")
    await fake.flush_gateway()
    await asyncio.sleep(0.05)
    # Without the MESSAGE_CONTENT intent only messages mentioning the bot carry content.
    assert [m.content for m in seen] == ["", f"hi {fake.bot_user.mention}"]
    inter = await fake.slash(None, None, world.alice, "demo", "ping")
    assert inter.payload["context"] == 1 and "user" in inter.payload and "member" not in inter.payload
    assert (await inter.response()).content == "pong"


async def test_dm_send_and_closed_dms(world: World) -> None:
    fake = world.fake
    user = await world.bot.fetch_user(world.alice.id)
    await user.send("your screening starts soon")
    await user.send("second reminder")
    assert [m.content for m in await fake.wait_for_dm_messages(world.alice, 2)] == [
        "your screening starts soon",
        "second reminder",
    ]
    assert len(fake.find_requests("POST", r"^/users/@me/channels$")) == 1  # DM channel is cached
    fake.close_dms(world.alice)
    with pytest.raises(discord.Forbidden) as exc_info:
        await user.send("are you there?")
    assert exc_info.value.code == 50007
    assert len(fake.dm_messages(world.alice)) == 2


async def test_fail_channel_injects_403_and_404(world: World) -> None:
    fake, channel = world.fake, world.text_channel()
    failure = fake.fail_channel(world.channel, status=403, code=50013)
    with pytest.raises(discord.Forbidden) as forbidden:
        await channel.send("nope")
    assert forbidden.value.code == 50013
    fake.remove_failure(failure)
    fake.fail_channel(world.channel, status=404, code=10003, times=1)
    with pytest.raises(discord.NotFound):
        await channel.send("nope")
    await channel.send("works again")
    assert [m.content for m in fake.channel_messages(world.channel)] == ["works again"]


async def test_channel_overwrites_deny_sending(world: World) -> None:
    world.channel.set_overwrite(world.guild.bot_role, deny=Perm.SEND_MESSAGES)
    await world.fake.flush_gateway()
    channel = world.text_channel()
    assert not channel.permissions_for(channel.guild.me).send_messages
    with pytest.raises(discord.Forbidden) as exc_info:
        await channel.send("hello")
    assert exc_info.value.code == 50013


# --------------------------------------------------------------------------------------------------
# roles, permissions, scheduled events
# --------------------------------------------------------------------------------------------------


async def test_role_grant_needs_manage_roles_and_hierarchy(world: World) -> None:
    fake, guild = world.fake, world.guild
    fans = guild.add_role("Ballerina fans")
    inter = await fake.slash(guild, world.channel, world.alice, "demo", "grant", options={"role": fans})
    assert (await inter.response()).content == "forbidden 50013"
    guild.set_bot_permissions(Perm.MANAGE_ROLES | Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES)
    await fake.flush_gateway()
    bot_guild = world.bot.get_guild(guild.id)
    assert bot_guild is not None and bot_guild.me.guild_permissions.manage_roles
    inter = await fake.slash(guild, world.channel, world.alice, "demo", "grant", options={"role": fans})
    assert (await inter.response()).content == "granted Ballerina fans"
    assert world.alice.has_role(fans)
    change = fake.role_changes[-1]
    assert (change.action, change.user_id, change.role_id, change.reason) == (
        "add",
        world.alice.id,
        fans.id,
        "asked for it",
    )
    above_bot = guild.add_role("Staff", position=guild.bot_role.position + 1)
    inter = await fake.slash(guild, world.channel, world.alice, "demo", "grant", options={"role": above_bot})
    assert (await inter.response()).content == "forbidden 50013"


async def test_member_role_changes_are_dispatched_to_the_bot(world: World) -> None:
    fans = world.guild.add_role("Ballerina fans")
    world.guild.bot_member.add_role(fans)
    await world.fake.flush_gateway()
    bot_guild = world.bot.get_guild(world.guild.id)
    assert bot_guild is not None
    assert fans.id in [r.id for r in bot_guild.me.roles]
    assert "GUILD_ROLE_CREATE" in [e for e, _ in world.fake.events]


async def test_scheduled_events_require_manage_events(world: World) -> None:
    fake, guild = world.fake, world.guild
    inter = await fake.slash(guild, world.channel, world.alice, "demo", "screening")
    assert (await inter.response()).content == "forbidden 50013"
    guild.set_bot_permissions(Perm.MANAGE_EVENTS)
    inter = await fake.slash(guild, world.channel, world.alice, "demo", "screening")
    reply = await inter.response()
    [event] = fake.scheduled_events(guild)
    assert reply.content == f"scheduled {event['id']}"
    assert event["entity_metadata"] == {"location": "Cinema 1"} and event["status"] == 1
    bot_guild = world.bot.get_guild(guild.id)
    assert bot_guild is not None
    fetched = await bot_guild.fetch_scheduled_event(int(event["id"]))
    await fetched.edit(name="Ballerina (IMAX)")
    assert fake.scheduled_events(guild)[0]["name"] == "Ballerina (IMAX)"
    await fetched.delete()
    assert fake.scheduled_events(guild) == []


# --------------------------------------------------------------------------------------------------
# rate limits
# --------------------------------------------------------------------------------------------------


async def test_global_429_is_retried_transparently(world: World) -> None:
    fake, channel = world.fake, world.text_channel()
    fake.inject_rate_limit("POST", r"/messages$", retry_after=0.2, is_global=True, times=1)
    started = time.monotonic()
    message = await channel.send("after the rate limit")
    assert time.monotonic() - started >= 0.2
    assert message.content == "after the rate limit"
    posts = fake.find_requests("POST", rf"^/channels/{world.channel.id}/messages$")
    assert [r.status for r in posts] == [429, 200]
    assert posts[0].response == {"message": "You are being rate limited.", "retry_after": 0.2, "global": True}
    assert fake.rate_limited_count == 1


async def test_configured_global_limit_throttles_bursts(world: World) -> None:
    fake, channel = world.fake, world.text_channel()
    fake.set_global_rate_limit(5)
    await asyncio.gather(*(channel.send(f"burst {i}") for i in range(8)))
    assert fake.rate_limited_count >= 1
    assert sorted(m.content for m in fake.channel_messages(world.channel)) == sorted(f"burst {i}" for i in range(8))
    # Interaction callbacks are exempt from the global limit.
    inter = await fake.slash(world.guild, world.channel, world.alice, "demo", "ping")
    assert (await inter.response()).content == "pong"


async def test_per_channel_message_bucket_returns_route_429s() -> None:
    async with FakeDiscord(channel_message_rate=(2, 5.0)) as fake:
        guild = fake.add_guild("Film Club")
        channel = guild.add_text_channel("general")
        url = f"{fake.api_base}/channels/{channel.id}/messages"
        headers = {"Authorization": f"Bot {fake.token}"}
        async with aiohttp.ClientSession() as session:
            statuses = []
            for i in range(3):
                async with session.post(url, json={"content": f"m{i}"}, headers=headers) as resp:
                    statuses.append(resp.status)
                    last_headers, last_body = resp.headers, await resp.json()
        assert statuses == [200, 200, 429]
        assert last_headers["Via"] == "1.1 google"
        assert last_headers["X-RateLimit-Remaining"] == "0"
        assert last_headers["X-RateLimit-Scope"] == "user"
        assert "X-RateLimit-Bucket" in last_headers and "X-RateLimit-Global" not in last_headers
        assert last_body["global"] is False and 0 < last_body["retry_after"] <= 5.0
        assert fake.rate_limited_count == 1


# --------------------------------------------------------------------------------------------------
# network latency
# --------------------------------------------------------------------------------------------------

CALLBACK = "POST /interactions/{interaction_id}/{token}/callback"


async def timed_send(world: World, content: str) -> float:
    """Seconds the real client takes to post ``content`` (one REST round trip)."""
    started = time.monotonic()
    await world.text_channel().send(content)
    return time.monotonic() - started


async def test_a_delayed_route_takes_its_latency_and_other_routes_do_not(world: World) -> None:
    fake = world.fake
    fake.set_route_latency(CALLBACK, 0.8)
    inter = await fake.slash(world.guild, world.channel, world.alice, "demo", "ping")
    reply = await inter.response()
    assert reply.content == "pong"
    assert (datetime.fromisoformat(reply.timestamp) - inter.created_at).total_seconds() >= 0.8
    assert await timed_send(world, "not delayed") < 0.4

    fake.latency = 0.4  # every other route, changed while the bot runs
    assert await timed_send(world, "delayed by default") >= 0.4
    fake.set_route_latency("/channels/{channel_id}/messages", 0)  # any method of that route
    assert await timed_send(world, "quick again") < 0.4
    fake.set_route_latency(CALLBACK, None)  # back to the default
    again = await fake.slash(world.guild, world.channel, world.alice, "demo", "ping")
    took = (datetime.fromisoformat((await again.response()).timestamp) - again.created_at).total_seconds()
    assert 0.4 <= took < 0.8


async def test_latency_counts_against_the_callback_deadline(world: World) -> None:
    fake = world.fake
    fake.callback_deadline = 0.2
    fake.set_route_latency(CALLBACK, 0.3)
    inter = await fake.slash(world.guild, world.channel, world.alice, "demo", "ping")
    (late,) = await fake.wait_for_request("POST", rf"^/interactions/{inter.id}/")
    assert late.status == 404 and not inter.callbacks
    assert [(r.status, r.error["code"]) for r in inter.rejected] == [(404, 10062)]


async def test_latency_set_at_construction_method_routes_win_and_unknown_routes_are_refused() -> None:
    async with FakeDiscord(latency=0.3, route_latency={"GET /users/@me": 0, "/users/@me": 1.0}) as fake:
        assert fake.latency_for("GET", "/users/@me") == 0
        assert fake.latency_for("PATCH", "/users/{user_id}") == 0.3
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            async with session.get(f"{fake.api_base}/users/@me", headers={"Authorization": f"Bot {fake.token}"}):
                pass
            quick = time.monotonic() - started
            async with session.get(f"{fake.api_base}/gateway") as resp:
                assert resp.status == 200
            slow = time.monotonic() - started - quick
        assert quick < 0.3 <= slow
        with pytest.raises(ValueError, match="no route"):
            fake.set_route_latency("POST /users/@me", 0.1)  # GET only
        with pytest.raises(ValueError, match="no route"):
            fake.set_route_latency("/interactions/{id}/callback", 0.1)
        with pytest.raises(ValueError, match=">= 0"):
            fake.set_route_latency(CALLBACK, -1)


# --------------------------------------------------------------------------------------------------
# gateway lifecycle
# --------------------------------------------------------------------------------------------------


async def test_dropped_gateway_resumes_and_replays_missed_interactions(world: World) -> None:
    fake = world.fake
    resumed = asyncio.Event()

    async def on_resumed() -> None:
        resumed.set()

    world.bot.add_listener(on_resumed)
    await fake.drop_gateway(resume=True)
    # Dispatched while the bot is disconnected: buffered and replayed on RESUME.
    inter = await fake.slash(world.guild, world.channel, world.alice, "demo", "ping")
    assert (await inter.response()).content == "pong"
    await fake.wait_for_resume()
    await asyncio.wait_for(resumed.wait(), 5)
    assert fake.identify_count == 1 and fake.resume_count == 1
    assert fake.gateway_connections[-1].path == "/resume-gateway"
    assert fake.gateway_connections[0].server_close_code == 4000


async def test_reconnect_opcode_makes_the_bot_resume(world: World) -> None:
    fake = world.fake
    await fake.drop_gateway(reconnect_opcode=True)
    await fake.wait_for_resume()
    inter = await fake.slash(world.guild, world.channel, world.alice, "demo", "ping")
    assert (await inter.response()).content == "pong"
    assert [c.path for c in fake.gateway_connections] == ["/gateway", "/resume-gateway"]
    assert fake.identify_count == 1


async def test_invalid_session_makes_the_bot_identify_again(world: World) -> None:
    fake = world.fake
    await fake.drop_gateway(resume=False)
    await fake.wait_for_identify(min_count=2)
    inter = await fake.slash(world.guild, world.channel, world.alice, "demo", "ping")
    assert (await inter.response()).content == "pong"
    assert fake.resume_count == 0


async def test_guilds_added_and_removed_after_connect(world: World) -> None:
    fake, bot = world.fake, world.bot
    second = fake.add_guild("Second Club")
    lounge = second.add_text_channel("lounge")
    await fake.flush_gateway()
    bot_guild = bot.get_guild(second.id)
    assert bot_guild is not None and bot_guild.get_channel(lounge.id) is not None
    fake.remove_guild(second)
    await fake.flush_gateway()
    await asyncio.sleep(0.05)
    assert bot.get_guild(second.id) is None


async def test_a_new_bot_process_can_reconnect_to_the_same_fake(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Film Club")
    channel = guild.add_text_channel("general")
    alice = guild.add_member("alice")
    ids = []
    for run in (1, 2):
        async with running_bot(fake, DemoBot()):
            assert fake.identify_count == run
            ids.append(fake.global_commands[0]["id"])
            inter = await fake.slash(guild, channel, alice, "demo", "ping")
            assert (await inter.response()).content == "pong"
    assert ids[0] == ids[1]
    assert not fake.bot_connected
    with pytest.raises(RuntimeError, match="no bot session"):
        await fake.slash(guild, channel, alice, "demo", "ping")


# --------------------------------------------------------------------------------------------------
# shards
# --------------------------------------------------------------------------------------------------


class ShardClient(discord.AutoShardedClient):
    """A bare auto-sharded client whose ``/shard`` answers with the shards this client runs."""

    def __init__(self, shard_ids: list[int] | None = None, shard_count: int | None = None) -> None:
        super().__init__(
            intents=discord.Intents.none() | discord.Intents(guilds=True), shard_ids=shard_ids, shard_count=shard_count
        )
        self.tree = app_commands.CommandTree(self)

        @self.tree.command(name="shard", description="Which client answers")
        async def shard(interaction: discord.Interaction) -> None:
            await interaction.response.send_message(f"shards {sorted(self.shards)}")

    async def setup_hook(self) -> None:
        await self.tree.sync()


async def test_an_auto_sharded_client_gets_the_recommended_shards_each_with_its_guilds(fake: FakeDiscord) -> None:
    fake.recommended_shards = 2
    guilds = [fake.add_guild("Zero", shard=(0, 2)), fake.add_guild("One", shard=(1, 2))]
    client = ShardClient()
    async with running_bot(fake, client):
        assert client.shard_count == 2
        assert sorted(payload["shard"] for payload in fake.gateway.identify_payloads) == [[0, 2], [1, 2]]
        for shard_id, guild in enumerate(guilds):
            ready = next(p["d"] for p in fake.gateway.shards[shard_id].log if p["t"] == "READY")
            assert ready["shard"] == [shard_id, 2]
            assert [g["id"] for g in ready["guilds"]] == [str(guild.id)]
            cached = client.get_guild(guild.id)
            assert cached is not None and cached.shard_id == shard_id
        channel = guilds[1].add_text_channel("general")
        alice = guilds[1].add_member("alice")
        inter = await fake.slash(guilds[1], channel, alice, "shard")
        assert (await inter.response()).content == "shards [0, 1]"
        # the interaction travelled on shard 1's connection only
        assert any(p["t"] == "INTERACTION_CREATE" for p in fake.gateway.shards[1].log)
        assert not any(p["t"] == "INTERACTION_CREATE" for p in fake.gateway.shards[0].log)


async def test_each_interaction_reaches_the_client_running_its_guilds_shard(fake: FakeDiscord) -> None:
    guilds = [fake.add_guild("Zero", shard=(0, 2)), fake.add_guild("One", shard=(1, 2))]
    clients = [ShardClient([0], 2), ShardClient([1], 2)]
    with fake_endpoints(fake):
        tasks = [asyncio.create_task(client.start(fake.token)) for client in clients]
        try:
            await wait_until(
                lambda: all(c.get_guild(g.id) for c, g in zip(clients, guilds, strict=True)), 10, "both shards"
            )
            assert clients[0].get_guild(guilds[1].id) is None and clients[1].get_guild(guilds[0].id) is None
            for guild, expected in zip(guilds, ("shards [0]", "shards [1]"), strict=True):
                channel = guild.add_text_channel("general")
                inter = await fake.slash(guild, channel, guild.add_member("alice"), "shard")
                assert (await inter.response()).content == expected
        finally:
            for client, task in zip(clients, tasks, strict=True):
                await stop_bot(client, task)


async def test_an_identify_with_an_impossible_shard_is_closed_with_4010(fake: FakeDiscord) -> None:
    async with aiohttp.ClientSession() as session, session.ws_connect(fake.gateway_url) as ws:
        await ws.receive_json()  # HELLO
        await ws.send_json({"op": 2, "d": {"token": fake.token, "intents": 1, "shard": [2, 2], "properties": {}}})
        await ws.receive()
        assert ws.close_code == 4010
