"""Warm workers for watch mode: a check that starts with everything but your code already imported.

A fresh ``python -m pytest`` spends most of a second importing SQLAlchemy,
pytest and their friends before it checks anything. Watch mode keeps
*spares*: Python processes that have imported all of that (and whatever
else the hidden checks and the kata import from outside the kata) and then
wait. A save hands the check to a spare, which runs pytest in-process and
exits; a new spare warms up while you read the verdict.

What makes this safe:

* A spare never imports the learner's ``app`` package, nor the hidden checks,
  before its check starts, and it runs one check only: every check imports
  the code as it is on disk then, in a process no earlier save has touched.
* Compiled files of the kata are written to a folder of the watcher's own
  (``sys.pycache_prefix``) and forgotten before each check, so two saves in
  the same second with the same size can never be served from a stale
  ``.pyc``.
* A check runs under the kata's time limit; a spare that hangs is killed,
  one that crashes (``os._exit``, a segfault) gives a "could not run"
  verdict, and either way the next check gets a new spare.
* A check may be shared between several spares (one per core), each running
  every n-th scenario; their reports are merged in the order pytest collected
  them (runner/watcher.py).

The spare's side of this file runs as ``python -m runner.worker``.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from runner import early, execute, processes, results, watcher
from runner.catalogue import Kata
from runner.workspace import Workspace

CONFIG_VARIABLE = "KATAS_WORKER"
ORPHAN_GRACE = 30.0  # seconds past the time limit after which a spare ends itself


def default_shards() -> int:
    """One spare per core, up to two: a third gains little and costs a process to warm."""
    return max(1, min(2, os.cpu_count() or 1))


class Spare:
    """One warm process, waiting for its check."""

    def __init__(
        self,
        ws: Workspace,
        kata_dir: Path,
        preload: list[str],
        pycache: Path,
        index: int,
        shards: int,
        args: list[str] | None = None,
    ):
        self.dir = processes.make_temp("katas-worker-")
        self.report = self.dir / "report.json"
        self.problem = self.dir / "database-problem.txt"
        self.order = self.dir / "order.json"
        self.ready_flag = self.dir / "ready"
        self._output = open(self.dir / "output.txt", "w+b")  # noqa: SIM115 - closed in discard()
        config = {
            "preload": preload,
            "pycache": str(pycache),
            "ready": str(self.ready_flag),
            "order": str(self.order),
            "kata_dir": str(kata_dir),
            "shard": [index, shards],
            "args": args,  # the check's pytest arguments: the spare sets pytest up with them ahead
        }
        env = execute.checks_env(dict(os.environ), ws, kata_dir, self.report, self.problem, self.dir)
        env[CONFIG_VARIABLE] = json.dumps(config)
        # A process group of its own (runner/processes.py): Ctrl-C in the terminal reaches
        # the watcher, which stops the spares itself, and a hung check is killed with
        # everything it started.
        self.child = processes.Child(
            [sys.executable, "-m", "runner.worker"],
            env=env,
            cwd=self.dir,  # a learner's stray sqlite file lands here, not in the repository
            stdin=subprocess.PIPE,
            stdout=self._output,
        )
        self.proc = self.child.proc

    @property
    def killed(self) -> bool:
        return self.child.killed

    @property
    def ready(self) -> bool:
        return self.ready_flag.exists() or self.proc.poll() is not None

    def start(self, args: list[str], timeout: float) -> None:
        try:
            self.proc.stdin.write(json.dumps({"args": args, "timeout": timeout}).encode() + b"\n")
            self.proc.stdin.close()
        except OSError:
            pass  # it died while warming up: its output says why, and the verdict shows it

    def wait(self, seconds: float) -> int | None:
        return self.child.wait(seconds)

    def read_report(self) -> dict | None:
        try:
            return json.loads(self.report.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def read_output(self) -> str:
        try:
            self._output.flush()
            return (self.dir / "output.txt").read_bytes().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def read_order(self) -> list[str]:
        try:
            return json.loads(self.order.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return []

    def read_problem(self) -> str | None:
        try:
            return self.problem.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    def kill(self) -> None:
        """The spare and whatever its check started: a spare that exited may have left a learner's `sleep`."""
        self.child.kill()

    def discard(self) -> None:
        self.kill()
        for stream in (self.proc.stdin, self._output):
            with contextlib.suppress(OSError, ValueError):
                stream.close()
        processes.remove(self.dir)


