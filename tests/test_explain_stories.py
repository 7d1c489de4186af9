"""The explainer names what really happened: the last event that left an attribute unloaded, the code
that reached the read, who caught it, the learner's own names, and the failures that are not implicit IO
(one session shared by concurrent tasks, another session's object, sys.exit(), KeyboardInterrupt).

In process, on the small models of tests/test_explain.py; on SQLite, and PostgreSQL when
KATAS_DATABASE_URL names one. tests/test_fixes.py applies each Fix and shows it works.
"""

from __future__ import annotations

import asyncio
import io
import logging
import sys

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import selectinload

from implicit_io import text as io_text
from implicit_io.explain import explain, summary
from implicit_io.frames import Scope
from implicit_io.recorder import Recorder
from implicit_io.rules import RuleIndex
from tests.conftest import database_params
from tests.katas import WS
from tests.test_explain import HERE, URLS, Battle, Dancer, Performer, explained, failing

DRIVERS = {"ids": lambda u: u.split("+")[1].split(":")[0]}


@pytest.fixture
def recorder():
    recorder = Recorder(Scope([HERE], detect_tests=False)).install()
    recorder.start()
    yield recorder
    recorder.uninstall()


def shown(failure: dict) -> str:
    return "\n".join(io_text.explanation_lines(failure))


def line_of(function, text: str) -> int:
    """The line of ``function``'s source holding ``text`` (the event the explanation must name)."""
    import inspect

    lines, start = inspect.getsourcelines(function)
    return start + next(i for i, line in enumerate(lines) if text in line)


# --- the last event that left the attribute unloaded -------------------------------------------


async def loaded_without_it(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle))).one()
        return [performer.id for performer in battle.performers]


async def expired_by_expire(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle).options(selectinload(Battle.performers)))).one()
        session.expire(battle)
        return [performer.id for performer in battle.performers]


async def expired_by_commit(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle).options(selectinload(Battle.performers)))).one()
        await session.commit()
        return [performer.id for performer in battle.performers]


async def expired_by_rollback(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle).options(selectinload(Battle.performers)))).one()
        await session.rollback()
        return battle.title


async def refreshed_without_names(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle))).one()
        await session.refresh(battle)
        return [performer.id for performer in battle.performers]


async def closed_after_commit(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle))).one()
        await session.commit()
        await session.close()
    return battle.title


EVENTS = {
    # scenario: (cause, the line the Why names, what it says there, what it must not blame)
    loaded_without_it: ("relationship-not-loaded", "select(Battle)", "by the query at", None),
    expired_by_expire: ("expired", "session.expire(battle)", "The expire() at", "does not load"),
    expired_by_commit: ("expired-after-commit", "await session.commit()", "The commit at", "does not load"),
    expired_by_rollback: ("expired-after-rollback", "await session.rollback()", "The rollback at", None),
    refreshed_without_names: ("refreshed-without-names", "await session.refresh(battle)", "The refresh() at", None),
    closed_after_commit: ("detached", "await session.close()", "was closed at", None),
}


@pytest.mark.parametrize("url", database_params(URLS), **DRIVERS)
@pytest.mark.parametrize("scenario", list(EVENTS), ids=lambda f: f.__name__)
def test_the_why_names_the_last_event(scenario, url, recorder):
    cause, code, words, blamed = EVENTS[scenario]
    failure = explained(failing(scenario, url), recorder)
    why = shown(failure)
    assert failure["cause"] == cause, why
    assert f"{words} test_explain_stories.py:{line_of(scenario, code)} in {scenario.__name__}()" in why, why
    if blamed:  # the query that did load it is not the story
        assert blamed not in why, why


# --- the code that reached the read, and who caught it --------------------------------------------


def __repr__(self) -> str:  # noqa: N807 - a model's __repr__, set on Battle below
    return f"Battle({self.title!r}, {len(self.performers)} performers)"


def performer_count(self) -> int:
    return len(self.performers)


