"""watch: check the kata you are on every time you save, on one screen that redraws."""

from __future__ import annotations

import signal
import sys

from runner import processes, progress, render
from runner.commands import _common
from runner.terminal import Screen, keyboard
from runner.watchloop import WatchLoop
from runner.worker import WarmChecker

NAME = "watch"
HELP = "re-check the kata you are on each time you save (keys: h hint, n next, l list, q quit)"


def configure(parser) -> None:
    parser.add_argument("kata", nargs="?", help="the kata to start on (default: the first one you have not finished)")
    parser.add_argument(
        "--poll",
        action="store_true",
        help="look at the files every 0.1 s instead of waiting for file events (network drives, WSL, containers)",
    )
    parser.add_argument(
        "--timeout", type=_common.seconds, help="seconds before a check that hangs is stopped (above 0)"
    )


def run(args, ws, style) -> int:
    # Ctrl-C ends watch mode, even when the parent (nox) ignores it and we inherited that.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    katas = _common.katas(ws)
    if not katas:
        raise _common.UsageError("there are no katas to watch (the katas/ folder is empty)")
    state = _common.view_state(ws, katas)
    if args.kata is not None:
        kata = _common.kata(ws, args.kata)[1]
    else:
        kata = progress.first_unfinished(katas, state)
        if kata is None:
            print(render.render_list(katas, state, style))
            print("Every kata passes. Watch one again with: python -m runner watch NN")
            return 0

    def checker(k):
        return WarmChecker(ws, k, timeout=args.timeout)

    loop = WatchLoop(
        ws,
        katas,
        kata,
        checker_factory=checker,
        keys=keyboard(sys.stdin),
        screen=Screen(sys.stdout),
        style=style,
        poll=args.poll,
    )
    try:
        loop.run()
    except processes.Stopped:
        loop.close()  # SIGTERM, or the terminal closed: the spares and their folders go with us
        raise
    except KeyboardInterrupt:
        loop.close()  # Ctrl-C is the other way out: the terminal is restored, the spares stopped
    print(f"\nStopped watching. Progress is saved: {ws.display(ws.state_file)}")
    return 0
