"""Fixtures shared by every kata's hidden checks.

The runner starts pytest with ``KATA_DIR`` naming the learner's copy of the
kata; that folder goes first on ``sys.path`` so ``import app`` is the
learner's code, as it is on disk now.

The database is the one ``KATAS_DATABASE_URL`` names: unset, SQLite through
aiosqlite, a new file per test; a ``postgresql+asyncpg://`` URL, a new schema
per test on that server. Why a schema per test, and what differs between the
two databases: docs/databases.md.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import sys
import threading
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import MetaData, create_engine, create_mock_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import functions

KATA_DIR = Path(os.environ.get("KATA_DIR", ".")).resolve()
sys.path.insert(0, str(KATA_DIR))

SETTING = "KATAS_DATABASE_URL"
EXAMPLE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# Where the runner looks for a setting it cannot use (runner/execute.py): one line, exit 2.
PROBLEM_FILE = os.environ.get("KATAS_DATABASE_PROBLEM")
CONNECT_TIMEOUT = 5  # seconds: a server that does not answer is named, not waited on
LOCK_TIMEOUT = "2s"  # the teardown's DROP never waits longer on a lock a leaked session holds
# A test's schema: `kata_` and 16 hex digits. The sweep touches no other name.
SCHEMA_PATTERN = "^kata_[0-9a-f]{16}$"
# While a test runs, its process's admin connection holds the advisory lock (LOCK_SPACE, hashtext(schema)):
# a schema whose lock nobody holds belongs to a run that died (a check stopped at its time limit).
LOCK_SPACE = 0x6B617461  # "kata"
ADMIN = "katas-admin"  # the application_name of the fixture's own connections, never routed


class SettingError(Exception):
    """KATAS_DATABASE_URL cannot be used: the message is one line, naming the setting and what to do."""


class LeakedConnection(AssertionError):
    """The code under test left a connection checked out when the check ended."""


def _shown(raw: str) -> str:
    """The setting as the learner wrote it, with any password masked."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", raw)


def postgres_url(raw: str) -> URL | None:
    """The PostgreSQL URL the setting names; None for SQLite (unset, or an aiosqlite URL)."""
    raw = raw.strip()
    if not raw:
        return None
    shown = _shown(raw)
    try:
        url = make_url(raw)
        port = url.port
    except (ArgumentError, ValueError):
        raise SettingError(
            f"{SETTING}={shown} is not a database URL: write it as {EXAMPLE_URL}, or unset it to use SQLite"
        ) from None
    if url.drivername == "sqlite+aiosqlite":
        return None
    if url.drivername.split("+")[0] in {"postgresql", "postgres"} and url.drivername != "postgresql+asyncpg":
        raise SettingError(
            f"{SETTING}={shown} names the driver {url.drivername!r}: the katas are async and need "
            f"asyncpg, so start it with postgresql+asyncpg:// ({EXAMPLE_URL})"
        )
    if url.drivername != "postgresql+asyncpg":
        raise SettingError(
            f"{SETTING}={shown}: the katas run on PostgreSQL through asyncpg ({EXAMPLE_URL}), "
            f"or on SQLite with the setting unset; {url.drivername!r} is neither"
        )
    if port is not None and not 0 < port < 65536:
        raise SettingError(f"{SETTING}={shown}: {port} is not a port; PostgreSQL listens on 5432 by default")
    return url


POSTGRES: URL | None = None  # set at session start when the setting names PostgreSQL
_admin: AsyncEngine | None = None
_link: AdminLink | None = None  # this process's admin connection, from the session's start to its end
_schema: str | None = None  # the running test's schema: every PostgreSQL connection opened now lands there
_engines: weakref.WeakSet[Engine] | None = None  # every engine that connected during the running test
_clock: DatabaseClock | None = None  # the running test's database clock, when it asked for one


class StatementLog:
    """Every SQL statement the engine sends, recorded by an engine event.

    Counting at the cursor is the only honest count: it sees lazy loads,
    refreshes and selectin batches alike.
    """

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)

    def __len__(self) -> int:
        return len(self.statements)

    def clear(self) -> None:
        self.statements.clear()


def _no_fsync(dbapi_connection, connection_record) -> None:
    # Each test's database file is thrown away: waiting for the disk buys nothing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA synchronous = OFF")
    cursor.execute("PRAGMA journal_mode = MEMORY")
    cursor.close()


# --- Every connection of the test, wherever the code under test opens it ------------------