def test_a_repr_read_through_logging_is_named_and_logging_caught_it(recorder, monkeypatch, capsys):
    monkeypatch.setattr(Battle, "__repr__", __repr__)
    log = logging.getLogger("stories.repr")  # a handler of its own: pytest's capture re-raises logging errors
    monkeypatch.setattr(log, "propagate", False)
    handler = logging.StreamHandler(io.StringIO())
    log.addHandler(handler)

    async def scenario(sessions):
        async with sessions() as session:
            battle = (await session.scalars(select(Battle))).one()
            log.warning("loaded %r", battle)  # logging's handler swallows the error
            return battle.title

    async def main(sessions_url=URLS[0]):
        return await _run(scenario, sessions_url)

    try:
        assert asyncio.run(main()) == "Final"
    finally:
        log.removeHandler(handler)
    assert "--- Logging error ---" in capsys.readouterr().err
    incident, *again = recorder.record.incidents  # (logging's handler formats the arguments once more)
    assert all(summary(i, recorder.scope)["reached_by"]["library"] == "logging" for i in again)
    caught = summary(incident, recorder.scope)
    assert caught["reached_by"] == {
        "kind": "repr",
        "via": "Battle.__repr__",
        "library": "logging",
        "library_call": caught["reached_by"]["library_call"],
    }
    sentence = io_text.swallowed_sentence(caught, "")
    assert "logging caught it" in sentence and "your code caught it" not in sentence, sentence
    assert caught["caught_at"] is None


async def _run(scenario, url):
    from sqlalchemy.ext.asyncio import async_sessionmaker

    from tests.test_explain import make_engine, quiet

    engine = await make_engine(url)
    try:
        with quiet():
            return await scenario(async_sessionmaker(engine))
    finally:
        await engine.dispose()


@pytest.mark.parametrize("kind", ["property", "hybrid"])
def test_a_property_or_hybrid_that_reads_a_relationship_is_named(kind, recorder, monkeypatch):
    wrapper = property if kind == "property" else hybrid_property
    monkeypatch.setattr(Battle, "performer_count", wrapper(performer_count), raising=False)

    async def scenario(sessions):
        async with sessions() as session:
            battle = (await session.scalars(select(Battle))).one()
            return battle.performer_count

    failure = explained(failing(scenario), recorder)
    assert failure["cause"] == "relationship-not-loaded"
    assert failure["reached_by"] == {"kind": kind, "via": "Battle.performer_count"}
    text = "the property" if kind == "property" else "the hybrid property"
    assert f"The read ran inside {text} Battle.performer_count" in shown(failure)


def test_pydantic_validation_is_named_and_is_not_your_code_catching_it(recorder):
    class PerformerOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        id: int

    class BattleOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        title: str
        performers: list[PerformerOut]

    async def scenario(sessions):
        async with sessions() as session:
            battle = (await session.scalars(select(Battle))).one()
            return BattleOut.model_validate(battle)

    error = failing(scenario)
    assert type(error).__name__ == "ValidationError"
    failure = explained(error, recorder)
    assert failure["behind"]["reached_by"]["library"] == "Pydantic"
    text = shown(failure)
    assert "Pydantic caught it" in text and "your code caught it" not in text and "Not the except" not in text, text
    assert "Pydantic, validating from the object's attributes" in text, text


def test_your_except_is_named_as_yours(recorder):
    async def scenario(sessions):
        async with sessions() as session:
            battle = (await session.scalars(select(Battle))).one()
            try:
                count = len(battle.performers)
            except Exception:
                count = 0
            assert count == 2, f"the battle shows {count} performers"

    text = shown(explained(failing(scenario), recorder))
    assert "the handler at test_explain_stories.py:" in text and "Not the except" in text, text


# --- the Fix uses the learner's own names -------------------------------------------------------


def test_the_fix_names_your_session_and_your_variable(recorder):
    async def scenario(sessions):
        async with sessions() as db:
            final = (await db.scalars(select(Battle))).one()
            await db.commit()
            return final.title

    fix = explained(failing(scenario), recorder)["fix"]
    assert fix["code"] == "await db.refresh(final)"
    assert fix["at"]["source"] == "await db.commit()"


