"""The README's first screen gives the two commands, and CI runs the second one."""

from __future__ import annotations

import pytest

from tests.katas import WS

# The runner alone, whatever the database and SQLAlchemy: one leg of `nox -s tests` runs these (tests/conftest.py).
pytestmark = pytest.mark.one_leg

README = (WS.root / "README.md").read_text(encoding="utf-8")
FIRST_SCREEN = "\n".join(README.splitlines()[:25])


def test_first_screen_has_the_two_commands():
    assert "python -m nox -s kata-01   # run kata 01" in FIRST_SCREEN
    assert "python -m nox -s tests     # the whole test suite" in FIRST_SCREEN
    assert "requirements/nox.txt" in FIRST_SCREEN


def test_ci_runs_the_readmes_test_command():
    ci = (WS.root / ".ci" / "run").read_text(encoding="utf-8")
    assert "grep -m1 '# the whole test suite' README.md" in ci


def test_nox_pins_itself():
    pins = (WS.root / "requirements" / "constraints.txt").read_text(encoding="utf-8")
    assert "\nnox==" in pins
