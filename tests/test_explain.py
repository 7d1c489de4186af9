"""The explainer (implicit_io, behind the runner's "Why it fails"): every kata's start explained,
every shape of the error seen through, every kind told apart, in-process on small models.

The kata tests run the real runner on a copy of each kata's starting code, as
tests/test_katas.py does, and hold each explanation to the kata's kata.toml:
the error and attributes of ``[expect]``, a rule from ``rules``, a line of the
learner's own code. On PostgreSQL too, when KATAS_DATABASE_URL names one.
"""

from __future__ import annotations

import asyncio
import gc
import linecache
import os
import uuid
import warnings
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import DateTime, ForeignKey, String, exc, func, select, text
from sqlalchemy.ext.asyncio import AsyncAttrs, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, selectinload

from implicit_io import text as io_text
from implicit_io.explain import KINDS, catching_handler, explain, in_loop
from implicit_io.frames import OWN_APP, OWN_TEST, Scope
from implicit_io.recorder import TRANSACTION_CONTROL, Recorder
from implicit_io.review import check_review, combine, growth
from implicit_io.rules import RuleIndex
from runner import execute, render
from tests.conftest import database_params
from tests.katas import KATAS, WS, check, copy_kata

HERE = Path(__file__).resolve().parent
# the kinds a start may fail with for its [expect]ed reason: implicit IO, or one session in concurrent tasks (08)
IO_KINDS = {"lazy-load", "unloaded-column", "io-outside-greenlet", "detached", "concurrent-session"}
POSTGRES = os.environ.get("KATAS_DATABASE_URL", "")
URLS = ["sqlite+aiosqlite://"] + ([POSTGRES] if POSTGRES.startswith("postgresql+asyncpg") else [])


def expected_attributes(kata) -> set[str]:
    attribute = kata.expect.get("attribute", [])
    return {attribute} if isinstance(attribute, str) else set(attribute)


# --- every kata's start ---------------------------------------------------------------


@pytest.mark.parametrize("kata", KATAS, ids=[k.session for k in KATAS])
def test_start_is_explained_like_a_reviewer(kata, tmp_path):
    folder = copy_kata(kata, tmp_path / kata.id)
    result = check(kata, folder)
    failures = [f for f in result.failures if f.get("kind") in IO_KINDS]
    assert failures, f"kata {kata.number}'s start shows no implicit-IO failure: {result.failures}"
    wanted = expected_attributes(kata)
    for failure in failures:
        shown = "\n".join(render.explain_failure(failure, f"katas/{kata.id}", render.Style(), with_fix=True))
        assert failure["error"] == kata.expect["error"], shown
        assert KINDS[failure["cause"]] == failure["kind"], shown
        # the learner's own line, as it is in the file
        location = failure["location"]
        assert location, shown
        source = linecache.getline(str(folder / location["file"]), location["line"]).strip()
        assert source and source == location["source"], shown
        attribute = failure.get("attribute")
        if wanted:
            assert attribute, shown
            name = f"{attribute['model']}.{attribute['key']}"
            assert name in wanted, f"{name} is not in [expect] {wanted}\n{shown}"
            if failure.get("route"):  # FastAPI read it while serialising: the line shown returned the object
                assert source.startswith("return "), shown
                assert "loc ('response', " in shown and failure["route"]["response_model"] in shown, shown
            else:
                assert attribute["key"] in source, f"the line shown does not read {name}\n{shown}"
            assert failure["kind"] == ("lazy-load" if attribute["kind"] == "relationship" else "unloaded-column"), shown
        elif failure["kind"] == "concurrent-session":  # no attribute: the line that spawned the tasks is named
            assert not attribute, shown
            assert "asyncio.gather(" in failure["spawned_at"]["source"], shown
            assert failure["fix"]["at"] == failure["spawned_at"], shown
        else:
            assert failure["kind"] == "io-outside-greenlet", shown
        # a rule the kata trains, with its page and the kata named
        rules = failure["rules"]
        assert rules and {r["slug"] for r in rules} <= set(kata.rules), shown
        assert all(kata.number in [k["number"] for k in r["katas"]] for r in rules), shown
        # the SQL line shows the query the read needed, never the BEGIN its connection sent first
        assert not TRANSACTION_CONTROL.match(failure.get("sql") or ""), shown
        # a fix, at a line of the learner's code
        fix = failure["fix"]
        assert fix["text"] and fix["at"], shown
        assert (folder / fix["at"]["file"]).is_file(), shown
        for label in ("Where:", "What:", "Why:", "Fix:", "Rule:"):
            assert label in shown, f"{label} missing\n{shown}"
        assert "sqlalchemy/" not in shown and "runner/checks" not in shown
        # What a learner sees: all of it but the literal fix, which is the last hint (runner/hints.py)
        seen = "\n".join(render.explain_failure(failure, f"katas/{kata.id}", render.Style(), with_fix=False))
        assert "Fix:" not in seen and (fix["code"] is None or fix["code"] not in seen), seen
        assert fix["code"] or not fix["text"].endswith(":"), f"the Fix announces code it does not give\n{shown}"
        assert all(label in seen for label in ("Where:", "What:", "Why:", "Rule:")), seen


