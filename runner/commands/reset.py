"""reset: put a kata back to its starting code, keeping your version as a backup."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from implicit_io.text import plural
from runner import progress
from runner import state as state_io
from runner.commands import _common

NAME = "reset"
HELP = "restore a kata's starting code (your version is kept as a backup)"

# The starting code is the kata as upstream ships it: the branch the clone
# tracks, so a learner's own commits are never taken for the start.
START_REFS = ("@{upstream}", "origin/HEAD", "HEAD")


def configure(parser) -> None:
    parser.add_argument("kata")
    parser.add_argument("--yes", action="store_true", help="do not ask before overwriting")


def _git(ws, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=ws.root, capture_output=True, check=False)


def starting_files(ws, kata_id: str) -> dict[str, bytes]:
    """The kata's files at the starting ref, read from git: path (relative to the kata) -> bytes."""
    try:
        ref = next((r for r in START_REFS if _git(ws, "rev-parse", "--verify", "-q", r).returncode == 0), None)
    except FileNotFoundError:
        ref = None
    if ref is None:
        raise _common.UsageError("reset needs the git clone of the katas (git was not found, or this is not a clone)")
    prefix = f"katas/{kata_id}/"
    listing = _git(ws, "ls-tree", "-r", "-z", "--name-only", ref, "--", prefix).stdout.decode()
    files = {}
    for path in filter(None, listing.split("\0")):
        files[path[len(prefix) :]] = _git(ws, "show", f"{ref}:{path}").stdout
    if not files:
        raise _common.UsageError(f"git has no starting code for katas/{kata_id} at {ref}")
    return files


def changed(kata_dir: Path, files: dict[str, bytes]) -> list[str]:
    return [
        rel for rel, data in files.items() if not (kata_dir / rel).is_file() or (kata_dir / rel).read_bytes() != data
    ]


def backup(ws, kata_dir: Path, kata_id: str) -> Path:
    target = ws.backups_dir / f"{kata_id}-{time.strftime('%Y%m%d-%H%M%S')}"
    suffix = 1
    while target.exists():
        suffix += 1
        target = target.with_name(f"{target.name.split('~')[0]}~{suffix}")
    try:
        shutil.copytree(kata_dir, target, ignore=shutil.ignore_patterns("__pycache__"))
    except (OSError, shutil.Error) as exc:  # no backup, no change: the learner's code is never lost
        shutil.rmtree(target, ignore_errors=True)
        where = ws.display(ws.backups_dir)
        raise state_io.StateError(f"cannot keep a backup in {where} ({exc}): nothing changed") from None
    return target


def run(args, ws, style) -> int:
    _, kata = _common.kata(ws, args.kata)
    kata_dir = ws.katas_dir / kata.id
    files = starting_files(ws, kata.id)
    differing = changed(kata_dir, files)
    if not differing:
        print(f"Kata {kata.number} is already at its starting code. Nothing to do.")
        return 0
    state_io.ensure_folder(ws.state_dir, ws.display(ws.state_dir))  # the backup goes there: before any change
    differ = plural(len(differing), "file") + (" differs" if len(differing) == 1 else " differ")
    question = f"Reset {ws.display(kata_dir)} to its starting code ({differ})?"
    if not _common.confirmed(args.yes, "reset", question):
        return 0
    saved = backup(ws, kata_dir, kata.id)
    for rel in differing:
        target = kata_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[rel])
    # Its pass was made of the code just replaced: list, next and catch-up see it unfinished again.
    _common.record(ws, lambda state: progress.record_reset(state, kata.id))
    print(f"Kata {kata.number} is back at its starting code ({plural(len(differing), 'file')} restored).")
    print(f"Your version is kept in {ws.display(saved)}")
    return 0
