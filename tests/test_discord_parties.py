"""Watch parties end to end: create, RSVP buttons, edit, cancel, reminders and scheduled events.

The bot runs against the fake Discord on a manual clock set to Friday 2026-11-27 07:00 UTC.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core.parties import Party
from bot.discord.parties import card_edits
from tests.fakediscord import FakeChannel, FakeGuild, FakeMember, FakeMessage, InteractionCallback, Perm
from tests.world import INVITED_PERMISSIONS, World

# The end-to-end storage check: these run on SQLite and on a real PostgreSQL.
pytestmark = pytest.mark.both_backends

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
BUTTONS = ("going", "maybe", "no", "leave")


# -- helpers ----------------------------------------------------------------------------------------


def ts(instant: datetime) -> str:
    return f"<t:{int(instant.timestamp())}:F>"


def party_id_of(card: FakeMessage) -> int:
    return int(card.custom_ids()[0].split(":")[1])


def fields(embed: dict[str, Any] | None) -> dict[str, str]:
    assert embed is not None
    return {f["name"]: f["value"] for f in embed.get("fields", [])}


def going_field(card: FakeMessage) -> tuple[str, str]:
    """("Going (n)", names) of the card as it is now."""
    name, value = next((n, v) for n, v in fields(card.embed).items() if n.startswith("Going"))
    return name, value


async def until(check: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait for something the bot does after it has answered (card edits, scheduled events)."""
    async with asyncio.timeout(timeout):
        while True:
            done = check()
            if await done if inspect.isawaitable(done) else done:
                return
            await asyncio.sleep(0.005)


async def cards_settled(*cards: FakeMessage) -> None:
    """Once the clicks on ``cards`` are answered: until their cards show every one of them.

    A click may be answered before its card shows it, when another edit of the card is under way.
    """
    async with asyncio.timeout(5):
        for card in cards:
            await card_edits.settled(card.id)


async def settle(w: World) -> None:
    """``w.settle()``, failing instead of hanging if the reminder engine never goes idle."""
    async with asyncio.timeout(10):
        await w.settle()


async def advance(w: World, delta: timedelta) -> None:
    w.clock.advance(delta)
    await settle(w)


async def stored(w: World, party_id: int, guild: FakeGuild | None = None) -> Party:
    assert w.core is not None
    party = await w.core.parties.get(str((guild or w.guild).id), party_id)
    assert party is not None
    return party


async def create(
    w: World,
    who: FakeMember | None = None,
    *,
    run_in: FakeChannel | None = None,
    card_in: FakeChannel | None = None,
    guild: FakeGuild | None = None,
    **options: object,
) -> tuple[InteractionCallback, FakeMessage]:
    """Create a party and wait until its card is posted and recorded (and its event, if allowed)."""
    guild = guild or w.guild
    run_in = run_in or w.channel
    card_in = card_in or run_in
    before = len(w.fake.channel_messages(card_in))
    reply = await w.run(who or w.member, "ballerina", "party", "create", options=options, channel=run_in, guild=guild)
    assert reply.embed is not None and reply.embed["title"] == "Watch party scheduled", reply.content
    card = (await w.fake.wait_for_messages(card_in, count=before + 1))[-1]
    party_id = party_id_of(card)
    events = bool(guild.bot_permissions() & Perm.MANAGE_EVENTS)

    async def recorded() -> bool:
        party = await stored(w, party_id, guild)
        return party.card_message_id is not None and (party.scheduled_event_id is not None or not events)

    await until(recorded)
    return reply, card


async def click(w: World, card: FakeMessage, choice: str, who: FakeMember, **kw: Any) -> InteractionCallback:
    interaction = await w.fake.click(card, f"party:{party_id_of(card)}:{choice}", who, **kw)
    return await interaction.response()


async def refused(w: World, card: FakeMessage, choice: str, who: FakeMember, **kw: Any) -> str:
    """The private refusal a member sees after a click the bot turns down (the card stays)."""
    interaction = await w.fake.click(card, f"party:{party_id_of(card)}:{choice}", who, **kw)
    answer = await interaction.response()
    assert answer.type == 4 and answer.ephemeral
    assert not interaction.followups
    return answer.content or ""


