"""The processes and temporary folders a check uses, and how none of them outlives it.

* Each pytest process of a check (and each warm spare of watch mode) starts
  in a process group of its own: at the time limit, when the check ends, or
  when the runner is stopped, the whole group is killed, with whatever the
  learner's code started (a forked child, a ``subprocess.Popen(['sleep', …])``).
* A check's output goes to a file, never a pipe: a child the learner's code
  forked may hold a pipe open forever, but cannot make the runner wait on it.
* The child knows its parent's pid (``KATAS_PARENT_PID``): runner/lifeline.py
  ends it and its group when the runner is gone, whatever killed the runner.
* Temporary folders carry their owner's pid: those of runs that died (kill -9,
  a closed laptop lid) are swept by the next run.
* SIGTERM and SIGHUP stop the runner the way Ctrl-C does, so its clean-up runs.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

PARENT_VARIABLE = "KATAS_PARENT_PID"
PREFIX = "katas-"  # every temporary folder of the runner's: katas-, katas-worker-, katas-pycache-, …
OWNER_FILE = ".katas-owner"
POSIX = os.name != "nt"


class Stopped(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: unwind like Ctrl-C, so every clean-up runs."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _stop(signum, frame) -> None:
    raise Stopped(signum)


def stop_on_signals() -> None:
    """SIGTERM and SIGHUP (a closed terminal) end the runner through its clean-up, as Ctrl-C does.

    Ctrl-C too, even when the parent (nox) ignores it and we inherited that.
    """
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.default_int_handler)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            with contextlib.suppress(ValueError, OSError):  # not the main thread: leave them
                signal.signal(getattr(signal, name), _stop)


def exit_code(exc: KeyboardInterrupt) -> int:
    """The shell's code for a process ended by a signal: 130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP."""
    return 128 + getattr(exc, "signum", signal.SIGINT)


# --- Processes ----------------------------------------------------------------------------------


def popen_options() -> dict:
    """A process group of its own: killed as a whole, and out of reach of the terminal's Ctrl-C,
    which the runner answers itself by killing the group."""
    if POSIX:
        return {"start_new_session": True}
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}


def child_env(base: dict[str, str], tmp: Path) -> dict[str, str]:
    """What every child of a check gets: its parent's pid, and temporary files inside the check's folder."""
    env = {**base, PARENT_VARIABLE: str(os.getpid())}
    # pytest's tmp_path (pytest-of-<user>/pytest-N, with the SQLite files) and any
    # temporary file of the learner's code land in the check's folder, removed with it.
    for name in ("TMPDIR", "TEMP", "TMP"):
        env[name] = str(tmp)
    return env


class Child:
    """A process in a group of its own, whose exit a thread learns of at once."""

    def __init__(self, command: list[str], *, env: dict[str, str], cwd: Path, stdin=None, stdout=None):
        self.proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL if stdin is None else stdin,
            stdout=stdout,
            stderr=subprocess.STDOUT if stdout is not None else None,
            **popen_options(),
        )
        # A thread blocked in wait() learns of the exit at once; Popen.wait(timeout)
        # polls with sleeps of up to 50 ms, which the learner would wait for.
        self._exited = threading.Event()
        self.killed = False
        threading.Thread(target=self._reap, daemon=True, name="reaper").start()

    def _reap(self) -> None:
        try:
            self.proc.wait()
        finally:
            self._exited.set()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    def wait(self, seconds: float) -> int | None:
        """The exit code, or None if it is still running after ``seconds``."""
        if self._exited.wait(max(0.0, seconds)):
            return self.proc.returncode
        return None

    def kill(self) -> None:
        """Kill the process and everything in its group; a group already gone is no error."""
        if self.proc.poll() is None:
            self.killed = True
        kill_group(self.proc)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL to the process group a child leads: it, and what it started and left running."""
    if not POSIX:
        with contextlib.suppress(OSError):
            proc.kill()
        return
    # The group outlives its leader while a member lives (a learner's `sleep`), and its
    # id is not handed to a new process meanwhile: killing it after the leader exited is safe.
    with contextlib.suppress(OSError):
        os.killpg(proc.pid, signal.SIGKILL)


# --- Temporary folders --------------------------------------------------------------------------


def make_temp(prefix: str) -> Path:
    """A new temporary folder with its owner's pid in it, after sweeping those of runs that died."""
    sweep_temp()
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    with contextlib.suppress(OSError):
        (folder / OWNER_FILE).write_text(str(os.getpid()), encoding="ascii")
    return folder


@contextlib.contextmanager
def temp_folder(prefix: str = PREFIX) -> Iterator[Path]:
    folder = make_temp(prefix)
    try:
        yield folder
    finally:
        remove(folder)


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)


def alive(pid: int) -> bool:
    if not POSIX:
        return True  # os.kill(pid, 0) is a Ctrl-C event on Windows: never sweep there
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process: alive, and not ours to judge
    return True


_swept: set[str] = set()


def sweep_temp(root: Path | None = None) -> list[Path]:
    """Remove the runner's temporary folders whose owner process is gone (once per process and folder)."""
    base = Path(root or tempfile.gettempdir())
    if str(base) in _swept:
        return []
    _swept.add(str(base))
    removed = []
    try:
        entries = [p for p in base.iterdir() if p.name.startswith(PREFIX)]
    except OSError:
        return removed
    for folder in entries:
        try:
            owner = int((folder / OWNER_FILE).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            continue  # not one of ours, or one being made right now
        if owner != os.getpid() and not alive(owner):
            remove(folder)
            removed.append(folder)
    return removed


# --- PostgreSQL schemas of checks that were killed ----------------------------------------------


def postgres_configured(environ: dict[str, str] | None = None) -> bool:
    return (environ or os.environ).get("KATAS_DATABASE_URL", "").strip().startswith("postgres")


def sweep_schemas(checks_dir: Path, env: dict[str, str] | None = None, detach: bool = False) -> None:
    """Drop the schemas a killed check left on PostgreSQL (runner/sweep.py), within a few seconds.

    A check killed at its time limit (or with the runner) never tears down;
    the hidden checks' conftest knows which schemas belong to nobody.
    """
    env = dict(os.environ if env is None else env)
    if not postgres_configured(env):
        return
    command = [sys.executable, "-m", "runner.sweep", str(checks_dir)]
    runner_home = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [runner_home, env.get("PYTHONPATH")]))
    env.pop(PARENT_VARIABLE, None)
    try:
        proc = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **popen_options(),
        )
    except OSError:
        return
    if detach:
        return
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        kill_group(proc)