@event.listens_for(Engine, "do_connect")
def _route(dialect, connection_record, cargs, cparams) -> None:
    """A PostgreSQL connection opened during a test lands in that test's schema, named after it.

    Class-wide, so an engine the kata's own code builds from KATAS_DATABASE_URL
    lands there too, and its leaked connections can be found by name.
    """
    if dialect.name != "postgresql" or dialect.driver != "asyncpg":
        return
    settings = dict(cparams.get("server_settings") or {})
    if _schema and settings.get("application_name") != ADMIN:
        # pg_catalog named last: the check's now() in the schema is found before the built-in one.
        path = f"{_schema}, pg_catalog" if _clock is not None else _schema
        settings.update(search_path=path, application_name=_schema)
    cparams["server_settings"] = settings
    cparams.setdefault("timeout", CONNECT_TIMEOUT)  # asyncpg's own default waits 60 s


@event.listens_for(Engine, "engine_connect")
def _seen(connection) -> None:
    if _engines is not None and (_admin is None or connection.engine is not _admin.sync_engine):
        _engines.add(connection.engine)


async def _close_engines() -> int:
    """Dispose of every engine the test used; return how many connections were still checked out."""
    pools = {id(e.pool): e for e in list(_engines or ())}
    checked_out = sum(e.pool.checkedout() for e in pools.values() if hasattr(e.pool, "checkedout"))
    for sync_engine in pools.values():
        if sync_engine.dialect.is_async:
            await AsyncEngine(sync_engine).dispose()
        else:
            sync_engine.dispose()
    return checked_out


def leak_message(count: int, on_postgres: bool) -> str:
    what = "1 database connection" if count == 1 else f"{count} database connections"
    why = (
        "PostgreSQL would have waited forever to drop its tables, so the check closed it for you."
        if on_postgres
        else "On PostgreSQL its open transaction keeps its locks, and the next schema change waits forever."
    )
    return (
        f"Your code left {what} open when the check ended: a session or connection was opened and "
        "never closed. Open it with `async with` (`async with session_factory() as session:`), so it "
        f"closes even when something fails. {why}"
    )


# --- PostgreSQL: the setting, the server, the schema of each test ---------------------------


def _problem(message: str) -> None:
    if PROBLEM_FILE:
        Path(PROBLEM_FILE).write_text(message, encoding="utf-8")
    pytest.exit(message, returncode=4)


def _connection_problem(url: URL, exc: BaseException) -> str:
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    shown = _shown(url.render_as_string(hide_password=False))
    chain, current = [], exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or getattr(current, "orig", None) or current.__context__
    root = chain[-1]
    if isinstance(root, OSError) and not isinstance(root, TimeoutError):
        why = "no such host" if isinstance(root, socket.gaierror) else "nothing listens there"
    elif isinstance(root, (TimeoutError, asyncio.TimeoutError, asyncio.CancelledError)):
        why = f"no answer within {CONNECT_TIMEOUT} s"
    else:
        reason = str(root).strip().splitlines()[0] if str(root).strip() else type(root).__name__
        return f"{SETTING}={shown}: PostgreSQL at {where} refused the connection: {reason}. Fix the URL, or unset it"
    return (
        f"{SETTING}={shown}: no PostgreSQL answers at {where} ({why}). Start it (docs/databases.md "
        "has a one-line container command) or unset the setting to use SQLite"
    )


def _admin_engine(url: URL) -> AsyncEngine:
    # NullPool: a connection closed is closed, and nothing of it is tied to the event loop that opened it.
    return create_async_engine(url, poolclass=NullPool, connect_args={"server_settings": {"application_name": ADMIN}})


async def _connect_admin(engine: AsyncEngine, url: URL) -> AsyncConnection:
    try:
        return await engine.connect()
    except Exception as exc:  # noqa: BLE001 - whatever stops the connection, the setting names it
        # (SQLAlchemy 2.1 wraps a refusal in DBAPIError; 2.0 lets asyncpg's own exception through.)
        raise SettingError(_connection_problem(url, exc)) from None


async def _driver(conn: AsyncConnection):
    """asyncpg's own connection under ``conn``: the admin statements go to it as simple queries, several
    in one round trip, outside SQLAlchemy's transaction handling."""
    return (await conn.get_raw_connection()).driver_connection


