"""The database setting, and what each check leaves behind, proven through the real command line.

* A setting the checks cannot use (not a URL, a driver they do not run on, a
  server that does not answer) is one line on stderr naming KATAS_DATABASE_URL
  and what to do, within seconds, and exit code 2.
* On PostgreSQL (when KATAS_DATABASE_URL names one; `nox -s tests` runs this
  file on both databases): two checks at once see only their own rows; a
  check leaves no schema, table, enum type or connection behind; a check
  stopped at its time limit is swept by the next run; a session the code under
  test leaves open fails the check by name, on SQLite as well, and never hangs
  its teardown.

The checks here run on throwaway "probe" katas written into a temporary
workspace, with the repository's real runner/checks/conftest.py.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from runner import execute, results
from runner.workspace import Workspace
from tests.conftest import REPO, run_cli
from tests.katas import KATAS, WS, copy_kata

SETTING = os.environ.get("KATAS_DATABASE_URL", "").strip()
ON_POSTGRES = SETTING.startswith("postgresql")


def postgres_only(test):
    """About PostgreSQL itself: a SQLite leg of `nox -s tests` leaves it to the PostgreSQL legs
    (tests/conftest.py); run by hand without a PostgreSQL setting, it is skipped, and says why."""
    reason = "PostgreSQL only: set KATAS_DATABASE_URL=postgresql+asyncpg://… (nox -s tests runs both databases)"
    return pytest.mark.postgres_only(pytest.mark.skipif(not ON_POSTGRES, reason=reason)(test))


CONNECT_TIMEOUT = 5  # runner/checks/conftest.py: how long a server that does not answer is waited on
SLACK = 15  # seconds for starting Python and pytest on a loaded 2-core machine

MODELS = """
import enum

from sqlalchemy import Enum, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Kind(enum.Enum):
    PLAIN = "plain"


class Item(Base):
    __tablename__ = "probe_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(40))
    kind: Mapped[Kind] = mapped_column(Enum(Kind, name="probe_kind"), default=Kind.PLAIN)
"""

SERVICE = """
from sqlalchemy import func, select

from app.models import Item

_kept = []


async def add(factory, owner, count):
    async with factory() as session:
        session.add_all(Item(owner=owner) for _ in range(count))
        await session.commit()


async def owners(factory):
    async with factory() as session:
        return dict((await session.execute(select(Item.owner, func.count()).group_by(Item.owner))).all())


async def count_leaving_the_session_open(factory):
    session = factory()
    total = await session.scalar(select(func.count()).select_from(Item))
    _kept.append(session)  # never closed: its transaction, and its locks, stay open
    return total


async def count_leaving_a_connection_open(engine):
    connection = await engine.connect()
    total = await connection.scalar(select(func.count()).select_from(Item))
    _kept.append(connection)
    return total
"""

CHECKS_CONFTEST = """
import os
from pathlib import Path

import pytest_asyncio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.models import Base


@pytest_asyncio.fixture
async def factory(engine):
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
        if engine.dialect.name == "postgresql":
            schema = await conn.scalar(text("SELECT current_schema()"))
            Path(os.environ["PROBE_DIR"], schema + ".schema").write_text(schema)
    return async_sessionmaker(engine, expire_on_commit=False)
"""

ROWS_CHECK = '''
import asyncio
import os
from pathlib import Path

from app.service import add, owners


async def barrier(name):
    """Wait until every run started by the test has come this far."""
    folder, parties = Path(os.environ["PROBE_DIR"]), int(os.environ.get("PROBE_PARTIES", "1"))
    (folder / f"{name}-{os.getpid()}").touch()
    for _ in range(1200):
        if len(list(folder.glob(f"{name}-*"))) >= parties:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the other run never reached {name}")


async def test_rows(factory):
    """This run sees its own rows, and only those"""
    me = os.environ.get("PROBE_OWNER", "me")
    await add(factory, me, 3)
    await barrier("inserted")
    seen = await owners(factory)
    await barrier("counted")
    assert seen == {me: 3}, f"run {me} saw the rows {seen}"
'''

LEAK_CHECK = '''
from app.service import add, count_leaving_a_connection_open, count_leaving_the_session_open


async def test_session_left_open(factory):
    """The items are counted by a session"""
    await add(factory, "me", 2)
    assert await count_leaving_the_session_open(factory) == 2


async def test_connection_left_open(factory, engine):
    """The items are counted on a connection"""
    await add(factory, "me", 2)
    assert await count_leaving_a_connection_open(engine) == 2
'''

HANG_CHECK = '''
import asyncio

from app.service import add


async def test_hangs(factory):
    """The check that never ends"""
    await add(factory, "me", 1)
    await asyncio.Event().wait()
'''

# A lock the checks cannot find by name: a connection of the learner's own, not opened through SQLAlchemy
# (so not routed, nor named after the schema), holding a lock on the check's table when the check ends.
UNROUTED_LOCK_CHECK = '''
import asyncpg
from sqlalchemy import text

from app.service import _kept, add


async def test_unrouted_lock(factory, engine):
    """The items are locked on a connection of the code's own"""
    await add(factory, "me", 1)
    async with engine.connect() as conn:
        schema = await conn.scalar(text("SELECT current_schema()"))
    url = engine.url.set(drivername="postgresql")
    raw = await asyncpg.connect(url.render_as_string(hide_password=False), server_settings={"search_path": schema})
    tx = raw.transaction()
    await tx.start()
    await raw.execute("LOCK TABLE probe_items IN ACCESS EXCLUSIVE MODE")
    _kept.append((raw, tx))  # never closed: the teardown's DROP waits on it, then ends it
