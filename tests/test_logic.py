"""The runner's pure functions: catalogue, progress, results, rendering."""

from __future__ import annotations

import pytest

from runner import progress, render, results
from runner.catalogue import CatalogueError, Kata, next_after, parse_kata, resolve, title_from_readme
from runner.explain import assertion_message

# The runner alone, whatever the database and SQLAlchemy: one leg of `nox -s tests` runs these (tests/conftest.py).
pytestmark = pytest.mark.one_leg

KATAS = [
    Kata(id="01-command-center", number="01", slug="command-center", title="One", hints=("a", "b", "c")),
    Kata(id="02-job-status", number="02", slug="job-status", title="Two"),
]


@pytest.mark.parametrize("name", ["01", "1", "kata-01", "kata01", "KATA-01", "command-center", "01-command-center"])
def test_resolve_accepts_what_people_type(name):
    assert resolve(KATAS, name).id == "01-command-center"


def test_resolve_names_the_choices():
    with pytest.raises(CatalogueError, match="choose one of 01, 02"):
        resolve(KATAS, "banana")


def test_title_comes_from_the_story():
    assert title_from_readme("# Kata 07: The lost job\n\ntext", "x") == "The lost job"
    assert title_from_readme("no heading", "fallback") == "fallback"


def test_parse_kata_rejects_a_bad_folder_name():
    with pytest.raises(CatalogueError):
        parse_kata("kata one", "", {})


def test_next_after():
    assert next_after(KATAS, KATAS[0]) == KATAS[1]
    assert next_after(KATAS, KATAS[1]) is None


def test_progress_records_checks_hints_and_the_first_pass():
    state = progress.empty()
    state = progress.record_check(state, "01-command-center", False, 100.0)
    state = progress.record_check(state, "01-command-center", True, 160.0)
    state = progress.record_check(state, "01-command-center", True, 999.0)
    item = progress.entry(state, "01-command-center")
    assert (item["checks"], item["first_check"], item["passed_at"]) == (3, 100.0, 160.0)
    state, shown = progress.record_hint(state, "01-command-center", total=2)
    state, shown = progress.record_hint(state, "01-command-center", total=2)
    state, shown = progress.record_hint(state, "01-command-center", total=2)
    assert shown == 2
    assert progress.first_unfinished(KATAS, state).id == "02-job-status"


def test_progress_validation():
    assert progress.is_valid(progress.empty())
    assert not progress.is_valid({"version": 99, "katas": {}})
    assert not progress.is_valid([])


def test_a_report_with_no_scenarios_is_never_a_pass():
    assert results.from_report({"finished": True, "tests": []}, 0).status == results.FAIL
    assert results.from_report(None, 1, "boom").status == results.BROKEN


def test_distinct_failures_group_one_cause():
    failure = {"kind": "lazy-load", "location": {"file": "a.py", "line": 3}, "attribute": {"model": "P", "key": "d"}}
    report = {
        "finished": True,
        "tests": [{"id": str(i), "name": str(i), "outcome": "failed", "failure": failure} for i in range(9)],
    }
    assert len(results.distinct_failures(results.from_report(report, 1))) == 1


def test_assertion_message_drops_pytests_rewrite():
    message = "The queue shows 'Unknown' for B-Boy Storm.\nassert 'Unknown' == 'Storm'\n  + where ..."
    assert assertion_message(AssertionError(message)) == "The queue shows 'Unknown' for B-Boy Storm."


def test_render_without_colour_has_no_escape_codes():
    result = results.CheckResult(status=results.FAIL, scenarios=(results.Scenario("it works", False),))
    text = render.render_check(KATAS[0], result, render.Style(color=False), "katas/01-command-center")
    assert "\x1b[" not in text and "✗ it works" in text
    coloured = render.render_check(KATAS[0], result, render.Style(color=True), "katas/01-command-center")
    assert "\x1b[31m" in coloured


def test_render_falls_back_to_ascii():
    style = render.Style(unicode=False)
    assert style.tick == "ok" and style.cross.strip() == "x"


class _Marked:
    """A collected test with these markers, as `left_to_other_legs` sees it."""

    def __init__(self, *marks: str):
        self.marks = marks

    def get_closest_marker(self, name: str):
        for mark in self.marks:
            if isinstance(mark, pytest.MarkDecorator) and mark.name == name:
                return mark.mark
        return name if name in self.marks else None


LEGS = ["sqlite-2.0", "postgresql-2.0", "sqlite-2.1", "postgresql-2.1"]


@pytest.mark.parametrize(
    ("marks", "runs_on"),
    [
        ((), LEGS),
        (("one_leg",), ["sqlite-2.0"]),
        (("per_database",), ["sqlite-2.0", "postgresql-2.0"]),
        ((pytest.mark.legs("sqlite-2.1", "postgresql-2.0"),), ["postgresql-2.0", "sqlite-2.1"]),
        (("postgres_only",), ["postgresql-2.0", "postgresql-2.1"]),
    ],
    ids=["unmarked", "one_leg", "per_database", "legs", "postgres_only"],
)
def test_each_test_runs_on_the_legs_its_marker_names(marks, runs_on):
    from tests.conftest import left_to_other_legs

    assert [leg for leg in LEGS if not left_to_other_legs(_Marked(*marks), leg)] == runs_on
    assert not left_to_other_legs(_Marked(*marks), "")  # run by hand: everything runs


def test_the_wrong_fixes_of_each_kata_cover_both_databases_and_both_lines():
    from tests.test_katas import PAIRS

    assert {leg.split("-")[0] for pair in PAIRS for leg in pair} == {"sqlite", "postgresql"}
    for pair in PAIRS:  # each pair alone covers both databases and both lines
        assert {leg.split("-")[0] for leg in pair} == {"sqlite", "postgresql"}
        assert {leg.split("-")[1] for leg in pair} == {"2.0", "2.1"}
