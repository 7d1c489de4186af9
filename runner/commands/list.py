"""list: every kata, with what is done and what comes next."""

from __future__ import annotations

from runner import render
from runner.commands import _common

NAME = "list"
HELP = "list the katas and your progress"


def configure(parser) -> None:
    pass


def run(args, ws, style) -> int:
    print(render.render_list(_common.katas(ws), _common.load_state(ws), style))
    return 0
