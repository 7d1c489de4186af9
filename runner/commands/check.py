"""check: run a kata's hidden checks against your code."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

from runner import execute, progress, render, results_json
from runner import state as state_io
from runner.commands import _common

NAME = "check"
HELP = "check your fix of a kata (or --all)"


def configure(parser) -> None:
    parser.add_argument(
        "kata", nargs="?", help="the kata: 01, kata-01, command-center ... (default: the one you are on)"
    )
    parser.add_argument("--all", action="store_true", help="check every kata and print the progress table")
    parser.add_argument("-v", "--verbose", action="store_true", help="show pytest's full output")
    parser.add_argument("--timeout", type=float, help="seconds before a check that hangs is stopped")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the result as exercism's results.json (version 3) instead of text",
    )


def run(args, ws, style) -> int:
    if args.all and args.kata:
        raise _common.UsageError("name one kata, or --all, not both")
    if args.json and (args.all or args.verbose):
        raise _common.UsageError("--json checks one kata and prints only JSON: leave out --all and --verbose")
    katas = _common.katas(ws)
    state = _common.load_state(ws)
    if args.all:
        targets = katas
    elif args.kata:
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
        result = execute.run_checks(ws, kata, timeout=args.timeout, verbose=args.verbose)
        state = progress.record_check(state, kata.id, result.passed, time.time())
        state_io.save(ws.state_file, state)
        failed += not result.passed
        if args.all:
            mark = style.tick if result.passed else style.cross
            passed = sum(s.passed for s in result.scenarios)
            counts = f" ({passed} of {len(result.scenarios)} checks pass)" if result.scenarios else ""
            print(f"{mark} {kata.number} {kata.title}{'' if result.passed else counts or ': ' + result.status}")
        else:
            kata_dir = ws.display(ws.katas_dir / kata.id)
            nxt = progress.first_unfinished(katas, state)
            print(render.render_check(kata, result, style, kata_dir, next_kata=nxt))
    if args.all:
        print()
        print(render.render_progress(katas, state, style))
    return 1 if failed else 0


def _run_json(ws, kata, timeout) -> int:
    """One check, printed as results.json; the learner's printed output is captured per scenario."""
    with tempfile.TemporaryDirectory(prefix="katas-json-") as tmp:
        output_file = Path(tmp) / "output.json"
        addopts = " ".join(filter(None, [os.environ.get("PYTEST_ADDOPTS"), "-p runner.capture"]))
        env = {"PYTEST_ADDOPTS": addopts, "KATAS_OUTPUT": str(output_file)}
        result = execute.run_checks(ws, kata, timeout=timeout, env=env)
        try:
            outputs = json.loads(output_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outputs = {}
    state = progress.record_check(_common.load_state(ws), kata.id, result.passed, time.time())
    state_io.save(ws.state_file, state)
    doc = results_json.to_results(result, kata, ws.display(ws.katas_dir / kata.id), outputs)
    print(json.dumps(doc, indent=2, ensure_ascii=False))
    return 0 if result.passed else 1