def test_the_fix_names_the_variable_of_the_function_it_goes_to(recorder):
    async def load(db):
        battle = (await db.scalars(select(Battle))).one()
        await db.commit()
        return battle

    async def scenario(sessions):
        async with sessions() as db:
            final = await load(db)
            return final.title

    fix = explained(failing(scenario), recorder)["fix"]
    assert fix["at"]["function"] == "load" and fix["code"] == "await db.refresh(battle)", fix


# --- failures that are not implicit IO: a kind and a cause of their own ---------------------------


async def gathered(sessions):
    async with sessions() as session:

        async def add(number: int) -> None:
            session.add(Performer(battle_id=1, dancer_id=number))
            await session.flush()

        await asyncio.gather(*(add(n) for n in (1, 2, 1, 2)))


async def grouped(sessions):
    async with sessions() as session:

        async def add(number: int) -> None:
            session.add(Performer(battle_id=1, dancer_id=number))
            await session.commit()

        async with asyncio.TaskGroup() as group:
            for number in (1, 2, 1, 2):
                group.create_task(add(number))


CONCURRENT = [gathered] + ([grouped] if sys.version_info >= (3, 11) else [])


@pytest.mark.parametrize("url", database_params(URLS), **DRIVERS)
@pytest.mark.parametrize("scenario", CONCURRENT, ids=lambda f: f.__name__)
def test_one_session_shared_by_concurrent_tasks_is_its_own_kind(scenario, url, recorder):
    failure = explained(failing(scenario, url), recorder)
    text = shown(failure)
    assert failure["kind"] == "concurrent-session" and failure["cause"] == "concurrent-session", text
    started = "asyncio.gather(" if scenario is gathered else "asyncio.TaskGroup()"
    assert started in failure["spawned_at"]["source"], failure["spawned_at"]
    assert "used one AsyncSession at the same time" in text
    assert [rule["slug"] for rule in failure["rules"]] == ["one-session-per-task"], failure["rules"]


@pytest.mark.parametrize("url", database_params(URLS), **DRIVERS)
def test_another_sessions_object_gets_what_why_and_fix(url, recorder):
    async def scenario(sessions):
        async with sessions() as owner, sessions() as db:
            job = (await owner.scalars(select(Battle))).one()
            await owner.commit()
            await db.refresh(job)

    failure = explained(failing(scenario, url), recorder)
    text = shown(failure)
    assert failure["cause"] == "not-in-session" and failure["error"] == "InvalidRequestError"
    assert "What:  db.refresh(job) was given a Battle this session does not hold (Battle(id=1))." in text, text
    assert "job belongs to the session that loaded it at test_explain_stories.py:" in text, text
    assert failure["fix"]["code"].startswith("job = await db.get(Battle, inspect(job).identity)")
    assert [rule["slug"] for rule in failure["rules"]] == ["an-object-does-not-cross-a-session-boundary"]


def test_keyboard_interrupt_and_sys_exit_raised_by_code_get_a_why(recorder):
    def interrupting():
        raise KeyboardInterrupt

    def exiting():
        sys.exit(0)

    for function, cause, words in (
        (interrupting, "interrupted", "KeyboardInterrupt is what Ctrl-C raises"),
        (exiting, "exit", "sys.exit() raises SystemExit"),
    ):
        try:
            function()
        except BaseException as error:  # noqa: BLE001 - what the checks' process sees
            failure = explain(error, recorder.scope, rules=RuleIndex.discover(WS.root))
        assert failure["cause"] == cause and words in shown(failure), shown(failure)
        assert failure["location"]["function"] == function.__name__


CONCURRENT_ERRORS = {
    "flushing": lambda exc: exc.InvalidRequestError("Session is already flushing"),
    "illegal-state-change": lambda exc: exc.IllegalStateChangeError(
        "Method 'close()' can't be called here; method '_connection_for_bind()' is already in progress and this"
        " would cause an unexpected state change to <SessionTransactionState.ACTIVE: 1>"
    ),
    "provisioning": lambda exc: exc.InvalidRequestError(
        "This session is provisioning a new connection; concurrent operations are not permitted"
    ),
    "asyncpg": lambda exc: exc.DBAPIError(
        "(sqlalchemy.dialects.postgresql.asyncpg.InterfaceError) cannot perform operation: another operation is in"
        " progress",
        None,
        Exception(),
    ),
}