async def _check_and_sweep(pg, url: URL) -> None:
    """The user may create schemas here; then the schemas of dead runs go."""
    if not await pg.fetchval("SELECT has_database_privilege(current_database(), 'CREATE')"):
        raise SettingError(
            f"{SETTING}={_shown(url.render_as_string(hide_password=False))}: user {url.username!r} "
            f"may not create schemas in database {url.database!r}, and each check needs one. Grant it "
            f"(GRANT CREATE ON DATABASE {url.database} TO {url.username}) or use a database of your own"
        )
    await _sweep(pg)


async def _open_postgres(url: URL) -> None:
    """Connect once (the setting works), check the user may create schemas, sweep dead runs' schemas.

    runner/sweep.py runs it on its own after a killed check; a check's pytest does the same on its
    admin connection (AdminLink.open).
    """
    global _admin
    _admin = _admin_engine(url)
    conn = await _connect_admin(_admin, url)
    try:
        await _check_and_sweep(await _driver(conn), url)
    finally:
        await conn.close()


def _lock(function: str, schema: str) -> str:
    return f"SELECT {function}({LOCK_SPACE}, hashtext('{_checked(schema)}'))"


def _checked(schema: str) -> str:
    # The name goes into SQL text (several statements in one round trip take no parameters).
    if not re.fullmatch(SCHEMA_PATTERN, schema):
        raise ValueError(f"not a check's schema: {schema!r}")
    return schema


async def _sweep(pg) -> None:
    """Drop the schemas of runs that died: a check stopped at its time limit never tore down.

    A live test holds its schema's advisory lock from before CREATE SCHEMA
    until after DROP SCHEMA, on a connection that dies with its process: a
    lock anybody can take marks a schema nobody is using. A schema that cannot
    be dropped (another user's) is left alone.
    """
    import asyncpg

    names = [row[0] for row in await pg.fetch("SELECT nspname FROM pg_namespace WHERE nspname ~ $1", SCHEMA_PATTERN)]
    for name in names:
        if not await pg.fetchval(_lock("pg_try_advisory_lock", name)):
            continue  # a live test's
        with suppress(asyncpg.PostgresError):
            await _drop_schema(pg, name)


async def _make_schema(pg, schema: str) -> None:
    """The schema's advisory lock, then the schema: one round trip. From now until the DROP, no
    other run's sweep takes this schema for dead."""
    try:
        await pg.execute(f'{_lock("pg_advisory_lock", schema)}; CREATE SCHEMA "{schema}"')
    except BaseException:
        with suppress(Exception):  # a session lock outlives the rolled-back CREATE
            await pg.execute(_lock("pg_advisory_unlock", schema))
        raise


async def _drop_schema(pg, schema: str) -> None:
    """DROP SCHEMA … CASCADE (tables, enum types and all), ending whoever still holds a lock on it;
    then release the schema's advisory lock, which the caller holds, dropped or not.

    A session the code under test left open keeps its transaction, and its
    locks, until its connection closes: DROP would wait for it forever. So
    every backend still named after the schema is terminated first, in the
    same round trip, and the DROP waits at most LOCK_TIMEOUT. Only when that
    runs out does the slower search of pg_locks find what else holds a lock on
    one of its tables (a connection the checks did not route), end it too, and
    try again.
    """
    import asyncpg

    named = (
        f"SELECT pid FROM pg_stat_activity WHERE application_name = '{_checked(schema)}' AND pid <> pg_backend_pid()"
    )
    locking = (
        "SELECT l.pid FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{schema}' AND l.pid <> pg_backend_pid()"
    )
    holders = f"{named} UNION {locking}"
    # The lock goes only once the DROP is committed: a sweep that takes it finds no schema left.
    drop = (
        f"BEGIN; SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'; DROP SCHEMA IF EXISTS \"{schema}\" CASCADE; "
        f"COMMIT; {_lock('pg_advisory_unlock', schema)}"
    )
    try:
        for attempt in range(5):
            try:
                ending = named if attempt == 0 else holders
                await pg.execute(f"SELECT pg_terminate_backend(pid) FROM ({ending}) AS holders; {drop}")
                return
            except asyncpg.PostgresError as exc:
                await pg.execute("ROLLBACK")
                if exc.sqlstate != "55P03" or attempt == 4:  # 55P03: lock_not_available
                    raise
    except BaseException:
        with suppress(Exception):
            await pg.execute(_lock("pg_advisory_unlock", schema))
        raise


