"""solution: once a kata passes, the reference fix as a diff against your code."""

from __future__ import annotations

import difflib
import sys

from runner import progress
from runner.commands import _common

NAME = "solution"
HELP = "after a kata passes: the reference fix, as a diff against your code"
NOTES = "SOLUTION.md"


def configure(parser) -> None:
    parser.add_argument("kata")


def diff(ours: str, theirs: str, name: str) -> list[str]:
    return list(
        difflib.unified_diff(
            ours.splitlines(keepends=True), theirs.splitlines(keepends=True), f"yours/{name}", f"solution/{name}"
        )
    )


def _text(path, ws) -> str:
    """The learner's file as text; one that is not UTF-8 is shown with � where a byte is not, and named."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        print(
            f"note: {ws.display(path)} is not UTF-8 text (byte {exc.start + 1}): the diff shows � for what is not; "
            "save it as UTF-8 (Python reads its source as UTF-8)",
            file=sys.stderr,
        )
        return data.decode("utf-8", "replace")


def run(args, ws, style) -> int:
    _, kata = _common.kata(ws, args.kata)
    state = _common.load_state(ws)
    if not progress.is_done(state, kata.id):
        print(f"Kata {kata.number} does not pass yet: the solution opens once `check` passes.")
        print(f"Stuck? nox -s {kata.session} -- hint")
        return 1
    solution_dir = ws.solutions_dir / kata.id
    notes = solution_dir / NOTES
    if notes.is_file():
        print(notes.read_text(encoding="utf-8").rstrip())
        print()
    for path in sorted(p for p in solution_dir.rglob("*") if p.is_file() and p.name != NOTES):
        rel = path.relative_to(solution_dir).as_posix()
        if "__pycache__" in rel:
            continue
        mine = ws.katas_dir / kata.id / rel
        ours = _text(mine, ws) if mine.is_file() else ""
        lines = diff(ours, path.read_text(encoding="utf-8"), rel)
        if not lines:
            print(style.dim(f"{rel}: yours is the same as the reference."))
            continue
        for line in lines:
            line = line.rstrip("\n")
            if line.startswith("+") and not line.startswith("+++"):
                line = style.good(line)
            elif line.startswith("-") and not line.startswith("---"):
                line = style.bad(line)
            print(line)
    return 0
