"""python -m runner: from the katas' environment, or handed over to it from another one.

The README's first setup puts nox in a virtual environment of its own
(.venv), which lacks pytest and SQLAlchemy. Run from there, the runner hands
over to the katas' environment (.nox/katas, made by any kata session), or,
when there is none yet, says in one line what to run.
"""

import importlib.util
import os
import sys
from pathlib import Path

NEEDED = ("pytest", "pytest_asyncio", "sqlalchemy", "aiosqlite")  # what a check imports
NEEDS_CHECKS = ("check", "watch", "catch-up", "doctor")  # the commands that run the hidden checks
HANDED_OVER = "KATAS_HANDED_OVER"


def _katas_python() -> Path:
    root = Path(os.environ.get("KATAS_HOME") or Path(__file__).resolve().parent.parent)
    scripts = "Scripts" if os.name == "nt" else "bin"
    return root / ".nox" / "katas" / scripts / ("python.exe" if os.name == "nt" else "python")


def _hand_over() -> None:
    if all(importlib.util.find_spec(name) is not None for name in NEEDED) or os.environ.get(HANDED_OVER):
        return
    target = _katas_python()
    if target.is_file():
        os.environ[HANDED_OVER] = "1"
        argv = [str(target), "-m", "runner", *sys.argv[1:]]
        if os.name == "nt":
            import subprocess

            sys.exit(subprocess.call(argv))
        os.execv(str(target), argv)
    command = next((a for a in sys.argv[1:] if not a.startswith("-")), "")
    if command in NEEDS_CHECKS:
        print(
            f"error: this Python ({sys.executable}) lacks the katas' packages (pytest, SQLAlchemy): "
            "run python -m nox -s doctor once (it installs them in .nox/katas), then this command again",
            file=sys.stderr,
        )
        sys.exit(2)


_hand_over()

from runner import early  # noqa: E402 - after the hand-over, as everything below

early.prestart(sys.argv[1:])  # a check's processes start now, while the rest of the runner imports

from runner.cli import main  # noqa: E402 - its imports need no katas' packages

sys.exit(main())
