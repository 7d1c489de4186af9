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
