"""Run a kata's hidden checks against the learner's code: the IO edge of `check`.

The checks run in a child pytest process: a learner's code that hangs can
be stopped at a time limit, and every run imports the code as it is on
disk now.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from runner import results, share, watcher
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


def pytest_command(ws: Workspace, kata: Kata, verbose: bool) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(ws.checks_dir / "pytest.ini"),
        "--rootdir",
        str(ws.checks_dir),
        # Only the plugins the checks need: autoloading every installed one costs time.
        "-p",
        "pytest_asyncio.plugin",
        "-p",
        "runner.plugin",
        *(["-v", "--tb=short"] if verbose else ["-q", "--tb=no", "--no-header", "-p", "no:warnings"]),
        str(ws.checks_dir / kata.id),
    ]


def run_checks(
    ws: Workspace,
    kata: Kata,
    kata_dir: Path | None = None,
    timeout: float | None = None,
    verbose: bool = False,
    env: dict[str, str] | None = None,
) -> results.CheckResult:
    kata_dir = (kata_dir or ws.katas_dir / kata.id).resolve()
    if not kata_dir.is_dir():
        return results.CheckResult(status=results.BROKEN, detail=f"{kata_dir} is missing")
    problems = syntax_errors(kata_dir)
    # A .pyc is trusted when the source's mtime (in whole seconds) and size match:
    # two saves within a second can leave a stale one. The learner's are always rebuilt.
    for cache in kata_dir.rglob("__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    if problems:
        return results.CheckResult(status=results.SYNTAX, problems=tuple(problems))
    limit = timeout or kata.timeout
    shares = 1 if verbose else check_shares()
    with tempfile.TemporaryDirectory(prefix="katas-") as tmp:
        problem_path = Path(tmp) / "database-problem.txt"
        order_path = Path(tmp) / "order.json"
        base_env = {**os.environ, **(env or {})}
        command = pytest_command(ws, kata, verbose)
        children = []
        for index in range(shares):
            # Each its own folder: a learner's stray sqlite file (./app.db) is not shared.
            folder = Path(tmp) / f"share-{index}"
            folder.mkdir()
            child_env = checks_env(base_env, kata_dir, folder / "report.json", problem_path)
            if shares > 1:
                child_env.update({share.SHARE_VARIABLE: f"{index}/{shares}", share.ORDER_VARIABLE: str(order_path)})
            children.append(([*command, "-p", "runner.share"] if shares > 1 else command, child_env, folder))
        outcomes = _run_children(children, limit, verbose)
        reports = [_read(folder / "report.json") for _, _, folder in children]
        if outcomes is None:
            _raise_database_problem(problem_path)
            running = next((r.get("running") for r in reports if r and r.get("running")), None)
            return results.CheckResult(status=results.TIMEOUT, detail=f"{limit:g}", running=running)
        _raise_database_problem(problem_path)
        parts = [(r, code, out) for r, (code, out) in zip(reports, outcomes, strict=True)]
        report, code, output = watcher.merge_reports(parts, _read(order_path) or [])
        return results.from_report(report, code, output)


def checks_env(base: dict[str, str], kata_dir: Path, report: Path, problem: Path) -> dict[str, str]:
    """The environment of a pytest process that runs a kata's hidden checks (a check's, or a warm spare's)."""
    return {
        **base,
        "KATA_DIR": str(kata_dir),
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


def _run_children(children: list[tuple[list[str], dict, Path]], limit: float, verbose: bool):
    """Run the pytest processes side by side: [(exit code, output)], or None when one overran the limit."""
    procs = [
        subprocess.Popen(
            command,
            cwd=folder,  # keep stray files (a learner's default sqlite file) out of the repo
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=None if verbose else subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        for command, child_env, folder in children
    ]
    outcomes: list[tuple[int, str] | None] = [None] * len(procs)

    def collect(index: int) -> None:
        # communicate() returns the moment the output closes: no polling delay at the end.
        with contextlib.suppress(subprocess.TimeoutExpired):
            output, _ = procs[index].communicate(timeout=limit)
            outcomes[index] = (procs[index].returncode, output or "")

    threads = [threading.Thread(target=collect, args=(i,), daemon=True) for i in range(1, len(procs))]
    for thread in threads:
        thread.start()
    collect(0)
    for thread in threads:
        thread.join()
    if all(outcome is not None for outcome in outcomes):
        return outcomes
    for proc in procs:  # a check that hangs: stop every share, as subprocess.run would
        proc.kill()
    for proc in procs:
        with contextlib.suppress(Exception):
            proc.communicate()
    return None


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
