"""Run a kata's hidden checks against the learner's code: the IO edge of `check`.

The checks run in a child pytest process: a learner's code that hangs can
be stopped at a time limit, and every run imports the code as it is on
disk now.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

from runner import early, processes, results, watcher
from runner.catalogue import Kata
from runner.commands._common import UsageError
from runner.workspace import Workspace


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


forget_compiled = early.forget_compiled


def pytest_command(ws: Workspace, kata: Kata, verbose: bool) -> list[str]:
    return early.pytest_command(ws.checks_dir, kata.id, verbose)


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
    limit = timeout or kata.timeout
    shares = 1 if verbose else check_shares()

    def specs_for(tmp: Path) -> list[early.Spec]:
        return early.children(ws.checks_dir, kata.id, kata_dir, verbose, base_env, tmp, shares)

    # Started by runner/__main__.py before the runner's own imports, if they are what we would start.
    started = early.take(kata_dir, specs_for, usable=not problems and launch is processes.Child)
    if started is None:
        forget_compiled(kata_dir, base_env.get("PYTHONPYCACHEPREFIX"))
    if problems:
        return results.CheckResult(status=results.SYNTAX, problems=tuple(problems))
    launched: list[processes.Child] = list(started.procs) if started else []
    try:
        with _check_folder(started) as tmp:
            problem_path = tmp / "database-problem.txt"
            order_path = tmp / "order.json"
            children = started.specs if started else specs_for(tmp)
            codes = _run_children(children, limit, verbose, on_wait, launched, None if started else launch)
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


@contextlib.contextmanager
def _check_folder(started: early.Prestarted | None) -> Iterator[Path]:
    """The check's temporary folder: a new one, or the one its processes were started ahead in."""
    if started is None:
        with processes.temp_folder() as tmp:
            yield tmp
        return
    try:
        yield started.folder
    finally:
        processes.remove(started.folder)


def checks_env(
    base: dict[str, str], ws: Workspace, kata_dir: Path, report: Path, problem: Path, tmp: Path
) -> dict[str, str]:
    """The environment of a pytest process that runs a kata's hidden checks (a check's, or a warm spare's)."""
    return early.checks_env(base, ws.checks_dir, kata_dir, report, problem, tmp)


check_shares = early.check_shares


TICK = 1.0  # seconds between two calls of on_wait


def _run_children(
    children: list[tuple[list[str], dict, Path]],
    limit: float,
    verbose: bool,
    on_wait: Waiting | None = None,
    launched: list[processes.Child] | None = None,
    launch: Callable[..., processes.Child] | None = processes.Child,
) -> list[int] | None:
    """Run the pytest processes side by side: their exit codes, or None when one overran the limit.

    Each writes its output to a file of its folder, never to a pipe, and the
    wait is for the processes themselves: a child that the learner's code
    forked cannot hold the check past its limit. Whatever happens (the limit,
    Ctrl-C, SIGTERM), every process group is killed before this returns, so
    nothing the check started outlives it. ``launched`` receives the processes
    (``launch`` None: it holds them already, started ahead by runner/early.py).
    """
    started = time.monotonic()
    deadline = started + limit
    procs: list[processes.Child] = [] if launched is None else launched
    try:
        if launch is not None:
            procs += early.launch(children, verbose, launch)
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
