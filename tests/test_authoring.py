"""The author check, in the spirit of `rustlings dev check`: every kata is complete.

A kata is four folders (the kata, its solution, its hidden checks, its doc
pages); nothing lists katas by hand, so this is what notices a missing part.
"""

from __future__ import annotations

import ast

import pytest

from tests.katas import KATAS, NOTES, WS, variants

IDS = [k.session for k in KATAS]


def test_there_are_katas():
    assert KATAS, "no kata folders found under katas/"


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_story_opens_the_kata(kata):
    readme = (WS.katas_dir / kata.id / "README.md").read_text(encoding="utf-8")
    assert readme.splitlines()[0] == f"# Kata {kata.number}: {kata.title}"
    assert f"nox -s {kata.session}" in readme, "the story says how to run the kata"
    assert len(readme.split()) > 150, "the story is more than a heading"


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_a_todo_marks_where_to_act(kata):
    todos = [p for p in (WS.katas_dir / kata.id).rglob("*.py") if "TODO" in p.read_text(encoding="utf-8")]
    assert todos, "the starting code has a TODO where the learner should act"


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_metadata_is_complete(kata):
    assert len(kata.hints) >= 3, "hints go from a nudge to the concept to nearly the answer"
    assert kata.rules, "the kata names the rules it trains"
    assert kata.expect.get("error"), "kata.toml [expect] names the error the start must fail with"
    for rule in kata.rules:
        assert (WS.docs_dir / "rules" / f"{rule}.md").is_file(), f"docs/rules/{rule}.md is missing"


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_hidden_checks_live_outside_the_kata_and_name_their_scenarios(kata):
    assert not [
        p for p in (WS.katas_dir / kata.id).rglob("*.py") if p.name.startswith("test_") or p.name == "conftest.py"
    ]
    tests = sorted((WS.checks_dir / kata.id).glob("test_*.py"))
    assert tests, "the kata has hidden checks"
    for path in tests:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                assert ast.get_docstring(node), f"{path.name}::{node.name} needs a docstring: its scenario line"


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_solution_mirrors_the_kata(kata):
    solution = WS.solutions_dir / kata.id
    assert (solution / NOTES).is_file(), "the solution says why this fix and what the alternatives trade"
    files = [p for p in solution.rglob("*.py") if "__pycache__" not in p.parts]
    assert files, "the solution holds the files the fix changes"
    for path in files:
        assert (WS.katas_dir / kata.id / path.relative_to(solution)).is_file(), f"{path} has no twin in the kata"


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_variants_cover_wrong_and_other_right_fixes(kata):
    found = variants(kata)
    assert sum(v["verdict"] == "fail" for v in found) >= 3, "at least three wrong fixes are rejected"
    assert sum(v["verdict"] == "pass" for v in found) >= 2, "at least two other correct fixes are accepted"


@pytest.mark.parametrize("kata", KATAS, ids=IDS)
def test_nox_session_exists(kata):
    import nox.registry

    import noxfile  # noqa: F401 - importing registers the sessions

    assert kata.session in nox.registry.get(), f"nox -s {kata.session} does not exist"
    assert kata.title in (nox.registry.get()[kata.session].__doc__ or ""), "nox -l shows the kata's title"
