"""What several commands share: loading the catalogue and the progress file."""

from __future__ import annotations

import sys

from runner import state as state_io
from runner.catalogue import Kata, load_catalogue, resolve
from runner.workspace import Workspace


class UsageError(Exception):
    """The command line asks for something that cannot be done: exit 2."""


def katas(ws: Workspace) -> list[Kata]:
    return load_catalogue(ws)


def kata(ws: Workspace, name: str) -> tuple[list[Kata], Kata]:
    all_katas = load_catalogue(ws)
    return all_katas, resolve(all_katas, name)


def load_state(ws: Workspace) -> dict:
    state, warning = state_io.load(ws.state_file)
    if warning:
        print(warning, file=sys.stderr)
    return state


def confirmed(yes: bool, command: str, question: str) -> bool:
    """Whether to overwrite the learner's code: --yes, or a y at the prompt; never a guess without a terminal."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"{command} overwrites your code; run it with --yes to go ahead")
    if input(f"{question} [y/N] ").strip().lower() in ("y", "yes"):
        return True
    print("Nothing changed.")
    return False
