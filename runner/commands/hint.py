"""hint: the next hint for a kata, from a nudge to nearly the answer."""

from __future__ import annotations

from runner import progress, render
from runner import state as state_io
from runner.commands import _common

NAME = "hint"
HELP = "show the next hint for a kata (--all: every hint)"


def configure(parser) -> None:
    parser.add_argument("kata")
    parser.add_argument("--all", action="store_true", help="show every hint at once")


def run(args, ws, style) -> int:
    _, kata = _common.kata(ws, args.kata)
    state = _common.load_state(ws)
    total = len(kata.hints)
    if args.all:
        revealed = total
        state["katas"][kata.id] = {**progress.entry(state, kata.id), "hints": total}
    else:
        state, revealed = progress.record_hint(state, kata.id, total)
    state_io.save(ws.state_file, state)
    print(render.render_hint(kata, revealed, style, show_all=args.all))
    return 0