def members(w: World, *names: str) -> list[FakeMember]:
    return [w.guild.add_member(name) for name in names]


async def no_party_listed(w: World) -> bool:
    listing = await w.run(w.member, "ballerina", "party", "list")
    return listing.embed is not None and listing.embed["title"] == "No watch parties planned"


def ping_ids(message: FakeMessage) -> set[int]:
    return set(message.request["allowed_mentions"]["users"])


# -- creating ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "starts"),
    [
        ("2026-12-05 20:00", datetime(2026, 12, 5, 20, 0, tzinfo=UTC)),
        ("tomorrow 8pm", datetime(2026, 11, 28, 20, 0, tzinfo=UTC)),
        ("sat 21:30", datetime(2026, 11, 28, 21, 30, tzinfo=UTC)),
        ("in 2 hours", datetime(2026, 11, 27, 9, 0, tzinfo=UTC)),
        ("2026-12-24T19:00:00+01:00", datetime(2026, 12, 24, 18, 0, tzinfo=UTC)),
        ("1796000000", datetime.fromtimestamp(1796000000, UTC)),
    ],
)
async def test_each_time_form_schedules_the_party_and_posts_its_card(
    after_release: World, when: str, starts: datetime
) -> None:
    w = after_release
    reply, card = await create(w, when=when, title="Movie night")
    assert reply.ephemeral
    assert ts(starts) in reply.embed["description"]  # type: ignore[index]
    party_id = party_id_of(card)
    assert reply.custom_ids() == [f"party:{party_id}:cancel"]
    assert card.embed is not None and card.embed["title"] == "Movie night"
    assert ts(starts) in card.embed["description"]
    assert card.custom_ids() == [f"party:{party_id}:{choice}" for choice in BUTTONS]
    assert card.request["allowed_mentions"] == {"parse": [], "users": [], "roles": []}
    party = await stored(w, party_id)
    assert party.starts_at == starts and party.card_message_id == str(card.id)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"when": "2026-11-26 20:00"}, "in the past"),
        ({"when": "2028-01-05 20:00"}, "too far ahead"),
        ({"when": "tomorrow 8pm", "timezone": "Mars/Olympus"}, "time zone"),
        ({"when": "2027-03-14 02:30", "timezone": "America/New_York"}, "doesn't exist"),
        ({"when": "2027-11-07 01:30", "timezone": "America/New_York"}, "happens twice"),
        ({"when": "tomorrow 8pm", "title": "x" * 101}, "up to 100 characters"),
        ({"when": "tomorrow 8pm", "title": "\u200b\u200b\u2060"}, "visible character"),
    ],
)
async def test_refused_creations_change_nothing(after_release: World, options: dict[str, object], words: str) -> None:
    w = after_release
    reply = await w.run(w.member, "ballerina", "party", "create", options=options)
    assert reply.ephemeral and words in (reply.content or ""), reply.content
    await asyncio.sleep(0.05)  # a card, if any, would have been posted by now
    assert w.fake.channel_messages(w.channel) == []
    assert w.fake.scheduled_events(w.guild) == []
    assert await no_party_listed(w)


async def test_card_goes_to_the_chosen_channel_and_a_channel_the_bot_cannot_post_in_is_refused(
    after_release: World,
) -> None:
    w = after_release
    parties = w.guild.add_text_channel("parties")
    await create(w, card_in=parties, when="tomorrow 8pm", channel=parties)
    assert w.fake.channel_messages(w.channel) == []

    locked = w.guild.add_text_channel("locked")
    locked.set_overwrite(w.guild.bot_role, deny=Perm.SEND_MESSAGES | Perm.EMBED_LINKS)
    await w.fake.flush_gateway()
    reply = await w.run(w.member, "ballerina", "party", "create", options={"when": "sat 21:30", "channel": locked})
    assert reply.ephemeral and "missing Send Messages, Embed Links" in (reply.content or "")
    listing = await w.run(w.member, "ballerina", "party", "list")
    assert len(listing.embed["description"].splitlines()) == 1  # type: ignore[index]