def test_a_passing_check_gets_a_review(tmp_path, monkeypatch):
    """The solution of kata 01: statements per check, and the command center's count does not grow."""
    kata = next(k for k in KATAS if k.number == "01")
    reports = []
    original = execute.results.from_report
    monkeypatch.setattr(
        execute.results, "from_report", lambda report, *a: reports.append(report) or original(report, *a)
    )
    result = check(kata, copy_kata(kata, tmp_path / kata.id, base="solution"))
    assert result.passed
    review = reports[0]["review"]
    assert len(review["checks"]) == len(result.scenarios)
    assert all(c["own_statements"] > 0 for c in review["checks"])
    flat = [o for o in review["operations"] if o["function"] == "get_command_center_context"]
    assert flat and not flat[0]["grows"], review["operations"]
    (low_rows, low), (high_rows, high) = flat[0]["runs"]
    assert high_rows > low_rows and low == high
    assert not review["swallowed"]
    shown = "\n".join(render.explain_review(review, "katas/01", render.Style()))
    assert "does not grow with the data" in shown and "statements per check" in shown


# --- in process: small models, every kind, every shape ------------------------------------


class Base(AsyncAttrs, DeclarativeBase):
    pass


class Battle(Base):
    __tablename__ = "x_battle"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str] = mapped_column(String(40), default="", deferred=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now(), onupdate=func.now())
    performers: Mapped[list[Performer]] = relationship(order_by="Performer.id")


class Performer(Base):
    __tablename__ = "x_performer"

    id: Mapped[int] = mapped_column(primary_key=True)
    battle_id: Mapped[int] = mapped_column(ForeignKey("x_battle.id"))
    dancer_id: Mapped[int] = mapped_column(ForeignKey("x_dancer.id"))
    dancer: Mapped[Dancer] = relationship()


class Dancer(Base):
    __tablename__ = "x_dancer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))


@pytest.fixture
def recorder():
    recorder = Recorder(Scope([HERE], detect_tests=False)).install()
    recorder.start()
    yield recorder
    recorder.uninstall()


@contextmanager
def quiet():
    with warnings.catch_warnings():  # 2.1 + aiosqlite: a coroutine never awaited, per failure
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
        gc.collect()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


async def make_engine(url: str):
    if url.startswith("postgresql"):
        # A schema of its own per call: a scenario may leave a connection in a transaction (a task
        # cancelled mid-flush), and its locks would make a DROP of the same name wait forever.
        schema = f"explain_{os.getpid()}_{uuid.uuid4().hex[:12]}"
        admin = create_async_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text("SET LOCAL lock_timeout = '2s'"))
            for (old,) in await conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'explain\\_%'")):
                if not _alive(int(old.split("_")[1])):  # a finished run's: its connections are closed
                    await conn.execute(text(f'DROP SCHEMA IF EXISTS "{old}" CASCADE'))
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
    else:
        engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with async_sessionmaker(engine)() as session:
        session.add(Battle(title="Final", performers=[Performer(dancer=Dancer(name=n)) for n in ("Nova", "Kite")]))
        await session.commit()
    return engine


def failing(scenario, url: str = URLS[0]):
    """Run ``scenario(session_factory)``; return the exception it raised."""

    async def main():
        engine = await make_engine(url)
        try:
            await scenario(async_sessionmaker(engine))
        except Exception as error:
            return error
        finally:
            await engine.dispose()
        raise AssertionError("expected a failure")

    with quiet():
        return asyncio.run(main())


def explained(error, recorder, scope=None) -> dict:
    return explain(
        error, scope or recorder.scope, record=recorder.record, rules=RuleIndex.discover(WS.root), recorder=recorder
    )


