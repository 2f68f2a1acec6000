"""The card's attendance after a click, computed without a second query."""

from __future__ import annotations

from bot.core.storage.parties import RSVP, Attendance

NAMED = 3


def attendance(going: int, maybe: int = 0) -> Attendance:
    # As read for a click: one more Going member than the card names.
    counts = {RSVP.GOING: going, RSVP.MAYBE: maybe, RSVP.NOT_GOING: 0}
    return Attendance(counts, tuple(f"u{i}" for i in range(min(going, NAMED + 1))))


def test_a_listed_member_who_leaves_is_replaced_by_the_next_one() -> None:
    after = attendance(going=5).answered("u1", RSVP.GOING, None, NAMED)
    assert after.first_going == ("u0", "u2", "u3")
    assert after.counts[RSVP.GOING] == 4


def test_a_new_going_member_comes_last_and_only_if_there_is_room() -> None:
    assert attendance(going=2, maybe=1).answered("m", RSVP.MAYBE, RSVP.GOING, NAMED).first_going == ("u0", "u1", "m")
    full = attendance(going=4).answered("late", None, RSVP.GOING, NAMED)
    assert full.first_going == ("u0", "u1", "u2") and full.counts[RSVP.GOING] == 5


def test_switching_from_going_to_maybe_moves_the_count() -> None:
    after = attendance(going=2).answered("u0", RSVP.GOING, RSVP.MAYBE, NAMED)
    assert after.counts == {RSVP.GOING: 1, RSVP.MAYBE: 1, RSVP.NOT_GOING: 0}
    assert after.first_going == ("u1",)


def test_the_same_answer_twice_changes_nothing() -> None:
    before = attendance(going=5)
    after = before.answered("u0", RSVP.GOING, RSVP.GOING, NAMED)
    assert after.first_going == ("u0", "u1", "u2") and after.counts == before.counts
