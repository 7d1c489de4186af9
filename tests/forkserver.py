"""A warm start for the meta-tests' checks: pytest forked from a process that imported everything first.

The suite runs a kata's hidden checks a few hundred times per leg (every
variant, every start, every solution), and each fresh ``python -m pytest``
spends most of its second importing pytest, SQLAlchemy, FastAPI and the
drivers. Here one process per test worker (the *zygote*) imports them once;
each check is a ``fork()`` of it that sets the check's environment, folder and
``sys.path`` as ``python -m pytest`` would and runs ``pytest.main`` in
process, like watch mode's warm spares (runner/worker.py). What the check
imports from the kata or the checks folder, and ``runner.plugin`` (which
reads the check's environment when imported), is imported after the fork,
from disk.

Nothing else changes: ``execute.run_checks`` builds the command, the
environment and the report exactly as for a learner and only hands the start
to ``ForkChild`` (same interface as ``processes.Child``: its own session and
process group, killed as a group, output to the check's file). The runner's
own process handling is tested on real processes (tests/test_faults.py);
``KATAS_TESTS_FORK=0`` turns this off.

Run as ``python -m tests.forkserver`` it is the zygote: one JSON request per
line on stdin, ``{"pid": …}`` then ``{"exit": …}`` per check on stdout, one
check at a time; end of stdin ends it.
"""

from __future__ import annotations

import atexit
import contextlib
import importlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import warnings
from pathlib import Path

from runner import early, processes, watcher

REPO = Path(__file__).resolve().parent.parent
NOT_PRELOADED = {"runner.plugin"}  # reads KATAS_REPORT and KATA_DIR when imported
PRELOAD = [
    *(name for name in watcher.BASE_PRELOAD if name not in NOT_PRELOADED),
    *watcher.POSTGRES_PRELOAD,
    "pytest_asyncio",
    "sqlalchemy.ext.compiler",
    "sqlalchemy.dialects.postgresql",
    "fastapi",
    "fastapi.testclient",
    "httpx",
    "pydantic",
    "greenlet",
    "implicit_io",
    "implicit_io.recorder",
    "implicit_io.explain",
    "runner.share",
    "runner.lifeline",
]


# --- The test's side -----------------------------------------------------------------------------


class _Zygote:
    """The warm process of this test worker, started on first use."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.forkserver"],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))},
        )
        self.busy = threading.Lock()
        ready = self.proc.stdout.readline()
        if json.loads(ready or "{}").get("ready") is not True:
            raise RuntimeError(f"the fork server did not start: {ready!r}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)


_zygote: _Zygote | None = None


def _get() -> _Zygote:
    global _zygote
    if _zygote is None or not _zygote.alive():
        _zygote = _Zygote()
        atexit.register(_zygote.close)
    return _zygote


class ForkChild:
    """``processes.Child``'s interface, the process forked from the warm zygote."""

    def __init__(self, command: list[str], *, env: dict[str, str], cwd: Path, stdin=None, stdout=None):
        if command[1:3] != ["-m", "pytest"] or stdout is None:
            raise ValueError(f"the fork server runs `python -m pytest` with its output to a file, not {command}")
        self._zygote = _get()
        if not self._zygote.busy.acquire(blocking=False):
            raise RuntimeError("the fork server runs one check at a time")
        self.killed = False
        self.returncode: int | None = None
        self._exited = threading.Event()
        request = {"args": command[3:], "env": env, "cwd": str(cwd), "output": stdout.name}
        self._zygote.proc.stdin.write(json.dumps(request) + "\n")
        self._zygote.proc.stdin.flush()
        self._pid = int(json.loads(self._zygote.proc.stdout.readline())["pid"])
        threading.Thread(target=self._reap, daemon=True, name="fork-reaper").start()

    def _reap(self) -> None:
        try:
            line = self._zygote.proc.stdout.readline()
            self.returncode = int(json.loads(line)["exit"]) if line else -int(signal.SIGKILL)
        finally:
            self._zygote.busy.release()
            self._exited.set()

    @property
    def pid(self) -> int:
        return self._pid

    def poll(self) -> int | None:
        return self.returncode if self._exited.is_set() else None

    def wait(self, seconds: float) -> int | None:
        return self.returncode if self._exited.wait(max(0.0, seconds)) else None

    def kill(self) -> None:
        if not self._exited.is_set():
            self.killed = True
        with contextlib.suppress(OSError):
            os.killpg(self._pid, signal.SIGKILL)
        self._exited.wait(5)


def launcher():
    """How the meta-tests start a check's pytest process: forked warm, where that can be done."""
    if os.environ.get("KATAS_TESTS_FORK", "1") == "0" or not hasattr(os, "fork") or os.name == "nt":
        return processes.Child
    try:
        if _get().busy.locked():
            return processes.Child
    except (OSError, RuntimeError, ValueError):
        return processes.Child
    return ForkChild


# --- The zygote's side: python -m tests.forkserver ------------------------------------------------


def _preload() -> None:
    with warnings.catch_warnings():  # a deprecation on import is the check's to show, not the zygote's
        warnings.simplefilter("ignore")
        for name in PRELOAD:
            with contextlib.suppress(BaseException):  # an optional driver missing: the check imports it or says so
                importlib.import_module(name)
    for name in getattr(importlib.import_module("_pytest.config"), "default_plugins", ()):
        with contextlib.suppress(Exception):
            importlib.import_module(f"_pytest.{name}")


def _run_check(request: dict, base_path: list[str], pycache: str) -> None:
    """In the forked child: become `python -m pytest ARGS` in the check's folder and environment.

    Compiled files go to the zygote's own folder (``pycache``), as watch mode's spares do theirs.
    """
    os.setsid()  # a session and process group of its own, as processes.Child starts one
    output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.close(output)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.environ.clear()
    os.environ.update(request["env"])
    tempfile.tempdir = None  # found again from TMPDIR: the check's own folder (processes.child_env)
    os.chdir(request["cwd"])
    # As `python -m pytest` starts: the folder first, then PYTHONPATH, then the installation's paths.
    extra = [p for p in request["env"].get("PYTHONPATH", "").split(os.pathsep) if p]
    sys.path[:] = [request["cwd"], *extra, *(p for p in base_path if p not in extra)]
    sys.argv = ["pytest", *request["args"]]
    early.compile_into(pycache, Path(request["env"]["KATA_DIR"]))
    import pytest

    code = 1
    try:
        code = int(pytest.main(request["args"]))
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(code)


def serve() -> None:
    own = {str(REPO), os.getcwd(), ""}
    own |= set(filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep)))
    base_path = [p for p in sys.path if p not in own]
    _preload()
    pycache = tempfile.mkdtemp(prefix="forkserver-pycache-")
    atexit.register(shutil.rmtree, pycache, ignore_errors=True)
    protocol = sys.stdout
    protocol.write(json.dumps({"ready": True}) + "\n")
    protocol.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                _run_check(request, base_path, pycache)
            finally:
                os._exit(70)
        protocol.write(json.dumps({"pid": pid}) + "\n")
        protocol.flush()
        _, status = os.waitpid(pid, 0)
        protocol.write(json.dumps({"exit": os.waitstatus_to_exitcode(status)}) + "\n")
        protocol.flush()


if __name__ == "__main__":
    serve()
