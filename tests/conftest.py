"""Fixtures for the repository's own tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runner.workspace import Workspace

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The suite already runs one test per core (pytest-xdist): each check it starts runs in one
# process, not split over two as a learner's is (runner/execute.py). Splitting has tests of
# its own, which set KATAS_CHECK_PROCESSES themselves.
os.environ.setdefault("KATAS_CHECK_PROCESSES", "1")

# `nox -s tests` runs the suite four times: SQLite and PostgreSQL, SQLAlchemy 2.0 and 2.1 (the leg is
# "sqlite-2.0" ...). What tests the runner alone, whatever the database and SQLAlchemy, runs on one leg
# (`one_leg`), what depends on the database but not on SQLAlchemy's line on the 2.0 legs (`per_database`):
# 2.0 is the line every supported Python has. Run by hand (no leg), everything runs.
LEG = os.environ.get("KATAS_TESTS_LEG", "")
FIRST_LEG = "sqlite-2.0"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"one_leg: tests the runner alone; runs on the {FIRST_LEG} leg only")
    config.addinivalue_line("markers", "per_database: the same on both SQLAlchemy lines; runs on the 2.0 legs only")
    config.addinivalue_line("markers", "legs(*names): runs on these legs only, unless KATAS_TESTS_FULL=1")
    config.addinivalue_line("markers", "postgres_only: about PostgreSQL itself; runs on the PostgreSQL legs only")
    config.addinivalue_line("markers", "sqlite_case: the SQLite case of a test over databases; on the SQLite legs")


def left_to_other_legs(item: pytest.Item, leg: str) -> bool:
    if not leg:
        return False
    line = leg.rsplit("-", 1)[-1]
    legs = item.get_closest_marker("legs")
    return bool(
        (item.get_closest_marker("one_leg") and leg != FIRST_LEG)
        or (item.get_closest_marker("per_database") and line != "2.0")
        or (legs is not None and leg not in legs.args and os.environ.get("KATAS_TESTS_FULL") != "1")
        or (item.get_closest_marker("postgres_only") and not leg.startswith("postgresql"))
        or (item.get_closest_marker("sqlite_case") and leg.startswith("postgresql"))
    )


def database_params(values: list[str]) -> list:
    """A test's databases (URLs, or names) as parameters: the SQLite one is marked sqlite_case. A PostgreSQL
    leg would run it exactly as the SQLite leg of the same SQLAlchemy line does, so it leaves it to that leg."""
    return [pytest.param(v, marks=pytest.mark.sqlite_case) if v.startswith("sqlite") else v for v in values]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    elsewhere = [item for item in items if left_to_other_legs(item, LEG)]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if not left_to_other_legs(item, LEG)]


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    if LEG and LEG != FIRST_LEG:  # (under xdist the workers deselect: say why here, once)
        where = f"the {FIRST_LEG} leg" + ("" if LEG.endswith("2.0") else ", and per_database ones on the 2.0 legs")
        terminalreporter.write_line(f"leg {LEG}: the tests marked one_leg ran on {where} (tests/conftest.py)")
    if LEG and os.environ.get("KATAS_TESTS_FULL") != "1":
        terminalreporter.write_line(
            f"leg {LEG}: each variant runs on two legs that cover both databases and both "
            "SQLAlchemy lines; KATAS_TESTS_FULL=1 runs them on every leg"
        )


@pytest.fixture
def fixture_ws(tmp_path: Path) -> Workspace:
    """A throwaway workspace holding the fixture katas, with the real hidden-check settings."""
    root = tmp_path / "ws"
    shutil.copytree(FIXTURES / "katas", root / "katas")
    shutil.copytree(FIXTURES / "solutions", root / "solutions")
    shutil.copytree(FIXTURES / "checks", root / "runner" / "checks")
    for name in ("conftest.py", "pytest.ini"):
        shutil.copy(REPO / "runner" / "checks" / name, root / "runner" / "checks" / name)
    return Workspace(root)


def run_cli(
    ws: Workspace, *args: str, env: dict | None = None, stdin: str | None = None
) -> subprocess.CompletedProcess:
    """The real command line, as a learner runs it, against a workspace."""
    full_env = {**os.environ, "KATAS_HOME": str(ws.root), "PYTHONPATH": str(REPO), **(env or {})}
    full_env.pop("NO_COLOR", None) if env is None or "NO_COLOR" not in env else None
    return subprocess.run(
        [sys.executable, "-m", "runner", *args],
        cwd=ws.root,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
