"""`nox -s bench`: how long a learner waits, beside the floor, in one run.

The floor is a Python process of the same environment that only imports
sqlalchemy.ext.asyncio, aiosqlite and pytest. Figures are medians of
repeated runs, printed with their ratio to the floor; nothing here passes
or fails on time (these machines are noisy).

The same warm check runs on SQLite and, when one answers, on PostgreSQL: the
one KATAS_DATABASE_URL names, else the development machines' own
(postgresql+asyncpg://postgres@127.0.0.1:5432/test).

Then the explainer's cost on passing suites (tests/bench_explain.py) and watch
mode's time from a save to the verdict (tests/bench_watch.py);
`--parts check,explain,watch` picks which.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FLOOR = "import sqlalchemy.ext.asyncio, aiosqlite, pytest"
POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_url() -> str:
    url = os.environ.get("KATAS_DATABASE_URL", "").strip()
    return url if url.startswith("postgresql") else POSTGRES_URL


def postgres_problem(command: list[str], env: dict, cwd: Path) -> str | None:
    """Why the check cannot run on PostgreSQL (the runner's own line), or None."""
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    return proc.stderr.strip().splitlines()[-1] if proc.returncode not in (0, 1) else None


def medians(rows: list[tuple[str, list[str], dict]], runs: int, cwd: Path) -> list[tuple[str, float]]:
    """Each command's median wall time. Runs are interleaved (one of each, then again), so a
    machine that speeds up or slows down during the bench moves every figure alike."""
    for _, command, env in rows:  # warm the OS and .pyc caches
        subprocess.run(command, env=env, cwd=cwd, capture_output=True)
    times: list[list[float]] = [[] for _ in rows]
    for _ in range(runs):
        for index, (_, command, env) in enumerate(rows):
            start = time.perf_counter()
            subprocess.run(command, env=env, cwd=cwd, capture_output=True)
            times[index].append(time.perf_counter() - start)
    return [(label, statistics.median(t)) for (label, _, _), t in zip(rows, times, strict=True)]


def scratch_workspace(target: Path, kata: str) -> Path:
    """A copy of one kata and the runner's checks, so measuring records no progress of yours."""
    shutil.copytree(REPO / "katas" / kata, target / "katas" / kata)
    shutil.copytree(REPO / "runner" / "checks", target / "runner" / "checks")
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--kata", default="01-command-center")
    parser.add_argument(
        "--parts",
        default="check,explain,watch",
        help="which figures, comma-separated: check (the runner and nox), explain (the explainer's cost), watch",
    )
    args = parser.parse_args()
    parts = set(args.parts.split(","))
    if "check" in parts:
        bench_check(args)
    if "explain" in parts:
        from tests import bench_explain

        runs = min(args.runs, 5)
        print(f"\nthe explainer (pytest -p implicit_io.plugin) on passing suites, median of {runs} runs:")
        _rows(bench_explain.measure(runs))
    if "watch" in parts:
        from tests import bench_watch

        print(
            "\nwatch mode, from a save to the verdict on screen (targets: median within 150 ms, 2 workers; 250 ms, 1):"
        )
        _rows(bench_watch.measure(args.runs, args.kata))


def _rows(rows: list[tuple[str, float]]) -> None:
    width = max(len(label) for label, _ in rows)
    for label, seconds in rows:
        print(f"  {label:<{width}} {seconds * 1000:7.0f} ms", flush=True)


def bench_check(args: argparse.Namespace) -> None:
    number = args.kata[:2]
    with tempfile.TemporaryDirectory() as tmp:
        ws = scratch_workspace(Path(tmp), args.kata)
        env = {**os.environ, "KATAS_HOME": str(ws), "NO_COLOR": "1"}
        env.pop("KATAS_DATABASE_URL", None)  # SQLite
        on_postgres = {**env, "KATAS_DATABASE_URL": postgres_url()}
        check = [sys.executable, "-m", "runner", "check", number]
        rows = [("floor: import sqlalchemy.ext.asyncio, aiosqlite, pytest", [sys.executable, "-c", FLOOR], env)]
        rows.append((f"warm check {number} on SQLite (python -m runner check)", check, env))
        skipped = postgres_problem(check, on_postgres, REPO)
        if not skipped:
            rows.append((f"warm check {number} on PostgreSQL (KATAS_DATABASE_URL=…)", check, on_postgres))
        nox_python = os.environ.get("KATAS_NOX_PYTHON")
        if nox_python:
            rows.append((f"warm nox -s kata-{number}", [nox_python, "-m", "nox", "-s", f"kata-{number}"], env))
        results = medians(rows, args.runs, REPO)
    floor = results[0][1]
    print(f"median of {args.runs} runs, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        # The runner's own modules and the hidden checks' rewritten asserts are then compiled in every
        # check; a laptop that writes .pyc files (the default) reads them back: run the bench without it too.
        print("  PYTHONDONTWRITEBYTECODE is set here: no .pyc written (as in CI); a learner's default writes them")
    for label, seconds in results:
        print(f"  {label:<58} {seconds * 1000:7.0f} ms  {seconds / floor:4.2f}x floor")
    if skipped:
        print(f"  PostgreSQL: not measured: {skipped}")
    print(
        "targets: a warm check within 1.5x the floor, warm nox -s kata-01 within 2x, a check on PostgreSQL within 2.5x"
    )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
