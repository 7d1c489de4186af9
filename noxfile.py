"""async-sqlalchemy-katas: `nox -l` is the menu.

Learners: `nox` checks the kata you are on; `nox -s kata-01` checks kata 01;
`nox -s kata-01 -- hint` passes `hint` to the runner.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

import nox

ROOT = Path(__file__).parent
REQUIREMENTS = ROOT / "requirements"
SQLALCHEMY_LINES = ("2.0", "2.1")
# SQLAlchemy 2.1 needs Python 3.11; on 3.10 the 2.0 line is the only one.
DEFAULT_LINE = os.environ.get("KATAS_SQLALCHEMY") or ("2.1" if sys.version_info >= (3, 11) else "2.0")
KATA_ENV = ROOT / ".nox" / "katas"
DOCTOR_ENVIRONMENT_BROKEN = 3  # runner/doctor.py's ENVIRONMENT_BROKEN: nox runs without the runner's imports

nox.options.sessions = ["next"]
nox.options.reuse_venv = "yes"
# uv (requirements/nox.txt) makes the sessions' environments in a fraction of virtualenv's and pip's time.
nox.options.default_venv_backend = "uv|virtualenv"
# pip compiles what it installs, uv only when asked: without .pyc files, on a machine that writes
# none (PYTHONDONTWRITEBYTECODE, as CI), every check would compile SQLAlchemy and pytest anew.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
# nox looks for uv at every run and logs its absence; without uv, virtualenv and pip do the work, so that line is noise.
logging.getLogger("nox").addFilter(lambda record: record.getMessage() != "uv binary not found.")


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
    so moving on to the next kata installs nothing, and a warm run installs
    nothing either. uv makes it where requirements/nox.txt installed uv, pip
    elsewhere, and pip again should uv fail (a proxy or mirror only pip's
    configuration names).
    """
    scripts = KATA_ENV / ("Scripts" if os.name == "nt" else "bin")
    python = str(scripts / ("python.exe" if os.name == "nt" else "python"))
    stamp = KATA_ENV / "installed.sha256"
    if Path(python).exists() and stamp.exists() and stamp.read_text() == pins_digest():
        return python
    if not Path(python).exists():
        session.log(f"Creating the katas' environment in {KATA_ENV.relative_to(ROOT)} (once)")
    args = _requirements(DEFAULT_LINE)
    uv = _uv()
    for installer in [uv, None] if uv else [None]:
        session.log(f"Installing the pinned packages with {'uv' if installer else 'pip'} (SQLAlchemy {DEFAULT_LINE})")
        try:
            for index, command in enumerate(_install_commands(installer, python, args, os.environ)):
                session.run(*command, external=True, silent=index == 0)  # making a venv says nothing to read
            break
        except nox.command.CommandFailed:
            if not installer:
                raise
            session.log("uv could not install them (its words are above): pip tries")
    if Path(python).exists():  # `nox --install-only` logs the commands without running them
        stamp.write_text(pins_digest())
    return python


