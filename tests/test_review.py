"""The review of a passing run ("How your fix works", the plugin's "implicit IO review"): what one call
is, when a call queries once per row, and the words it is told in. In-process, on small models and a
small app module of their own; on PostgreSQL too, when KATAS_DATABASE_URL names one.

The kata-wide proof is in tests/test_katas.py (no reference fix or correct variant gets a query per row,
every per_row variant gets its line) and tests/test_team_plugin.py (a team's suite).
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re

import pytest
from sqlalchemy import ForeignKey, String, text
from sqlalchemy.ext.asyncio import AsyncAttrs, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from implicit_io import text as io_text
from implicit_io.frames import Scope
from implicit_io.recorder import Recorder, statement_key
from implicit_io.review import check_review, combine, growth, per_row
from tests.conftest import database_params

POSTGRES = os.environ.get("KATAS_DATABASE_URL", "")
URLS = ["sqlite+aiosqlite://"] + ([POSTGRES] if POSTGRES.startswith("postgresql+asyncpg") else [])


class Base(AsyncAttrs, DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "r_author"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    books: Mapped[list[Book]] = relationship(order_by="Book.id")


class Book(Base):
    __tablename__ = "r_book"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("r_author.id"))
    title: Mapped[str] = mapped_column(String(40))


# The code under review: its own module, in a folder the Scope calls yours (this test file is not).
APP = """
import functools

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload


async def rename(session, model, key, name):
    row = await session.get(model, key)
    row.name = name
    await session.commit()  # the connection goes back to the pool here
    await session.refresh(row)  # and a new checkout reads the row back: still this one call
    return row


def staff_only(view):
    @functools.wraps(view)
    async def wrapper(*args, **kwargs):
        return await view(*args, **kwargs)

    return wrapper


@staff_only
async def count_page(session, model):
    return await session.scalar(select(func.count()).select_from(model))


@staff_only
async def list_page(session, model):
    return (await session.scalars(select(model).options(selectinload(model.books)))).all()


async def names_one_by_one(sessions, model):
    async with sessions() as session:
        keys = (await session.scalars(select(model.id).order_by(model.id))).all()
    return [await name_of(sessions, model, key) for key in keys]


async def name_of(sessions, model, key):
    async with sessions() as session:  # a session, and a connection checkout, per row
        return (await session.scalars(select(model.name).where(model.id == key))).one()


async def one(session, model, key):
    return (await session.scalars(select(model).where(model.id == key))).one()