async def test_party_settings_pick_the_default_channel_and_reminders(after_release: World) -> None:
    w = after_release
    parties = w.guild.add_text_channel("parties")
    settings = await w.run(
        w.moderator, "ballerina-admin", "party-settings", options={"channel": parties, "remind": "2h", "cap": 3}
    )
    assert settings.ephemeral and settings.embed is not None
    assert fields(settings.embed)["Default channel"] == f"<#{parties.id}>"
    _, card = await create(w, card_in=parties, when="tomorrow 8pm")
    assert (await stored(w, party_id_of(card))).offsets == (timedelta(hours=2),)

    stranger = await w.fake.slash(
        w.guild, w.channel, w.member, "ballerina-admin", "party-settings", options={"cap": 1}, check=False
    )
    assert "Manage Server" in ((await stranger.response()).content or "")
    locked = w.guild.add_text_channel("locked")
    locked.set_overwrite(w.guild.bot_role, deny=Perm.VIEW_CHANNEL)
    await w.fake.flush_gateway()
    refused = await w.run(w.moderator, "ballerina-admin", "party-settings", options={"channel": locked})
    assert refused.ephemeral and "Nothing was changed" in (refused.content or "")
    w.guild.remove_channel(parties)
    await w.fake.flush_gateway()
    gone = await w.run(w.member, "ballerina", "party", "create", options={"when": "sat 21:30"})
    assert gone.ephemeral and "party channel no longer exists" in (gone.content or "")
    cleared = await w.run(w.moderator, "ballerina-admin", "party-settings", options={"clear_channel": True})
    assert fields(cleared.embed)["Default channel"] != f"<#{parties.id}>"
    await create(w, when="sat 21:30")  # back to the channel the command runs in


async def test_member_time_zone_reads_typed_times_in_that_zone(after_release: World) -> None:
    w = after_release
    choices = await w.fake.autocomplete(
        w.guild, w.channel, w.member, ("ballerina", "timezone"), focused="name", options={"name": "tokyo"}
    )
    assert choices[0]["value"] == "Asia/Tokyo"
    bad = await w.run(w.member, "ballerina", "timezone", options={"name": "Mars/Olympus"})
    assert bad.ephemeral
    good = await w.run(w.member, "ballerina", "timezone", options={"name": "asia/tokyo"})
    assert good.ephemeral and "Asia/Tokyo" in (good.content or "")
    reply, _ = await create(w, when="tomorrow 8pm")
    assert ts(datetime(2026, 11, 28, 11, 0, tzinfo=UTC)) in reply.embed["description"]  # type: ignore[index]
    choices = await w.fake.autocomplete(
        w.guild, w.channel, w.member, ("ballerina", "party", "create"), focused="timezone",
        options={"when": "x", "timezone": "paris"},
    )  # fmt: skip
    assert choices[0]["value"] == "Europe/Paris"


async def test_list_info_and_autocomplete_show_this_servers_parties(after_release: World) -> None:
    w = after_release
    _, first = await create(w, when="tomorrow 8pm", title="Sequel marathon")
    _, second = await create(w, when="sat 21:30", title="Ballerina again")
    listing = await w.run(w.member, "ballerina", "party", "list")
    lines = listing.embed["description"].splitlines()  # type: ignore[index]
    assert "Sequel marathon" in lines[0] and "Ballerina again" in lines[1]
    choices = await w.fake.autocomplete(
        w.guild, w.channel, w.member, ("ballerina", "party", "info"), focused="id", options={"id": "again"}
    )
    assert [c["value"] for c in choices] == [party_id_of(second)]
    assert "Ballerina again" in choices[0]["name"]
    info = await w.run(w.member, "ballerina", "party", "info", options={"id": party_id_of(first)})
    assert info.ephemeral and info.embed["title"] == "Sequel marathon"  # type: ignore[index]

    # Its buttons work like the card's, and the posted card follows.
    copy_of_card = await w.fake.last_interaction.wait_for_original()  # type: ignore[union-attr]
    assert (await click(w, copy_of_card, "going", w.member)).type == 7
    assert going_field(copy_of_card)[0] == "Going (1)"
    await until(lambda: going_field(first)[0] == "Going (1)")


