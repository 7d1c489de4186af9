"""noxfile.py's katas' environment: uv makes it where uv is installed, pip where not, once per set of pins.

Nothing is installed here: a stand-in session records the commands the
noxfile would run. The real installs are tests/offline_wheelhouse.py's
(`nox -s offline`: uv, then pip, from a wheelhouse with no index).
"""

from __future__ import annotations

import os
import sys
import types

import nox.command
import pytest

import noxfile
from runner import wheelhouse

# The runner alone, whatever the database and SQLAlchemy: one leg of `nox -s tests` runs these (tests/conftest.py).
pytestmark = pytest.mark.one_leg

UV = "/opt/uv/bin/uv"


def python_in(env):
    return env / "Scripts" / "python.exe" if os.name == "nt" else env / "bin" / "python"


class SessionError(Exception):
    """session.error(): nox ends the session with this message."""


class Session:
    """What _kata_python asks of a nox session: it records the commands, and a venv command makes the python."""

    def __init__(self, env, failing: str | None = None):
        self.env, self.failing = env, failing
        self.commands: list[list[str]] = []
        self.logs: list[str] = []

    def log(self, message: str) -> None:
        self.logs.append(message)

    def error(self, message: str) -> None:
        raise SessionError(message)

    def run(self, *command: str, external: bool = False, silent: bool = False) -> None:
        assert external, "the katas' environment is not the session's: nox must not warn about it"
        self.commands.append(list(command))
        if command[0] == self.failing:
            raise nox.command.CommandFailed("failed")
        if "venv" in command[:3]:
            python_in(self.env).parent.mkdir(parents=True, exist_ok=True)
            python_in(self.env).write_text("")


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setattr(noxfile, "ROOT", tmp_path)
    monkeypatch.setattr(noxfile, "KATA_ENV", tmp_path / ".nox" / "katas")
    for name in ("PIP_NO_INDEX", "PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path / ".nox" / "katas"


def test_uv_makes_the_environment_where_it_is_installed(env, monkeypatch):
    monkeypatch.setattr(noxfile, "_uv", lambda: UV)
    session = Session(env)
    python = noxfile._kata_python(session)
    assert python == str(python_in(env))
    venv, install = session.commands
    assert venv == [UV, "venv", "--quiet", "--clear", "--python", sys.executable, str(env)]
    assert install[:3] == [UV, "pip", "install"] and install[install.index("--python") + 1] == python
    assert "--compile-bytecode" in install, "a check on a machine that writes no .pyc must not compile SQLAlchemy"
    assert install[-6:] == noxfile._requirements(noxfile.DEFAULT_LINE)
    assert any("with uv" in line for line in session.logs)
    assert (env / "installed.sha256").read_text() == noxfile.pins_digest()


def test_pip_makes_it_where_uv_is_not(env, monkeypatch):
    monkeypatch.setattr(noxfile, "_uv", lambda: None)
    session = Session(env)
    python = noxfile._kata_python(session)
    assert session.commands == [
        [sys.executable, "-m", "venv", "--clear", str(env)],
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        + noxfile._requirements(noxfile.DEFAULT_LINE),
    ]
    assert any("with pip" in line for line in session.logs)
    assert (env / "installed.sha256").read_text() == noxfile.pins_digest()


def test_an_environment_installed_once_is_reused_until_the_pins_change(env, monkeypatch):
    monkeypatch.setattr(noxfile, "_uv", lambda: UV)
    noxfile._kata_python(Session(env))
    again = Session(env)
    noxfile._kata_python(again)
    assert again.commands == [] and again.logs == []

    (env / "installed.sha256").write_text("the pins of last week")
    changed = Session(env)
    noxfile._kata_python(changed)
    assert [command[:2] for command in changed.commands] == [[UV, "venv"], [UV, "pip"]]
    assert (env / "installed.sha256").read_text() == noxfile.pins_digest()


def test_pip_installs_when_uv_cannot(env, monkeypatch):
    monkeypatch.setattr(noxfile, "_uv", lambda: UV)
    session = Session(env, failing=UV)
    python = noxfile._kata_python(session)
    assert [command[0] for command in session.commands] == [UV, sys.executable, python]
    assert session.commands[-1][1:4] == ["-m", "pip", "install"]
    assert any("pip tries" in line for line in session.logs)
    assert (env / "installed.sha256").read_text() == noxfile.pins_digest()


def test_a_failed_install_leaves_no_stamp(env, monkeypatch):
    monkeypatch.setattr(noxfile, "_uv", lambda: None)
    python = str(python_in(env))
    with pytest.raises(nox.command.CommandFailed):
        noxfile._kata_python(Session(env, failing=python))
    assert not (env / "installed.sha256").exists(), "the next run must install again"


def test_uv_gets_the_offline_rooms_pip_settings():
    room = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": "/media/usb/wheelhouse /opt/more"}
    assert noxfile._uv_index(room) == [
        "--no-index", "--find-links", "/media/usb/wheelhouse", "--find-links", "/opt/more",
    ]  # fmt: skip
    mirror = {"PIP_INDEX_URL": "https://mirror/simple", "PIP_EXTRA_INDEX_URL": "https://extra/simple"}
    assert noxfile._uv_index(mirror) == [
        "--index-url",
        "https://mirror/simple",
        "--extra-index-url",
        "https://extra/simple",
    ]
    assert noxfile._uv_index({"PIP_NO_INDEX": "0"}) == []
    assert noxfile._uv_index({}) == []


def test_uv_is_the_one_installed_beside_nox_else_on_path(monkeypatch):
    monkeypatch.setitem(sys.modules, "uv", types.SimpleNamespace(find_uv_bin=lambda: "/venv/bin/uv"))
    monkeypatch.setattr(noxfile.shutil, "which", lambda name: "/usr/bin/uv")
    assert noxfile._uv() == "/venv/bin/uv"
    monkeypatch.setitem(sys.modules, "uv", None)  # not installed: importing it fails
    assert noxfile._uv() == "/usr/bin/uv"
    monkeypatch.setattr(noxfile.shutil, "which", lambda name: None)
    assert noxfile._uv() is None


@pytest.mark.parametrize("target", wheelhouse.targets(), ids=lambda t: f"{t.python}-{t.platform.name}")
def test_the_wheelhouse_carries_uv_for_every_laptop(target):
    # requirements/nox.txt installs uv beside nox: a room without a network needs its wheel too.
    specs = [spec for group in wheelhouse.requirements_for(target) for spec in group]
    assert any(spec.startswith("uv==") for spec in specs)


def test_the_doctor_installs_a_broken_environment_anew_and_looks_again(env, monkeypatch):
    """Its Fix says `nox -s doctor` installs the environment anew: true also when the pins did not change."""
    from runner import doctor

    assert noxfile.DOCTOR_ENVIRONMENT_BROKEN == doctor.ENVIRONMENT_BROKEN
    monkeypatch.setattr(noxfile, "_uv", lambda: UV)
    noxfile._kata_python(Session(env))  # installed once: its stamp matches the pins
    looks = iter([doctor.ENVIRONMENT_BROKEN, 0])  # a package went missing; after the install, all is well
    calls: list[list[str]] = []
    monkeypatch.setattr(noxfile.subprocess, "call", lambda command, cwd: calls.append(command) or next(looks))
    session = Session(env)
    noxfile.doctor(session)
    assert [command[:2] for command in session.commands] == [[UV, "venv"], [UV, "pip"]], "made anew"
    assert [command[1:] for command in calls] == [["-m", "runner.doctor"]] * 2
    assert (env / "installed.sha256").read_text() == noxfile.pins_digest()

    # still broken after the install: the session fails, once, and says so
    looks = iter([doctor.ENVIRONMENT_BROKEN, doctor.ENVIRONMENT_BROKEN])
    with pytest.raises(SessionError, match="the doctor found problems"):
        noxfile.doctor(Session(env))
