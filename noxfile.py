"""async-sqlalchemy-katas: `nox -l` is the menu.

Learners: `nox` checks the kata you are on; `nox -s kata-01` checks kata 01;
`nox -s kata-01 -- hint` passes `hint` to the runner.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
REQUIREMENTS = ROOT / "requirements"
SQLALCHEMY_LINES = ("2.0", "2.1")
# SQLAlchemy 2.1 needs Python 3.11; on 3.10 the 2.0 line is the only one.
DEFAULT_LINE = os.environ.get("KATAS_SQLALCHEMY") or ("2.1" if sys.version_info >= (3, 11) else "2.0")
KATA_ENV = ROOT / ".nox" / "katas"

nox.options.sessions = ["next"]
nox.options.reuse_venv = "yes"


def _requirements(line: str) -> list[str]:
    """pip arguments for the pinned environment of one SQLAlchemy line."""
    if line not in SQLALCHEMY_LINES:
        raise SystemExit(f"KATAS_SQLALCHEMY={line!r}: choose one of {', '.join(SQLALCHEMY_LINES)}")
    return [
        "-r", str(REQUIREMENTS / "katas.txt"),
        "-r", str(REQUIREMENTS / f"sqlalchemy-{line}.txt"),
        "-c", str(REQUIREMENTS / "constraints.txt"),
    ]  # fmt: skip


def _kata_python(session: nox.Session) -> str:
    """The one environment every kata session shares, installed only when the pins change.

    nox gives each session its own virtualenv; the katas keep one of their own
    so moving on to the next kata installs nothing, and a warm run skips pip.
    """
    scripts = KATA_ENV / ("Scripts" if os.name == "nt" else "bin")
    python = str(scripts / ("python.exe" if os.name == "nt" else "python"))
    args = _requirements(DEFAULT_LINE)
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(REQUIREMENTS.glob("*.txt")):
        digest.update(path.read_bytes())
    digest.update(DEFAULT_LINE.encode())
    stamp = KATA_ENV / "installed.sha256"
    if not Path(python).exists():
        session.log(f"Creating the katas' environment in {KATA_ENV.relative_to(ROOT)} (once)")
        session.run(sys.executable, "-m", "venv", str(KATA_ENV), external=True, silent=True)
    if not stamp.exists() or stamp.read_text() != digest.hexdigest():
        session.log(f"Installing the pinned packages (SQLAlchemy {DEFAULT_LINE})")
        session.run(python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args, external=True)
        stamp.write_text(digest.hexdigest())
    return python


def _runner(session: nox.Session, *args: str) -> None:
    """Run the kata runner in the katas' environment; its own exit code decides the session."""
    python = _kata_python(session)
    code = subprocess.call([python, "-m", "runner", *args], cwd=ROOT)
    if code == 1:
        session.error("not passing yet")
    elif code:
        session.error(f"the runner exited with {code}")


def _kata_session(number: str, title: str):
    def kata(session: nox.Session) -> None:
        # `nox -s kata-01 -- hint` runs `hint 01`; bare options go to check.
        posargs = list(session.posargs)
        command = posargs.pop(0) if posargs and not posargs[0].startswith("-") else "check"
        _runner(session, command, number, *posargs)

    kata.__doc__ = f"Kata {number}: {title}"
    return nox.session(name=f"kata-{number}", python=False, default=False)(kata)


def _title(folder: Path) -> str:
    """The story's heading, `# Kata 01: Title`, as the runner reads it too."""
    readme = folder / "README.md"
    heading = readme.read_text(encoding="utf-8").partition("\n")[0] if readme.is_file() else ""
    return re.sub(r"^#\s*Kata\s+\d+\s*[:.-]\s*", "", heading) or folder.name


for _folder in sorted((ROOT / "katas").glob("[0-9][0-9]-*")):
    _kata_session(_folder.name[:2], _title(_folder))


@nox.session(python=False)
def next(session: nox.Session) -> None:  # noqa: A001 - the session's name is the point
    """Check the first kata you have not finished yet (what plain `nox` runs)."""
    _runner(session, "check", *session.posargs)


@nox.session(python=False, default=False)
def katas(session: nox.Session) -> None:
    """Check every kata and print the progress table."""
    _runner(session, "check", "--all", *session.posargs)


@nox.session(default=False)
@nox.parametrize("sqlalchemy", SQLALCHEMY_LINES, ids=[f"sqlalchemy-{v}" for v in SQLALCHEMY_LINES])
def tests(session: nox.Session, sqlalchemy: str) -> None:
    """The repository's own test suite, on SQLAlchemy 2.0 and 2.1."""
    if sqlalchemy == "2.1" and sys.version_info < (3, 11):
        session.skip("SQLAlchemy 2.1 needs Python 3.11 or newer")
    session.install(*_requirements(sqlalchemy), "-r", str(REQUIREMENTS / "nox.txt"))
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(default=False)
def lint(session: nox.Session) -> None:
    """ruff over the runner, the katas, the solutions and the tests."""
    session.install("-r", str(REQUIREMENTS / "lint.txt"))
    session.run("ruff", "check", *session.posargs, ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Print how long a warm check of kata 01 takes, beside the floor (slow)."""
    python = _kata_python(session)
    env = {"KATAS_NOX_PYTHON": sys.executable}  # so the bench can time `nox -s kata-01` itself
    session.run(python, "-m", "tests.bench", *session.posargs, external=True, env=env)
