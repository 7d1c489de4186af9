"""Run a kata's hidden checks against the learner's code: the IO edge of `check`.

The checks run in a child pytest process: a learner's code that hangs can
be stopped at a time limit, and every run imports the code as it is on
disk now.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from runner import processes, results, share, watcher
from runner.catalogue import Kata
from runner.commands._common import UsageError
from runner.workspace import Workspace

RUNNER_HOME = Path(__file__).resolve().parent.parent


class DatabaseSettingError(UsageError):
    """KATAS_DATABASE_URL names a database the checks cannot use: one line, exit 2.

    The hidden checks' conftest judges the setting (it has SQLAlchemy and the
    driver at hand; the runner imports neither) and writes its verdict to the
    file named by KATAS_DATABASE_PROBLEM before it stops pytest.
    """


def syntax_errors(kata_dir: Path) -> list[dict]:
    """Compile every Python file of the kata: a typo is named by file and line, not a crash."""
    problems = []
    for path in sorted(kata_dir.rglob("*.py")):
        try:
            source = path.read_bytes()
            compile(source, str(path), "exec", dont_inherit=True)
        except SyntaxError as exc:
            problems.append(
                {
                    "kind": "syntax",
                    "exception": f"{type(exc).__name__}: {exc.msg}",
                    "location": {
                        "file": path.relative_to(kata_dir).as_posix(),
                        "line": exc.lineno or 0,
                        "function": "",
                        "source": (exc.text or "").strip(),
                    },
                }
            )
        except (OSError, ValueError) as exc:
            problems.append({"kind": "error", "exception": f"cannot read {path.name}: {exc}"})
    return problems


def forget_compiled(kata_dir: Path, prefix: str | None) -> None:
    """Delete every compiled file of the learner's code, so the check imports it from the source.

    A .pyc is trusted when the source's mtime (in whole seconds) and size match:
    two saves within a second can leave a stale one. Python keeps them in
    ``__pycache__`` beside the code, or, under PYTHONPYCACHEPREFIX (``prefix``),
    in a mirror of the source tree there.
    """
    for cache in kata_dir.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    if prefix and os.path.isabs(prefix):  # a relative prefix is under the check's own new folder
        shutil.rmtree(Path(prefix) / kata_dir.relative_to(kata_dir.anchor), ignore_errors=True)


def pytest_command(ws: Workspace, kata: Kata, verbose: bool) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(ws.checks_dir / "pytest.ini"),
        "--rootdir",
        str(ws.checks_dir),
        # First: the check ends when the runner is gone (runner/lifeline.py).
        "-p",
        "runner.lifeline",
        # Only the plugins the checks need: autoloading every installed one costs time.
        "-p",
        "pytest_asyncio.plugin",
        "-p",
        "runner.plugin",
        *(["-v", "--tb=short"] if verbose else ["-q", "--tb=no", "--no-header", "-p", "no:warnings"]),
        str(ws.checks_dir / kata.id),
    ]


# Called about once a second while a check runs: (seconds so far, the limit, the scenario running).
Waiting = Callable[[float, float, "str | None"], None]


def run_checks(
    ws: Workspace,
    kata: Kata,
    kata_dir: Path | None = None,
    timeout: float | None = None,
    verbose: bool = False,
    env: dict[str, str] | None = None,
    on_wait: Waiting | None = None,
    launch: Callable[..., processes.Child] = processes.Child,
) -> results.CheckResult:
    """The verdict on the kata's code in ``kata_dir``. ``launch`` starts each pytest process
    (the repository's meta-tests start them warm: tests/forkserver.py)."""
    kata_dir = (kata_dir or ws.katas_dir / kata.id).resolve()
    if not kata_dir.is_dir():
        return results.CheckResult(status=results.BROKEN, detail=f"{kata_dir} is missing")
    problems = syntax_errors(kata_dir)
    base_env = {**os.environ, **(env or {})}
    forget_compiled(kata_dir, base_env.get("PYTHONPYCACHEPREFIX"))
    if problems:
        return results.CheckResult(status=results.SYNTAX, problems=tuple(problems))
    limit = timeout or kata.timeout
    shares = 1 if verbose else check_shares()
    launched: list[processes.Child] = []
    try:
        with processes.temp_folder() as tmp:
            problem_path = tmp / "database-problem.txt"
            order_path = tmp / "order.json"
            command = pytest_command(ws, kata, verbose)
            children = []
            for index in range(shares):
                # Each its own folder: a learner's stray sqlite file (./app.db) is not shared.
                folder = tmp / f"share-{index}"
                folder.mkdir()
                child_env = checks_env(base_env, ws, kata_dir, folder / "report.json", problem_path, tmp)
                if shares > 1:
                    child_env.update({share.SHARE_VARIABLE: f"{index}/{shares}", share.ORDER_VARIABLE: str(order_path)})
                children.append(([*command, "-p", "runner.share"] if shares > 1 else command, child_env, folder))
            codes = _run_children(children, limit, verbose, on_wait, launched, launch)
            folders = [folder for _, _, folder in children]
            if codes is None:
                _raise_database_problem(problem_path)
                return results.CheckResult(status=results.TIMEOUT, detail=f"{limit:g}", running=_running(folders))
            _raise_database_problem(problem_path)
            reports = [_read(folder / "report.json") for folder in folders]
            parts = [(r, code, _output(f)) for r, code, f in zip(reports, codes, folders, strict=True)]
            report, code, output = watcher.merge_reports(parts, _read(order_path) or [])
            return results.from_report(report, code, output)
    finally:
        if any(child.killed for child in launched):  # killed mid-run, it never dropped its PostgreSQL schema
            processes.sweep_schemas(ws.checks_dir, base_env)


def checks_env(
    base: dict[str, str], ws: Workspace, kata_dir: Path, report: Path, problem: Path, tmp: Path
) -> dict[str, str]:
    """The environment of a pytest process that runs a kata's hidden checks (a check's, or a warm spare's)."""
    return {
        **processes.child_env(base, tmp),
        "KATA_DIR": str(kata_dir),
        "KATAS_CHECKS_DIR": str(ws.checks_dir),
        "KATAS_REPORT": str(report),
        "KATAS_DATABASE_PROBLEM": str(problem),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        # The child imports runner.plugin from this very runner, wherever the katas are.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(RUNNER_HOME), base.get("PYTHONPATH")])),
    }


def check_shares() -> int:
    """How many pytest processes share a check: one per core, at most two (KATAS_CHECK_PROCESSES overrides).

    A check's scenarios take about as long as starting Python and importing
    SQLAlchemy and pytest: on two cores, two processes that each run every
    other scenario give the verdict sooner than one that runs them all.
    """
    raw = os.environ.get("KATAS_CHECK_PROCESSES", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, min(2, os.cpu_count() or 1))


TICK = 1.0  # seconds between two calls of on_wait


def _run_children(
    children: list[tuple[list[str], dict, Path]],
    limit: float,
    verbose: bool,
    on_wait: Waiting | None = None,
    launched: list[processes.Child] | None = None,
    launch: Callable[..., processes.Child] = processes.Child,
) -> list[int] | None:
    """Run the pytest processes side by side: their exit codes, or None when one overran the limit.

    Each writes its output to a file of its folder, never to a pipe, and the
    wait is for the processes themselves: a child that the learner's code
    forked cannot hold the check past its limit. Whatever happens (the limit,
    Ctrl-C, SIGTERM), every process group is killed before this returns, so
    nothing the check started outlives it. ``launched`` receives the processes.
    """
    started = time.monotonic()
    deadline = started + limit
    procs: list[processes.Child] = [] if launched is None else launched
    try:
        for command, child_env, folder in children:
            with open(folder / "output.txt", "wb") as output:  # the child keeps its own copy of the file
                procs.append(launch(command, env=child_env, cwd=folder, stdout=None if verbose else output))
        codes: list[int | None] = [None] * len(procs)
        for index, proc in enumerate(procs):
            while codes[index] is None:
                now = time.monotonic()
                if now >= deadline:
                    break
                codes[index] = proc.wait(min(TICK - (now - started) % TICK, deadline - now))
                if codes[index] is None and on_wait is not None:
                    on_wait(time.monotonic() - started, limit, _running([folder for _, _, folder in children]))
            if codes[index] is None:
                return None
        return [int(code) for code in codes]
    finally:
        for proc in procs:  # the learner's leftovers (a `sleep`, a forked child) end with the check
            proc.kill()


def _running(folders: list[Path]) -> str | None:
    """The scenario a check is in now, from the first report that names one."""
    return next((r.get("running") for r in (_read(f / "report.json") for f in folders) if r and r.get("running")), None)


def _output(folder: Path) -> str:
    try:
        return (folder / "output.txt").read_bytes().decode("utf-8", "replace")
    except OSError:
        return ""


def database_label(environ: dict[str, str] | None = None) -> str:
    """Which database the checks use, as one phrase: never the password."""
    raw = (os.environ if environ is None else environ).get("KATAS_DATABASE_URL", "").strip()
    if not raw or raw.startswith("sqlite"):
        return "SQLite (aiosqlite)"
    if not raw.startswith("postgres"):
        return "the database KATAS_DATABASE_URL names"  # the checks refuse it, in a line of their own
    try:
        parts = urllib.parse.urlsplit(raw)
        host = parts.hostname or "localhost"
        where = f"{host}:{parts.port or 5432}{parts.path or ''}"
    except ValueError:
        return "the database KATAS_DATABASE_URL names"
    return f"PostgreSQL at {where}"


def _raise_database_problem(path: Path) -> None:
    try:
        problem = path.read_text(encoding="utf-8").strip()
    except OSError:
        return
    raise DatabaseSettingError(problem)


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
