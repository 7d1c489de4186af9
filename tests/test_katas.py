"""Every kata, proven: the start fails for the documented reason, the solution passes,
wrong fixes are rejected and other correct fixes accepted (variants.toml)."""

from __future__ import annotations

import pytest

from runner import execute, hints, lastcheck, render, results
from runner.processes import Child
from tests import forkserver
from tests.katas import KATAS, WS, all_variants, apply_edits, check, copy_kata, lines_sending, per_row_shown, summary

# The kinds a start may fail with for its [expect]ed reason: implicit IO, or one session in concurrent tasks.
IO_KINDS = {"lazy-load", "unloaded-column", "io-outside-greenlet", "detached", "concurrent-session"}


def expected_attributes(kata) -> set[str]:
    attribute = kata.expect.get("attribute", [])
    return {attribute} if isinstance(attribute, str) else set(attribute)


@pytest.mark.parametrize("kata", KATAS, ids=[k.session for k in KATAS])
def test_start_fails_for_the_documented_reason(kata, tmp_path):
    folder = copy_kata(kata, tmp_path / kata.id)
    seen = []  # [expect] runs = N: a failure that hangs on timing (kata 08) fails alike on each of N runs
    for _ in range(kata.expect.get("runs", 1)):
        result = check(kata, folder)
        assert result.status == results.FAIL, summary(result)
        io_failures = [f for f in result.failures if f.get("kind") in IO_KINDS]
        unexpected = [f for f in result.failures if f.get("kind") not in IO_KINDS | {"assertion"}]
        assert not unexpected, "the start fails for another reason than the documented one:\n" + summary(result)
        assert io_failures, "the start never hits the documented error:\n" + summary(result)
        assert {f.get("error") for f in io_failures} == {kata.expect["error"]}, summary(result)
        touched = {f"{f['attribute']['model']}.{f['attribute']['key']}" for f in io_failures if f.get("attribute")}
        wanted = expected_attributes(kata)
        if wanted:
            assert touched and touched <= wanted, f"touched {touched}, documented {wanted}\n" + summary(result)
        seen.append(verdict(result))
        assert seen[-1] == seen[0], f"run {len(seen)} differs from run 1:\n" + summary(result)
        # A failure the kata names ([[failures]]) is not counted fixed before the learner fixed it.
        assert results.fixed_failures(kata.failures, result) == [], summary(result)


@pytest.mark.parametrize("kata", KATAS, ids=[k.session for k in KATAS])
def test_solution_passes(kata, tmp_path):
    folder = copy_kata(kata, tmp_path / kata.id, base="solution")
    result = check(kata, folder)
    assert result.passed, summary(result)
    # Every failure the kata names ([[failures]]) is counted fixed: each names checks that ran.
    assert results.fixed_failures(kata.failures, result) == [f["name"] for f in kata.failures]
    # "How your fix works" says nothing false: the reference fix queries nothing once per row.
    assert not per_row_shown(result), f"a false query per row: {lines_sending(folder, per_row_shown(result))}"


VARIANTS = all_variants()
# Each variant (a valid fix, a wrong one, a query per row) is shown getting its verdict on both databases and
# both SQLAlchemy lines in every run of `nox -s tests`, on two legs that cover them (the pair taken by the
# variant's place in the list): all four legs would take CI past its time. The starts and the solutions run
# on all four. KATAS_TESTS_FULL=1 runs every variant on every leg (CONTRIBUTING.md).
PAIRS = (("sqlite-2.0", "postgresql-2.1"), ("sqlite-2.1", "postgresql-2.0"))


def variant_param(index: int, kata, variant: dict):
    marks = [pytest.mark.legs(*PAIRS[index % 2])]
    return pytest.param(kata, variant, marks=marks, id=f"{kata.session}-{variant['verdict']}-{variant['name']}")


