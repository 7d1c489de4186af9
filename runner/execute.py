"""Run a kata's hidden checks against the learner's code: the IO edge of `check`.

The checks run in a child pytest process: a learner's code that hangs can
be stopped at a time limit, and every run imports the code as it is on
disk now.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from runner import results
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
    with tempfile.TemporaryDirectory(prefix="katas-") as tmp:
        report_path = Path(tmp) / "report.json"
        problem_path = Path(tmp) / "database-problem.txt"
        child_env = {
            **os.environ,
            **(env or {}),
            "KATA_DIR": str(kata_dir),
            "KATAS_REPORT": str(report_path),
            "KATAS_DATABASE_PROBLEM": str(problem_path),
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            # The child imports runner.plugin from this very runner, wherever the katas are.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(RUNNER_HOME), os.environ.get("PYTHONPATH")])),
        }
        try:
            proc = subprocess.run(
                pytest_command(ws, kata, verbose),
                cwd=tmp,  # keep stray files (a learner's default sqlite file) out of the repo
                env=child_env,
                stdin=subprocess.DEVNULL,
                stdout=None if verbose else subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=limit,
            )
        except subprocess.TimeoutExpired:
            _raise_database_problem(problem_path)
            running = (_read(report_path) or {}).get("running")
            return results.CheckResult(status=results.TIMEOUT, detail=f"{limit:g}", running=running)
        _raise_database_problem(problem_path)
        return results.from_report(_read(report_path), proc.returncode, proc.stdout or "")


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