# -- the RSVP buttons -------------------------------------------------------------------------------


async def test_rsvp_buttons_update_the_counts_on_the_card_and_double_clicks_change_nothing(
    after_release: World,
) -> None:
    w = after_release
    bob, carol = members(w, "bob", "carol")
    _, card = await create(w, when="tomorrow 8pm")
    assert going_field(card)[0] == "Going (0)"

    buttons = card.custom_ids()
    answer = await click(w, card, "going", w.member)
    assert answer.type == 7 and answer.embed is not None  # the card itself, edited in place: the confirmation
    assert "components" not in answer.data and card.custom_ids() == buttons  # unchanged buttons are not resent
    assert not w.fake.last_interaction.followups  # type: ignore[union-attr]
    assert "Going members are reminded 1d,1h,10m,0 before" in card.embed["footer"]["text"]  # type: ignore[index]
    await click(w, card, "going", bob)
    await click(w, card, "maybe", carol)
    assert going_field(card) == ("Going (2)", f"<@{w.member.id}>, <@{bob.id}>")
    assert fields(card.embed)["Maybe (1)"]

    again = await click(w, card, "going", w.member)  # a double click changes nothing
    assert again.type == 7
    assert going_field(card) == ("Going (2)", f"<@{w.member.id}>, <@{bob.id}>")
    await click(w, card, "leave", bob)
    await click(w, card, "no", carol)
    assert going_field(card) == ("Going (1)", f"<@{w.member.id}>")
    assert set(fields(card.embed)) >= {"Maybe (0)", "Not going (1)"}
    assert len(w.fake.channel_messages(w.channel)) == 1  # never a second card
    # The dynamic items serve every card: discord.py keeps no view per card message.
    assert w.bot is not None and w.bot.persistent_views == []


async def test_a_click_on_a_card_with_outdated_buttons_puts_the_current_ones_back(after_release: World) -> None:
    w = after_release
    _, card = await create(w, when="tomorrow 8pm")
    current = list(card.components)
    going = card.components[0]["components"][0]
    card.components = [{"type": 1, "components": [going | {"label": "I'm in"}]}]  # as an older version drew it

    answer = await click(w, card, "going", w.member)
    assert answer.type == 7 and answer.data["components"] == current
    assert card.components == current and going_field(card)[0] == "Going (1)"


async def test_simultaneous_clicks_on_one_party_are_all_counted_in_order(after_release: World) -> None:
    w = after_release
    fans = members(w, *(f"fan{i}" for i in range(12)))
    _, card = await create(w, when="tomorrow 8pm")
    interactions = await asyncio.gather(*(w.fake.click(card, f"party:{party_id_of(card)}:going", fan) for fan in fans))
    answers = await asyncio.gather(*(i.response() for i in interactions))
    # The card edited in place, or, while another edit of it is under way, an acknowledgement.
    assert all(a.type in (6, 7) for a in answers) and answers[0].type == 7
    await cards_settled(card)
    assert going_field(card)[0] == "Going (12)"  # the last edit carries every answer


async def test_simultaneous_clicks_on_several_parties_each_land_on_their_own_card(after_release: World) -> None:
    w = after_release
    fans = members(w, *(f"fan{i}" for i in range(4)))
    cards = [(await create(w, when=f"in {days} days", title=f"Night {days}"))[1] for days in (2, 3, 4)]
    clicks = [(card, choice, fan) for card, choice in zip(cards, ("going", "maybe", "no"), strict=True) for fan in fans]
    interactions = await asyncio.gather(
        *(w.fake.click(card, f"party:{party_id_of(card)}:{choice}", fan) for card, choice, fan in clicks)
    )
    answers = await asyncio.gather(*(i.response() for i in interactions))
    assert all(a.type in (6, 7) for a in answers)
    await cards_settled(*cards)
    going, maybe, no = (fields(card.embed) for card in cards)
    assert "Going (4)" in going and "Maybe (0)" in going
    assert "Going (0)" in maybe and "Maybe (4)" in maybe
    assert "Going (0)" in no and "Not going (4)" in no
    assert going["Going (4)"].count("<@") == 4