async def second_hop(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle).options(selectinload(Battle.performers)))).one()
        return [performer.dancer.name for performer in battle.performers]


@pytest.mark.parametrize("url", database_params(URLS), ids=lambda u: u.split("+")[1].split(":")[0])
def test_second_hop_on_every_driver(url, recorder):
    error = failing(second_hop, url)
    failure = explained(error, recorder)
    assert failure["error"] == "MissingGreenlet" and failure["cause"] == "second-hop"
    assert failure["attribute"] == {
        "model": "Performer",
        "key": "dancer",
        "kind": "relationship",
        "instance": "Performer(id=1)",
    }
    assert failure["location"]["function"] == "<listcomp>" or failure["location"]["function"] == "second_hop"
    assert failure["origin"]["function"] == "second_hop" and "select(Battle)" in failure["origin"]["source"]
    assert failure["fix"]["code"] == ".options(selectinload(Battle.performers).selectinload(Performer.dancer))"
    assert [r["slug"] for r in failure["rules"]] == ["chain-loader-options"]
    assert "FROM x_dancer" in failure["sql"]


def test_every_shape_of_the_error(recorder):
    """2.0's MissingGreenlet, 2.1's StatementError(orig=MissingGreenlet), a bare one (asyncpg on 2.1)."""
    error = failing(second_hop)
    greenlet = error if isinstance(error, exc.MissingGreenlet) else error.orig
    assert isinstance(greenlet, exc.MissingGreenlet)
    try:  # the 2.1 shape, on whichever version runs this
        raise exc.StatementError("wrapped", "SELECT 1", {}, greenlet) from greenlet
    except exc.StatementError as wrapped:
        shapes = {"as raised": error, "wrapped": wrapped, "bare": greenlet}
    for name, shape in shapes.items():
        failure = explained(shape, recorder)
        assert failure["cause"] == "second-hop", name
        assert failure["exception"].startswith("MissingGreenlet: greenlet_spawn has not been called"), name
        assert failure["attribute"]["key"] == "dancer", name
    assert explained(shapes["wrapped"], recorder)["wrapped_in"] == "StatementError"


def test_fastapi_response_validation_error(recorder):
    from fastapi import Depends, FastAPI
    from httpx import ASGITransport, AsyncClient
    from pydantic import BaseModel, ConfigDict

    class PerformerOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        id: int

    class BattleOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        title: str
        performers: list[PerformerOut]

    async def scenario(sessions):
        app = FastAPI()

        async def db():
            async with sessions() as session:
                yield session

        @app.get("/battles/{battle_id}", response_model=BattleOut)
        async def read_battle(battle_id: int, session=Depends(db)):
            return await session.get(Battle, battle_id)

        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
            await client.get("/battles/1")

    error = failing(scenario)
    assert type(error).__name__ == "ResponseValidationError"
    failure = explained(error, recorder)
    assert failure["error"] == "MissingGreenlet" and failure["cause"] == "relationship-not-loaded"
    assert failure["wrapped_in"].startswith("ResponseValidationError")
    assert failure["attribute"]["key"] == "performers"
    assert failure["route"]["function"] == "read_battle" and failure["route"]["response_model"] == "BattleOut"
    assert failure["location"]["source"] == "return await session.get(Battle, battle_id)"
    assert failure["fix"]["code"].startswith("options=[selectinload(Battle.performers)]")
    # get() loaded the battle itself (the session held none): its options run, populate_existing is needless
    assert "populate_existing" not in failure["fix"]["code"] + failure["fix"]["text"]
    shown = "\n".join(io_text.explanation_lines(failure))
    assert "While: FastAPI serialised the response of read_battle()" in shown
    assert "to BattleOut, reading the field at loc ('response', 'performers')" in shown, shown
    assert failure["reached_by"]["library"] == "FastAPI" and "The read was done by FastAPI" in shown


