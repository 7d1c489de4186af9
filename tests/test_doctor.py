"""The doctor passes on a working machine and names the failing part, with the one thing to do, on a broken one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import venv

import pytest

from runner import doctor, pins
from tests.conftest import REPO, run_cli

# These run checks on the leg's database, the same on both SQLAlchemy lines: the 2.0 legs run them (tests/conftest.py).
pytestmark = pytest.mark.per_database

MARK = re.compile(r"^(✓|✗|!|-|ok|x) +([^:]+):")
PLAIN = {"ok": "✓", "x": "✗"}  # the marks without runner.render (Python 3.10 without tomli)


def marks(stdout: str) -> dict[str, str]:
    """part -> the mark its line starts with."""
    found = {}
    for line in stdout.splitlines():
        match = MARK.match(line)
        if match:
            found.setdefault(match[2], PLAIN.get(match[1], match[1]))
    return found


def test_the_doctor_passes_here(fixture_ws):
    proc = run_cli(fixture_ws, "doctor")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    found = marks(proc.stdout)
    for part in ("Python", "environment", "database", "a kata's checks", "progress folder", "file events"):
        assert found.get(part) == "✓", (part, proc.stdout)
    assert "kata 01's 1 check passes on its fix" in proc.stdout
    assert "Ready: this laptop runs the katas." in proc.stdout
    # The tests run without a terminal: that is a warning with what to do, not a failure.
    assert found["terminal"] == "!" and "→ run the katas in a terminal window" in proc.stdout


def test_a_database_that_does_not_answer_is_named(fixture_ws):
    url = "postgresql+asyncpg://katas:secret@127.0.0.1:9/nowhere"
    proc = run_cli(fixture_ws, "doctor", env={"KATAS_DATABASE_URL": url})
    assert proc.returncode == 1
    assert marks(proc.stdout)["database"] == "✗"
    assert "KATAS_DATABASE_URL=postgresql+asyncpg://katas:***@127.0.0.1:9/nowhere" in proc.stdout
    assert "secret" not in proc.stdout
    assert "→ start PostgreSQL" in proc.stdout and "unset KATAS_DATABASE_URL" in proc.stdout
    assert marks(proc.stdout)["a kata's checks"] == "-", "what needs the database is skipped, not failed twice"
    assert "1 problem(s): fix them from the top" in proc.stdout


def test_a_database_url_for_another_driver_is_named(fixture_ws):
    proc = run_cli(fixture_ws, "doctor", env={"KATAS_DATABASE_URL": "postgresql://u@127.0.0.1/db"})
    assert proc.returncode == 1 and "the katas run on postgresql+asyncpg://" in proc.stdout


def test_a_python_without_the_environment_is_named(fixture_ws, tmp_path):
    """The wrong Python: a bare virtual environment, as when nox or the kata env was never installed."""
    bare = tmp_path / "bare"
    venv.EnvBuilder(with_pip=False).create(bare)
    python = bare / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env = {**os.environ, "KATAS_HOME": str(fixture_ws.root), "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [str(python), "-m", "runner.doctor"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    # the code that makes `nox -s doctor` install the environment anew (noxfile.py)
    assert proc.returncode == doctor.ENVIRONMENT_BROKEN, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    found = marks(proc.stdout)
    assert found["environment"] == "✗"
    assert "lacks the pinned packages: missing: aiosqlite" in proc.stdout
    assert "python -m nox -s doctor" in proc.stdout
    assert found["database"] == "-" and found["a kata's checks"] == "-"


def test_pins_are_compared_with_what_is_installed():
    expected = {"sqlalchemy": "2.1.9", "aiosqlite": "0.22.1", "greenlet": "3.5.6"}
    installed = {"sqlalchemy": "2.0.1", "greenlet": "3.5.6"}.get
    assert doctor.compare_versions(expected, installed) == (["aiosqlite"], ["sqlalchemy 2.0.1 (pinned: 2.1.9)"])


def test_the_pins_the_doctor_expects_follow_the_markers():
    on_310 = doctor.expected_versions(env={**doctor._env(), "python_version": "3.10"})
    on_312 = doctor.expected_versions(env={**doctor._env(), "python_version": "3.12"})
    assert "tomli" in on_310 and "tomli" not in on_312
    assert on_310["fastapi"] != on_312["fastapi"]
    assert on_312["watchfiles"] == on_310["watchfiles"]


def test_an_old_python_is_named():
    finding = doctor.check_python((3, 9))
    assert finding.status == doctor.FAIL and "3.10 or newer" in finding.detail and "python3.11" in finding.fix
    assert doctor.check_python((3, 14)).status == doctor.WARN


def test_marker_reader_refuses_what_it_does_not_understand():
    assert pins.evaluate('python_version < "3.11"', {"python_version": "3.10"})
    assert not pins.evaluate(
        'python_version >= "3.11" and sys_platform == "win32"', {"python_version": "3.12", "sys_platform": "linux"}
    )
    try:
        pins.evaluate('extra == "asyncio"', {"python_version": "3.10"})
    except pins.PinError:
        pass
    else:
        raise AssertionError("an unknown marker is an error, not a guess")
    assert sys.version_info >= (3, 10)