async def test_buttons_keep_working_after_a_restart(after_release: World) -> None:
    w = after_release
    _, card = await create(w, when="tomorrow 8pm")
    await click(w, card, "going", w.member)
    await w.restart()
    bob = w.guild.add_member("bob")
    assert (await click(w, card, "going", bob)).type == 7
    assert going_field(card)[0] == "Going (2)"


# -- edit and cancel --------------------------------------------------------------------------------


async def test_host_moves_the_party_the_card_and_event_follow_and_going_members_are_told(
    after_release: World,
) -> None:
    w = after_release
    bob = w.guild.add_member("bob")
    _, card = await create(w, when="2026-11-29 20:00", title="Movie night")
    party_id = party_id_of(card)
    await click(w, card, "going", bob)

    stranger = await w.run(bob, "ballerina", "party", "edit", options={"id": party_id, "title": "Mine now"})
    assert stranger.ephemeral and "host or a moderator" in (stranger.content or "")

    new_start = datetime(2026, 11, 30, 21, 0, tzinfo=UTC)
    reply = await w.run(w.member, "ballerina", "party", "edit", options={"id": party_id, "when": "2026-11-30 21:00"})
    assert reply.ephemeral and ts(new_start) in (reply.content or "")
    await w.fake.wait_for_request("PATCH", r"/scheduled-events/\d+$")
    assert ts(new_start) in card.embed["description"]  # type: ignore[index]
    (event,) = w.fake.scheduled_events(w.guild)
    assert datetime.fromisoformat(event["scheduled_start_time"]) == new_start

    await settle(w)
    (notice,) = w.fake.channel_messages(w.channel)[1:]
    assert notice.embed["title"] == "Movie night has moved"  # type: ignore[index]
    assert ping_ids(notice) == {bob.id}

    renamed = await w.run(w.moderator, "ballerina", "party", "edit", options={"id": party_id, "title": "Film club"})
    assert renamed.ephemeral and "updated" in (renamed.content or "")
    await until(lambda: card.embed["title"] == "Film club")  # type: ignore[index]


async def test_moved_party_moves_its_reminders(after_release: World) -> None:
    w = after_release
    _, card = await create(w, when="2026-11-29 07:00", remind="1h")
    await click(w, card, "going", w.member)
    await w.run(w.member, "ballerina", "party", "edit", options={"id": party_id_of(card), "when": "2026-11-30 07:00"})
    await settle(w)
    posts = len(w.fake.channel_messages(w.channel))
    await advance(w, timedelta(days=2) - timedelta(hours=1))  # the old reminder time
    assert len(w.fake.channel_messages(w.channel)) == posts
    await advance(w, timedelta(days=1))  # the new one
    reminder = w.fake.channel_messages(w.channel)[-1]
    assert "starts in 1 hour" in reminder.embed["title"]  # type: ignore[index]
    assert ping_ids(reminder) == {w.member.id}


async def test_cancel_greys_out_the_card_cancels_the_event_and_tells_going_members(after_release: World) -> None:
    w = after_release
    bob = w.guild.add_member("bob")
    _, card = await create(w, when="2026-11-29 20:00", title="Movie night")
    party_id = party_id_of(card)
    await click(w, card, "going", bob)

    not_host = await w.run(bob, "ballerina", "party", "cancel", options={"id": party_id})
    assert not_host.ephemeral and "host or a moderator" in (not_host.content or "")
    reply = await w.run(w.member, "ballerina", "party", "cancel", options={"id": party_id})
    assert reply.ephemeral and "cancelled" in (reply.content or "")
    await until(lambda: w.fake.scheduled_events(w.guild)[0]["status"] == 4)  # cancelled
    assert card.embed["title"] == "Cancelled: Movie night"  # type: ignore[index]
    assert all(c.get("disabled") for c in card.components[0]["components"])

    await settle(w)
    notice = w.fake.channel_messages(w.channel)[-1]
    assert notice.embed["title"] == "Cancelled: Movie night"  # type: ignore[index]
    assert ping_ids(notice) == {bob.id}

    late = await refused(w, card, "going", w.member, check=False)
    assert "was cancelled" in late
    assert going_field(card)[0] == "Going (1)"
    again = await w.run(w.member, "ballerina", "party", "cancel", options={"id": party_id})
    assert again.ephemeral and "was cancelled" in (again.content or "")

    sent = len(w.fake.channel_messages(w.channel))
    await advance(w, timedelta(days=3))  # no reminder for a cancelled party
    assert len(w.fake.channel_messages(w.channel)) == sent
    assert w.fake.dm_messages(bob) == []


