"""Reading and writing the progress file: the IO edge of progress.py."""

from __future__ import annotations

import json
import os
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
    damaged = path.with_name(path.name + ".damaged")
    os.replace(path, damaged)
    return progress.empty(), (
        f"note: the progress file was damaged; it is kept as {damaged.name} and progress starts over "
        "(your code is untouched; a passing check records its kata again)"
    )


def save(path: Path, state: dict) -> None:
    """Write atomically: a check interrupted mid-write never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".state-", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)
    os.replace(tmp, path)
