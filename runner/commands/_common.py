"""What several commands share: loading the catalogue and the progress file."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable, Sequence

from runner import progress, results
from runner import state as state_io
from runner.catalogue import Kata, load_catalogue, resolve
from runner.workspace import Workspace

MAX_SECONDS = 86400.0  # a day: longer is a typo, and more than a timer can wait for


class UsageError(Exception):
    """The command line asks for something that cannot be done: exit 2."""


def katas(ws: Workspace) -> list[Kata]:
    return load_catalogue(ws)


def kata(ws: Workspace, name: str) -> tuple[list[Kata], Kata]:
    all_katas = load_catalogue(ws)
    return all_katas, resolve(all_katas, name)


def load_state(ws: Workspace) -> dict:
    """The progress as recorded (what a pass was made of included): for commands that change it."""
    state, warning = state_io.load(ws.state_file)
    if warning:
        print(warning, file=sys.stderr)
    return state


def view_state(ws: Workspace, katas: Sequence[Kata]) -> dict:
    """The progress as the code is now: a kata changed since its pass is not passed (progress.as_of)."""
    return progress.as_of(load_state(ws), state_io.digests(ws, katas))


def record(ws: Workspace, change: Callable[[dict], dict]) -> dict:
    """Change the progress as it is on disk now, under its lock: a check in another terminal keeps its result."""
    state, warning = state_io.update(ws.state_file, change)
    if warning:
        print(warning, file=sys.stderr)
    return state


def record_check(ws: Workspace, kata: Kata, result: results.CheckResult, digest: str | None) -> dict:
    """One check of a kata recorded; ``digest``: the code it judged (workspace.code_digest, taken before it ran)."""
    fixed = results.fixed_failures(kata.failures, result) if kata.failures else None
    return record(ws, lambda state: progress.record_check(state, kata.id, result.passed, time.time(), digest, fixed))


def seconds(text: str) -> float:
    """An argparse type: a time limit in seconds, above 0 and at most a day."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text} s: give a number of seconds above 0, at most {MAX_SECONDS:g}")
    return value


def confirmed(yes: bool, command: str, question: str) -> bool:
    """Whether to overwrite the learner's code: --yes, or a y at the prompt; never a guess without a terminal."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{command} overwrites your code; run it with --yes to go ahead")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:  # Ctrl-D: no answer is a no
        print()
        answer = ""
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("Nothing changed.")
    return False