@pytest.mark.parametrize("name", list(CONCURRENT_ERRORS))
def test_every_message_of_concurrent_use_is_that_cause(name):
    """What SQLAlchemy 2.0 and 2.1, aiosqlite and asyncpg say when tasks share a session (measured)."""
    import builtins

    from sqlalchemy import exc

    from implicit_io.explain import error_cause, exception_chain

    raised = CONCURRENT_ERRORS[name](exc)
    group = getattr(builtins, "ExceptionGroup", None)  # what a TaskGroup raises (Python 3.11+)
    for shape in (raised, group("unhandled errors in a TaskGroup", [raised]) if group else raised):
        assert error_cause(exception_chain(shape))[0] == "concurrent-session"


# --- a rollback, a failed flush, another session's object, tasks that need no session -------------


async def read_after_rollback(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle))).one()
        performer = Performer(id=1, battle_id=1, dancer_id=1)  # performer 1 exists: the INSERT fails
        session.add(performer)
        try:
            await session.flush()
        except IntegrityError:
            await session.rollback()
            raise LookupError(performer.id, battle.id) from None  # performer.id is fine, battle.id is not


@pytest.mark.parametrize("url", database_params(URLS), **DRIVERS)
def test_a_rollback_in_an_except_gets_a_savepoint_for_the_object_read(url, recorder):
    failure = explained(failing(read_after_rollback, url), recorder)
    text = shown(failure)
    assert failure["cause"] == "expired-after-rollback" and failure["attribute"]["key"] == "id", text
    code = failure["fix"]["code"]
    # the object whose attribute was read (battle), not the first "X.id" on the line (performer), and no
    # refresh: it would read again what the rollback discarded with the rest of the transaction
    assert code.splitlines() == [
        "async with session.begin_nested():  # a SAVEPOINT: a failure rolls back to it, and no further",
        "    session.add(performer)",
    ], text
    assert "refresh" not in code and "Call no session.rollback() in the except" in text, text
    assert failure["fix"]["at"]["source"] == "await session.flush()", text


async def savepoint_after_the_add(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle))).one()
        session.add(Performer(id=1, battle_id=1, dancer_id=1))
        try:
            async with session.begin_nested():  # flushes the performer first, outside its SAVEPOINT
                await session.flush()
        except IntegrityError:
            return battle.title


@pytest.mark.parametrize("url", database_params(URLS), **DRIVERS)
def test_a_read_after_a_failed_flush_is_a_pending_rollback_not_a_caught_greenlet(url, recorder):
    error = failing(savepoint_after_the_add, url)
    assert type(error).__name__ == "PendingRollbackError"
    failure = explained(error, recorder)
    text = shown(failure)
    assert failure["cause"] == "pending-rollback" and failure["error"] == "PendingRollbackError", text
    assert "Behind it" not in text and "caught it" not in text and "MissingGreenlet:" not in text, text
    assert "Reading Battle.title on Battle(id=1) needed a query, and the session refused to run it" in text, text
    assert f"The flush at test_explain_stories.py:{line_of(savepoint_after_the_add, 'begin_nested')}" in text, text
    assert "begin_nested() flushes what is already added before it sends its SAVEPOINT" in text, text
    assert "session.add(Performer" not in failure["fix"]["code"]  # the add it names is a statement of its own
    assert [rule["slug"] for rule in failure["rules"]] == ["roll-back-only-what-failed"], failure["rules"]


async def added_with_another_sessions_object(sessions):
    async with sessions() as owner:
        dancer = (await owner.scalars(select(Dancer).order_by(Dancer.id))).first()
        async with sessions() as session:  # a session of the task's own
            performer = Performer(
                battle_id=1,
                dancer=dancer,
            )
            session.add(performer)
            await session.commit()


