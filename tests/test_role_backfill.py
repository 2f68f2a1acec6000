"""The ping role reaches the members who opted in before a moderator set it."""

from __future__ import annotations

from datetime import timedelta

from tests.fakediscord import FakeMember, FakeRole, InteractionCallback
from tests.world import World

BACKFILL = "Giving the ping role to earlier opt-ins"
DONE = "done: the members who opted in before have it."


async def members_opted_in_without_a_role(w: World, count: int) -> list[FakeMember]:
    """A reminder channel, no ping role yet, and ``count`` members who opted in there (in id order)."""
    await w.run(w.moderator, "ballerina-admin", "channel", options={"channel": w.channel})
    members = [w.guild.add_member(f"fan-{n}") for n in range(count)]
    for member in members:
        await w.run(member, "ballerina", "remind", "on")
    return sorted(members, key=lambda member: str(member.id))


async def set_role(w: World, role: FakeRole) -> InteractionCallback:
    return await w.run(w.moderator, "ballerina-admin", "role", options={"role": role})


async def backfill_status(w: World) -> str | None:
    reply = await w.run(w.moderator, "ballerina-admin", "status")
    assert reply.embed is not None
    return {field["name"]: field["value"] for field in reply.embed["fields"]}.get(BACKFILL)


async def backfills_idle(w: World) -> None:
    assert w.core is not None
    await w.core.reminders.role_backfills.wait_idle()


def has_role(w: World, member: FakeMember, role: FakeRole) -> bool:
    return w.guild.get_member(member.id).has_role(role)  # type: ignore[union-attr]


def role_path(member: FakeMember, role: FakeRole) -> str:
    return rf"/members/{member.id}/roles/{role.id}$"


async def set_role_held_back_at(w: World, role: FakeRole, member: FakeMember, retry_after: float) -> None:
    """Set the role; Discord answers the grant to ``member`` with a 429: returns once it did."""
    w.fake.inject_rate_limit("PUT", role_path(member, role), retry_after=retry_after, is_global=False)
    await set_role(w, role)
    await w.fake.wait_for_request("PUT", role_path(member, role))


async def test_members_who_opted_in_before_the_role_get_it_and_are_pinged(before_release: World) -> None:
    w = before_release
    members = await members_opted_in_without_a_role(w, 3)
    role = w.guild.add_role("Ballerina fans", mentionable=True)
    reply = await set_role(w, role)
    assert "I'm giving it to the 3 members who opted in before" in (reply.content or "")
    await backfills_idle(w)
    assert all(has_role(w, member, role) for member in members)
    assert await backfill_status(w) == DONE

    await w.advance(timedelta(days=9))  # the 7-day reminder
    post = w.fake.channel_messages(w.channel)[0]
    assert post.content == f"<@&{role.id}>"
    assert post.mention_role_ids == [role.id]


async def test_progress_shows_in_status_and_a_restart_continues_where_it_stopped(before_release: World) -> None:
    w = before_release
    first, second, third = await members_opted_in_without_a_role(w, 3)
    role = w.guild.add_role("Ballerina fans", mentionable=True)
    # Discord holds the second grant back for a minute: the bot restarts in the meantime.
    await set_role_held_back_at(w, role, second, retry_after=60)
    assert await backfill_status(w) == "1 of 3 so far."

    await w.restart()
    await backfills_idle(w)
    assert all(has_role(w, member, role) for member in (first, second, third))
    given = [change.user_id for change in w.fake.role_changes if change.action == "add"]
    assert sorted(given) == sorted([first.id, second.id, third.id])  # the first one only once
    assert await backfill_status(w) == DONE


async def test_a_refusal_stops_it_with_the_reason_and_setting_the_role_again_finishes(before_release: World) -> None:
    w = before_release
    first, second, third = await members_opted_in_without_a_role(w, 3)
    role = w.guild.add_role("Ballerina fans", mentionable=True)
    w.fake.fail_requests("PUT", role_path(second, role), status=403, code=50013)
    await set_role(w, role)
    await backfills_idle(w)
    status = await backfill_status(w)
    assert status is not None and status.startswith("stopped at 1 of 3: Discord refused")
    assert "set the role again to continue" in status
    assert [has_role(w, member, role) for member in (first, second, third)] == [True, False, False]

    w.fake.clear_failures()
    await set_role(w, role)
    await backfills_idle(w)
    assert all(has_role(w, member, role) for member in (first, second, third))
    assert await backfill_status(w) == DONE


async def test_a_member_who_opts_out_during_the_back_fill_does_not_get_the_role(before_release: World) -> None:
    w = before_release
    first, leaving, third = await members_opted_in_without_a_role(w, 3)
    role = w.guild.add_role("Ballerina fans", mentionable=True)
    await set_role_held_back_at(w, role, leaving, retry_after=0.5)  # the grant is under way
    reply = await w.run(leaving, "ballerina", "remind", "off")
    assert reply.embed is not None and reply.embed["title"] == "Reminders off"
    await backfills_idle(w)
    assert not has_role(w, leaving, role)
    assert has_role(w, first, role) and has_role(w, third, role)
    assert await backfill_status(w) == DONE


async def test_a_new_role_is_given_and_the_previous_one_is_left_to_the_moderators(before_release: World) -> None:
    w = before_release
    (member,) = await members_opted_in_without_a_role(w, 1)
    old = w.guild.add_role("Film fans", mentionable=True)
    await set_role(w, old)
    await backfills_idle(w)
    new = w.guild.add_role("Ballerina fans", mentionable=True)
    reply = await set_role(w, new)
    assert "Members keep the previous ping role" in (reply.content or "")
    await backfills_idle(w)
    assert has_role(w, member, new) and has_role(w, member, old)


async def test_clearing_the_role_ends_the_back_fill(before_release: World) -> None:
    w = before_release
    await members_opted_in_without_a_role(w, 1)
    role = w.guild.add_role("Ballerina fans", mentionable=True)
    await set_role(w, role)
    await w.run(w.moderator, "ballerina-admin", "role")
    await backfills_idle(w)
    assert await backfill_status(w) is None


async def test_a_member_who_left_before_the_back_fill_reached_them_is_forgotten_there(before_release: World) -> None:
    w = before_release
    stays, leaves = await members_opted_in_without_a_role(w, 2)
    w.guild.remove_member(leaves)
    role = w.guild.add_role("Ballerina fans", mentionable=True)
    await set_role(w, role)
    await backfills_idle(w)

    assert has_role(w, stays, role)
    assert w.core is not None
    guild_id = str(w.guild.id)
    assert await w.core.store.get_subscription(guild_id, str(stays.id)) is not None
    assert await w.core.store.get_subscription(guild_id, str(leaves.id)) is None
    assert await backfill_status(w) == DONE
