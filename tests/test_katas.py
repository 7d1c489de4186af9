"""Every kata, proven: the start fails for the documented reason, the solution passes,
wrong fixes are rejected and other correct fixes accepted (variants.toml)."""

from __future__ import annotations

import pytest

from runner import results
from tests.katas import KATAS, all_variants, apply_edits, check, copy_kata, summary

IO_KINDS = {"lazy-load", "unloaded-column", "io-outside-greenlet", "detached"}


def expected_attributes(kata) -> set[str]:
    attribute = kata.expect.get("attribute", [])
    return {attribute} if isinstance(attribute, str) else set(attribute)


@pytest.mark.parametrize("kata", KATAS, ids=[k.session for k in KATAS])
def test_start_fails_for_the_documented_reason(kata, tmp_path):
    result = check(kata, copy_kata(kata, tmp_path / kata.id))
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


@pytest.mark.parametrize("kata", KATAS, ids=[k.session for k in KATAS])
def test_solution_passes(kata, tmp_path):
    result = check(kata, copy_kata(kata, tmp_path / kata.id, base="solution"))
    assert result.passed, summary(result)


VARIANTS = all_variants()


@pytest.mark.parametrize(
    ("kata", "variant"), VARIANTS, ids=[f"{k.session}-{v['verdict']}-{v['name']}" for k, v in VARIANTS]
)
def test_variant_gets_its_verdict(kata, variant, tmp_path):
    folder = copy_kata(kata, tmp_path / kata.id, base=variant.get("base", "start"))
    apply_edits(folder, variant.get("edit", []))
    result = check(kata, folder)
    if variant["verdict"] == "pass":
        assert result.passed, f"a correct fix ({variant['why']}) was rejected:\n" + summary(result)
        return
    # A wrong fix must fail as a check, for a reason: not by crashing the check itself.
    assert result.status == results.FAIL, f"a wrong fix ({variant['why']}) was not rejected:\n" + summary(result)
    if variant.get("caught_by"):
        caught = [s for s in result.scenarios if not s.passed and variant["caught_by"] in s.name]
        assert caught, f"expected a failing check naming {variant['caught_by']!r}:\n" + summary(result)


def verdict(result) -> list[tuple]:
    """What a learner sees of a check, in order: each scenario, its outcome, and what its failure names."""
    return [
        (s.name, s.passed, (s.failure or {}).get("kind"), str((s.failure or {}).get("attribute")))
        for s in result.scenarios
    ]


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
        assert [(o["function"], o["grows"]) for o in one["operations"]] == [
            (o["function"], o["grows"]) for o in two["operations"]
        ]
