"""``/ballerina forget-me`` end to end: it asks first, then deletes the member's data in this server only."""

from __future__ import annotations

from tests.test_discord_parties import click, create, going_field, until
from tests.test_discord_reminders import configure
from tests.world import INVITED_PERMISSIONS, World


async def test_forget_me_asks_first_then_deletes_the_members_data_here_only(before_release: World) -> None:
    w = before_release
    assert w.core is not None
    store, party_store = w.core.store, w.core.parties.parties
    here, me = str(w.guild.id), str(w.member.id)
    role = await configure(w)
    bob = w.guild.add_member("bob")
    other = w.fake.add_guild("Other Club", bot_permissions=INVITED_PERMISSIONS)
    other.add_text_channel("general")
    other.add_member(w.member.user)
    await w.fake.flush_gateway()
    for who, guild in ((w.member, w.guild), (bob, w.guild), (w.member, other)):
        await w.run(who, "ballerina", "remind", "on", guild=guild, channel=guild.text_channels[0])
    await w.run(w.member, "ballerina", "timezone", options={"name": "Europe/Paris"})
    _, bobs = await create(w, bob, when="tomorrow 8pm", title="Bob's night")
    _, mine = await create(w, w.member, when="sat 21:30", title="My night")
    await click(w, bobs, "going", w.member)
    await click(w, bobs, "going", bob)
    await click(w, mine, "maybe", w.member)

    prompt = await w.run(w.member, "ballerina", "forget-me")
    assert prompt.ephemeral and prompt.embed is not None and prompt.embed["title"] == "Forget me?"
    assert await store.get_subscription(here, me) is not None  # nothing deleted before the click
    message = await w.fake.last_interaction.wait_for_original()  # type: ignore[union-attr]
    done = await (await w.fake.click(message, "member:forget", w.member)).response()

    assert done.type == 7 and done.embed is not None and done.embed["title"] == "Forgotten"
    assert "2 watch parties" in done.embed["description"]
    assert done.data["components"] == []  # the button is gone with the prompt
    assert await store.get_subscription(here, me) is None
    assert not w.guild.get_member(w.member.id).has_role(role)  # type: ignore[union-attr]
    assert (await party_store.user_settings(me)).timezone is None

    async def recounted() -> bool:
        return going_field(bobs) == ("Going (1)", f"<@{bob.id}>") and "Maybe (0)" in str(mine.embed)

    await until(recounted)
    assert (await w.core.parties.get(here, int(mine.custom_ids()[0].split(":")[1]))) is not None  # hosts keep parties
    # Bob, and the member's data in the other server, are untouched.
    assert await store.get_subscription(here, str(bob.id)) is not None
    assert w.guild.get_member(bob.id).has_role(role)  # type: ignore[union-attr]
    assert await store.get_subscription(str(other.id), me) is not None


async def test_forget_me_in_a_dm_explains_it_works_in_a_server(before_release: World) -> None:
    w = before_release
    interaction = await w.fake.slash(None, None, w.member.user, "ballerina", "forget-me")
    answer = await interaction.response()
    assert answer.ephemeral and "use this command in a server channel" in (answer.content or "")
    assert not answer.data.get("components")
