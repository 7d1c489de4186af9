"""Reading and writing the progress file: the IO edge of progress.py.

Several commands may run at once (a check in one terminal, watch mode in
another): each change is a read-modify-write of the file under a lock
(``update``), written atomically, so no command's result overwrites
another's. A damaged file is copied aside under a name no earlier copy has,
and what could be kept of it is written back, so the next command finds it.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from implicit_io.text import plural
from runner import progress
from runner.catalogue import Kata
from runner.workspace import Workspace, code_digest

LOCK_NAME = "state.lock"


class StateError(Exception):
    """The progress folder cannot be used at all (``.katas`` is a file): one line, exit 2."""


def ensure_folder(folder: Path, shown: str | None = None) -> None:
    """Make the progress folder (``.katas``), or say in one line why it cannot be made."""
    shown = shown or str(folder)
    if folder.exists() and not folder.is_dir():
        raise StateError(
            f"{shown} is a file, but the runner keeps your progress and backups in a folder of that name: "
            f"move it away (rename it to {folder.name}.old) and run the command again"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StateError(f"cannot make {shown}: {exc.strerror or exc}") from None


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold the progress file's lock; where it cannot be taken (a read-only folder), go on without it."""
    handle = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path.parent / LOCK_NAME, "a+b")  # noqa: SIM115 - closed below
    except OSError:
        handle = None
    try:
        if handle is not None:
            _lock(handle)
        yield
    finally:
        if handle is not None:
            with contextlib.suppress(OSError):
                _unlock(handle)
            handle.close()


def _lock(handle) -> None:
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # retries for 10 s, then OSError
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)


def _unlock(handle) -> None:
    if os.name == "nt":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _read(path: Path) -> tuple[object, bytes | None]:
    """(the parsed JSON or None, the raw bytes or None when there is no file)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError:
        return None, b""
    try:
        return json.loads(data.decode("utf-8")), data
    except ValueError:
        return None, data


def load(path: Path) -> tuple[dict, str | None]:
    """The saved progress, and a warning when the file was damaged (and repaired, under the lock)."""
    state, data = _read(path)
    if data is None:
        return progress.empty(), None
    if progress.is_valid(state):
        return state, None
    with locked(path):
        return _load_locked(path)


def _load_locked(path: Path) -> tuple[dict, str | None]:
    state, data = _read(path)
    if data is None:
        return progress.empty(), None
    if progress.is_valid(state):  # another command repaired it meanwhile
        return state, None
    rebuilt, dropped = progress.salvage(state)
    kept = len(rebuilt["katas"])
    what = (
        f"the intact entries of {plural(kept, 'kata')} are kept, {dropped} dropped" if kept else "progress starts over"
    )
    copy = _set_aside(path, data)
    if copy is None:  # the damaged file cannot be copied: it stays where it is, untouched
        return rebuilt, (
            f"note: the progress file {path.name} is damaged and cannot be set aside (the folder is read-only?); "
            f"{what} for this command (your code is untouched)"
        )
    save(path, rebuilt)
    return rebuilt, (
        f"note: the progress file was damaged; it is kept as {copy.name} and {what} "
        "(your code is untouched; a passing check records its kata again)"
    )


def _set_aside(path: Path, data: bytes) -> Path | None:
    """A copy of the damaged file under a name no earlier copy has: state.json.damaged, .damaged-2, …"""
    for number in range(1, 1000):
        copy = path.with_name(path.name + ".damaged" + (f"-{number}" if number > 1 else ""))
        try:
            with open(copy, "xb") as handle:
                handle.write(data)
            return copy
        except FileExistsError:
            continue
        except OSError:
            return None
    return None


def update(path: Path, change: Callable[[dict], dict]) -> tuple[dict, str | None]:
    """Apply ``change`` to the progress as it is on disk now, under the lock, and save it.

    Returns the new state and the warning of a damaged file, if any. Two
    commands that record at once both keep their results.
    """
    with locked(path):
        state, warning = _load_locked(path)
        new = change(state)
        save(path, new)
    return new, warning


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
            json.dump(state, handle, indent=2, allow_nan=False)
        os.replace(tmp, path)
        return True
    except (OSError, ValueError) as exc:
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        print(f"note: progress could not be saved in {path.parent} ({reason})", file=sys.stderr)
        return False


def digests(ws: Workspace, katas: Sequence[Kata]) -> dict[str, str | None]:
    """What each kata's code is now, to compare with what its pass was made of."""
    return {kata.id: code_digest(ws.katas_dir / kata.id) for kata in katas}
