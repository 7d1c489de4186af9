"""Helpers for the meta-tests: copies of a kata with a fix applied, and their verdicts."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from runner import execute
from runner.catalogue import Kata, load_catalogue
from runner.results import CheckResult
from runner.workspace import Workspace

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
    return execute.run_checks(WS, kata, kata_dir=folder)


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