async def test_the_cancel_button_under_the_confirmation_cancels_the_party(after_release: World) -> None:
    w = after_release
    _, card = await create(w, when="tomorrow 8pm")
    party_id = party_id_of(card)
    confirmation = await w.fake.last_interaction.wait_for_original()  # type: ignore[union-attr]
    stranger = w.guild.add_member("bob")
    refused = await (await w.fake.click(confirmation, f"party:{party_id}:cancel", stranger)).response()
    assert refused.ephemeral and "host or a moderator" in (refused.content or "")
    done = await (await w.fake.click(confirmation, f"party:{party_id}:cancel", w.member)).response()
    assert done.type == 7 and "cancelled" in (done.content or "") and not done.components
    await until(lambda: card.embed["title"].startswith("Cancelled"))  # type: ignore[index]
    assert (await stored(w, party_id)).cancelled


# -- reminders --------------------------------------------------------------------------------------


async def test_reminders_ping_exactly_the_going_members_at_each_offset(after_release: World) -> None:
    w = after_release
    bob, carol, dave = members(w, "bob", "carol", "dave")
    start = datetime(2026, 11, 29, 7, 0, tzinfo=UTC)
    _, card = await create(w, when="2026-11-29 07:00", title="Movie night")
    await click(w, card, "going", w.member)
    await click(w, card, "going", bob)
    await click(w, card, "maybe", carol)
    await click(w, card, "no", dave)

    await advance(w, start - timedelta(days=1) - NOW - timedelta(seconds=1))
    assert len(w.fake.channel_messages(w.channel)) == 1  # just the card
    for step, title in [
        (timedelta(seconds=1), "Movie night starts in 1 day"),
        (timedelta(hours=23), "Movie night starts in 1 hour"),
        (timedelta(minutes=50), "Movie night starts in 10 minutes"),
        (timedelta(minutes=10), "Movie night is starting now!"),
    ]:
        await advance(w, step)
        reminder = w.fake.channel_messages(w.channel)[-1]
        assert reminder.embed["title"] == title  # type: ignore[index]
        assert reminder.request["allowed_mentions"]["parse"] == []
        assert reminder.request["allowed_mentions"]["roles"] == []
        assert ping_ids(reminder) == {w.member.id, bob.id}
        assert set(reminder.mentioned_user_ids) == {w.member.id, bob.id}
    assert len(w.fake.channel_messages(w.channel)) == 5


async def test_long_going_lists_are_split_across_messages(after_release: World) -> None:
    w = after_release
    fans = members(w, *(f"fan{i}" for i in range(60)))
    _, card = await create(w, when="2026-11-28 07:00", remind="1h")
    for fan in fans:
        await click(w, card, "going", fan)
    await advance(w, timedelta(hours=23))
    reminders = w.fake.channel_messages(w.channel)[1:]
    assert len(reminders) == 2
    pinged = [ping_ids(m) for m in reminders]
    assert all(len(ids) <= 40 for ids in pinged)
    assert set().union(*pinged) == {fan.id for fan in fans} and sum(map(len, pinged)) == 60
    assert all(m.request["allowed_mentions"]["parse"] == [] for m in reminders)
    assert all(set(m.mentioned_user_ids) == ids for m, ids in zip(reminders, pinged, strict=True))


async def test_members_who_chose_dm_get_their_reminders_by_dm_only(after_release: World) -> None:
    w = after_release
    bob = w.guild.add_member("bob")
    reply = await w.run(bob, "ballerina", "party", "reminders", options={"via": "dm"})
    assert reply.ephemeral and "DM" in (reply.content or "")
    _, card = await create(w, when="2026-11-28 07:00", remind="1h", title="Movie night")
    await click(w, card, "going", w.member)
    await click(w, card, "going", bob)
    await advance(w, timedelta(hours=23))
    (dm,) = w.fake.dm_messages(bob)
    assert dm.embed["title"] == "Movie night starts in 1 hour"  # type: ignore[index]
    assert dm.request["allowed_mentions"]["parse"] == []
    post = w.fake.channel_messages(w.channel)[-1]
    assert bob.id not in ping_ids(post) and w.member.id in ping_ids(post)


