"""hint: the next hint for a kata, from a nudge to the fix itself, for the failure your last check showed."""

from __future__ import annotations

from runner import hints, progress, render
from runner.commands import _common

NAME = "hint"
HELP = "show the next hint for a kata, for the failure your last check showed (--all: every hint)"


def configure(parser) -> None:
    parser.add_argument("kata")
    parser.add_argument("--all", action="store_true", help="show every hint at once")


def run(args, ws, style) -> int:
    _, kata = _common.kata(ws, args.kata)
    shown = hints.reveal(ws, kata, ws.display(ws.katas_dir / kata.id), style, show_all=args.all)
    if shown.new:  # the progress file counts the hints a learner needed (reports, the room's summary)
        _common.record(ws, lambda s: progress.record_hint(s, kata.id, progress.entry(s, kata.id)["hints"] + 1)[0])
    print(render.render_hint(kata, shown.tiers, shown.first, shown.revealed, style, about=shown.ladder.about))
    return 0
