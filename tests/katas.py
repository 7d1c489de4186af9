"""Helpers for the meta-tests: copies of a kata with a fix applied, and their verdicts."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from runner import execute, processes
from runner.catalogue import Kata, load_catalogue
from runner.results import CheckResult
from runner.workspace import Workspace
from tests import forkserver

WS = Workspace.locate()
KATAS = load_catalogue(WS)
NOTES = "SOLUTION.md"
IGNORE = shutil.ignore_patterns("__pycache__", "*.db", NOTES)


def variants(kata: Kata) -> list[dict]:
    path = WS.checks_dir / kata.id / "variants.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")).get("variant", []) if path.is_file() else []


def all_variants() -> list[tuple[Kata, dict]]:
    return [(kata, variant) for kata in KATAS for variant in variants(kata)]


def copy_kata(kata: Kata, target: Path, base: str = "start") -> Path:
    """The kata's starting code, or (base="solution") with the reference fix copied over it."""
    shutil.copytree(WS.katas_dir / kata.id, target, ignore=IGNORE)
    if base == "solution":
        shutil.copytree(WS.solutions_dir / kata.id, target, ignore=IGNORE, dirs_exist_ok=True)
    elif base != "start":
        raise ValueError(f"unknown base {base!r}")
    return target


def apply_edits(folder: Path, edits: list[dict]) -> None:
    for edit in edits:
        path = folder / edit["file"]
        text = path.read_text(encoding="utf-8")
        expected = edit.get("count", 1)
        found = text.count(edit["find"])
        if found != expected:
            raise AssertionError(
                f"{edit['file']}: {edit['find']!r} occurs {found} times, the variant expects {expected}"
            )
        path.write_text(text.replace(edit["find"], edit["replace"]), encoding="utf-8")


def check(kata: Kata, folder: Path) -> CheckResult:
    """The verdict, as the runner gives it; one pytest process is started warm (tests/forkserver.py)."""
    launch = forkserver.launcher() if execute.check_shares() == 1 else processes.Child
    return execute.run_checks(WS, kata, kata_dir=folder, launch=launch)


def per_row_shown(result: CheckResult) -> list[dict]:
    """Every "query per row" the learner is shown: under a failing query budget, or in the review of a pass."""
    shown = [found for s in result.scenarios if s.failure for found in s.failure.get("per_row", [])]
    if result.passed:
        shown += [operation for operation in (result.review or {}).get("operations", []) if operation.get("grows")]
    return shown


def lines_sending(folder: Path, operations: list[dict]) -> list[str]:
    """The lines of the learner's code that sent the repeated statements, as "file:line: source"."""
    found = {(f["file"], f["line"]) for operation in operations for f in operation.get("per_row", [])}
    return [
        f"{file}:{line}: {(folder / file).read_text(encoding='utf-8').splitlines()[line - 1].strip()}"
        for file, line in sorted(found)
    ]


def summary(result: CheckResult) -> str:
    """What a failed meta-test prints: the scenarios and the explanations, as the learner would see them."""
    lines = [f"status: {result.status} {result.detail}"]
    for s in result.scenarios:
        lines.append(f"  {'PASS' if s.passed else 'FAIL'} {s.name}")
        if s.failure:
            lines.append(f"      {s.failure.get('kind')}: {s.failure.get('message') or s.failure.get('exception')}")
            if s.failure.get("attribute"):
                lines.append(f"      attribute: {s.failure['attribute']}")
    lines += [f"  problem: {p}" for p in result.problems]
    return "\n".join(lines)