def test_each_kind_of_unloaded_column(recorder):
    async def after_commit(sessions):
        async with sessions() as session:
            battle = (await session.scalars(select(Battle))).one()
            await session.commit()
            return battle.title

    async def after_update(sessions):
        async with async_sessionmaker(sessions.kw["bind"], expire_on_commit=False)() as session:
            battle = (await session.scalars(select(Battle))).one()
            battle.title = "Final (rerun)"
            await session.flush()
            return battle.updated_at

    async def deferred(sessions):
        async with sessions() as session:
            battle = (await session.scalars(select(Battle))).one()
            return battle.notes

    expected = {
        after_commit: ("expired-after-commit", "title", "expire-on-commit"),
        after_update: ("expired-after-update", "updated_at", "refresh-what-the-database-generated"),
        deferred: ("deferred", "notes", "eager-load-what-you-read"),
    }
    for scenario, (cause, key, rule) in expected.items():
        recorder.start()
        failure = explained(failing(scenario), recorder)
        assert failure["kind"] == "unloaded-column" and failure["cause"] == cause, scenario.__name__
        assert failure["attribute"]["key"] == key
        assert failure["location"]["function"] == scenario.__name__
        if rule and (WS.docs_dir / "rules" / f"{rule}.md").is_file():
            assert rule in [r["slug"] for r in failure["rules"]], (scenario.__name__, failure["rules"])
    recorder.start()
    failure = explained(failing(after_update), recorder)
    assert failure["expired_by"]["what"] == "flush" and failure["expired_by"]["source"] == "await session.flush()"
    assert failure["fix"]["code"] == 'await session.refresh(battle, ["updated_at"])'


def test_a_new_objects_collection(recorder):
    async def scenario(sessions):
        async with sessions() as session:
            battle = Battle(title="Open")
            session.add(battle)
            await session.flush()
            session.add(Performer(battle_id=battle.id, dancer_id=1))
            await session.flush()
            return len(battle.performers)

    failure = explained(failing(scenario), recorder)
    assert failure["cause"] == "new-object-relationship"
    assert failure["fix"]["code"] == 'await session.refresh(battle, ["performers"])'
    assert failure["fix"]["at"]["line"] == failure["expired_by"]["line"] + 2  # the flush that wrote the performers


def test_sync_session_on_the_async_engine(recorder):
    async def scenario(sessions):
        with Session(sessions.kw["bind"].sync_engine) as session:
            return session.scalars(select(Battle)).all()

    failure = explained(failing(scenario), recorder)
    assert failure["kind"] == "io-outside-greenlet" and failure["cause"] == "sync-session"
    assert failure["session"]["driver"] == "sqlite+aiosqlite"
    assert failure["location"]["source"] == "return session.scalars(select(Battle)).all()"


def test_detached(recorder):
    async def scenario(sessions):
        async with sessions() as session:
            battle = (await session.scalars(select(Battle))).one()
        return battle.performers

    failure = explained(failing(scenario), recorder)
    assert failure["error"] == "DetachedInstanceError" and failure["kind"] == "detached"
    assert failure["attribute"]["key"] == "performers"
    # not battle.id: on a detached, expired object that read fails too (tests/test_fixes.py applies it)
    assert "session.get(Battle, inspect(battle).identity)" in failure["fix"]["code"]


def test_a_caught_failure_is_named_behind_the_assertion(recorder):
    def name(performer) -> str:
        try:
            return performer.dancer.name
        except Exception:
            return "Unknown"

    async def scenario(sessions):
        async with sessions() as session:
            battle = (await session.scalars(select(Battle).options(selectinload(Battle.performers)))).one()
            names = [name(p) for p in battle.performers]
        assert names == ["Nova", "Kite"], f"the battle reads {names}"

    failure = explained(failing(scenario), recorder)
    assert failure["kind"] == "assertion" and failure["message"].startswith("the battle reads")
    assert failure["behind"]["cause"] == "second-hop"
    [group] = failure["hidden"]
    assert group["count"] == 2 and group["caught_at"]["source"] == "except Exception:"
    shown = "\n".join(io_text.explanation_lines(failure))
    assert "Behind it:" in shown and "Not the except:" in shown

    review = check_review(recorder.record, recorder.scope)
    assert review["swallowed"] and review["swallowed"][0]["explained"]["cause"] == "second-hop"
    assert not check_review(recorder.record, recorder.scope, failed=True)["swallowed"]