async def create_many(session, model, names):
    session.add_all([model(name=name) for name in names])
    await session.commit()
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("review_app")
    path = folder / "review_app.py"
    path.write_text(APP, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("review_app", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.folder = folder
    return module


def line_of(source: str) -> int:
    """The line of the app module that holds ``source``."""
    [line] = [n for n, code in enumerate(APP.splitlines(), 1) if source in code]
    return line


async def make_engine(url: str):
    if url.startswith("postgresql"):
        schema = f"review_{os.getpid()}"
        admin = create_async_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
    else:
        engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    return engine


async def seed(sessions, authors: int, books: int = 2) -> None:
    async with sessions() as session:
        session.add_all(
            Author(name=f"A{n}", books=[Book(title=f"B{n}.{b}") for b in range(books)]) for n in range(authors)
        )
        await session.commit()


def recorded(app, url: str, scenario) -> dict:
    """Run ``scenario(sessions)`` under a recorder whose scope is the app module's folder: one test's review."""
    recorder = Recorder(Scope([app.folder])).install()
    recorder.start()

    async def main():
        engine = await make_engine(url)
        try:
            await scenario(async_sessionmaker(engine))
        finally:
            await engine.dispose()

    try:
        asyncio.run(main())
    finally:
        recorder.uninstall()
    record = recorder.finish()
    return check_review(record, recorder.scope) | {"_segments": record.segments}


def operations(review: dict) -> dict[str, dict]:
    return {operation["function"]: operation for operation in review["operations"]}


# --- what one call is --------------------------------------------------------------------


@pytest.mark.parametrize("url", database_params(URLS))
def test_a_commit_then_a_refresh_is_one_call(app, url):
    async def scenario(sessions):
        await seed(sessions, 1)
        async with sessions() as session:
            await app.rename(session, Author, 1, "Renamed")

    review = recorded(app, url, scenario)
    [call] = [s for s in review["_segments"] if s.entry["function"] == "rename"]
    assert call.reads == 2 and call.statements >= 3  # get, UPDATE, refresh: three checkouts' worth, one call
    assert not per_row(review)


@pytest.mark.parametrize("url", database_params(URLS))
def test_pages_behind_one_decorator_are_calls_of_their_own(app, url):
    async def scenario(sessions):
        for authors in (2, 20):  # 2 authors with 4 books, then 22 with 44: the same two SELECTs for the list
            await seed(sessions, authors)
            async with sessions() as session:
                await app.count_page(session, Author)
                await app.list_page(session, Author)

    found = operations(recorded(app, url, scenario))
    assert set(found) == {"count_page", "list_page"}  # the wrapper is no call: the page it wraps is
    assert found["count_page"]["calls"] == [[0, 1], [0, 1]]
    assert [queries for _, queries in found["list_page"]["calls"]] == [2, 2]
    assert found["list_page"]["flat"] and not found["list_page"]["grows"]


@pytest.mark.parametrize("url", database_params(URLS))
def test_calls_one_after_another_stay_apart(app, url):
    """Ten calls of one function, one query each, in a row: ten calls (a finished call's frame is not reused)."""

    async def scenario(sessions):
        await seed(sessions, 10)
        async with sessions() as session:
            for key in range(1, 11):
                await app.one(session, Author, key)

    review = recorded(app, url, scenario)
    calls = [s for s in review["_segments"] if s.entry["function"] == "one"]
    assert [(c.statements, c.reads) for c in calls] == [(1, 1)] * 10
    assert not per_row(review)


# --- a query per row ---------------------------------------------------------------------


@pytest.mark.parametrize("url", database_params(URLS))
def test_the_same_select_per_row_is_named_with_its_line(app, url):
    """A session per row, so a checkout per statement: still one call, and the SELECT it repeats per row."""

    async def scenario(sessions):
        await seed(sessions, 10)
        await app.names_one_by_one(sessions, Author)

    review = recorded(app, url, scenario)
    [operation] = per_row(review)
    assert operation["function"] == "names_one_by_one" and operation["calls"] == [[0, 11]]
    [found] = operation["per_row"]
    assert (found["file"], found["line"], found["function"]) == (
        "review_app.py",
        line_of("return (await session.scalars(select(model.name)"),
        "name_of",
    )
    assert found["sql"] == "SELECT r_author.name FROM r_author WHERE r_author.id = ?"
    assert found["counts"] == [[10, 10, False]]
    shown = "\n".join(io_text.review_lines(combine([("the names", review)]), "app"))
    assert "Grows:  names_one_by_one() (app/review_app.py:" in shown
    assert f"app/review_app.py:{found['line']} in name_of(): 10 times in one call, each for another value" in shown
    assert "SELECT … FROM r_author WHERE r_author.id = ?" in shown


@pytest.mark.parametrize("url", database_params(URLS))
def test_two_rows_are_no_growth(app, url):
    """Twice the same SELECT is not yet "per row": a call that reads two fixed things does that too."""

    async def scenario(sessions):
        await seed(sessions, 2)
        await app.names_one_by_one(sessions, Author)

    assert not per_row(recorded(app, url, scenario))


@pytest.mark.parametrize("url", database_params(URLS))
def test_the_inserts_a_call_asks_for_are_no_growth(app, url):
    """On SQLite SQLAlchemy sends one INSERT per new object: writing what the call creates is not a query per row."""

    async def scenario(sessions):
        for count in (3, 15, 40):
            async with sessions() as session:
                await app.create_many(session, Author, [f"N{n}" for n in range(count)])

    review = recorded(app, url, scenario)
    calls = [s for s in review["_segments"] if s.entry["function"] == "create_many"]
    if url.startswith("sqlite"):
        assert [c.statements for c in calls] == [3, 15, 40]  # an INSERT per object, measured
    assert [c.written for c in calls] == [3, 15, 40] and not per_row(review)


# --- judging the calls of a run -------------------------------------------------------------


def operation(calls: list[list[int]], per_row_counts: list | None = None) -> dict:
    found = [{"sql": "SELECT x FROM t WHERE t.id = ?", "file": "app/x.py", "line": 9, "function": "f",
              "counts": per_row_counts}] if per_row_counts else []  # fmt: skip
    return {"file": "app/x.py", "line": 3, "function": "f", "calls": calls, "runs": [], "per_row": found}


def test_flat_needs_data_that_varied_widely():
    def judged(*calls):
        review = {"failed": False, "own_statements": 1, "operations": [operation([list(c) for c in calls])]}
        [found] = combine([("check", review)])["operations"]
        return found["flat"], found["grows"]

    assert judged((0, 1), (1, 1)) == (False, False)  # never 0 against 1
    assert judged((5, 2), (9, 2)) == (False, False)  # two sizes, not far apart
    assert judged((5, 2), (40, 2)) == (True, False)  # far apart
    assert judged((1, 2), (2, 2), (4, 2)) == (True, False)  # three sizes
    assert judged((5, 2), (40, 3)) == (False, False)  # another path, one more SELECT: neither


def test_the_review_of_a_run_lists_passing_checks_only():
    passing = {"failed": False, "own_statements": 4, "operations": [operation([[5, 2]])], "swallowed": []}
    later = {"failed": False, "own_statements": 6, "operations": [operation([[40, 2]])], "swallowed": []}
    failing = {
        "failed": True,
        "own_statements": 90,
        "operations": [operation([[30, 31]], [[30, 30, False]])],
        "swallowed": [],
    }
    review = combine([("small", passing), ("failing budget", failing), ("large", later)])
    assert [c["name"] for c in review["checks"]] == ["small", "large"]
    [merged] = review["operations"]
    assert merged["calls"] == [[5, 2], [40, 2]] and merged["flat"] and not merged["grows"]  # over both checks


# --- the words ---------------------------------------------------------------------------------


def test_counts_are_plural_only_when_they_are_many():
    assert [io_text.plural(n, "statement") for n in (0, 1, 2)] == ["0 statements", "1 statement", "2 statements"]
    assert io_text.plural(1, "query", "queries") == "1 query" and io_text.plural(3, "query", "queries") == "3 queries"
    one = "\n".join(io_text.review_lines({"checks": [{"name": "only", "own_statements": 1}]}))
    assert "your code sent 1 statement per check (median 1, 1 check)." in one
    flat = operation([[1, 1], [3, 1], [30, 1]]) | {"flat": True, "runs": [[1, 1], [30, 1]]}
    shown = "\n".join(io_text.review_lines({"operations": [flat]}))
    assert "sent 1 query for 1 row and 1 for 30: it does not grow with the data." in shown
    assert not re.search(r"\b1 (statements|queries|rows|checks|times)\b", one + shown)


def test_a_failing_query_budget_shows_the_query_it_repeated():
    repeated = operation([[3, 4], [30, 31]], [[3, 3, False], [30, 30, False]]) | {"grows": True}
    failure = {"kind": "assertion", "message": "31 statements for 30 battles, 4 for 3", "per_row": [repeated]}
    shown = io_text.explanation_lines(failure, "katas/01")
    assert shown[0] == failure["message"]
    assert "Per row: f() (katas/01/app/x.py:3) sent a query per row:" in shown[1]
    assert shown[2].strip() == "katas/01/app/x.py:9 in f(): 30 times in one call, each for another value (3 in another)"
    assert shown[3].strip() == "SELECT … FROM t WHERE t.id = ?"
    assert "loader option" not in "\n".join(shown)  # where and what; the fix is the learner's to find


def test_statements_that_differ_only_in_their_values_are_one_query():
    first, read = statement_key("SELECT a.id, a.name \nFROM a \nWHERE a.id IN ($1::INTEGER, $2::INTEGER) LIMIT 10")
    again, _ = statement_key("SELECT a.id, a.name FROM a WHERE a.id IN ($1::INTEGER) LIMIT 5")
    assert first == again == "SELECT a.id, a.name FROM a WHERE a.id IN (?) LIMIT ?" and read
    assert statement_key("SELECT * FROM t1 WHERE name = 'o''k' AND v = 3.5")[0] == (
        "SELECT * FROM t1 WHERE name = ? AND v = ?"
    )
    assert statement_key(
        "SELECT t.id FROM t WHERE t.at > $1::TIMESTAMP WITHOUT TIME ZONE AND t.n = $2::NUMERIC(10, 2)"
    )[0] == ("SELECT t.id FROM t WHERE t.at > ? AND t.n = ?")
    assert statement_key("INSERT INTO a (name) VALUES (?)")[1] is False
    assert statement_key("WITH x AS (SELECT 1) SELECT * FROM x")[1] is True
    assert io_text._short_sql("SELECT a.id, a.name FROM a WHERE a.id = ?") == "SELECT … FROM a WHERE a.id = ?"


def test_growth_keeps_each_call():
    """``growth`` on the recorder's calls: one operation per entry, every call kept (two calls of one size too)."""
    from implicit_io.recorder import Segment

    entry = {"file": "app/x.py", "line": 3, "function": "f"}
    [found] = growth([Segment(entry, statements=2, reads=2, loaded=1), Segment(entry, statements=2, reads=2, loaded=1)])
    assert found["calls"] == [[1, 2], [1, 2]] and not found["grows"] and not found["flat"]
