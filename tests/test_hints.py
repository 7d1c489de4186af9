"""Which hints `hint` gives: the ladder that fits the last check, ending with its literal fix (runner/hints.py)."""

from __future__ import annotations

import re

import pytest

from runner import hints
from runner.catalogue import CatalogueError, Kata, parse_kata

# The runner alone, whatever the database and SQLAlchemy: one leg of `nox -s tests` runs these (tests/conftest.py).
pytestmark = pytest.mark.one_leg

README = "# Kata 01: The shelf\n"
CRASH = {
    "kind": "lazy-load",
    "cause": "relationship-not-loaded",
    "error": "MissingGreenlet",
    "exception": "MissingGreenlet: greenlet_spawn has not been called",
    "attribute": {"model": "Shelf", "key": "books", "kind": "relationship", "instance": "Shelf(id=1)"},
    "fix": {"text": "Load Shelf.books in the query:", "code": ".options(selectinload(Shelf.books))", "at": None},
}
WRONG_VALUE = {"kind": "assertion", "message": "The shelf should list A and B."}
CAUGHT = {"kind": "assertion", "message": "it reads Unknown", "behind": CRASH, "hidden": []}


def kata(**meta) -> Kata:
    return parse_kata("01-shelf", README, {"hints": ["nudge", "concept", "nearly"], **meta})


def last(*entries) -> dict:
    return {"passed": False, "failures": [{"checks": [name], "failure": failure} for name, failure in entries]}


def test_no_check_yet_gives_the_katas_ladder_without_a_fix():
    ladder = hints.choose(kata(), None)
    assert ladder.key == "start" and hints.tiers(ladder) == ["nudge", "concept", "nearly"]


def test_a_crash_gets_the_katas_ladder_and_its_fix_last():
    ladder = hints.choose(kata(), last(("The shelf lists", CRASH)))
    shown = hints.tiers(ladder, "katas/01-shelf")
    assert shown[:3] == ["nudge", "concept", "nearly"] and len(shown) == 4
    assert "The fix for the failure your last check showed (in: The shelf lists)" in shown[3]
    assert ".options(selectinload(Shelf.books))" in shown[3]


def test_past_the_crash_the_hints_are_about_what_fails_now():
    ladder = hints.choose(kata(), last(("The shelf lists", WRONG_VALUE)), ("Load what you read.",))
    assert ladder.key == "check"
    shown = hints.tiers(ladder)
    assert "The crash is behind you" in shown[0] and "The shelf should list A and B." in shown[0]
    assert shown[1] == "The rule behind this kata: Load what you read." and "nudge" not in shown


def test_keyed_ladders_win_by_cause_by_check_and_by_a_caught_failure():
    keyed = kata(
        hints_for=[
            {"caught": True, "hints": ["do not catch it"]},
            {"checks": "costs as much", "hints": ["a query per row"]},  # one string: a list of one
            {"causes": ["not-in-session"], "hints": ["whose session?"]},
        ]
    )
    assert hints.choose(keyed, last(("shows names", CAUGHT))).key == "for-0"
    caught = hints.tiers(hints.choose(keyed, last(("shows names", CAUGHT))))
    assert caught[0] == "do not catch it" and "Not the except:" in caught[-1]
    assert hints.choose(keyed, last(("costs as much for 30 as for 3", WRONG_VALUE))).key == "for-1"
    assert hints.choose(keyed, last(("x", WRONG_VALUE))).key == "check"  # "c", "o", ... are no keys
    other = dict(CRASH, kind="error", cause="not-in-session")
    assert hints.choose(keyed, last(("x", other))).key == "for-2"
    # a check that still crashes is about the crash, whatever its name says
    assert hints.choose(keyed, last(("costs as much for 30 as for 3", CRASH))).key == "start"


@pytest.mark.parametrize(
    "entry, complaint",
    [
        ({"checks": ["x"]}, "needs hints"),
        ({"hints": ["h"]}, "needs causes, checks or caught"),
        ({"hints": ["h"], "check": ["x"]}, "unknown keys ['check']"),
    ],
)
def test_a_keyed_ladder_that_says_nothing_is_an_error(entry, complaint):
    with pytest.raises(CatalogueError, match=re.escape(complaint)):
        kata(hints_for=[entry])
