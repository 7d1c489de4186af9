"""check: run a kata's hidden checks against your code."""

from __future__ import annotations

import json
import os
import sys
import time

from runner import execute, lastcheck, processes, progress, render, results_json
from runner.commands import _common
from runner.workspace import code_digest

NAME = "check"
HELP = "check your fix of a kata (or --all)"
# Seconds before a check that is still running says so: on a terminal (a line redrawn in place),
# elsewhere (a line printed every ALIVE_EVERY, into a log a check may be compared by); or at half its limit.
ALIVE_AFTER = {True: 3.0, False: 10.0}
ALIVE_EVERY = 10.0


def configure(parser) -> None:
    parser.add_argument(
        "kata", nargs="?", help="the kata: 01, kata-01, command-center ... (default: the one you are on)"
    )
    parser.add_argument("--all", action="store_true", help="check every kata and print the progress table")
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's full output")
    parser.add_argument(
        "--timeout", type=_common.seconds, help="seconds before a check that hangs is stopped (above 0)"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as exercism's results.json (version 3) instead of text",
    )


def run(args, ws, style) -> int:
    if args.all and args.kata is not None:
        raise _common.UsageError("name one kata, or --all, not both")
    if args.json and (args.all or args.verbose):
        raise _common.UsageError("--json checks one kata and prints only JSON: leave out --all and --verbose")
    katas = _common.katas(ws)
    if not katas:
        raise _common.UsageError(f"there are no katas in {ws.display(ws.katas_dir)}: nothing to check")
    state = _common.view_state(ws, katas)
    if args.all:
        targets = katas
    elif args.kata is not None:
        targets = [_common.kata(ws, args.kata)[1]]
    else:
        current = progress.first_unfinished(katas, state)
        if current is None and args.json:
            raise _common.UsageError("every kata passes: name the one to check, as in: check 01 --json")
        if current is None:
            print(render.render_list(katas, state, style))
            print("Every kata passes. Check one again with: python -m runner check NN")
            return 0
        targets = [current]
    if args.json:
        return _run_json(ws, targets[0], args.timeout)
    failed = 0
    for kata in targets:
        digest = code_digest(ws.katas_dir / kata.id)  # what this check judges: a save meanwhile is not passed
        alive = Alive(kata)
        try:
            result = execute.run_checks(ws, kata, timeout=args.timeout, verbose=args.verbose, on_wait=alive)
        finally:
            alive.done()
        lastcheck.save(ws, kata.id, result, time.time())  # what `hint` follows
        _common.record_check(ws, kata, result, digest)
        failed += not result.passed
        if args.all:
            mark = style.tick if result.passed else style.cross
            passed = sum(s.passed for s in result.scenarios)
            counts = f" ({render.passing(passed, len(result.scenarios))})" if result.scenarios else ""
            print(f"{mark} {kata.number} {kata.title}{'' if result.passed else counts or ': ' + result.status}")
        else:
            kata_dir = ws.display(ws.katas_dir / kata.id)
            nxt = progress.first_unfinished(katas, _common.view_state(ws, katas))
            print(render.render_check(kata, result, style, kata_dir, next_kata=nxt))
    if args.all:
        print()
        print(render.render_progress(katas, _common.view_state(ws, katas), style))
    print(style.dim(f"Checked on {execute.database_label()}."))
    return 1 if failed else 0


class Alive:
    """Says that a long check is still running: redrawn in place on a terminal, a line every so often elsewhere.

    On stdout, with the verdict: stderr keeps to the one line of an error (exit 2).
    """

    def __init__(self, kata, stream=None):
        self.kata = kata
        self.stream = stream or sys.stdout
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.shown = 0.0
        self.width = 0

    def __call__(self, elapsed: float, limit: float, running: str | None) -> None:
        early = elapsed < min(ALIVE_AFTER[self.tty], limit / 2)
        if early or (not self.tty and self.shown and elapsed - self.shown < ALIVE_EVERY):
            return
        self.shown = elapsed
        where = f": {running}" if running else ""
        line = f"still checking kata {self.kata.number} after {int(elapsed)} s (stopped at {limit:g} s){where}"
        try:
            if self.tty:
                self.stream.write("\r" + line[:200].ljust(self.width))
                self.width = max(self.width, len(line[:200]))
            else:
                self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def done(self) -> None:
        if self.tty and self.width:
            try:
                self.stream.write("\r" + " " * self.width + "\r")
                self.stream.flush()
            except (OSError, ValueError):
                pass


def _run_json(ws, kata, timeout) -> int:
    """One check, printed as results.json; the learner's printed output is captured per scenario."""
    digest = code_digest(ws.katas_dir / kata.id)
    with processes.temp_folder("katas-json-") as tmp:
        output_file = tmp / "output.json"
        addopts = " ".join(filter(None, [os.environ.get("PYTEST_ADDOPTS"), "-p runner.capture"]))
        env = {"PYTEST_ADDOPTS": addopts, "KATAS_OUTPUT": str(output_file)}
        result = execute.run_checks(ws, kata, timeout=timeout, env=env)
        lastcheck.save(ws, kata.id, result, time.time())
        try:
            outputs = json.loads(output_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outputs = {}
    _common.record_check(ws, kata, result, digest)
    doc = results_json.to_results(result, kata, ws.display(ws.katas_dir / kata.id), outputs)
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return 0 if result.passed else 1