def test_the_recorder_never_raises_into_your_code(recorder, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the recorder broke")

    monkeypatch.setattr("implicit_io.recorder.own_stack", broken)
    monkeypatch.setattr("implicit_io.frames.EntryFinder.find", broken)
    error = failing(second_hop)
    assert "MissingGreenlet" in type(error).__name__ + type(getattr(error, "orig", None)).__name__


APP_CODE = """
from sqlalchemy import select


async def totals(session, model) -> list[int]:
    rows = (await session.scalars(select(model))).all()
    return [len(await row.awaitable_attrs.performers) for row in rows]
"""


def test_statements_that_grow_with_data(tmp_path, monkeypatch):
    """One query per row, measured: the same call, on 1 battle and on 5, sends 2 and 6 statements."""
    (tmp_path / "shop_app.py").write_text(APP_CODE)
    monkeypatch.syspath_prepend(str(tmp_path))
    from shop_app import totals

    recorder = Recorder(Scope([tmp_path])).install()
    recorder.start()

    async def main():
        engine = await make_engine(URLS[0])
        sessions = async_sessionmaker(engine)
        async with sessions() as session:
            await totals(session, Battle)
        async with sessions() as session:
            session.add_all([Battle(title=f"Round {n}") for n in range(4)])
            await session.commit()
        async with sessions() as session:
            await totals(session, Battle)
        await engine.dispose()

    try:
        asyncio.run(main())
    finally:
        recorder.uninstall()
    [operation] = growth(recorder.record.segments)
    assert operation["function"] == "totals" and operation["grows"]
    assert operation["runs"] == [[3, 2], [7, 6]]  # (rows loaded, statements): 1 battle, then 5
    combined = combine([("one check", check_review(recorder.record, recorder.scope))])
    assert combined["operations"][0]["grows"]
    assert "a query per row" in "\n".join(io_text.review_lines(combined))


# --- the pieces ------------------------------------------------------------------------------


def test_scope_tells_app_code_from_tests_and_libraries(tmp_path):
    root = tmp_path / "project"
    for name in ("app/service.py", "tests/test_service.py", "conftest.py", ".venv/lib/site-packages/lib.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x = 1\n")
    scope = Scope([root])
    assert scope.classify_path(str(root / "app/service.py")) == OWN_APP
    assert scope.classify_path(str(root / "tests/test_service.py")) == OWN_TEST
    assert scope.classify_path(str(root / "conftest.py")) == OWN_TEST
    assert not scope.classify_path(str(root / ".venv/lib/site-packages/lib.py"))
    assert not scope.classify_path(exc.__file__)
    # a project that itself lives in a tests/ folder (the sample project) is not all tests
    nested = Scope([root / "tests"])
    assert nested.classify_path(str(root / "tests/test_service.py")) == OWN_TEST
    assert Scope([root], detect_tests=False).classify_path(str(root / "tests/test_service.py")) == OWN_APP


def test_rules_come_from_the_pages_and_the_katas(tmp_path):
    index = RuleIndex.discover(WS.root)
    for kata in KATAS:
        for slug in kata.rules:
            assert kata.number in [k["number"] for k in index.rules[slug].katas]
    assert [r["slug"] for r in index.for_cause("second-hop")] == ["chain-loader-options"]
    # among a kata's rules first, when one of them fits; else among all; nothing fits: none
    assert [r["slug"] for r in index.for_cause("relationship-not-loaded")] == ["eager-load-what-you-read"]
    among = ["get-and-the-identity-map", "async-endpoints-use-asyncsession"]
    assert [r["slug"] for r in index.for_cause("relationship-not-loaded", among)] == ["get-and-the-identity-map"]
    assert [r["slug"] for r in index.for_cause("second-hop", ["eager-load-what-you-read"])] == ["chain-loader-options"]
    assert index.for_cause("no-such-cause") == []
    # a kata naming a rule whose page is not written yet
    (tmp_path / "runner/checks/09-new").mkdir(parents=True)
    (tmp_path / "runner/checks/09-new/kata.toml").write_text('rules = ["expire-on-commit"]\n')
    [rule] = RuleIndex.discover(tmp_path).for_cause("expired-after-commit")
    assert rule["page"] is None and rule["missing_page"] == "docs/rules/expire-on-commit.md"
    assert rule["katas"] == [{"number": "09", "title": "new", "session": "kata-09"}]
    shown = "\n".join(io_text._rule_lines([rule], ""))
    assert "is not written yet" in shown and "kata 09 (nox -s kata-09) trains it" in shown


# Outside a kata (a team's own suite), each cause's Rule line names the page about it, and only that page
# (two for a deferred column: the eager-load page shows undefer(), Hidden attribute reads the deferred report).
PAGE_FOR_CAUSE = {
    "relationship-not-loaded": ["eager-load-what-you-read"],
    "second-hop": ["chain-loader-options"],
    "loader-path": ["chain-loader-options"],
    "identity-map": ["get-and-the-identity-map"],
    "new-object-relationship": ["refresh-what-the-database-generated"],
    "expired-after-update": ["refresh-what-the-database-generated"],
    "server-default-not-fetched": ["refresh-what-the-database-generated"],
    "refreshed-without-names": ["refresh-what-the-database-generated"],
    "expired-after-commit": ["expire-on-commit"],
    "expired": ["expire-on-commit"],
    "expired-after-rollback": ["roll-back-only-what-failed"],
    "pending-rollback": ["roll-back-only-what-failed"],
    "deferred": ["eager-load-what-you-read", "hidden-attribute-reads"],
    "sync-session": ["async-endpoints-use-asyncsession"],
    "io-outside-greenlet": ["async-endpoints-use-asyncsession"],
    "sync-driver": ["async-endpoints-use-asyncsession"],
    "detached": ["an-object-does-not-cross-a-session-boundary"],
    "not-in-session": ["an-object-does-not-cross-a-session-boundary"],
    "concurrent-session": ["one-session-per-task"],
    "interrupted": [],
    "exit": [],
}


@pytest.mark.parametrize("cause", sorted(PAGE_FOR_CAUSE))
def test_outside_a_kata_a_cause_names_the_page_about_it(cause):
    assert [r["slug"] for r in RuleIndex.discover(WS.root).for_cause(cause)] == PAGE_FOR_CAUSE[cause]


def test_every_cause_has_its_page_named():
    from implicit_io.rules import CAUSE_TERMS

    assert set(CAUSE_TERMS) == set(PAGE_FOR_CAUSE)


def test_catching_handler_finds_the_except(tmp_path):
    source = tmp_path / "code.py"
    source.write_text("def f(p):\n    try:\n        return p.dancer\n    except Exception:\n        return None\n")
    frame = {"path": str(source), "file": "code.py", "line": 3, "function": "f"}
    assert catching_handler([frame])["line"] == 4
    assert catching_handler([dict(frame, line=5)]) is None


def test_in_loop_tells_a_get_per_item_from_one_get(tmp_path):
    source = tmp_path / "code.py"
    source.write_text(
        "async def f(session, ids):\n"
        "    one = await session.get(C, 1)\n"
        "    for i in ids:\n"
        "        c = await session.get(C, i)\n"
        "    return [await session.get(C, i) for i in ids]\n"
    )
    frame = {"path": str(source), "file": "code.py", "function": "f"}
    assert [in_loop(dict(frame, line=n)) for n in (2, 3, 4, 5)] == [False, False, True, True]


def test_plain_rendering_has_no_colour_and_keeps_the_old_words():
    failure = {
        "kind": "lazy-load",
        "cause": "relationship-not-loaded",
        "exception": "MissingGreenlet: greenlet_spawn has not been called",
        "location": {"file": "app/service.py", "line": 8, "function": "titles", "source": "shelf.books"},
        "attribute": {"model": "Shelf", "key": "books", "kind": "relationship", "instance": "Shelf(id=1)"},
        "fix": {"text": "Load it:", "code": ".options(selectinload(Shelf.books))", "at": None},
        "rules": [],
    }
    shown = "\n".join(render.explain_failure(failure, "katas/01-shelf", render.Style()))
    assert "katas/01-shelf/app/service.py:8 in titles()" in shown
    assert "Reading Shelf.books on Shelf(id=1) needed a query" in shown
    assert "Rule:  no rule page covers this yet." in shown
    assert "\x1b[" not in shown


def test_the_path_tells_files_of_the_same_name_apart():
    path = [
        {"file": "app/api/orders.py", "line": 63, "function": "place_order"},
        {"file": "app/services/orders.py", "line": 88, "function": "place"},
        {"file": "app/api/orders.py", "line": 23, "function": "order_out"},
    ]
    shown = io_text.explanation_lines({"kind": "lazy-load", "exception": "MissingGreenlet: …", "call_path": path})
    assert (
        "  Path:  api/orders.py:63 place_order() -> services/orders.py:88 place() -> api/orders.py:23 order_out()"
        in (shown)
    )
    alone = [{"file": "app/services/event_service.py", "line": 72, "function": "get"}, {**path[0]}]
    assert io_text.distinct_names([f["file"] for f in alone]) == {
        "app/services/event_service.py": "event_service.py",
        "app/api/orders.py": "orders.py",
    }
