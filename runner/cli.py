"""The command line: declares the commands; each lives in runner/commands/."""

from __future__ import annotations

import argparse
import sys

from runner.catalogue import CatalogueError
from runner.commands import (
    _common,
    catch_up,
    check,
    doctor,
    hint,
    list,
    progress,
    report,
    reset,
    solution,
    summary,
    watch,
)
from runner.render import Style
from runner.workspace import Workspace

COMMANDS = (list, check, hint, progress, reset, solution, watch, report, catch_up, summary, doctor)
UsageError = _common.UsageError


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m runner", description="Run and check the async SQLAlchemy katas.")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.configure(sub.add_parser(command.NAME, help=command.HELP, description=command.HELP))
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = next(c for c in COMMANDS if c.NAME == args.command)
    try:
        return command.run(args, Workspace.locate(), Style.for_stream())
    except (CatalogueError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
