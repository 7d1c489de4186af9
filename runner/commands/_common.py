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
