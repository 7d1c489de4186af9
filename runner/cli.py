"""The command line: declares the commands; each lives in runner/commands/."""

from __future__ import annotations

import argparse
import os
import sys

from runner import early, processes
from runner import state as state_io
from runner.catalogue import CatalogueError
from runner.commands import (
    _common,
    catch_up,
    check,
    doctor,
    hint,
    list,
    new,
    progress,
    report,
    reset,
    solution,
    summary,
    watch,
)
from runner.render import Style
from runner.workspace import Workspace, WorkspaceError

COMMANDS = (list, check, hint, progress, reset, solution, watch, report, catch_up, summary, doctor, new)
UsageError = _common.UsageError
# Set by `nox -s kata-NN`: the kata a command that takes one is about, when the learner names none.
SESSION_VARIABLE = early.SESSION_VARIABLE


class Parser(argparse.ArgumentParser):
    """argparse, whose errors are one line (the caller prints it, exit 2) instead of the usage block."""

    def error(self, message: str):
        raise UsageError(f"{message} ({self.prog} --help)")


def parser() -> argparse.ArgumentParser:
    top = Parser(prog="python -m runner", description="Run and check the async SQLAlchemy katas.")
    sub = top.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        command.configure(sub.add_parser(command.NAME, help=command.HELP, description=command.HELP))
    return top


def parse(argv: list[str], session_kata: str = "") -> argparse.Namespace:
    """The arguments; a nox kata session's kata fills in for a command that takes one and was given none."""
    top = parser()
    if not session_kata:
        return top.parse_args(argv)
    try:
        args = top.parse_args(argv)
    except UsageError as first:
        try:
            return top.parse_args([*argv, session_kata])  # hint, reset, solution, catch-up: the kata is required
        except UsageError:
            raise first from None
    if getattr(args, "kata", "") is None and not getattr(args, "all", False):
        args.kata = session_kata  # check, watch: the kata is optional
    return args


class QuietPipe:
    """stdout that a reader may close (`report | head -2`): the rest is dropped, the command goes on
    to its own exit code, and nothing is printed about it."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._closed()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._closed()

    def _closed(self) -> None:
        # Whatever is still buffered, and the interpreter's last flush, go nowhere.
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, self._stream.fileno())
        except (OSError, ValueError):
            pass
        finally:
            os.close(devnull)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not isinstance(sys.stdout, QuietPipe) and sys.stdout is not None:
        sys.stdout = QuietPipe(sys.stdout)
    processes.stop_on_signals()
    processes.sweep_temp()  # the temporary folders of runs that were killed (kill -9, a lid shut)
    try:
        args = parse(argv, os.environ.pop(SESSION_VARIABLE, "").strip())
        command = next(c for c in COMMANDS if c.NAME == args.command)
        return command.run(args, Workspace.locate(), Style.for_stream())
    except (CatalogueError, UsageError, WorkspaceError, state_io.StateError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C, SIGTERM, SIGHUP: every clean-up ran on the way here
        try:
            print("\ninterrupted" if not isinstance(exc, processes.Stopped) else "\nstopped", file=sys.stderr)
        except OSError:
            pass  # the terminal is gone (SIGHUP)
        return processes.exit_code(exc)
