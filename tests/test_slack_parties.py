"""Watch parties on Slack, end to end through the real slack-bolt and the fake Slack: typed and
through the modal, the card's buttons, edits and cancellations, forget-me, restarts.

The bot runs on a manual clock set to Friday 2026-11-27 07:00 UTC. Bob (the member) lives in
Europe/Paris, Ada (a workspace admin, so a moderator) in Asia/Seoul.
"""

from __future__ import annotations

import asyncio
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.parties import Party, PartyNotices, PartyReminders
from bot.core.privacy import FORGET_CONFIRM_ID
from bot.core.replies import ZERO_WIDTH_SPACE
from bot.core.storage import OutboxRow, OutboxState, Platform, Target
from bot.core.storage._rows import reminder_from_row
from bot.core.storage.parties import NOTICE_KIND, PARTY_KIND
from bot.slack.listeners.parties import MODAL_ID
from bot.slack.members import CACHE_FOR
from bot.slack.render import message_kwargs
from tests.fakediscord._util import wait_until
from tests.fakeslack import Delivery, EphemeralMessage, SlackChannel, SlackMessage, SlackUser, SlackView
from tests.slack_world import SlackWorld, slack_world

NOW = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
TOMORROW_8PM_PARIS = datetime(2026, 11, 28, 19, 0, tzinfo=UTC)
HOSTILE_TITLES = [
    "<!channel>",
    "<!here|here>",
    "<@U0000000003>",
    "&lt;!channel&gt;",
    "@here",
    "*bold*",
    "<https://evil.example|click>",
    "<!subteam^S0001>",
]


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with slack_world(tmp_path, now=NOW) as world:
        yield world


# -- helpers ----------------------------------------------------------------------------------------