class WarmChecker:
    """Checks one kata again and again, each time in a spare that was warm before the save.

    ``run()`` blocks until the verdict (call it from one thread at a time);
    ``close()`` may be called from any thread and stops a running check.
    """

    def __init__(
        self,
        ws: Workspace,
        kata: Kata,
        kata_dir: Path | None = None,
        timeout: float | None = None,
        shards: int | None = None,
    ):
        self.ws, self.kata = ws, kata
        self.kata_dir = (kata_dir or ws.katas_dir / kata.id).resolve()
        self.timeout = timeout or kata.timeout
        self.shards = shards or default_shards()
        command = execute.pytest_command(ws, kata, verbose=False)
        self.args = command[command.index("pytest") + 1 :]
        self.pycache = processes.make_temp("katas-pycache-")
        self._lock = threading.Lock()
        self._idle: list[Spare] = []
        self._busy: list[Spare] = []
        self._recyclers: list[threading.Thread] = []
        self._closed = False
        self._cancelled = False
        self._fill()

    # -- spares -------------------------------------------------------------------------

    def _preload(self) -> list[str]:
        folders = [self.ws.checks_dir / self.kata.id, self.kata_dir]
        sources, local = [], set()
        for conftest in (self.ws.checks_dir / "conftest.py",):
            if conftest.is_file():
                sources.append(conftest.read_text(encoding="utf-8", errors="replace"))
        for folder in folders:
            if not folder.is_dir():
                continue
            local |= {p.stem if p.suffix == ".py" else p.name for p in folder.iterdir()}
            for path in folder.rglob("*.py"):
                if "__pycache__" not in path.parts:
                    sources.append(path.read_text(encoding="utf-8", errors="replace"))
        postgres = os.environ.get("KATAS_DATABASE_URL", "").startswith("postgres")
        return watcher.preload_modules(sources, local, postgres=postgres)

    def _fill(self) -> None:
        with self._lock:
            if self._closed or self._idle:
                return
            preload = self._preload()
            self._idle = [
                Spare(self.ws, self.kata_dir, preload, self.pycache, index, self.shards, self.args)
                for index in range(self.shards)
            ]

    def ready(self) -> bool:
        """Every spare is warm (or has died trying, which the next check will show)."""
        with self._lock:
            return bool(self._idle) and all(s.ready for s in self._idle)

    def wait_ready(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready():
                return True
            time.sleep(0.01)
        return False

    # -- checking -----------------------------------------------------------------------

    def run(self) -> results.CheckResult | None:
        """The verdict on the code on disk now; None when cancel() stopped the check."""
        if not self.kata_dir.is_dir():
            return results.CheckResult(status=results.BROKEN, detail=f"{self.kata_dir} is missing")
        problems = execute.syntax_errors(self.kata_dir)
        if problems:
            return results.CheckResult(status=results.SYNTAX, problems=tuple(problems))
        self._fill()
        with self._lock:
            if self._closed:
                return results.CheckResult(status=results.BROKEN, detail="watch mode stopped")
            spares, self._idle = self._idle, []
            self._busy = spares
            self._cancelled = False
        try:
            result = self._check(spares)
            with self._lock:
                return None if self._cancelled else result
        finally:
            with self._lock:
                self._busy = []
            for spare in spares:
                spare.kill()
            # Clearing up and warming the next spares happen after the verdict is out.
            recycler = threading.Thread(target=self._recycle, args=(spares,), daemon=True, name="spares")
            with self._lock:
                self._recyclers = [t for t in self._recyclers if t.is_alive()] + [recycler]
            recycler.start()

    def _recycle(self, used: list[Spare]) -> None:
        for spare in used:
            spare.discard()
        if any(spare.killed for spare in used):  # killed mid-check: its PostgreSQL schema was never dropped
            processes.sweep_schemas(self.ws.checks_dir)
        self._fill()

    def cancel(self) -> None:
        """Stop the running check at once (a save made it stale): run() returns None."""
        with self._lock:
            spares = list(self._busy)
            self._cancelled = bool(spares)
        for spare in spares:
            spare.kill()

    def _check(self, spares: list[Spare]) -> results.CheckResult:
        args = self.args
        for spare in spares:
            spare.start(args, self.timeout)
        deadline = time.monotonic() + self.timeout
        codes = []
        for spare in spares:
            code = spare.wait(deadline - time.monotonic())
            if code is None:
                running = spare.read_report() or {}
                for other in spares:
                    other.kill()
                return results.CheckResult(
                    status=results.TIMEOUT, detail=f"{self.timeout:g}", running=running.get("running")
                )
            codes.append(code)
        problem = next((p for p in (s.read_problem() for s in spares) if p), None)
        if problem:  # KATAS_DATABASE_URL names a database the checks cannot use
            return results.CheckResult(status=results.BROKEN, detail=problem)
        parts = [(s.read_report(), code, s.read_output()) for s, code in zip(spares, codes, strict=True)]
        order = next((o for o in (s.read_order() for s in spares) if o), [])
        report, code, output = watcher.merge_reports(parts, order)
        return results.from_report(report, code, output)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            busy, spares, self._idle = list(self._busy), self._idle + self._busy, []
            recyclers = list(self._recyclers)
        for spare in spares:
            spare.discard()
        if any(spare.killed for spare in busy):  # a check stopped mid-run (watch quit or killed meanwhile)
            processes.sweep_schemas(self.ws.checks_dir)
        for recycler in recyclers:  # the spares of the last check are being cleared up: let that finish
            recycler.join(timeout=10)
        processes.remove(self.pycache)


# --- The spare's side: python -m runner.worker ---------------------------------------------


def _flush_and_leave(exitstatus: int) -> None:
    # The report is written (runner.plugin's own sessionfinish ran first):
    # skip pytest's summary and the interpreter's teardown, and any thread
    # the learner's code left running.
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(int(exitstatus))


def serve() -> None:
    """Warm up, wait for the check, run it, exit."""
    from runner import lifeline  # importing it starts it: only here, in the spare

    lifeline.start()  # the watcher gone (killed, its terminal closed), the spare and its check end
    if hasattr(signal, "SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the watcher decides when a spare stops
    config = json.loads(os.environ[CONFIG_VARIABLE])
    for name in config["preload"]:
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001 - a module that does not import now will be named by the check
            pass
    import pytest

    # pytest's own plugins too: pytest.main imports them before anything else.
    for name in getattr(importlib.import_module("_pytest.config"), "default_plugins", ()):
        with contextlib.suppress(Exception):
            importlib.import_module(f"_pytest.{name}")
    from runner.share import share_plugin

    class Leave:
        """Once runner.plugin wrote its report, the spare leaves at once."""

        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(self, session, exitstatus) -> None:
            _flush_and_leave(exitstatus)

    index, shards = config["shard"]
    plugins = [share_plugin(index, shards, config["order"]), Leave()]
    prepared = _prepare(config.get("args"), plugins)
    Path(config["ready"]).touch()
    line = sys.stdin.readline()
    if not line.strip():
        os._exit(0)  # discarded before it was needed
    job = json.loads(line)
    # The watcher stops a check at its time limit. Should the watcher itself be gone
    # (killed, its terminal closed), a spare stuck in a learner's endless loop still ends.
    watchdog = threading.Timer(float(job.get("timeout") or 60) + ORPHAN_GRACE, os._exit, args=(70,))
    watchdog.daemon = True
    watchdog.start()
    early.compile_into(config["pycache"], Path(config["kata_dir"]))  # the watcher's folder (kata 06: -75 ms)
    if prepared is not None and job["args"] == config.get("args"):
        code = _run_prepared(prepared, job["args"])
    else:
        code = pytest.main(job["args"], plugins=plugins)
    os._exit(int(code))


def _prepare(args: list[str] | None, plugins: list):
    """pytest's configuration as pytest.main() begins it: its plugins registered, ours and the -p ones.

    Nothing of the kata is read yet (its conftests load when the arguments
    are parsed, after the save). Done ahead, it saves the check about 15 ms.
    None if this pytest does not go along: the check then runs pytest.main().
    """
    if not args:
        return None
    try:
        from _pytest.config import get_config

        initial = get_config(args, plugins)
        for plugin in plugins:
            initial.pluginmanager.register(plugin)
        initial.pluginmanager.consider_preparse(args)  # imports and registers the -p plugins
        return initial
    except Exception:  # noqa: BLE001 - an optimisation: without it the check still runs
        return None


def _run_prepared(initial, args: list[str]) -> int:
    """The rest of pytest.main(args): parse the arguments (the conftests load here), run, unconfigure."""
    from _pytest.config import ConftestImportFailure, ExitCode, UsageError, print_conftest_import_error

    os.environ["PYTEST_VERSION"] = importlib.import_module("pytest").__version__
    pluginmanager = initial.pluginmanager
    try:
        config = pluginmanager.hook.pytest_cmdline_parse(pluginmanager=pluginmanager, args=args)
    except ConftestImportFailure as exc:  # runner.plugin has explained it in the report already
        print_conftest_import_error(exc, file=sys.stderr)
        return int(ExitCode.USAGE_ERROR)
    except UsageError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return int(ExitCode.USAGE_ERROR)
    try:
        return int(config.hook.pytest_cmdline_main(config=config))
    finally:
        config._ensure_unconfigure()


if __name__ == "__main__":
    serve()
