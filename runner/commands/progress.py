"""progress: the table of katas, checks run, hints used and time to pass."""

from __future__ import annotations

from runner import render
from runner.commands import _common

NAME = "progress"
HELP = "show your progress table"


def configure(parser) -> None:
    pass


def run(args, ws, style) -> int:
    katas = _common.katas(ws)
    print(render.render_progress(katas, _common.view_state(ws, katas), style))
    return 0
