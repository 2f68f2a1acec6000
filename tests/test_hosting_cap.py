"""The cap on upcoming parties one member may host holds under concurrent creates."""

from __future__ import annotations

import asyncio

from bot.core.parties import Party
from bot.core.services import Core

CAP = 3


async def test_concurrent_creates_by_one_member_stop_exactly_at_the_cap(offline_core: Core) -> None:
    await offline_core.parties.configure(guild_id="g", cap=CAP)
    outcomes = await asyncio.gather(
        *(
            offline_core.parties.create(guild_id="g", host_id="ana", channel_id="c", when=f"in {hours} hours")
            for hours in range(1, 11)
        )
    )
    created = [outcome for outcome in outcomes if outcome.party is not None]
    refused = [outcome.reply.content for outcome in outcomes if outcome.party is None]
    assert len(created) == CAP
    assert refused == [
        f"You already host {CAP} upcoming watch parties here, this server's limit. "
        "Cancel one (/ballerina party cancel) or wait until one has happened."
    ] * (10 - CAP)
    assert len(await offline_core.parties.parties.upcoming("g", offline_core.clock.now())) == CAP


async def test_the_cap_is_per_member_and_frees_a_place_when_a_party_is_cancelled(offline_core: Core) -> None:
    parties = offline_core.parties

    async def hosts(host_id: str, when: str) -> Party | None:
        return (await parties.create(guild_id="g", host_id=host_id, channel_id="c", when=when)).party

    await parties.configure(guild_id="g", cap=1)
    first = await hosts("ana", "in 1 hour")
    assert first is not None
    assert await hosts("ana", "in 2 hours") is None
    assert await hosts("ben", "in 2 hours") is not None
    await parties.cancel(guild_id="g", party_id=first.id, user_id="ana", is_moderator=False)
    assert await hosts("ana", "in 3 hours") is not None
