"""report: your progress as one line per kata, or as a small JSON file for the facilitator."""

from __future__ import annotations

import json
import time
from pathlib import Path

from runner import workshop
from runner.commands import _common

NAME = "report"
HELP = "one line per kata: status, checks run, hints used, time to pass (--json: a file to hand in)"


def configure(parser) -> None:
    parser.add_argument("--json", action="store_true", help="write the report as JSON, for `summary`")
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="with --json: write it to FILE (UTF-8) instead of printing it"
    )
    parser.add_argument("--name", help="your name or initials, shown to the facilitator (default: none)")


def run(args, ws, style) -> int:
    if args.output and not args.json:
        raise _common.UsageError("--output writes the JSON report: add --json")
    katas = _common.katas(ws)
    report = workshop.build_report(katas, _common.view_state(ws, katas), time.time(), learner=args.name)
    if not args.json:
        print(workshop.render_report(report, style))
        return 0
    text = json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False) + "\n"  # JSON, never Infinity
    if not args.output:
        print(text, end="")
        return 0
    target = Path(args.output)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _common.UsageError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(f"Report written to {target}: hand it in (a shared folder, a USB stick); it holds no code.")
    return 0