async def test_a_member_who_leaves_is_no_longer_pinged(after_release: World) -> None:
    w = after_release
    bob = w.guild.add_member("bob")
    _, card = await create(w, when="2026-11-28 07:00", remind="2h,1h")
    await click(w, card, "going", w.member)
    await click(w, card, "going", bob)
    await advance(w, timedelta(hours=22))
    assert ping_ids(w.fake.channel_messages(w.channel)[-1]) == {w.member.id, bob.id}
    await click(w, card, "leave", bob)
    await advance(w, timedelta(hours=1))
    reminder = w.fake.channel_messages(w.channel)[-1]
    assert "starts in 1 hour" in reminder.embed["title"]  # type: ignore[index]
    assert ping_ids(reminder) == {w.member.id}


async def test_reminders_survive_a_restart_between_creation_and_clicks(after_release: World) -> None:
    w = after_release
    _, card = await create(w, when="2026-11-28 07:00", remind="1h")
    await w.restart()
    await click(w, card, "going", w.member)
    await advance(w, timedelta(hours=23))
    assert ping_ids(w.fake.channel_messages(w.channel)[-1]) == {w.member.id}


# -- scheduled events -------------------------------------------------------------------------------


async def test_scheduled_event_is_created_and_kept_in_step(after_release: World) -> None:
    w = after_release
    start = datetime(2026, 11, 28, 20, 0, tzinfo=UTC)
    _, card = await create(w, when="tomorrow 8pm", title="Movie night")
    party_id = party_id_of(card)
    (event,) = w.fake.scheduled_events(w.guild)
    assert event["name"] == "Movie night" and event["entity_type"] == 3
    assert event["entity_metadata"] == {"location": "Netflix at home"}
    assert datetime.fromisoformat(event["scheduled_start_time"]) == start
    assert datetime.fromisoformat(event["scheduled_end_time"]) == start + timedelta(hours=2)
    assert (await stored(w, party_id)).scheduled_event_id == event["id"]

    lounge = w.guild.add_voice_channel("Lounge")
    await w.fake.flush_gateway()
    await w.run(w.member, "ballerina", "party", "edit", options={"id": party_id, "voice_channel": lounge})
    await until(lambda: w.fake.scheduled_events(w.guild)[0]["entity_type"] == 2)
    assert event["channel_id"] == str(lounge.id)
    await w.run(w.member, "ballerina", "party", "edit", options={"id": party_id, "clear_voice": True})
    await until(lambda: w.fake.scheduled_events(w.guild)[0]["entity_type"] == 3)
    assert event["channel_id"] is None

    await w.run(w.member, "ballerina", "party", "cancel", options={"id": party_id})
    await until(lambda: event["status"] == 4)  # cancelled


async def test_party_in_a_voice_channel_makes_a_voice_event(after_release: World) -> None:
    w = after_release
    lounge = w.guild.add_voice_channel("Lounge")
    await w.fake.flush_gateway()
    _, card = await create(w, when="tomorrow 8pm", voice_channel=lounge)
    (event,) = w.fake.scheduled_events(w.guild)
    assert event["entity_type"] == 2 and event["channel_id"] == str(lounge.id)
    assert f"<#{lounge.id}>" in card.embed["description"]  # type: ignore[index]


async def test_without_manage_events_parties_work_and_status_says_so(after_release: World) -> None:
    w = after_release
    status = await w.run(w.moderator, "ballerina-admin", "status")
    assert not any("Manage Events" in value for value in fields(status.embed).values())
    w.guild.set_bot_permissions(INVITED_PERMISSIONS & ~Perm.MANAGE_EVENTS)
    await w.fake.flush_gateway()
    _, card = await create(w, when="tomorrow 8pm")
    assert (await click(w, card, "going", w.member)).type == 7
    assert w.fake.scheduled_events(w.guild) == []
    assert not w.fake.find_requests("POST", r"/scheduled-events")
    status = await w.run(w.moderator, "ballerina-admin", "status")
    assert "Manage Events missing: parties won't appear in the server's Events" in fields(status.embed).values()