@pytest.mark.parametrize("url", database_params(URLS), **DRIVERS)
def test_adding_an_object_that_points_to_another_sessions_object(url, recorder):
    failure = explained(failing(added_with_another_sessions_object, url), recorder)
    text = shown(failure)
    assert failure["cause"] == "not-in-session", text
    assert "session.add(performer) also adds, along Performer.dancer, the Dancer it points to (Dancer(id=1))" in text
    assert f"test_explain_stories.py:{line_of(added_with_another_sessions_object, 'select(Dancer)')}" in text, text
    assert "inspect(" not in failure["fix"]["code"], text  # not a get() of the new, unflushed Performer
    assert failure["fix"]["code"].startswith("dancer_id=dancer.id   # in place of dancer=dancer"), text
    assert failure["fix"]["at"]["source"] == "dancer=dancer,", text


async def fetch(number: int) -> int:
    await asyncio.sleep(0.01)  # an HTTP call: it needs no session
    return number


async def gathered_after_a_call(sessions):
    async with sessions() as session:
        numbers = [1, 2, 1, 2]

        async def add(number: int) -> None:
            dancer_id = await fetch(number)
            session.add(Performer(battle_id=1, dancer_id=dancer_id))
            await session.flush()

        await asyncio.gather(*(add(number) for number in numbers))


@pytest.mark.parametrize("url", database_params(URLS), **DRIVERS)
def test_concurrent_tasks_are_told_to_gather_only_what_needs_no_session(url, recorder):
    failure = explained(failing(gathered_after_a_call, url), recorder)
    text = shown(failure)
    assert failure["cause"] == "concurrent-session", text
    assert failure["fix"]["code"].splitlines()[:2] == [
        "answers = await asyncio.gather(*(fetch(number) for number in numbers))",
        "for number, answer in zip(numbers, answers):",
    ], text
    assert "Gather only the work that needs no session (fetch())" in text, text
    # with no such call, the words alone, and no colon announcing code that is not there
    alone = explained(failing(gathered, url), recorder)
    assert alone["fix"]["code"] is None and not alone["fix"]["text"].endswith(":"), alone["fix"]


def test_your_except_around_pydantic_is_named_as_yours(recorder):
    class PerformerOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        id: int

    class BattleOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        title: str
        performers: list[PerformerOut]

    async def scenario(sessions):
        async with sessions() as session:
            battle = (await session.scalars(select(Battle))).one()
            try:
                shown_battle = BattleOut.model_validate(battle)
            except ValidationError:
                shown_battle = BattleOut(title=battle.title, performers=[])
            assert shown_battle.performers, "the battle shows no performers"

    text = shown(explained(failing(scenario), recorder))
    assert "Pydantic turned it into a ValidationError, which your code caught (the handler at" in text, text
    assert "Pydantic caught it" not in text and "Not the except" in text, text


def test_a_list_response_names_its_model_the_field_and_every_read(recorder):
    from fastapi import Depends, FastAPI
    from httpx import ASGITransport, AsyncClient

    class DancerOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        name: str

    class PerformerOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        id: int
        dancer: DancerOut

    class BattleOut(BaseModel):
        model_config = ConfigDict(from_attributes=True)
        title: str
        performers: list[PerformerOut]

    async def scenario(sessions):
        app = FastAPI()

        async def db():
            async with sessions() as session:
                yield session

        @app.get("/battles", response_model=list[BattleOut])
        async def list_battles(session=Depends(db)):
            return (await session.scalars(select(Battle))).all()

        async with sessions() as session:  # a second battle: two objects FastAPI cannot read
            session.add(Battle(title="Semi"))
            await session.commit()
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
            await client.get("/battles")

    failure = explained(failing(scenario), recorder)
    text = shown(failure)
    assert "to list[BattleOut], reading the field at loc ('response', 0, 'performers')" in text, text
    # the other object's field is an error of the same ResponseValidationError: not hidden, not caught
    assert "Hidden" not in text and "caught" not in text, text
    assert "Also:  reading Battle.performers on Battle(id=2) failed the same way" in text, text
    # what the response reads, hop by hop
    assert failure["fix"]["code"] == ".options(selectinload(Battle.performers).selectinload(Performer.dancer))"