class AdminLink:
    """This process's own connection to PostgreSQL, which creates, locks and drops each test's schema.

    One for the whole run, not one per test: connecting and closing again for
    each test was time every test waited for. asyncpg ties
    a connection to the event loop that opened it, and pytest-asyncio gives
    each test a loop of its own, so this connection lives on a thread of its
    own, with its own loop, and the fixtures hand it their statements
    (``run``). It is opened when pytest starts (in the process that runs the
    checks: a warm process forks, or waits for its check, before that) and
    closed when the session ends; the thread is a daemon, so it never keeps a
    check's process alive. Killed, the process takes the connection, and the
    advisory lock of its running test, with it: the next run's sweep sees the
    lock free.
    """

    def __init__(self, engine: AsyncEngine, url: URL) -> None:
        self.engine, self.url = engine, url
        self.pid = os.getpid()
        self.conn: AsyncConnection | None = None
        self.pg = None  # asyncpg's connection under self.conn
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=ADMIN, daemon=True)
        self.thread.start()

    def open(self) -> None:
        """Connect (or say in one line why not), check the setting, sweep dead runs' schemas."""
        self._call(_check_and_sweep, self.url).result()  # the connection's own timeout bounds the wait

    async def run(self, operation: Callable[..., Awaitable[None]], *args) -> None:
        """``await operation(connection, *args)`` on the link's thread; awaited from a test's loop."""
        await asyncio.wrap_future(self._call(operation, *args))

    def _call(self, operation, *args):
        if not self.thread.is_alive():
            raise RuntimeError("the checks' PostgreSQL connection was closed")
        return asyncio.run_coroutine_threadsafe(self._guarded(operation, *args), self.loop)

    async def _connection(self):
        """asyncpg's connection, opened again if the server closed it (restarted since): where it
        cannot be, the same one line as at the start says why."""
        if self.pg is not None and not self.pg.is_closed():
            return self.pg
        await self._discard()
        self.conn = await _connect_admin(self.engine, self.url)
        self.pg = await _driver(self.conn)
        return self.pg

    async def _guarded(self, operation, *args) -> None:
        pg = await self._connection()
        try:
            await operation(pg, *args)
        except Exception:
            if not pg.is_closed():
                raise
            # The connection was lost on the way (a server restart): once more, on a new one.
            await operation(await self._connection(), *args)

    async def _discard(self) -> None:
        conn, self.conn, self.pg = self.conn, None, None
        if conn is not None:
            with suppress(Exception):
                await conn.close()

    def close(self) -> None:
        if self.thread.is_alive():
            with suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._discard(), self.loop).result(CONNECT_TIMEOUT)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(CONNECT_TIMEOUT)
        if not self.thread.is_alive():
            self.loop.close()


def _close_link() -> None:
    global _link
    link, _link = _link, None
    if link is not None and link.pid == os.getpid():
        link.close()


def pytest_sessionstart(session) -> None:
    global POSTGRES, _admin, _link
    try:
        POSTGRES = postgres_url(os.environ.get(SETTING, ""))
        if POSTGRES is not None:
            _admin = _admin_engine(POSTGRES)
            _link = AdminLink(_admin, POSTGRES)
            _link.open()
    except SettingError as exc:
        _close_link()
        _problem(str(exc))


def pytest_sessionfinish(session) -> None:
    _close_link()


def pytest_unconfigure(config) -> None:
    _close_link()  # pytest.exit at the start skips sessionfinish


# --- The fixtures ----------------------------------------------------------------------------


@pytest.fixture
def sql() -> StatementLog:
    return StatementLog()


class RunEngine:
    """The one engine every test of this run gets, each test on an empty database.

    One engine for the run, not one per test: SQLAlchemy caches compiled SQL
    per engine, and compiling the same statements again for every test took
    a quarter of kata 01's checks' time (docs/databases.md has the figures).
    Between tests its pool is emptied, so no
    connection outlives the test (or the event loop) that opened it.

    SQLite: the engine's URL names one file for the run; each test starts
    without it, and the file is deleted when the test ends. The URL is a real
    path because the code under test may build on it (``engine.url``).
    PostgreSQL: each test's connections land in its own schema (``_route``).
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.engine: AsyncEngine | None = None
        self.path: Path | None = None
        self.files = 0

    def get(self) -> AsyncEngine:
        if self.engine is None:
            if POSTGRES is not None:
                self.engine = create_async_engine(POSTGRES)
            else:
                self.files += 1
                self.path = self.folder / f"kata-{self.files}.db"
                self.engine = create_async_engine(f"sqlite+aiosqlite:///{self.path.as_posix()}")
                event.listen(self.engine.sync_engine, "connect", _no_fsync)
                event.listen(self.engine.sync_engine, "connect", _sqlite_clock)
        return self.engine

    def clear(self) -> None:
        """Delete this test's SQLite file; where a connection still holds it open (Windows), use a new one."""
        if self.path is None:
            return
        for suffix in ("", "-journal", "-wal", "-shm"):
            try:
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            except OSError:
                self.engine = None  # the next test gets an engine on a new file