async def test_a_failing_scheduled_event_never_breaks_the_party(after_release: World) -> None:
    w = after_release
    w.fake.fail_requests("POST", r"/scheduled-events", status=500, code=0)
    reply = await w.run(w.member, "ballerina", "party", "create", options={"when": "tomorrow 8pm"})
    assert reply.embed["title"] == "Watch party scheduled"  # type: ignore[index]
    (card,) = await w.fake.wait_for_messages(w.channel)
    assert (await click(w, card, "going", w.member)).type == 7


# -- safety -----------------------------------------------------------------------------------------


async def test_party_ids_from_another_server_are_refused(after_release: World) -> None:
    w = after_release
    other = w.fake.add_guild("Other Club", bot_permissions=INVITED_PERMISSIONS)
    elsewhere = other.add_text_channel("general")
    host = other.add_member("olga")
    await w.fake.flush_gateway()
    _, foreign = await create(w, host, run_in=elsewhere, guild=other, when="tomorrow 8pm", title="Theirs")
    foreign_id = party_id_of(foreign)
    _, card = await create(w, when="sat 21:30", title="Ours")

    info = await w.run(w.moderator, "ballerina", "party", "info", options={"id": foreign_id})
    assert info.ephemeral and "can't find" in (info.content or "")
    for action, options in [("edit", {"title": "Hijacked"}), ("cancel", {})]:
        refused = await w.run(w.moderator, "ballerina", "party", action, options={"id": foreign_id, **options})
        assert refused.ephemeral and "can't find" in (refused.content or "")
    # A card whose buttons carry the other server's party id (a forged message)
    for row in card.components:
        for button in row["components"]:
            button["custom_id"] = button["custom_id"].replace(f":{party_id_of(card)}:", f":{foreign_id}:")
    before = copy.deepcopy(card.embeds)
    refused_click = await (await w.fake.click(card, f"party:{foreign_id}:going", w.member)).response()
    assert refused_click.ephemeral and "can't find" in (refused_click.content or "")
    assert card.embeds == before

    theirs = await stored(w, foreign_id, other)
    assert theirs.title == "Theirs" and not theirs.cancelled
    assert going_field(foreign)[0] == "Going (0)"
    assert w.fake.scheduled_events(other)[0]["status"] == 1


async def test_titles_full_of_mentions_and_markdown_never_ping(after_release: World) -> None:
    w = after_release
    role = w.guild.add_role("Fans", mentionable=True)
    bob = w.guild.add_member("bob")
    title = f"@everyone <@&{role.id}> <@{bob.id}> **bold**"
    reply, card = await create(w, when="2026-11-28 07:00", remind="1h", title=title)
    await click(w, card, "going", w.member)
    await advance(w, timedelta(hours=23))
    await w.run(w.member, "ballerina", "party", "edit", options={"id": party_id_of(card), "when": "2026-11-29 07:00"})
    await settle(w)
    sent = w.fake.channel_messages(w.channel)
    assert len(sent) == 3  # card, reminder, notice
    for message in sent:
        mentions = message.request["allowed_mentions"]
        assert mentions["parse"] == [] and mentions["roles"] == []
        assert bob.id not in mentions["users"] and not message.mention_everyone and not message.mention_role_ids
        assert set(message.mentioned_user_ids) <= {w.member.id}
    for edit in card.edits:
        assert edit["allowed_mentions"]["parse"] == [] and edit["allowed_mentions"]["users"] == []
    assert reply.allowed_mentions == {"parse": [], "users": [], "roles": []}
    listing = await w.run(w.member, "ballerina", "party", "list")
    assert listing.allowed_mentions == {"parse": [], "users": [], "roles": []}
    (event,) = w.fake.scheduled_events(w.guild)
    assert event["name"] == title  # shown as written where nothing can ping
