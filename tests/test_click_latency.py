"""RSVP clicks over a slow network: every click is answered before Discord's 3-second deadline.

The fake delays the routes a click uses (the interaction callback, the card edits) by 100 ms, as a
real network round trip would, and refuses callbacks that arrive after ``callback_deadline``.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

from bot.core.parties import RSVP
from tests.fakediscord import FakeDiscord, FakeInteraction, FakeMessage
from tests.test_discord_parties import cards_settled, create, fields, going_field, members, party_id_of
from tests.world import World

ROUND_TRIP = 0.1
CARD_ROUTES = (
    "POST /interactions/{interaction_id}/{token}/callback",
    "PATCH /channels/{channel_id}/messages/{message_id}",
    "PATCH /webhooks/{webhook_id}/{token}/messages/{message_id}",
    "POST /webhooks/{webhook_id}/{token}",
)


def slow_network(fake: FakeDiscord) -> None:
    for route in CARD_ROUTES:
        fake.set_route_latency(route, ROUND_TRIP)


async def click_all(fake: FakeDiscord, clicks: list[tuple[FakeMessage, str, Any]]) -> list[FakeInteraction]:
    """Dispatch every click before the bot has answered any, then wait for every answer."""
    interactions = list(await asyncio.gather(*(fake.click(card, custom_id, who) for card, custom_id, who in clicks)))
    await asyncio.wait([asyncio.ensure_future(i.response(timeout=6)) for i in interactions])
    return interactions


def late(interactions: list[FakeInteraction]) -> list[FakeInteraction]:
    """Clicks Discord would show as failed: no callback accepted within the deadline."""
    return [i for i in interactions if not i.callbacks or i.rejected]


def going_counts(card: FakeMessage) -> list[int]:
    """The Going count of every edit the card received, in the order the fake applied them."""
    counts = []
    for body in card.edits:
        for field in (body.get("embeds") or [{}])[0].get("fields", []):
            if found := re.fullmatch(r"Going \((\d+)\)", field["name"]):
                counts.append(int(found[1]))
    return counts


async def test_two_hundred_simultaneous_clicks_on_a_slow_network_are_all_answered_in_time(
    after_release: World,
) -> None:
    w = after_release
    fans = members(w, *(f"fan{i}" for i in range(200)))
    _, card = await create(w, when="tomorrow 8pm")
    slow_network(w.fake)
    going = f"party:{party_id_of(card)}:going"

    interactions = await click_all(w.fake, [(card, going, fan) for fan in fans])

    assert not late(interactions), f"{len(late(interactions))} of 200 clicks missed the 3-second deadline"
    # The card edited in place (7), or acknowledged while another edit of it was under way (6).
    assert {i.callbacks[0].type for i in interactions} <= {6, 7}
    await cards_settled(card)
    assert going_field(card)[0] == "Going (200)"
    counts = going_counts(card)
    assert counts == sorted(counts) and counts[-1] == 200  # never an older count over a newer one
    assert len(counts) < 200  # edits were merged
    assert w.core is not None
    stored = await w.core.parties.parties.attendance(party_id_of(card), 0)
    assert stored.counts[RSVP.GOING] == 200


async def test_going_then_not_going_in_quick_succession_leaves_not_going(after_release: World) -> None:
    w = after_release
    bob = w.guild.add_member("bob")
    _, card = await create(w, when="tomorrow 8pm")
    await (await w.fake.click(card, f"party:{party_id_of(card)}:going", bob)).response()
    slow_network(w.fake)
    party = party_id_of(card)

    interactions = await click_all(
        w.fake, [(card, f"party:{party}:going", w.member), (card, f"party:{party}:no", w.member)]
    )

    assert not late(interactions)
    await cards_settled(card)
    assert going_field(card) == ("Going (1)", f"<@{bob.id}>") and "Not going (1)" in fields(card.embed)
    assert w.core is not None
    stored = await w.core.parties.parties.attendance(party, 0)
    assert stored.counts == {RSVP.GOING: 1, RSVP.MAYBE: 0, RSVP.NOT_GOING: 1}
