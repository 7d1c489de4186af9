"""The wheelhouse plan: every supported Python on every platform a room brings, binary wheels included.

These are fast: they read the plan, they download nothing. The install from
a real wheelhouse with no index is tests/offline_wheelhouse.py, which
`nox -s offline` runs (slow: it downloads, installs, and runs kata-01 offline).
"""

from __future__ import annotations

import re

import pytest

from runner import wheelhouse
from tests.conftest import REPO

# The runner alone, whatever the database and SQLAlchemy: one leg of `nox -s tests` runs these (tests/conftest.py).
pytestmark = pytest.mark.one_leg

BINARY = ("greenlet", "pydantic-core", "asyncpg", "sqlalchemy", "watchfiles")
TARGETS = wheelhouse.targets()


def test_every_supported_python_on_every_platform():
    assert {t.python for t in TARGETS} >= {"3.10", "3.11", "3.12", "3.13"}
    names = {t.platform.name for t in TARGETS}
    assert names == {"linux-x86_64", "linux-aarch64", "macos-x86_64", "macos-arm64", "windows-amd64"}
    assert len(TARGETS) == len(names) * len(wheelhouse.PYTHONS)


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.python}-{t.platform.name}")
def test_each_target_gets_the_katas_nox_and_its_sqlalchemy_lines(target):
    groups = wheelhouse.requirements_for(target)
    specs = {spec.split("==")[0]: spec.split("==")[1] for group in groups for spec in group}
    for name in BINARY + ("nox", "aiosqlite", "pytest", "pytest-asyncio", "fastapi", "httpx", "virtualenv"):
        assert name in specs, f"{name} is missing for {target.label}"
    lines = [s.split("==")[1] for g in groups for s in g if s.startswith("sqlalchemy==")]
    assert len(lines) == (1 if target.python == "3.10" else 2), "2.0 everywhere, 2.1 from Python 3.11"
    assert ("tomli" in specs) == (target.python == "3.10")
    assert all(re.fullmatch(r"[a-z0-9-]+==[\w.]+", s) for g in groups for s in g), "exact pins, markers evaluated"


@pytest.mark.parametrize("target", TARGETS, ids=lambda t: f"{t.python}-{t.platform.name}")
def test_pip_is_asked_for_that_pythons_binary_wheels(target):
    for command in wheelhouse.pip_downloads(target, REPO / "wheelhouse"):
        assert command[3:5] == ["download", "--quiet"]
        assert "--only-binary=:all:" in command and "--no-deps" in command
        assert command[command.index("--python-version") + 1] == target.python
        assert command[command.index("--abi") + 1] == "cp" + target.python.replace(".", "")
        platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
        assert platforms == list(target.platform.tags)


def test_linux_takes_the_oldest_compatible_wheels_first_and_newer_ones_too():
    linux = next(p for p in wheelhouse.PLATFORMS if p.name == "linux-x86_64")
    assert linux.tags[0] == "manylinux2014_x86_64" and "manylinux_2_28_x86_64" in linux.tags  # greenlet: 2_28 only


def test_this_machine_is_one_of_the_targets():
    here = wheelhouse.this_machine()
    assert here.platform in wheelhouse.PLATFORMS or here.platform.name.startswith(("linux", "macos"))


def test_the_guide_shows_the_offline_install():
    guide = (REPO / "docs" / "workshop.md").read_text(encoding="utf-8")
    for needle in ("nox -s wheelhouse", "--no-index", "PIP_NO_INDEX", "PIP_FIND_LINKS", "nox -s kata-01"):
        assert needle in guide