@pytest.fixture(scope="session")
def _run_engine(tmp_path_factory) -> RunEngine:
    return RunEngine(tmp_path_factory.mktemp("databases"))


@pytest_asyncio.fixture
async def engine(_run_engine: RunEngine, sql: StatementLog) -> AsyncEngine:
    """An engine on an empty database of this test's own.

    SQLite: a file no earlier test touched. PostgreSQL: a new schema, first
    on the search_path of every connection the test opens, dropped with
    everything in it (tables, enum types) afterwards. The kata's code may
    commit, close and reopen sessions at will: nothing wraps it in a
    transaction that would hide what it did. A connection it leaves open
    fails the check, by name, and never hangs the teardown.
    """
    global _schema, _engines
    link, schema = None, None
    if POSTGRES is not None:
        link, schema = _link, f"kata_{uuid.uuid4().hex[:16]}"
        await link.run(_make_schema, schema)
        _schema = schema
    engine = _run_engine.get()
    _engines = weakref.WeakSet([engine.sync_engine])
    event.listen(engine.sync_engine, "before_cursor_execute", sql)
    try:
        yield engine
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", sql)
        try:
            leaked = await _close_engines()
        finally:
            _engines, _schema = None, None
            _run_engine.clear()
            if link is not None:
                await link.run(_drop_schema, schema)  # and then its advisory lock goes
        if leaked:
            raise LeakedConnection(leak_message(leaked, POSTGRES is not None))


# --- A database clock the check sets --------------------------------------------------------

CLOCK_START = datetime(2001, 2, 3, 4, 5, 6, 123456)  # naive UTC: the database's time when a check starts
_now_compiled = False  # set once a check of this process used the clock: func.now() is now() on SQLite


class DatabaseClock:
    """The database's clock during one check: set back to CLOCK_START, and running from there.

    What func.now() stamps (a server_default, an onupdate) reads it, on PostgreSQL through a now()
    in the test's schema (found before pg_catalog's), on SQLite through a now() function the check
    registers (func.now() compiles to it instead of CURRENT_TIMESTAMP, which reads the OS clock).
    Like SQLite's clock and PostgreSQL's statement_timestamp(), one statement reads one time.

    What it shows: a time Python computed (datetime.now()) is never a reading of it, and an UPDATE
    stamps a later time than the INSERT before it, however soon after (SQLite's own clock ticks once
    a second; PostgreSQL's now() is the time the transaction began).
    """

    def __init__(self) -> None:
        self.origin = time.monotonic()
        self.statement_time = CLOCK_START

    def tick(self, *_) -> None:
        """SQLite: a statement is about to run (before_cursor_execute); now() reads this time in it."""
        self.statement_time = CLOCK_START + timedelta(seconds=time.monotonic() - self.origin)

    def gave(self, value: object) -> bool:
        """Whether a value read back from the database is a reading of this clock."""
        if not isinstance(value, datetime):
            return False
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        # A minute's slack: the server's clock and this process's may not start the same instant.
        latest = CLOCK_START + timedelta(seconds=time.monotonic() - self.origin + 60)
        return CLOCK_START <= value <= latest

    def __str__(self) -> str:
        return f"the database's clock (the checks set it back to {CLOCK_START:%Y-%m-%d %H:%M} UTC)"


@compiles(functions.now, "sqlite")
def _now_on_sqlite(element, compiler, **kw) -> str:
    return "now()" if _now_compiled else compiler.visit_now_func(element, **kw)


def _sqlite_clock(dbapi_connection, connection_record) -> None:
    def now() -> str:
        if _clock is None:  # a check that set no clock: the OS clock, as CURRENT_TIMESTAMP reads it
            return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return _clock.statement_time.isoformat(" ", timespec="microseconds")

    dbapi_connection.create_function("now", 0, now)


