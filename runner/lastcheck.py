"""What `hint` needs of the last check of a kata: a small file of its own, ``.katas/last/<kata-id>.json``.

Written after every check (``check``, watch mode), atomically, and read by
``hint`` so its hints follow the failure the learner sees now. It holds the
failing checks and their explanations (plain data, as the runner's plugin
made them), never the learner's code. Not the progress file: a damaged or
missing one only means hints fall back to the kata's ladder.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from runner import results
from runner.workspace import Workspace

VERSION = 1


def path_for(ws: Workspace, kata_id: str) -> Path:
    return ws.state_dir / "last" / f"{kata_id}.json"


def summary(result: results.CheckResult, now: float) -> dict:
    """The part of a check's result a hint reads: one entry per distinct failure, with its checks."""
    failures: list[dict] = []
    keys: dict[tuple, dict] = {}
    named = [(s.name, s.failure) for s in result.scenarios if not s.passed and s.failure]
    named += [(None, problem) for problem in result.problems]
    for scenario, failure in named:
        location = failure.get("location") or {}
        attribute = failure.get("attribute") or {}
        key = (
            failure.get("kind"),
            failure.get("cause"),
            location.get("file"),
            location.get("line"),
            attribute.get("model"),
            attribute.get("key"),
            failure.get("message") if failure.get("kind") == "assertion" else failure.get("exception"),
        )
        entry = keys.get(key)
        if entry is None:
            entry = keys[key] = {"checks": [], "failure": failure}
            failures.append(entry)
        if scenario and scenario not in entry["checks"]:
            entry["checks"].append(scenario)
    return {
        "version": VERSION,
        "checked_at": now,
        "status": result.status,
        "passed": result.passed,
        "failing": [s.name for s in result.scenarios if not s.passed],
        "failures": failures,
    }


def save(ws: Workspace, kata_id: str, result: results.CheckResult, now: float) -> None:
    write_atomically(path_for(ws, kata_id), summary(result, now))


def write_atomically(path: Path, data: object) -> bool:
    """JSON to ``path`` through a temporary file: never half a file. A folder that cannot be written
    costs the hints their focus, never the check: False, and nothing raised."""
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, default=str)
        os.replace(tmp, path)
        return True
    except OSError:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        return False


def load(ws: Workspace, kata_id: str) -> dict | None:
    """The last check's summary, or None (never checked, or a file that does not read)."""
    try:
        data = json.loads(path_for(ws, kata_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("failures"), list):
        return None
    return data
