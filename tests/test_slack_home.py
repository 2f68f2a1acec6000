"""The App Home tab, end to end through the real slack-bolt and the fake Slack: the member's
release reminders with their buttons, their upcoming watch parties with their answers, the film."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.storage import Via
from tests.fakediscord._util import wait_until
from tests.fakeslack import SlackView
from tests.fakeslack.models import iter_elements
from tests.slack_world import SlackWorld, slack_world


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with slack_world(tmp_path) as world:
        yield world


def action_ids(view: SlackView) -> list[str]:
    return [e["action_id"] for e in iter_elements(view.blocks) if "action_id" in e]


async def opened(w: SlackWorld, *, updates: int = 0) -> SlackView:
    """Open the Home tab; the view once published (``updates``: how many times before)."""
    delivery = await w.driver.app_home_opened(w.team, w.member)
    assert delivery.acked
    return await published(w, updates)


async def published(w: SlackWorld, updates: int) -> SlackView:
    def home() -> SlackView | None:
        view = w.fake.home_view(w.member)
        return view if view is not None and len(view.updates) >= updates else None

    return await wait_until(home, 5, "the Home tab")


async def test_opening_the_home_tab_publishes_reminders_parties_and_the_film(w: SlackWorld) -> None:
    home = await opened(w)
    text = home.all_text()
    assert "Reminders are off for you" in text
    assert action_ids(home) == ["home:remind:dm", "home:remind:channel"]
    assert "Your watch parties" in text and "None coming up" in text
    film = w.core.facts.film
    assert f"{film.title} arrives on {film.release.platform}" in text and film.synopsis[:40] in text
    [call] = w.fake.find_calls("views.publish")
    assert call.args["user_id"] == w.member.id


async def test_the_home_lists_the_members_upcoming_parties_with_their_answers(w: SlackWorld) -> None:
    await w.run(w.member, "/ballerina", "party create when: 2023-09-25 20:00 title: Mine")
    await w.run(w.admin, "/ballerina", "party create when: 2023-09-26 20:00 title: Going one")
    await w.run(w.admin, "/ballerina", "party create when: 2023-09-27 20:00 title: Not answered")
    [*_, card] = await w.fake.wait_for_messages(w.general, count=3)
    second = w.fake.channel_messages(w.general)[1]
    going = next(a for a in second.action_ids() if a.endswith(":going"))
    assert (await w.driver.click(second, w.member, going)).acked
    await wait_until(lambda: "Going (1)" in second.all_text(), 5, "the card to count the click")
    text = (await opened(w)).all_text()
    assert "#1 Mine" in text and "(you host it)" in text and "You haven't answered" in text
    assert "#2 Going one" in text and "You're going" in text
    assert "Not answered" not in text
    assert "Ballerina" in card.all_text()  # the third card was posted, just not answered


async def test_the_home_buttons_turn_reminders_on_and_off_and_republish(w: SlackWorld) -> None:
    home = await opened(w)
    assert (await w.driver.click(home, w.member, "home:remind:dm")).acked
    home = await published(w, updates=1)
    subscription = await w.core.store.get_subscription(w.team.id, w.member.id)
    assert subscription is not None and subscription.via is Via.DM
    assert "Reminders are on for you" in home.all_text() and "by DM" in home.all_text()
    assert action_ids(home) == ["home:remind:channel", "home:remind:off"]
    await w.driver.click(home, w.member, "home:remind:off")
    home = await published(w, updates=2)
    assert await w.core.store.get_subscription(w.team.id, w.member.id) is None
    assert "Reminders are off for you" in home.all_text()


async def test_the_messages_tab_publishes_nothing(w: SlackWorld) -> None:
    delivery = await w.driver.app_home_opened(w.team, w.member, tab="messages")
    assert delivery.acked
    await asyncio.sleep(0.1)
    assert w.fake.find_calls("views.publish") == []