'''

# The checks' own PostgreSQL connection (one per check process) lost between two scenarios, as when the server
# restarts: the next scenario still gets its schema, and the lost scenario's schema is still dropped.
LOST_ADMIN_CHECK = '''
from sqlalchemy import text

from app.service import add, owners


async def test_first(factory, engine):
    """The first scenario, whose schema's lock holder goes away"""
    await add(factory, "me", 1)
    async with engine.connect() as conn:
        # the server process that holds this scenario's schema lock: the checks' own connection
        ended = await conn.scalar(text(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = 1801548897 AND objid = hashtext(current_schema())::oid AND objsubid = 2"
        ))
    assert ended, "the lock holder was not found"


async def test_second(factory):
    """The next scenario runs on a schema of its own"""
    await add(factory, "you", 2)
    assert await owners(factory) == {"you": 2}
'''

PROBES = {
    "01-rows": ROWS_CHECK,
    "02-leak": LEAK_CHECK,
    "03-hang": HANG_CHECK,
    "04-unrouted": UNROUTED_LOCK_CHECK,
    "05-lost": LOST_ADMIN_CHECK,
}


def probe_workspace(root: Path) -> Workspace:
    """Three probe katas, with the repository's real shared conftest and pytest settings."""
    checks = root / "runner" / "checks"
    checks.mkdir(parents=True)
    for name in ("conftest.py", "pytest.ini"):
        shutil.copy(REPO / "runner" / "checks" / name, checks / name)
    for kata, check in PROBES.items():
        app = root / "katas" / kata / "app"
        app.mkdir(parents=True)
        (root / "katas" / kata / "README.md").write_text(f"# Kata {kata[:2]}: probe {kata[3:]}\n")
        (app / "__init__.py").write_text("")
        (app / "models.py").write_text(MODELS)
        (app / "service.py").write_text(SERVICE)
        (checks / kata).mkdir()
        (checks / kata / "kata.toml").write_text("timeout = 40\n")
        (checks / kata / "conftest.py").write_text(CHECKS_CONFTEST)
        (checks / kata / f"test_{kata[3:]}.py").write_text(check)
    return Workspace(root)


@pytest.fixture
def probe_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "probe"
    folder.mkdir()
    return folder


@pytest.fixture
def probe_ws(tmp_path: Path) -> Workspace:
    return probe_workspace(tmp_path / "ws")


def start_cli(ws: Workspace, *args: str, env: dict) -> subprocess.Popen:
    """run_cli, without waiting for it."""
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *args],
        cwd=ws.root,
        env={**os.environ, "KATAS_HOME": str(ws.root), "PYTHONPATH": str(REPO), **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )


def pg(query: str, **params) -> list:
    """Rows from the PostgreSQL the setting names, seen from outside any check."""

    async def fetch() -> list:
        engine = create_async_engine(SETTING, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(text(query), params)).all())
        finally:
            await engine.dispose()

    return asyncio.run(fetch())


def recorded_schemas(folder: Path) -> list[str]:
    return sorted(path.stem for path in folder.glob("*.schema"))


def residue(schemas: list[str]) -> dict:
    """Whatever of these schemas is still on the server."""
    return {
        "schemas": pg("SELECT nspname FROM pg_namespace WHERE nspname = ANY(:s)", s=schemas),
        "types": pg(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = ANY(:s)",
            s=schemas,
        ),
        "connections": pg("SELECT pid, state FROM pg_stat_activity WHERE application_name = ANY(:s)", s=schemas),
        "public tables": pg("SELECT 1 WHERE to_regclass('public.probe_items') IS NOT NULL"),
    }


NOTHING = {"schemas": [], "types": [], "connections": [], "public tables": []}


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- The setting ------------------------------------------------------------------------------


def assert_one_line(proc: subprocess.CompletedProcess, elapsed: float, *says: str) -> str:
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: KATAS_DATABASE_URL="), lines[0]
    for part in says:
        assert part in lines[0], lines[0]
    assert proc.stdout == "", proc.stdout
    assert elapsed < CONNECT_TIMEOUT + SLACK, f"took {elapsed:.1f} s"
    return lines[0]


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", ["is not a database URL", "postgresql+asyncpg://", "unset it"]),
        ("postgresql+asyncpg://postgres@localhost:54x2/test", ["is not a database URL"]),
        ("mysql+aiomysql://root@localhost/test", ["'mysql+aiomysql' is neither", "postgresql+asyncpg://"]),
        ("postgresql://postgres:s3cret@localhost/test", ["driver 'postgresql'", "need", "asyncpg"]),
    ],
    ids=["not-a-url", "bad-port", "unknown-driver", "sync-driver"],
)
def test_a_setting_the_checks_cannot_use_is_one_line(fixture_ws, url, says):
    started = time.monotonic()
    proc = run_cli(fixture_ws, "check", "01", env={"KATAS_DATABASE_URL": url})
    line = assert_one_line(proc, time.monotonic() - started, *says)
    assert "s3cret" not in line, "the password is shown"
    assert not fixture_ws.state_file.exists(), "a check that could not start was counted as a check"


def test_a_closed_port_is_one_line(fixture_ws):
    port = closed_port()
    started = time.monotonic()
    proc = run_cli(
        fixture_ws, "check", "01", env={"KATAS_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test"}
    )
    assert_one_line(proc, time.monotonic() - started, f"no PostgreSQL answers at 127.0.0.1:{port}", "docs/databases.md")


def test_a_server_that_never_answers_is_named_not_waited_on(fixture_ws):
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        started = time.monotonic()
        proc = run_cli(
            fixture_ws, "check", "01", env={"KATAS_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{port}/t"}
        )
        assert_one_line(proc, time.monotonic() - started, f"no PostgreSQL answers at 127.0.0.1:{port}")


@postgres_only
def test_a_database_that_does_not_exist_is_one_line(fixture_ws):
    url = SETTING.rsplit("/", 1)[0] + "/no_such_database_for_katas"
    started = time.monotonic()
    proc = run_cli(fixture_ws, "check", "01", env={"KATAS_DATABASE_URL": url})
    assert_one_line(proc, time.monotonic() - started, 'database "no_such_database_for_katas" does not exist')


# --- Every kata fails the same way on both databases --------------------------------------------


def verdict(result: results.CheckResult) -> list:
    """What the learner is told, less the words that name a driver's exception class."""
    told = []
    for scenario in result.scenarios:
        failure = scenario.failure or {}
        attribute = failure.get("attribute") or {}
        location = failure.get("location") or {}
        told.append(
            (
                scenario.name,
                scenario.passed,
                failure.get("kind"),
                failure.get("error"),
                failure.get("message"),
                (attribute.get("model"), attribute.get("key"), attribute.get("kind"), attribute.get("instance")),
                (location.get("file"), location.get("line"), location.get("function")),
            )
        )
    return told


# Each kata on one PostgreSQL leg, by its place in the list (the legs run every start on their own database
# anyway): together they compare both SQLAlchemy lines; KATAS_TESTS_FULL=1 compares every kata on both.
@postgres_only
@pytest.mark.parametrize(
    "kata",
    [pytest.param(k, marks=pytest.mark.legs(f"postgresql-{('2.0', '2.1')[i % 2]}")) for i, k in enumerate(KATAS)],
    ids=[k.session for k in KATAS],
)
def test_the_start_is_explained_the_same_on_both_databases(kata, tmp_path):
    folder = copy_kata(kata, tmp_path / kata.id)
    on_sqlite = execute.run_checks(WS, kata, kata_dir=folder, env={"KATAS_DATABASE_URL": ""})
    on_postgres = execute.run_checks(WS, kata, kata_dir=folder)
    assert on_sqlite.status == on_postgres.status == results.FAIL
    assert verdict(on_postgres) == verdict(on_sqlite)


# --- Isolation on PostgreSQL ------------------------------------------------------------------


@postgres_only
def test_two_checks_at_once_see_only_their_own_rows(tmp_path, probe_dir):
    runs = []
    for owner in ("left", "right"):
        ws = probe_workspace(tmp_path / owner)
        env = {"PROBE_DIR": str(probe_dir), "PROBE_PARTIES": "2", "PROBE_OWNER": owner, "NO_COLOR": "1"}
        runs.append(start_cli(ws, "check", "01", env=env))
        # The second run starts once the first has its schema: its sweep must leave a live schema alone.
        for _ in range(600):
            if recorded_schemas(probe_dir) or runs[0].poll() is not None:
                break
            time.sleep(0.05)
    outputs = [run.communicate(timeout=120) for run in runs]
    for run, (out, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, out + err
        assert "✓ This run sees its own rows, and only those" in out
    schemas = recorded_schemas(probe_dir)
    assert len(schemas) == 2, schemas
    assert residue(schemas) == NOTHING


@postgres_only
def test_a_check_stopped_at_its_time_limit_is_swept_by_the_next_run(probe_ws, probe_dir):
    proc = run_cli(probe_ws, "check", "03", "--timeout", "4", env={"PROBE_DIR": str(probe_dir)})
    assert proc.returncode == 1 and "did not finish within 4 s" in proc.stdout, proc.stdout
    killed = recorded_schemas(probe_dir)
    assert len(killed) == 1
    # Killed, the check never tore down: the run that killed it sweeps its schema as it ends (runner/execute.py),
    # and the next run's start sweeps whatever a run killed outright left. (Another run going on at the
    # same time, such as another worker of this suite, may sweep it first.)
    proc = run_cli(probe_ws, "check", "01", env={"PROBE_DIR": str(probe_dir)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert residue(recorded_schemas(probe_dir)) == NOTHING


# --- A connection left open -------------------------------------------------------------------


def test_a_session_left_open_fails_the_check_by_name_and_does_not_hang(probe_ws, probe_dir):
    started = time.monotonic()
    proc = run_cli(probe_ws, "check", "02", env={"PROBE_DIR": str(probe_dir)})
    elapsed = time.monotonic() - started
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "did not finish" not in proc.stdout
    assert elapsed < 40, f"took {elapsed:.0f} s: the teardown waited on the open session"
    assert "✗ The items are counted by a session" in proc.stdout
    assert "✗ The items are counted on a connection" in proc.stdout
    assert "Your code left 1 database connection open when the check ended" in proc.stdout
    assert "async with" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr
    if ON_POSTGRES:
        schemas = recorded_schemas(probe_dir)
        assert len(schemas) == 2
        assert residue(schemas) == NOTHING


@postgres_only
def test_a_lock_the_checks_cannot_name_is_ended_after_the_drop_waited_its_limit(probe_ws, probe_dir):
    started = time.monotonic()
    proc = run_cli(probe_ws, "check", "04", env={"PROBE_DIR": str(probe_dir)})
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert elapsed < 40, f"took {elapsed:.0f} s: the teardown waited on the lock"
    schemas = recorded_schemas(probe_dir)
    assert len(schemas) == 1 and residue(schemas) == NOTHING


@postgres_only
def test_the_checks_own_connection_lost_mid_run_is_opened_again(probe_ws, probe_dir):
    # the probe finds the lock by the checks' own lock space (0x6B617461, "kata")
    assert "LOCK_SPACE = 0x6B617461" in (REPO / "runner" / "checks" / "conftest.py").read_text(encoding="utf-8")
    assert str(0x6B617461) in LOST_ADMIN_CHECK
    proc = run_cli(probe_ws, "check", "05", env={"PROBE_DIR": str(probe_dir), "KATAS_CHECK_PROCESSES": "1"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "✓ The next scenario runs on a schema of its own" in proc.stdout
    schemas = recorded_schemas(probe_dir)
    assert len(schemas) == 2 and residue(schemas) == NOTHING


# --- The PostgreSQL leg of `nox -s tests` -----------------------------------------------------


def nox_tests_on_postgres(tmp_path: Path, env: dict) -> subprocess.CompletedProcess:
    session = f"tests(postgresql, sqlalchemy-{'2.1' if sys.version_info >= (3, 11) else '2.0'})"
    return subprocess.run(
        [sys.executable, "-m", "nox", "--no-venv", "--envdir", str(tmp_path / "nox"), "-s", session],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_a_server_the_postgresql_leg_is_skipped_saying_how_to_enable_it(tmp_path):
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/test"
    proc = nox_tests_on_postgres(tmp_path, {"KATAS_DATABASE_URL": url, "KATAS_REQUIRE_POSTGRES": ""})
    assert proc.returncode == 0, proc.stderr
    skipped = [line for line in proc.stderr.splitlines() if "skipped" in line]
    assert len(skipped) == 1 and "no PostgreSQL answers" in skipped[0], proc.stderr
    assert "docs/databases.md" in skipped[0] and "KATAS_DATABASE_URL=" in skipped[0]


def test_ci_requires_the_postgresql_leg(tmp_path):
    assert "export KATAS_REQUIRE_POSTGRES=1" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/test"
    proc = nox_tests_on_postgres(tmp_path, {"KATAS_DATABASE_URL": url, "KATAS_REQUIRE_POSTGRES": "1"})
    assert proc.returncode != 0, proc.stderr
    assert "KATAS_REQUIRE_POSTGRES=1, but no PostgreSQL answers" in proc.stderr
