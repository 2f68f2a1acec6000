"""Members who left a server: no more DMs on its behalf, and what the bot kept about them there goes.

The bot has no members intent, so it hears of no departures: before a DM it asks Discord
(GET /guilds/{guild}/members/{user}); a 404 with code 10007 means the member left.
"""

from __future__ import annotations

from datetime import timedelta

import discord
import pytest

from bot.core.engine.errors import RecipientLeft
from bot.core.storage.models import ErrorKind, Via
from bot.discord.transport import delivery_error
from tests.test_discord_parties import advance, click, create, going_field, until
from tests.world import World


async def test_a_member_who_left_gets_no_party_dm_and_loses_rsvp_and_opt_in_there(before_release: World) -> None:
    w = before_release
    assert w.core is not None
    guild_id = str(w.guild.id)
    alice, bob, carol = w.member, w.guild.add_member("bob"), w.guild.add_member("carol")
    for member in (alice, bob, carol):
        await w.run(member, "ballerina", "party", "reminders", options={"via": "dm"})
    await w.run(alice, "ballerina", "remind", "on", options={"via": "dm"})
    _, card = await create(w, w.moderator, when="in 2 hours", remind="1h,30m", title="Movie night")
    for member in (alice, bob, carol):
        await click(w, card, "going", member)
    assert going_field(card)[0] == "Going (3)"

    w.guild.remove_member(alice)
    w.fake.close_dms(carol)  # 403/50007: she refuses DMs, but she is still here
    await advance(w, timedelta(hours=1))

    assert [dm.embed["title"] for dm in w.fake.dm_messages(bob)] == ["Movie night starts in 1 hour"]  # type: ignore[index]
    assert w.fake.dm_messages(alice) == []
    party_id = int(card.custom_ids()[0].split(":")[1])
    attendance = await w.core.parties.parties.attendance(party_id, 10)
    assert set(attendance.first_going) == {str(bob.id), str(carol.id)}
    assert await w.core.store.get_subscription(guild_id, str(alice.id)) is None
    # Her own settings are hers everywhere: she may still be in other servers.
    assert (await w.core.parties.parties.user_settings(str(alice.id))).party_via is Via.DM
    await until(lambda: going_field(card) == ("Going (2)", f"<@{bob.id}>, <@{carol.id}>"))

    await advance(w, timedelta(minutes=30))
    assert len(w.fake.dm_messages(bob)) == 2 and w.fake.dm_messages(alice) == []
    # One lookup per member: the answer is cached across a party's close reminders.
    for member in (alice, bob, carol):
        assert len(w.fake.find_requests("GET", rf"/guilds/{guild_id}/members/{member.id}$")) == 1


async def test_a_member_who_left_gets_no_release_dm_and_loses_their_sign_up(before_release: World) -> None:
    w = before_release
    assert w.core is not None
    alice, bob = w.member, w.guild.add_member("bob")
    for member in (alice, bob):
        await w.run(member, "ballerina", "remind", "on", options={"via": "dm"})
    w.guild.remove_member(alice)
    await advance(w, timedelta(days=9))  # the release is 7 days away: the first reminder
    assert len(w.fake.dm_messages(bob)) == 1 and w.fake.dm_messages(alice) == []
    assert await w.core.store.get_subscription(str(w.guild.id), str(alice.id)) is None
    assert await w.core.store.get_subscription(str(w.guild.id), str(bob.id)) is not None


async def test_unknown_member_is_reported_as_recipient_left_not_as_a_missing_channel(before_release: World) -> None:
    """Discord's 404/10007 (here from the fake, through discord.py) becomes the core's neutral error."""
    w = before_release
    assert w.bot is not None
    w.guild.remove_member(w.member)
    with pytest.raises(discord.NotFound) as answer:
        await w.bot.http.get_member(w.guild.id, w.member.id)
    error = delivery_error(answer.value)
    assert isinstance(error, RecipientLeft) and error.kind is ErrorKind.RECIPIENT_LEFT
