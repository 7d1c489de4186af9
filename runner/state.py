"""Reading and writing the progress file: the IO edge of progress.py."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from pathlib import Path

from runner import progress


def load(path: Path) -> tuple[dict, str | None]:
    """The saved progress, and a warning when the file had to be set aside."""
    if not path.exists():
        return progress.empty(), None
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = None
    if progress.is_valid(state):
        return state, None
    rebuilt, dropped = progress.salvage(state)
    damaged = path.with_name(path.name + ".damaged")
    try:
        os.replace(path, damaged)
    except OSError:
        pass  # read-only: the next save overwrites it, or says why it cannot
    kept = len(rebuilt["katas"])
    what = (
        f"the entries of {kept} kata(s) that were intact are kept, {dropped} dropped"
        if kept
        else "progress starts over"
    )
    return rebuilt, (
        f"note: the progress file was damaged; it is kept as {damaged.name} and {what} "
        "(your code is untouched; a passing check records its kata again)"
    )


def save(path: Path, state: dict) -> bool:
    """Write atomically: a check interrupted mid-write never leaves half a file.

    A folder that cannot be written is said once on stderr, never a crash:
    the learner's code and the verdict matter more than the counters.
    """
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(state, handle, indent=2)
        os.replace(tmp, path)
        return True
    except OSError as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        print(f"note: progress could not be saved in {path.parent} ({exc.strerror or exc})", file=sys.stderr)
        return False
