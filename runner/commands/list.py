"""list: every kata, with what is done and what comes next."""

from __future__ import annotations

from runner import render
from runner.commands import _common

NAME = "list"
HELP = "list the katas and your progress"


def configure(parser) -> None:
    pass


def run(args, ws, style) -> int:
    katas = _common.katas(ws)
    print(render.render_list(katas, _common.view_state(ws, katas), style))
    return 0