def _uv() -> str | None:
    """uv's executable: the one installed beside nox (requirements/nox.txt), else one on PATH; None: pip."""
    try:
        from uv import find_uv_bin

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _install_commands(uv: str | None, python: str, args: list[str], environ: Mapping[str, str]) -> list[list[str]]:
    """The commands that make the katas' environment anew (its ``python``) and install ``args`` in it.

    Anew each time: an environment uv made has no pip, and old pins leave nothing behind.
    """
    if uv:
        return [
            [uv, "venv", "--quiet", "--clear", "--python", sys.executable, str(KATA_ENV)],
            # .pyc files now, as pip makes them (UV_COMPILE_BYTECODE above says why).
            [uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", python, *_uv_index(environ), *args],
        ]
    return [
        [sys.executable, "-m", "venv", "--clear", str(KATA_ENV)],
        [python, "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
    ]


def _uv_index(environ: Mapping[str, str]) -> list[str]:
    """pip's index settings from the environment, as uv's options: uv reads no PIP_ variable.

    docs/workshop.md's room without a network sets PIP_NO_INDEX and PIP_FIND_LINKS.
    """
    options = []
    if environ.get("PIP_NO_INDEX", "").strip().lower() in ("1", "true", "yes", "on"):
        options.append("--no-index")
    if environ.get("PIP_INDEX_URL", "").strip():
        options += ["--index-url", environ["PIP_INDEX_URL"].strip()]
    for name, option in (("PIP_EXTRA_INDEX_URL", "--extra-index-url"), ("PIP_FIND_LINKS", "--find-links")):
        for value in environ.get(name, "").split():  # pip splits these lists on whitespace
            options += [option, value]
    return options


def pins_digest() -> str:
    """What the katas' environment was installed from: this Python, the pins, the SQLAlchemy line."""
    digest = hashlib.sha256(sys.version.encode())
    for path in sorted(REQUIREMENTS.glob("*.txt")):
        digest.update(path.read_bytes())
    digest.update(DEFAULT_LINE.encode())
    return digest.hexdigest()


def _call_runner(python: str, *args: str, kata: str = "") -> int:
    """The runner, its exit code; Ctrl-C is the runner's to answer (it stops its checks and cleans up).

    Left to nox, Ctrl-C would kill the runner outright, leaving its checks and
    temporary folders behind. ``kata``: the session's kata, for a command the
    learner names without one (`nox -s kata-01 -- hint`).
    """
    env = {**os.environ, "KATAS_SESSION_KATA": kata} if kata else None
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return subprocess.call([python, "-m", "runner", *args], cwd=ROOT, env=env)
    finally:
        signal.signal(signal.SIGINT, previous)


def _runner(session: nox.Session, *args: str, kata: str = "") -> None:
    """Run the kata runner in the katas' environment; its own exit code decides the session."""
    python = _kata_python(session)
    code = _call_runner(python, *args, kata=kata)
    if code == 1:
        session.error("not passing yet")
    elif code:
        session.error(f"the runner exited with {code}")


def _kata_session(number: str, title: str):
    def kata(session: nox.Session) -> None:
        # `nox -s kata-01 -- hint` runs `hint 01`, `-- list` runs `list`; bare options go to check.
        posargs = list(session.posargs)
        command = posargs.pop(0) if posargs and not posargs[0].startswith("-") else "check"
        _runner(session, command, *posargs, kata=number)

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


DATABASES = ("sqlite", "postgresql")
# The PostgreSQL the tests run on when KATAS_DATABASE_URL names none: the one the development
# machines and CI have. docs/databases.md starts the same on a laptop, in a container.
TESTS_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def _postgres_answers(url: str) -> str | None:
    """None if something listens where the URL points, else what to say; the runner judges the rest."""
    try:
        parts = urllib.parse.urlsplit(url)
        host, port = parts.hostname, parts.port or 5432
    except ValueError:
        return None  # not a URL: the tests fail on the runner's one line about it
    if not host:
        return None  # a Unix socket: let the checks try it
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError:
        return (
            f"no PostgreSQL answers at {host}:{port}. To run this leg, start one (docs/databases.md) "
            "or set KATAS_DATABASE_URL=postgresql+asyncpg://user@host:port/db"
        )


@nox.session(default=False)
@nox.parametrize("sqlalchemy", SQLALCHEMY_LINES, ids=[f"sqlalchemy-{v}" for v in SQLALCHEMY_LINES])
@nox.parametrize("database", DATABASES, ids=list(DATABASES))
def tests(session: nox.Session, sqlalchemy: str, database: str) -> None:
    """The repository's own test suite, on SQLite and PostgreSQL, SQLAlchemy 2.0 and 2.1."""
    if sqlalchemy == "2.1" and sys.version_info < (3, 11):
        session.skip("SQLAlchemy 2.1 needs Python 3.11 or newer")
    # The leg: what tests the runner alone runs on one leg only (tests/conftest.py).
    env: dict[str, str | None] = {"KATAS_DATABASE_URL": None, "KATAS_TESTS_LEG": f"{database}-{sqlalchemy}"}
    if database == "postgresql":
        url = os.environ.get("KATAS_DATABASE_URL", "").strip()
        url = url if url.startswith("postgresql") else TESTS_POSTGRES_URL
        problem = _postgres_answers(url)
        if problem and os.environ.get("KATAS_REQUIRE_POSTGRES") == "1":
            session.error(f"KATAS_REQUIRE_POSTGRES=1, but {problem}")
        elif problem:
            session.skip(problem)
        env["KATAS_DATABASE_URL"] = url
    session.install(
        *_requirements(sqlalchemy), "-r", str(REQUIREMENTS / "nox.txt"), "-r", str(REQUIREMENTS / "tests.txt")
    )
    _pytest(session, env)


def _pytest(session: nox.Session, env: dict[str, str | None]) -> None:
    """The suite, spread over the cores (pytest-xdist), or as `-- ARGS` select it.

    Its time is mostly checks, each a child Python process busy importing: on
    CI's 2 cores, two workers take a session from about 150 s to 75.
    """
    # tests/fixtures holds katas for the tests to copy, not tests to collect.
    command = ["python", "-m", "pytest", "--ignore=tests/fixtures"]
    workers = min(os.cpu_count() or 1, 4)
    if session.posargs:
        session.run(*command, *session.posargs, env=env)
    else:
        session.run(*command, "-n", str(workers), env=env)


@nox.session(default=False)
def lint(session: nox.Session) -> None:
    """ruff over the runner, the katas, the solutions and the tests."""
    session.install("-r", str(REQUIREMENTS / "lint.txt"))
    session.run("ruff", "check", *session.posargs, ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(python=False, default=False)
def new(session: nox.Session) -> None:
    """For authors: scaffold a kata from the templates (`nox -s new -- 06-slug "Title"`; CONTRIBUTING.md)."""
    _runner(session, "new", *session.posargs)


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Print figures: a warm check and nox -s kata-01 beside the floor, the explainer's cost, watch mode (slow)."""
    python = _kata_python(session)
    env = {"KATAS_NOX_PYTHON": sys.executable}  # so the bench can time `nox -s kata-01` itself
    session.run(python, "-m", "tests.bench", *session.posargs, external=True, env=env)


# --- Self-paced and workshop sessions ---------------------------------------------------------


@nox.session(python=False, default=False)
def watch(session: nox.Session) -> None:
    """Re-check the kata you are on at every save (keys: h hint, n next kata, l list, q quit)."""
    python = _kata_python(session)
    # Ctrl-C is how a learner leaves watch mode: the runner handles it and exits 0;
    # nox waits for it rather than reporting the session as interrupted.
    code = _call_runner(python, "watch", *session.posargs)
    if code:
        session.error(f"the runner exited with {code}")


@nox.session(python=False, default=False)
def doctor(session: nox.Session) -> None:
    """Check this laptop can run the katas (Python, environment, database, terminal) and say what to fix."""
    if sys.version_info < (3, 10):  # noqa: UP036 - nox itself may run on an older Python than the katas
        session.error(
            f"nox runs on Python {sys.version.split()[0]}; the katas need 3.10 or newer. Install Python 3.11, "
            "then: python3.11 -m pip install -r requirements/nox.txt && python3.11 -m nox -s doctor"
        )
    # runner.doctor needs only the standard library, so a broken environment is named, not a crash.
    code = subprocess.call([_doctor_python(session), "-m", "runner.doctor"], cwd=ROOT)
    if code == DOCTOR_ENVIRONMENT_BROKEN:
        # The pins did not change, yet a package is missing or another version (a stray pip install, an
        # interrupted one): what the doctor's Fix promises, the environment made anew, and a second look.
        session.log("The katas' environment lacks its pinned packages: installing it anew")
        (KATA_ENV / "installed.sha256").unlink(missing_ok=True)
        code = subprocess.call([_doctor_python(session), "-m", "runner.doctor"], cwd=ROOT)
    if code:
        session.error("the doctor found problems: fix them from the top, then run nox -s doctor again")


def _doctor_python(session: nox.Session) -> str:
    """The katas' environment, installed if it must be; an install that fails says where to go next."""
    try:
        return _kata_python(session)
    except nox.command.CommandFailed:
        session.error(
            "The katas' environment could not be installed (pip's own words are above). "
            "No network, or PyPI blocked? Install from a wheelhouse: docs/workshop.md, 'Rooms without a network'"
        )


@nox.session(python=False, default=False)
def wheelhouse(session: nox.Session) -> None:
    """Download every pinned package for Linux, macOS and Windows, Python 3.10-3.13, into wheelhouse/ (slow)."""
    env = {"PYTHONPATH": str(ROOT)}
    session.run(sys.executable, "-m", "runner.wheelhouse", *session.posargs, external=True, env=env)


@nox.session(default=False)
def offline(session: nox.Session) -> None:
    """This machine's wheelhouse, then the katas and nox installed from it with no index, and kata-01 run (slow; CI)."""
    # pytest-asyncio and pytest-timeout only because pyproject.toml's pytest settings name their options; pip because
    # runner.wheelhouse downloads with it, and a venv uv made has none.
    session.install(
        "-r", str(REQUIREMENTS / "nox.txt"), "pip", "pytest", "pytest-asyncio", "pytest-timeout",
        "-c", str(REQUIREMENTS / "constraints.txt"),
    )  # fmt: skip
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "tests/offline_wheelhouse.py", *session.posargs)