@pytest_asyncio.fixture
async def database_clock(engine: AsyncEngine) -> AsyncIterator[DatabaseClock]:
    """func.now() on a clock the check sets (DatabaseClock). Ask for it before calling create_schema:
    the tables' server defaults are bound to the clock when they are created."""
    global _clock, _now_compiled
    clock = DatabaseClock()
    sqlite = engine.dialect.name == "sqlite"
    _clock = clock
    try:
        if sqlite:
            _now_compiled = True
            event.listen(engine.sync_engine, "before_cursor_execute", clock.tick)
        else:
            async with engine.begin() as conn:
                began = await conn.scalar(text("SELECT statement_timestamp()"))
                await conn.execute(
                    text(
                        "CREATE FUNCTION now() RETURNS timestamptz LANGUAGE sql STABLE AS $$ SELECT timestamptz "
                        f"'{CLOCK_START.isoformat()}+00' + (statement_timestamp() - timestamptz "
                        f"'{began.isoformat()}') $$"
                    )
                )
        yield clock
    finally:
        _clock = None
        if sqlite:
            event.remove(engine.sync_engine, "before_cursor_execute", clock.tick)


@pytest.fixture(scope="session")
def _schema_templates(tmp_path_factory) -> dict:
    return {"dir": tmp_path_factory.mktemp("schemas"), "files": {}, "ddl": {}}


def _ddl_script(metadata: MetaData, dialect) -> str:
    """Every statement create_all sends for ``metadata`` (types, tables, indexes, DDL events), as one script."""
    statements: list[str] = []

    def collect(ddl, *multiparams, **params) -> None:
        statements.append(str(ddl.compile(dialect=dialect)).strip())

    metadata.create_all(create_mock_engine(make_url("postgresql+asyncpg://"), collect), checkfirst=False)
    return ";\n".join(statements) + ";"


async def _create_on_postgres(engine: AsyncEngine, metadata: MetaData, scripts: dict) -> None:
    """PostgreSQL: the kata's tables in this test's new schema, in one round trip.

    create_all compiles its DDL again for every test and sends one statement
    at a time, each prepared and then executed: the largest part of a test's
    set-up on kata 01 (profiled). The script is compiled once per run (by the engine's dialect,
    which knows the server) and sent as one simple query, which PostgreSQL
    runs as one transaction: it creates everything or nothing.
    """
    async with engine.connect() as conn:
        key = id(metadata)
        if key not in scripts:
            scripts[key] = (metadata, _ddl_script(metadata, conn.dialect))  # the metadata kept alive with its id
        raw = await conn.get_raw_connection()
        await raw.driver_connection.execute(scripts[key][1])


@pytest.fixture
def create_schema(engine: AsyncEngine, _schema_templates: dict):
    """``await create_schema(Base.metadata)``: the kata's tables in this test's empty database.

    SQLite: a copy of a database file built once per run from the same
    metadata. Compiling and running the DDL again for every test took an
    eighth of kata 01's checks' time; copying the file costs one write. PostgreSQL:
    what ``create_all`` would send (enum types and DDL events included), compiled
    once per run and sent to the test's own schema in one round trip.
    """

    async def create(metadata: MetaData) -> None:
        path = Path(engine.url.database or "") if engine.dialect.name == "sqlite" else None
        if path is None and engine.dialect.driver == "asyncpg":
            await _create_on_postgres(engine, metadata, _schema_templates["ddl"])
            return
        if path is None or path.exists():  # a database something already opened
            async with engine.begin() as conn:
                await conn.run_sync(metadata.create_all, checkfirst=False)
            return
        files = _schema_templates["files"]
        if id(metadata) not in files:
            template = _schema_templates["dir"] / f"schema-{len(files)}.db"
            sync_engine = create_engine(f"sqlite:///{template.as_posix()}", poolclass=NullPool)
            try:
                metadata.create_all(sync_engine, checkfirst=False)
            finally:
                sync_engine.dispose()
            files[id(metadata)] = (metadata, template)  # the metadata kept alive: its id stays its own
        shutil.copyfile(files[id(metadata)][1], path)

    return create


@pytest.fixture
def app_client():
    """``async with app_client(app, get_session, sessions) as client:`` the learner's FastAPI app over HTTP.

    Each request's session comes from ``sessions`` (the test's sessionmaker, on its own database) in
    place of the app's dependency ``get_session``, and closes with the request, as in production.
    httpx is imported here: only the katas with routes pay for it.
    """
    import httpx

    @asynccontextmanager
    async def client(app, get_session, sessions, host: str = "app.test") -> AsyncIterator[httpx.AsyncClient]:
        async def session_for_this_test():
            async with sessions() as session:
                yield session

        app.dependency_overrides[get_session] = session_for_this_test
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{host}") as http:
            yield http

    return client