@pytest.mark.parametrize(("kata", "variant"), [variant_param(i, k, v) for i, (k, v) in enumerate(VARIANTS)])
def test_variant_gets_its_verdict(kata, variant, tmp_path):
    folder = copy_kata(kata, tmp_path / kata.id, base=variant.get("base", "start"))
    apply_edits(folder, variant.get("edit", []))
    result = check(kata, folder)
    shown = lines_sending(folder, per_row_shown(result))
    if variant["verdict"] == "pass":
        assert result.passed, f"a correct fix ({variant['why']}) was rejected:\n" + summary(result)
        assert not shown, f"a correct fix ({variant['why']}) is told it queries once per row: {shown}"
        assert results.fixed_failures(kata.failures, result) == [f["name"] for f in kata.failures]
        return
    # A wrong fix must fail as a check, for a reason: not by crashing the check itself.
    assert result.status == results.FAIL, f"a wrong fix ({variant['why']}) was not rejected:\n" + summary(result)
    if variant.get("caught_by"):
        caught = [s for s in result.scenarios if not s.passed and variant["caught_by"] in s.name]
        assert caught, f"expected a failing check naming {variant['caught_by']!r}:\n" + summary(result)
    # A query per row (per_row: the text of the line that sends it) is shown with that line; nothing else is.
    if variant.get("per_row"):
        assert any(variant["per_row"] in line for line in shown), f"per_row {variant['per_row']!r}, shown: {shown}"
    else:
        assert not shown, f"a query per row is shown to the learner: {shown}; mark it per_row (CONTRIBUTING.md)"
    # Every wrong fix gets a reason: what the learner sees of that failing check names its cause.
    assert variant.get("explained"), f'fail variant {variant["name"]!r} needs explained = "..." (CONTRIBUTING.md)'
    failing = [s for s in result.scenarios if not s.passed and variant.get("caught_by", "") in s.name]
    seen = "\n".join(
        line
        for failure in [s.failure for s in failing if s.failure] + list(result.problems)
        for line in render.explain_failure(failure, "katas/" + kata.id, render.Style(), with_fix=False)
    )
    # (a list: the databases fail it differently, and the learner is told one of them)
    wanted = [variant["explained"]] if isinstance(variant["explained"], str) else variant["explained"]
    assert any(words in seen for words in wanted), f"the learner is not told {variant['explained']!r}:\n{seen}"
    # Hints follow the failure: once nothing crashes, `hint` no longer talks about the crash.
    ladder = hints.choose(kata, lastcheck.summary(result, 0.0))
    if not any(f.get("kind") in hints.CRASH_KINDS for f in result.failures):
        assert ladder.key != "start", f"`hint` would talk about the crash the learner fixed:\n{seen}"


def verdict(result) -> list[tuple]:
    """What a learner sees of a check, in order: each scenario, its outcome, and what its failure names."""
    return [
        (s.name, s.passed, (s.failure or {}).get("kind"), str((s.failure or {}).get("attribute")))
        for s in result.scenarios
    ]


@pytest.mark.one_leg  # how a check's processes start and merge: the same on every database
@pytest.mark.parametrize("kata", KATAS, ids=[k.session for k in KATAS])
def test_a_check_forked_warm_reads_as_a_fresh_process(kata, tmp_path):
    """The meta-tests start their checks forked from a warm process (tests/forkserver.py): same verdict."""
    folder = copy_kata(kata, tmp_path / kata.id)
    fresh = execute.run_checks(WS, kata, kata_dir=folder, launch=Child)
    warm = execute.run_checks(WS, kata, kata_dir=folder, launch=forkserver.ForkChild)
    assert fresh.status == warm.status == results.FAIL
    assert verdict(fresh) == verdict(warm), summary(warm)

    def explained(result) -> list[list[str]]:
        return [
            render.explain_failure(s.failure, "k", render.Style(), with_fix=True) for s in result.scenarios if s.failure
        ]

    assert explained(fresh) == explained(warm)


@pytest.mark.one_leg  # how a check's processes start and merge: the same on every database
@pytest.mark.parametrize("kata", KATAS, ids=[k.session for k in KATAS])
def test_a_check_split_over_two_processes_reads_as_one(kata, tmp_path, monkeypatch):
    """On two cores a check runs in two pytest processes (runner/execute.py): the verdict must not show it."""
    folder = copy_kata(kata, tmp_path / kata.id)
    split = {}
    for processes in ("1", "2"):
        monkeypatch.setenv("KATAS_CHECK_PROCESSES", processes)
        split[processes] = check(kata, folder)
    assert split["1"].status == split["2"].status == results.FAIL
    assert verdict(split["1"]) == verdict(split["2"]), summary(split["2"])
    if kata.number == "01":  # and a pass: the review of the fix is made of both halves
        solved = copy_kata(kata, tmp_path / "solved", base="solution")
        for processes in ("1", "2"):
            monkeypatch.setenv("KATAS_CHECK_PROCESSES", processes)
            split[processes] = check(kata, solved)
        assert split["1"].passed and split["2"].passed
        one, two = split["1"].review, split["2"].review
        assert [c["name"] for c in one["checks"]] == [c["name"] for c in two["checks"]]
        # every call of the run, whichever process measured it: the same verdicts on the same calls
        assert [(o["function"], o["grows"], o["flat"], o["calls"]) for o in one["operations"]] == [
            (o["function"], o["grows"], o["flat"], o["calls"]) for o in two["operations"]
        ]