async def until(check: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Wait for what the bot does after it has acknowledged (card edits, the host's answer)."""
    await wait_until(check, timeout, "the bot to follow up")


def party_id_of(card: SlackMessage) -> int:
    return int(card.action_ids()[0].split(":")[1])


def going(card: SlackMessage | EphemeralMessage | SlackView) -> int:
    return going_in(card.all_text())


def going_in(text: str) -> int:
    found = re.search(r"Going \((\d+)\)", text)
    assert found is not None, text
    return int(found[1])


async def stored(w: SlackWorld, party_id: int) -> Party:
    party = await w.core.parties.get(w.team.id, party_id)
    assert party is not None
    return party


async def create(
    w: SlackWorld, text: str, host: SlackUser | None = None, card_in: SlackChannel | None = None
) -> tuple[EphemeralMessage, SlackMessage]:
    """Type ``/ballerina party create …``; the host's answer and the card, once recorded."""
    card_in = card_in or w.general
    before = len(w.fake.channel_messages(card_in))
    reply = await w.reply(host or w.member, "/ballerina", f"party create {text}")
    assert "Watch party scheduled" in reply.all_text(), reply.all_text()
    card = (await w.fake.wait_for_messages(card_in, count=before + 1))[-1]
    party = await stored(w, party_id_of(card))
    assert party.card_message_id == card.ts
    return reply, card


async def click(w: SlackWorld, target: SlackMessage | EphemeralMessage, choice: str, who: SlackUser) -> Delivery:
    action_id = next(a for a in target.action_ids() if a.endswith(f":{choice}"))
    delivery = await w.driver.click(target, who, action_id)
    assert delivery.acked and not delivery.timed_out, delivery
    return delivery


def pings(text: str) -> list[str]:
    """Every Slack control sequence in ``text`` that could ping someone or make a link
    (dates and channel links are harmless)."""
    return [m for m in re.findall(r"<[^>]*>?", text) if not m.startswith(("<!date^", "<#C"))]


def unescaped(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").replace(ZERO_WIDTH_SPACE, "")


def parsed_text(message: SlackMessage | EphemeralMessage | SlackView) -> str:
    """What Slack parses for mentions and links: a message's ``text`` and every mrkdwn text object
    (``plain_text`` objects, headers and button labels, are shown as written and never parsed)."""
    found = [] if isinstance(message, SlackView) else [message.text]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn":
                found.append(str(node["text"]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    return "\n".join(found)


async def refused_creation(w: SlackWorld, text: str, who: SlackUser | None = None) -> str:
    answer = await w.run(who or w.member, "/ballerina", f"party create {text}")
    assert await w.core.parties.parties.upcoming(w.team.id, NOW) == []
    assert w.fake.channel_messages(w.general) == []
    return answer


# -- creating ---------------------------------------------------------------------------------------


async def test_typed_party_posts_a_card_with_its_buttons_and_calendar_link(w: SlackWorld) -> None:
    reply, card = await create(w, "when: tomorrow 8pm title: Movie night")
    party = await stored(w, party_id_of(card))
    assert party.starts_at == TOMORROW_8PM_PARIS  # read in Bob's zone from his Slack profile
    assert party.timezone == "Europe/Paris"
    text = card.all_text()
    unix = int(TOMORROW_8PM_PARIS.timestamp())
    assert "Movie night" in text and f"<!date^{unix}^{{date_long_pretty}} {{time}}|" in text
    assert f"@{ZERO_WIDTH_SPACE}bob" in text  # the host, named without a ping
    assert "Going (0)" in text and "Maybe (0)" in text and "Not going (0)" in text
    assert card.action_ids() == [
        f"party:{party.id}:{choice}" for choice in ("going", "maybe", "no", "leave", "calendar")
    ]
    assert reply.action_ids() == [f"party:{party.id}:cancel"]
    link = next(e for b in card.blocks if b["type"] == "actions" for e in b["elements"] if "url" in e)
    assert link["text"]["text"] == "Add to calendar"
    assert link["url"] == w.core.parties.calendar_url(party)
    calendar = await w.driver.click(card, w.admin, f"party:{party.id}:calendar")
    assert calendar.acked  # a link button's action is acknowledged, and changes nothing
    assert card.edits == []


async def test_calendar_link_is_a_google_calendar_template_two_hours_long(w: SlackWorld) -> None:
    _, card = await create(w, 'when: tomorrow 8pm title: "Ok-ju & friends: night"')
    url = urllib.parse.urlsplit(w.core.parties.calendar_url(await stored(w, party_id_of(card))))
    assert (url.scheme, url.netloc, url.path) == ("https", "calendar.google.com", "/calendar/render")
    query = dict(urllib.parse.parse_qsl(url.query, strict_parsing=True))
    assert query["action"] == "TEMPLATE"
    assert query["text"] == "Ok-ju & friends: night"
    assert query["dates"] == "20261128T190000Z/20261128T210000Z"
    assert w.core.facts.film.title in query["details"]
    assert query["location"] == f"{w.core.facts.film.release.platform} at home"


async def test_typed_times_follow_the_option_then_the_members_own_zone_then_slack(w: SlackWorld) -> None:
    _, card = await create(w, "when: tomorrow 8pm timezone: Asia/Seoul")
    assert (await stored(w, party_id_of(card))).starts_at == datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    await w.run(w.member, "/ballerina", "timezone America/New_York")
    _, card = await create(w, "tomorrow 8pm")  # the bare value is the time
    assert (await stored(w, party_id_of(card))).starts_at == datetime(2026, 11, 29, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("when: 2026-11-26 20:00", "in the past"),
        ("when: 2028-01-01 20:00", "ahead"),
        ("when: tomorrow 8pm title: ​ ", "visible character"),
        (f"when: tomorrow 8pm title: {'x' * 101}", "up to 100 characters"),
        ("when: someday", "someday"),
        ("title: Movie night", "When"),
        ("when: tomorrow 8pm channel: films", "#channel"),
        ("when: tomorrow 8pm remind: 3 fortnights", "fortnights"),
    ],
)
async def test_refused_creations_are_friendly_and_change_nothing(w: SlackWorld, text: str, problem: str) -> None:
    assert problem.lower() in (await refused_creation(w, text)).lower()


async def test_a_channel_the_bot_cannot_post_in_is_refused_with_how_to_fix_it(w: SlackWorld) -> None:
    outside = w.team.add_channel("outside", members=[w.member], bot_member=False)
    elsewhere = w.fake.add_team("Elsewhere").add_channel("films")
    answer = await refused_creation(w, f"when: tomorrow 8pm channel: <#{outside.id}|outside>")
    assert "/invite @" in answer and "Nothing was changed" in answer
    answer = await refused_creation(w, f"when: tomorrow 8pm channel: <#{elsewhere.id}|films>")
    assert "can't see that channel" in answer
    films = w.team.add_channel("films", members=[w.member])
    _, card = await create(w, f"when: tomorrow 8pm channel: <#{films.id}|films>", card_in=films)
    assert (await stored(w, party_id_of(card))).channel_id == films.id


async def test_guests_use_the_film_commands_but_cannot_host(w: SlackWorld) -> None:
    for ultra in (False, True):
        guest = w.team.add_user(f"guest{len(w.team.users)}", is_restricted=True, is_ultra_restricted=ultra)
        w.general.add_member(guest)
        assert "Jeon Jong-seo" in await w.run(guest, "/ballerina", "cast")
        assert "can't host" in await refused_creation(w, "when: tomorrow 8pm", guest)
        assert "can't host" in await refused_creation(w, "", guest)  # no modal either
    assert w.fake.modals() == []
    _, card = await create(w, "when: tomorrow 8pm")
    await click(w, card, "going", guest)  # guests answer parties
    await until(lambda: going(card) == 1)


# -- the modal --------------------------------------------------------------------------------------


async def open_modal(w: SlackWorld, who: SlackUser | None = None) -> SlackView:
    delivery = await w.command(who or w.member, "/ballerina", "party create")
    modal = await w.fake.wait_for_modal(who or w.member)
    assert modal.trigger_id == delivery.trigger_id
    return modal


def modal_values(
    when: int | None, title: str | None, channel: str | None, remind: str = "default"
) -> dict[str, dict[str, object]]:
    """What the member put in the modal's inputs, by block and action id."""
    values: dict[str, dict[str, object]] = {"remind": {"remind": remind}}
    if when is not None:
        values["when"] = {"when": when}
    if title is not None:
        values["title"] = {"title": title}
    if channel is not None:
        values["channel"] = {"channel": channel}
    return values


async def test_party_create_with_nothing_typed_opens_the_modal(w: SlackWorld) -> None:
    modal = await open_modal(w)
    assert modal.callback_id == MODAL_ID
    elements = {block["block_id"]: block["element"] for block in modal.blocks}
    assert elements["when"]["type"] == "datetimepicker"
    assert elements["title"]["type"] == "plain_text_input"
    assert elements["channel"]["type"] == "conversations_select"
    assert elements["channel"]["initial_conversation"] == w.general.id
    assert elements["remind"]["type"] == "static_select"
    assert w.fake.ephemerals == []  # the modal is the answer


async def test_a_valid_submission_schedules_the_party_and_tells_the_host(w: SlackWorld) -> None:
    films = w.team.add_channel("films", members=[w.member])
    modal = await open_modal(w)
    unix = int(TOMORROW_8PM_PARIS.timestamp())
    delivery = await w.driver.submit_view(modal, modal_values(unix, "Movie night", films.id, "1h,0"))
    assert delivery.acked and delivery.payload is None and modal.closed
    [card] = await w.fake.wait_for_messages(films)
    party = await stored(w, party_id_of(card))
    assert (party.title, party.starts_at, party.channel_id) == ("Movie night", TOMORROW_8PM_PARIS, films.id)
    assert party.timezone == "Europe/Paris" and len(party.offsets) == 2
    [told] = await w.fake.wait_for_ephemeral(w.member)
    assert "Watch party scheduled" in told.all_text() and told.channel_id == films.id


@pytest.mark.parametrize(
    ("when", "title", "channel", "errors"),
    [
        (NOW.timestamp() - 3600, "Fine", "general", {"when": "in the past"}),
        (NOW.timestamp() + 400 * 86400, "Fine", "general", {"when": "ahead"}),
        (None, "Fine", "general", {"when": "Pick"}),
        (NOW.timestamp() + 86400, "", "general", {"title": "visible character"}),
        (NOW.timestamp() + 86400, "   ", "general", {"title": "visible character"}),
        (NOW.timestamp() + 86400, "x" * 101, "general", {"title": "up to 100"}),
        (NOW.timestamp() + 86400, "Fine", "outside", {"channel": "/invite"}),
        (NOW.timestamp() - 3600, "", "outside", {"when": "past", "title": "visible", "channel": "/invite"}),
    ],
)
async def test_refused_submissions_keep_the_modal_open_with_errors(
    w: SlackWorld, when: float | None, title: str, channel: str, errors: dict[str, str]
) -> None:
    outside = w.team.add_channel("outside", members=[w.member], bot_member=False)
    channel_id = {"general": w.general.id, "outside": outside.id}[channel]
    modal = await open_modal(w)
    delivery = await w.driver.submit_view(modal, modal_values(int(when) if when else None, title, channel_id))
    assert delivery.acked and delivery.payload is not None
    assert delivery.payload["response_action"] == "errors"
    shown = delivery.payload["errors"]
    assert set(shown) == set(errors)
    for block, words in errors.items():
        assert words.lower() in shown[block].lower()
    assert not modal.closed
    await asyncio.sleep(0.1)
    assert await w.core.parties.parties.upcoming(w.team.id, NOW) == []
    assert w.fake.channel_messages(w.general) == [] and w.fake.ephemerals == []


async def test_a_guests_forged_submission_is_refused_in_the_modal(w: SlackWorld) -> None:
    modal = await open_modal(w)
    w.member.is_restricted = True
    w.clock.advance(CACHE_FOR)  # the bot asks Slack again once its answer is this old
    delivery = await w.driver.submit_view(modal, modal_values(int(NOW.timestamp()) + 86400, None, w.general.id))
    assert delivery.payload is not None and "can't host" in delivery.payload["errors"]["when"]


# -- listing, info, settings ------------------------------------------------------------------------


async def test_list_info_reminders_and_bad_ids(w: SlackWorld) -> None:
    assert "No watch parties planned" in await w.run(w.member, "/ballerina", "party list")
    _, card = await create(w, "when: tomorrow 8pm title: Movie night")
    party_id = party_id_of(card)
    listing = await w.run(w.admin, "/ballerina", "party list")
    assert f"#{party_id} Movie night" in listing and "0 going" in listing
    info = await w.reply(w.admin, "/ballerina", f"party info #{party_id}")
    assert "Movie night" in info.all_text() and f"party:{party_id}:calendar" in info.action_ids()
    for text in ("party info", "party info abc", "party info 0", "party cancel 99999999999999999999"):
        assert "Which party?" in await w.run(w.admin, "/ballerina", text)
    assert "can't find" in await w.run(w.admin, "/ballerina", "party info 999")
    assert "by DM" in await w.run(w.member, "/ballerina", "party reminders dm")
    assert "channel" in await w.run(w.member, "/ballerina", "party reminders via: channel")
    assert "Choose" in await w.run(w.member, "/ballerina", "party reminders pigeon")
    assert "There is no 'party dance' command" in await w.run(w.member, "/ballerina", "party dance")


# -- the card's buttons -----------------------------------------------------------------------------


async def test_clicks_update_the_card_in_place(w: SlackWorld) -> None:
    _, card = await create(w, "when: tomorrow 8pm")
    await click(w, card, "going", w.admin)
    await until(lambda: going(card) == 1)
    assert f"@{ZERO_WIDTH_SPACE}ada" in card.all_text()
    await click(w, card, "going", w.admin)  # twice: nothing changes
    await click(w, card, "maybe", w.member)
    await until(lambda: "Maybe (1)" in card.all_text())
    await click(w, card, "leave", w.admin)
    await until(lambda: going(card) == 0)
    await click(w, card, "no", w.admin)
    await until(lambda: "Not going (1)" in card.all_text())
    assert w.fake.ephemerals[1:] == []  # the card is the answer: no message per click
    assert len(w.fake.channel_messages(w.general)) == 1


async def test_a_click_on_a_private_copy_updates_it_and_the_card(w: SlackWorld) -> None:
    _, card = await create(w, "when: tomorrow 8pm")
    copy = await w.reply(w.admin, "/ballerina", f"party info {party_id_of(card)}")
    await click(w, copy, "going", w.admin)
    await until(lambda: going(card) == 1 and going(copy) == 1)


async def test_fifty_simultaneous_clicks_on_a_slow_network_are_all_acked_in_time_and_counted(w: SlackWorld) -> None:
    fans = [w.team.add_user(f"fan{i}") for i in range(50)]
    _, card = await create(w, "when: tomorrow 8pm")
    w.fake.set_latency(0.1, "chat.update")
    action_id = f"party:{party_id_of(card)}:going"
    deliveries = await asyncio.gather(*(w.driver.click(card, fan, action_id) for fan in fans))
    assert all(d.acked and not d.timed_out and d.elapsed < 3 for d in deliveries)
    await until(lambda: going(card) == 50, timeout=10)
    await w.bot.cards.edits.settled(f"{w.general.id}/{card.ts}")
    assert going(card) == 50
    updates = w.fake.find_calls("chat.update")
    assert len(updates) < 10, len(updates)  # coalesced: one edit per round trip, not per click
    counts = [going_in(str(edit["blocks"])) for edit in card.edits] + [going(card)]
    assert counts == sorted(counts)  # never back to older counts


async def test_buttons_keep_working_after_a_restart(w: SlackWorld) -> None:
    _, card = await create(w, "when: tomorrow 8pm")
    await w.restart()
    await click(w, card, "going", w.member)
    await until(lambda: going(card) == 1)
    party = await stored(w, party_id_of(card))
    assert await w.core.parties.parties.is_going(party.id, w.member.id)


async def test_party_ids_from_another_workspace_are_refused(w: SlackWorld) -> None:
    other = w.fake.add_team("Elsewhere")
    host = other.add_user("olga")
    await w.core.store.ensure_guild(other.id)
    foreign = await w.core.parties.create(guild_id=other.id, host_id=host.id, channel_id="C0", when="tomorrow 8pm")
    assert foreign.party is not None
    foreign_id = foreign.party.id
    _, card = await create(w, "when: sat 21:30 title: Ours")
    for text in (f"party info {foreign_id}", f"party edit {foreign_id} title: Hijacked", f"party cancel {foreign_id}"):
        assert "can't find" in await w.run(w.admin, "/ballerina", text)
    for block in card.blocks:  # a forged card whose buttons carry the other workspace's party
        for element in block.get("elements", []):
            if "action_id" in element:
                element["action_id"] = element["action_id"].replace(f":{party_id_of(card)}:", f":{foreign_id}:")
    before = card.all_text()
    delivery = await click(w, card, "going", w.member)
    [answer] = await delivery.wait_for_responses()
    assert "can't find" in str(answer.body)
    assert card.all_text() == before and card.edits == []
    theirs = await w.core.parties.get(other.id, foreign_id)
    assert theirs is not None and theirs.title == "Ballerina watch party" and not theirs.cancelled
    assert not await w.core.parties.parties.is_going(foreign_id, w.member.id)


# -- edit and cancel --------------------------------------------------------------------------------


async def test_the_host_edits_and_the_card_follows(w: SlackWorld) -> None:
    _, card = await create(w, "when: tomorrow 8pm title: Movie night")
    party_id = party_id_of(card)
    answer = await w.run(w.member, "/ballerina", f"party edit {party_id} when: tomorrow 9pm title: Late show")
    assert "Late show" in answer and "everyone going has been told" in answer
    assert "Late show" in card.all_text() and str(int(TOMORROW_8PM_PARIS.timestamp()) + 3600) in card.all_text()
    assert "Tell me what to change" in await w.run(w.member, "/ballerina", f"party edit {party_id}")


async def test_someone_neither_host_nor_moderator_cannot_edit_or_cancel(w: SlackWorld) -> None:
    carol = w.team.add_user("carol")
    _, card = await create(w, "when: tomorrow 8pm title: Movie night")
    party_id = party_id_of(card)
    for text in (f"party edit {party_id} title: Hijacked", f"party cancel {party_id}"):
        assert "Only the host or a moderator" in await w.run(carol, "/ballerina", text)
    party = await stored(w, party_id)
    assert party.title == "Movie night" and not party.cancelled and card.edits == []
    await w.run(w.admin, "/ballerina-admin", f"moderators add <@{carol.id}>")
    assert "Retitled" in await w.run(carol, "/ballerina", f"party edit {party_id} title: Retitled")


async def test_a_moderator_cancels_and_the_card_loses_its_buttons(w: SlackWorld) -> None:
    _, card = await create(w, "when: tomorrow 8pm title: Movie night")
    party_id = party_id_of(card)
    answer = await w.run(w.admin, "/ballerina", f"party cancel {party_id}")
    assert "is cancelled" in answer
    assert "Cancelled: Movie night" in card.all_text() and card.action_ids() == []
    assert "was cancelled" in await w.run(w.member, "/ballerina", f"party edit {party_id} title: Back")


async def test_the_cancel_button_under_the_confirmation_cancels_the_party(w: SlackWorld) -> None:
    reply, card = await create(w, "when: tomorrow 8pm title: Movie night")
    party_id = party_id_of(card)
    delivery = await w.driver.click(reply, w.member, f"party:{party_id}:cancel")
    assert delivery.acked
    await until(lambda: "is cancelled" in reply.all_text())
    assert "Cancelled: Movie night" in card.all_text()
    assert (await stored(w, party_id)).cancelled


# -- forget-me --------------------------------------------------------------------------------------


async def test_forget_me_asks_first_then_forgets_and_the_cards_recount(w: SlackWorld) -> None:
    _, card = await create(w, "when: tomorrow 8pm", host=w.admin)
    await click(w, card, "going", w.member)
    await until(lambda: going(card) == 1)
    await w.run(w.member, "/ballerina", "remind on")
    await w.run(w.member, "/ballerina", "timezone Asia/Seoul")
    prompt = await w.reply(w.member, "/ballerina", "forget-me")
    assert prompt.action_ids() == [FORGET_CONFIRM_ID]
    assert "ping role" not in prompt.all_text()  # Slack has none
    assert await w.core.parties.parties.is_going(party_id_of(card), w.member.id)  # nothing before the click
    delivery = await w.driver.click(prompt, w.member, FORGET_CONFIRM_ID)
    assert delivery.acked
    await until(lambda: going(card) == 0 and "Forgotten" in prompt.all_text())
    assert not await w.core.parties.parties.is_going(party_id_of(card), w.member.id)
    assert await w.core.store.get_subscription(w.team.id, w.member.id) is None
    assert (await w.core.parties.parties.user_settings(w.member.id)).timezone is None


# -- hostile titles ---------------------------------------------------------------------------------


@pytest.mark.parametrize("title", HOSTILE_TITLES)
async def test_hostile_titles_never_ping_anyone_wherever_they_appear(w: SlackWorld, title: str) -> None:
    """Typed as Slack sends it (escaped), and through the modal (raw): card, list, info, the host's
    confirmation, the App Home; the title still reads as it was written."""
    typed = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    reply, card = await create(w, f'when: tomorrow 8pm title: "{typed}"')
    await click(w, card, "going", w.member)
    await until(lambda: going(card) == 1)
    modal = await open_modal(w, w.admin)
    await w.driver.submit_view(modal, modal_values(int(NOW.timestamp()) + 7200, title, w.general.id))
    [told] = await w.fake.wait_for_ephemeral(w.admin)
    listing = await w.reply(w.member, "/ballerina", "party list")
    info = await w.reply(w.member, "/ballerina", f"party info {party_id_of(card)}")
    await w.driver.app_home_opened(w.team, w.member)
    home = await w.fake.wait_for_home(w.member)
    await until(lambda: "Your watch parties" in home.all_text())
    seen: list[SlackMessage | EphemeralMessage | SlackView] = [reply, card, told, listing, info, home]
    seen += w.fake.channel_messages(w.general)
    for message in seen:
        assert pings(parsed_text(message)) == [], message
        assert title in unescaped(message.all_text()), message  # still reads as written
    for sent in w.fake.find_calls():
        assert "link_names" not in sent.args and sent.args.get("parse") != "full"


async def test_when_slack_will_not_describe_the_channel_the_member_hears_why(w: SlackWorld) -> None:
    """e.g. a workspace that installed the app before it asked for channels:read."""
    w.fake.fail_calls("conversations.info", "missing_scope")
    answer = await refused_creation(w, "when: tomorrow 8pm")
    assert "missing_scope" in answer and "Nothing was changed" in answer


# -- what the delivery engine will send (its Slack transport is another step) -----------------------


async def rendered(w: SlackWorld, kind: str, target: Target, target_id: str) -> list[str]:
    """The Slack text (``text`` and mrkdwn) of the messages one outbox row of ``kind`` would send."""
    async with w.core.db.read() as session:
        row = await session.fetchone("SELECT * FROM reminders WHERE kind = ? ORDER BY id DESC LIMIT 1", (kind,))
    assert row is not None
    reminder = reminder_from_row(row)
    outbox = OutboxRow(
        id=1, guild_id=w.team.id, reminder_id=reminder.id, target=target, target_id=target_id, nonce="n",
        state=OutboxState.SENDING, attempts=0, not_before=NOW, late=False, error_kind=None, error_detail=None,
        message_id=None, updated_at=NOW, platform=Platform.SLACK,
    )  # fmt: skip
    event = PartyReminders(w.core.parties) if kind == PARTY_KIND else PartyNotices(w.core.parties)
    texts = []
    for reply in await event.render(reminder, outbox):
        message = message_kwargs(reply, await w.bot.members.reader_in(ZoneInfo("UTC"), reply))
        texts.append(parsed_text(EphemeralMessage("T", "C", "U", "1", message["text"], message["blocks"])))
    return texts


@pytest.mark.parametrize("title", HOSTILE_TITLES[:4])
async def test_party_reminders_and_notices_render_for_slack_pinging_only_those_going(w: SlackWorld, title: str) -> None:
    carol = w.team.add_user("carol")
    typed = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    _, card = await create(w, f'when: tomorrow 8pm title: "{typed}"', host=w.admin)
    for who in (w.member, carol):
        await click(w, card, "going", who)
    await click(w, card, "maybe", w.team.add_user("dan"))
    await until(lambda: going(card) == 2)
    [post] = await rendered(w, PARTY_KIND, Target.CHANNEL, w.general.id)
    assert set(re.findall(r"<@(\w+)>", post)) == {w.member.id, carol.id}
    assert [p for p in pings(post) if not p.startswith("<@")] == []
    await w.run(w.admin, "/ballerina", f"party edit {party_id_of(card)} when: tomorrow 9pm")
    [notice] = await rendered(w, NOTICE_KIND, Target.CHANNEL, w.general.id)
    assert "instead of" in notice and set(re.findall(r"<@(\w+)>", notice)) == {w.member.id, carol.id}
    assert [p for p in pings(notice) if not p.startswith("<@")] == []
    [dm] = await rendered(w, NOTICE_KIND, Target.DM, carol.id)
    assert pings(dm) == []


async def test_socket_mode_serves_the_modal_the_card_and_its_buttons(tmp_path: Path) -> None:
    async with slack_world(tmp_path, now=NOW, socket_mode=True) as w:
        modal = await open_modal(w)
        delivery = await w.driver.submit_view(
            modal, modal_values(int(TOMORROW_8PM_PARIS.timestamp()), None, w.general.id)
        )
        assert delivery.acked and modal.closed
        [card] = await w.fake.wait_for_messages(w.general)
        assert "Ballerina watch party" in card.all_text()
        await click(w, card, "going", w.admin)
        await until(lambda: going(card) == 1)


async def test_a_card_edit_slack_rate_limits_is_made_again_after_the_wait_it_asked_for(w: SlackWorld) -> None:
    _, card = await create(w, "when: tomorrow 8pm")
    storm = w.fake.inject_rate_limit("chat.update", times=2, retry_after=1)
    delivery = await w.driver.click(card, w.member, f"party:{party_id_of(card)}:going")
    assert delivery.acked and not delivery.timed_out
    await until(lambda: going(card) == 1, timeout=10)
    assert storm.remaining == 0
    assert len(w.fake.find_calls("chat.update")) == 3  # two refused, then the edit
