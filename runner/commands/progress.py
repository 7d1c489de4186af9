"""progress: the table of katas, checks run, hints used and time to pass."""

from __future__ import annotations

from runner import render
from runner.commands import _common

NAME = "progress"
HELP = "show your progress table"


def configure(parser) -> None:
    pass


def run(args, ws, style) -> int:
    print(render.render_progress(_common.katas(ws), _common.load_state(ws), style))
    return 0
