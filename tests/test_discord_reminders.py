"""Release reminders end to end: opt-in, moderator configuration, posts at each offset."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from bot.core.storage import Via
from tests.fakediscord import FakeRole, Perm
from tests.world import RELEASE, World


async def configure(w: World) -> FakeRole:
    """A moderator picks the channel and a mentionable ping role."""
    role = w.guild.add_role("Ballerina fans", mentionable=True)
    reply = await w.run(w.moderator, "ballerina-admin", "channel", options={"channel": w.channel})
    assert reply.content == f"Reminder posts will go to <#{w.channel.id}>.", reply.content
    reply = await w.run(w.moderator, "ballerina-admin", "role", options={"role": role})
    assert reply.content is not None and reply.content.startswith(f"Members who opt in will get <@&{role.id}>")
    return role


async def test_channel_opt_in_gives_the_role_and_each_post_pings_only_that_role(before_release: World) -> None:
    w = before_release
    role = await configure(w)
    reply = await w.run(w.member, "ballerina", "remind", "on")
    assert reply.ephemeral and reply.embed is not None and reply.embed["title"] == "Reminders on"
    assert w.guild.get_member(w.member.id).has_role(role)  # type: ignore[union-attr]

    await w.advance(timedelta(days=9))  # now exactly 7 days before the release
    posts = w.fake.channel_messages(w.channel)
    assert len(posts) == 1
    post = posts[0]
    assert post.content == f"<@&{role.id}>"
    assert post.request["allowed_mentions"] == {"parse": [], "users": [], "roles": [role.id]}
    assert post.embed is not None and post.embed["title"] == "Ballerina arrives on Netflix in 7 days"
    assert post.request.get("enforce_nonce") is True and post.request.get("nonce")

    for delta, title in [
        (timedelta(days=6), "Ballerina arrives on Netflix in 1 day"),
        (timedelta(hours=23), "Ballerina arrives on Netflix in 1 hour"),
        (timedelta(hours=1), "Ballerina is out now on Netflix"),
    ]:
        await w.advance(delta)
        assert w.fake.channel_messages(w.channel)[-1].embed["title"] == title  # type: ignore[index]
    assert len(w.fake.channel_messages(w.channel)) == 4
    await w.advance(timedelta(days=30))
    assert len(w.fake.channel_messages(w.channel)) == 4


async def test_dm_opt_in_gets_each_reminder_by_dm_pinging_nobody_else(before_release: World) -> None:
    w = before_release
    await configure(w)
    reply = await w.run(w.member, "ballerina", "remind", "on", options={"via": "dm"})
    assert "by DM" in reply.embed["description"]  # type: ignore[index]
    assert not w.guild.get_member(w.member.id).role_ids  # type: ignore[union-attr]
    await w.advance(timedelta(days=9))
    dms = w.fake.dm_messages(w.member)
    assert len(dms) == 1
    assert dms[0].embed["title"] == "Ballerina arrives on Netflix in 7 days"  # type: ignore[index]
    assert dms[0].request["allowed_mentions"]["parse"] == []
    assert dms[0].request["allowed_mentions"]["roles"] == []


async def test_nothing_is_posted_before_a_reminder_is_due(before_release: World) -> None:
    w = before_release
    await configure(w)
    await w.run(w.member, "ballerina", "remind", "on")
    await w.advance(timedelta(days=9) - timedelta(seconds=1))
    assert w.fake.channel_messages(w.channel) == []


async def test_opt_out_takes_the_role_back_and_stops_dms(before_release: World) -> None:
    w = before_release
    role = await configure(w)
    await w.run(w.member, "ballerina", "remind", "on")
    reply = await w.run(w.member, "ballerina", "remind", "off")
    assert reply.embed is not None and reply.embed["title"] == "Reminders off"
    assert not w.guild.get_member(w.member.id).has_role(role)  # type: ignore[union-attr]
    again = await w.run(w.member, "ballerina", "remind", "off")
    assert again.ephemeral and "nothing to turn off" in (again.content or "")


async def test_remind_status_lists_the_coming_reminders_as_timestamps(before_release: World) -> None:
    w = before_release
    await configure(w)
    off = await w.run(w.member, "ballerina", "remind", "status")
    assert off.embed is not None and off.embed["title"] == "Reminders are off for you"
    await w.run(w.member, "ballerina", "remind", "on", options={"via": "dm"})
    on = await w.run(w.member, "ballerina", "remind", "status")
    assert on.embed is not None and on.embed["title"] == "Reminders are on for you"
    coming = on.embed["fields"][0]["value"].splitlines()
    seven_days = int((RELEASE - timedelta(days=7)).timestamp())
    assert coming[0] == f"<t:{seven_days}:F> (<t:{seven_days}:R>)"
    assert len(coming) == 4


async def test_opting_in_after_the_release_offers_watch_parties(after_release: World) -> None:
    w = after_release
    reply = await w.run(w.member, "ballerina", "remind", "on")
    assert reply.ephemeral
    assert "already streaming on Netflix" in (reply.content or "")
    assert "/ballerina party create" in (reply.content or "")
    assert (await w.core.store.get_subscription(str(w.guild.id), str(w.member.id))) is None  # type: ignore[union-attr]


async def test_channel_opt_ins_before_a_role_exists_are_kept_and_posts_ping_nobody(before_release: World) -> None:
    w = before_release
    await w.run(w.moderator, "ballerina-admin", "channel", options={"channel": w.channel})
    reply = await w.run(w.member, "ballerina", "remind", "on")
    assert "no ping role yet" in reply.embed["footer"]["text"]  # type: ignore[index]
    status = await w.run(w.moderator, "ballerina-admin", "status")
    fields = {f["name"]: f["value"] for f in status.embed["fields"]}  # type: ignore[index]
    assert fields["Opted in"] == "1 in the channel, 0 by DM"
    assert "Set a ping role" in fields["To do"]
    await w.advance(timedelta(days=9))
    post = w.fake.channel_messages(w.channel)[0]
    assert not post.content
    assert post.request["allowed_mentions"] == {"parse": [], "users": [], "roles": []}


async def test_schedule_change_moves_the_reminders(before_release: World) -> None:
    w = before_release
    await configure(w)
    reply = await w.run(w.moderator, "ballerina-admin", "schedule", options={"offsets": "2d, 30m"})
    assert reply.content is not None and "`2d,30m`" in reply.content
    await w.advance(timedelta(days=9))  # the old 7-day reminder is gone
    assert w.fake.channel_messages(w.channel) == []
    await w.advance(timedelta(days=5))  # 2 days before
    assert [m.embed["title"] for m in w.fake.channel_messages(w.channel)] == [  # type: ignore[index]
        "Ballerina arrives on Netflix in 2 days"
    ]


@pytest.mark.parametrize(
    ("offsets", "words"),
    [
        ("7x", "unit"),
        ("1h,1h", "twice"),
        ("91d", "90 days"),
        ("1m,2m,3m,4m,5m,6m,7m,8m,9m,10m,11m", "10"),
        ("-1h", ""),
        ("@everyone", ""),
    ],
)
async def test_bad_schedules_are_refused_and_change_nothing(before_release: World, offsets: str, words: str) -> None:
    w = before_release
    interaction = await w.fake.slash(
        w.guild, w.channel, w.moderator, "ballerina-admin", "schedule", options={"offsets": offsets}
    )
    reply = await interaction.response()
    assert reply.ephemeral and "Nothing was changed" in (reply.content or "")
    assert words.lower() in (reply.content or "").lower()
    settings = await w.core.store.get_guild_settings(str(w.guild.id))  # type: ignore[union-attr]
    assert [int(o.total_seconds()) for o in settings.release_offsets] == [604800, 86400, 3600, 0]


async def test_timezone_is_validated_with_autocomplete(before_release: World) -> None:
    w = before_release
    choices = await w.fake.autocomplete(
        w.guild, w.channel, w.moderator, ("ballerina-admin", "timezone"), focused="name", options={"name": "seoul"}
    )
    assert choices[0]["value"] == "Asia/Seoul"
    bad = await w.run(w.moderator, "ballerina-admin", "timezone", options={"name": "Mars/Olympus"})
    assert bad.ephemeral and "Nothing was changed" in (bad.content or "")
    good = await w.run(w.moderator, "ballerina-admin", "timezone", options={"name": "asia/seoul"})
    assert good.content == "Server time zone set to Asia/Seoul."
    assert (await w.core.store.get_guild_settings(str(w.guild.id))).timezone == "Asia/Seoul"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("path", "options"),
    [
        (("ballerina-admin", "schedule"), {"offsets": "1h"}),
        (("ballerina-admin", "timezone"), {"name": "Europe/Paris"}),
        (("ballerina-admin", "reset"), {}),
        (("ballerina-admin", "status"), {}),
    ],
)
async def test_members_without_manage_server_are_refused_by_the_bot_itself(
    before_release: World, path: tuple[str, ...], options: dict[str, object]
) -> None:
    """Server owners can make the admin commands visible to anyone; the bot still checks."""
    w = before_release
    interaction = await w.fake.slash(w.guild, w.channel, w.member, *path, options=options, check=False)
    reply = await interaction.response()
    assert reply.ephemeral and "Manage Server" in (reply.content or "")
    settings = await w.core.store.get_guild_settings(str(w.guild.id))  # type: ignore[union-attr]
    assert settings.timezone == "UTC" and len(settings.release_offsets) == 4


async def test_channel_without_bot_permissions_is_refused_naming_what_is_missing(before_release: World) -> None:
    w = before_release
    locked = w.guild.add_text_channel("locked")
    locked.set_overwrite(w.guild.bot_role, deny=Perm.SEND_MESSAGES | Perm.EMBED_LINKS)
    reply = await w.run(w.moderator, "ballerina-admin", "channel", options={"channel": locked})
    assert reply.ephemeral
    assert "missing Send Messages, Embed Links" in (reply.content or "")
    assert (await w.core.store.get_guild_settings(str(w.guild.id))).channel_id is None  # type: ignore[union-attr]


async def test_channel_of_another_server_is_refused(before_release: World) -> None:
    w = before_release
    other = w.fake.add_guild("Other Club")
    foreign = other.add_text_channel("secret")
    interaction = await w.fake.slash(
        w.guild, w.channel, w.moderator, "ballerina-admin", "channel", options={"channel": foreign}, check=False
    )
    reply = await interaction.response()
    assert reply.ephemeral and "Nothing was changed" in (reply.content or "")
    assert (await w.core.store.get_guild_settings(str(w.guild.id))).channel_id is None  # type: ignore[union-attr]


async def test_role_above_the_bot_is_refused_with_the_fix(before_release: World) -> None:
    w = before_release
    high = w.guild.add_role("Admins", mentionable=True, position=200)
    reply = await w.run(w.moderator, "ballerina-admin", "role", options={"role": high})
    assert reply.ephemeral and "must be above Admins" in (reply.content or "")
    assert (await w.core.store.get_guild_settings(str(w.guild.id))).ping_role_id is None  # type: ignore[union-attr]


async def test_bot_can_create_the_ping_role(before_release: World) -> None:
    w = before_release
    reply = await w.run(w.moderator, "ballerina-admin", "role", options={"create": True})
    created = w.guild.role_named("Ballerina reminders")
    assert created.mentionable
    assert reply.content is not None and f"<@&{created.id}>" in reply.content


async def test_reset_asks_first_and_the_button_restores_defaults(before_release: World) -> None:
    w = before_release
    await configure(w)
    prompt = await w.run(w.moderator, "ballerina-admin", "reset")
    assert prompt.ephemeral and prompt.components
    message = await w.fake.last_interaction.wait_for_original()  # type: ignore[union-attr]
    stranger = await w.fake.click(message, "admin:reset:confirm", w.member)
    assert "Manage Server" in ((await stranger.response()).content or "")
    assert (await w.core.store.get_guild_settings(str(w.guild.id))).channel_id is not None  # type: ignore[union-attr]
    done = await (await w.fake.click(message, "admin:reset:confirm", w.moderator)).response()
    assert done.content == "Release reminder settings are back to the defaults."
    assert (await w.core.store.get_guild_settings(str(w.guild.id))).channel_id is None  # type: ignore[union-attr]


async def test_preview_shows_the_next_post_to_the_moderator_only(before_release: World) -> None:
    w = before_release
    role = await configure(w)
    reply = await w.run(w.moderator, "ballerina-admin", "preview")
    assert reply.ephemeral
    assert reply.embed is not None and reply.embed["title"] == "Ballerina arrives on Netflix in 7 days"
    assert reply.content == f"<@&{role.id}>"
    assert reply.allowed_mentions == {"parse": [], "users": [], "roles": []}  # a preview pings nobody
    assert w.fake.channel_messages(w.channel) == []


async def test_removing_the_bot_from_a_server_deletes_its_data(before_release: World) -> None:
    w = before_release
    await configure(w)
    await w.run(w.member, "ballerina", "remind", "on", options={"via": "dm"})
    assert w.core is not None
    guild_id = str(w.guild.id)
    w.fake.remove_guild(w.guild)
    await w.fake.flush_gateway()
    for _ in range(100):
        if await w.core.store.find_guild_settings(guild_id) is None:
            break
        await asyncio.sleep(0.01)
    assert await w.core.store.find_guild_settings(guild_id) is None
    assert await w.core.store.get_subscription(guild_id, str(w.member.id)) is None
    await w.advance(timedelta(days=9))
    assert w.fake.dm_messages(w.member) == []


async def raise_above_the_bot(w: World, role: FakeRole) -> None:
    role.update(position=200)
    await w.fake.flush_gateway()


async def refuse_role_removal(w: World, role: FakeRole) -> None:
    w.fake.fail_requests("DELETE", rf"/members/\d+/roles/{role.id}$", status=403, code=50013)


@pytest.mark.parametrize("break_removal", [raise_above_the_bot, refuse_role_removal])
async def test_opt_out_whose_role_cannot_be_taken_back_says_so_and_still_opts_out(
    before_release: World, caplog: pytest.LogCaptureFixture, break_removal: Callable[[World, FakeRole], Awaitable[None]]
) -> None:
    w = before_release
    role = await configure(w)
    await w.run(w.member, "ballerina", "remind", "on")
    await break_removal(w, role)
    reply = await w.run(w.member, "ballerina", "remind", "off")
    assert reply.embed is not None and reply.embed["title"] == "Reminders off"
    stays = reply.embed["fields"][0]
    assert stays["name"] == "The ping role stays for now"
    assert stays["value"].startswith("I couldn't take Ballerina fans back from you.")
    assert "A moderator can remove Ballerina fans from you" in stays["value"]
    assert w.guild.get_member(w.member.id).has_role(role)  # type: ignore[union-attr]
    assert await w.core.store.get_subscription(str(w.guild.id), str(w.member.id)) is None  # type: ignore[union-attr]
    assert any("keeps the ping role" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("status", "code", "message", "words"),
    [
        (403, 50013, "Missing Permissions", "lack the Manage Roles permission"),
        (400, 30005, "Maximum number of guild roles reached (250)", "Discord refused (400: Maximum number"),
    ],
)
async def test_a_refused_role_creation_is_explained_and_saves_nothing(
    before_release: World, status: int, code: int, message: str, words: str
) -> None:
    w = before_release
    w.fake.fail_requests("POST", r"/guilds/\d+/roles$", status=status, code=code, message=message)
    reply = await w.run(w.moderator, "ballerina-admin", "role", options={"create": True})
    assert reply.ephemeral and words in (reply.content or "")
    assert "Nothing was changed" in (reply.content or "")
    assert [r.name for r in w.guild.roles.values() if r.name == "Ballerina reminders"] == []
    assert (await w.core.store.get_guild_settings(str(w.guild.id))).ping_role_id is None  # type: ignore[union-attr]


async def test_switching_to_dms_when_the_role_cannot_be_taken_back_says_so(before_release: World) -> None:
    w = before_release
    role = await configure(w)
    await w.run(w.member, "ballerina", "remind", "on")
    await raise_above_the_bot(w, role)
    reply = await w.run(w.member, "ballerina", "remind", "on", options={"via": "dm"})
    assert reply.embed is not None and "by DM" in reply.embed["description"]
    assert reply.embed["footer"]["text"].startswith("I couldn't take Ballerina fans back from you.")
    subscription = await w.core.store.get_subscription(str(w.guild.id), str(w.member.id))  # type: ignore[union-attr]
    assert subscription is not None and subscription.via is Via.DM
