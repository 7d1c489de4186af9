"""A raise loader's error explained as the MissingGreenlet it stands in for: raiseload() in a query's
options, lazy="raise" or "raise_on_sql" in a mapping, a deferred column's raiseload=True, a read through a
property, FastAPI serialising; and kata 10's method (its suite, RAISELOAD=1, the plugin) end to end.

Each case runs twice on one engine: with the raise loader (InvalidRequestError, "... is not available due
to ..."), and its twin without it (MissingGreenlet). Both explanations must name the same cause, line,
fix and rule; then the Fix, applied to the query, must make the read work. In process, on the small models
of tests/test_explain.py and a few of this file's own (a raise loader in the mapping); on SQLite, and
PostgreSQL when KATAS_DATABASE_URL names one.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    defer,
    joinedload,
    lazyload,
    load_only,
    mapped_column,
    raiseload,
    relationship,
    selectinload,
    undefer,
)

from implicit_io import text as io_text
from implicit_io.explain import KINDS
from implicit_io.frames import Scope
from implicit_io.recorder import Recorder
from tests.conftest import database_params
from tests.test_explain import HERE, URLS, Battle, explained, failing, make_engine, quiet

REPO = HERE.parent
DRIVERS = {"ids": lambda u: u.split("+")[1].split(":")[0]}


class RaiseBase(DeclarativeBase):
    pass


class Venue(RaiseBase):
    __tablename__ = "x_raise_venue"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    notes: Mapped[str] = mapped_column(String(40), default="", deferred=True, deferred_raiseload=True)
    rooms: Mapped[list[Room]] = relationship(lazy="raise", order_by="Room.id", back_populates="venue")

    @property
    def room_count(self) -> int:
        return len(self.rooms)


class Room(RaiseBase):
    __tablename__ = "x_raise_room"

    id: Mapped[int] = mapped_column(primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("x_raise_venue.id"))
    venue: Mapped[Venue] = relationship(lazy="raise_on_sql", back_populates="rooms")
    seats: Mapped[list[Seat]] = relationship(lazy="selectin", order_by="Seat.id")


class Seat(RaiseBase):
    __tablename__ = "x_raise_seat"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("x_raise_room.id"))


@pytest.fixture
def recorder():
    recorder = Recorder(Scope([HERE], detect_tests=False)).install()
    recorder.start()
    yield recorder
    recorder.uninstall()


async def engine_for(url: str):
    """tests/test_explain.py's engine and data (a battle, two performers), and a venue of two rooms beside."""
    engine = await make_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(RaiseBase.metadata.create_all)
    async with async_sessionmaker(engine)() as session:
        rooms = [Room(id=1, seats=[Seat(id=1), Seat(id=2)]), Room(id=2)]
        session.add(Venue(id=1, name="Hall", notes="quiet", rooms=rooms))
        await session.commit()
    return engine


# --- the learner's code: one query, then a function that reads what it returned -----------------------


async def load_and_read(session, statement, read):
    loaded = (await session.scalars(statement)).first()
    return read(loaded)


def performer_ids(battle):
    return [performer.id for performer in battle.performers]


def title_of(battle):
    return battle.title


def room_ids(venue):
    return [room.id for room in venue.rooms]


def venue_name(room):
    return room.venue.name


def notes_of(venue):
    return venue.notes


def count_rooms(venue):
    return venue.room_count  # a property: it reads venue.rooms


def seat_ids(room):
    return [seat.id for seat in room.seats]


# name: (the statement with the raise loader, its twin without one, the read, what the read returns once
# fixed, the statement the Fix goes onto, the cause, the attribute, {lazy, set_by} of the raise loader)
CASES = {
    "raiseload-in-the-options": (
        lambda: select(Battle).options(raiseload("*")),
        lambda: select(Battle),
        performer_ids,
        [1, 2],
        None,
        "relationship-not-loaded",
        "Battle.performers",
        ("raise", "option"),
    ),
    "raiseload-sql-only-in-the-options": (
        lambda: select(Battle).options(raiseload("*", sql_only=True)),
        lambda: select(Battle),
        performer_ids,
        [1, 2],
        None,
        "relationship-not-loaded",
        "Battle.performers",
        ("raise_on_sql", "option"),
    ),
    "lazy-raise-in-the-mapping": (
        lambda: select(Venue),
        lambda: select(Venue).options(lazyload(Venue.rooms)),
        room_ids,
        [1, 2],
        None,
        "relationship-not-loaded",
        "Venue.rooms",
        ("raise", "mapping"),
    ),
    "raise-on-sql-in-the-mapping": (
        lambda: select(Room).order_by(Room.id),
        lambda: select(Room).order_by(Room.id).options(lazyload(Room.venue)),
        venue_name,
        "Hall",
        None,
        "relationship-not-loaded",
        "Room.venue",
        ("raise_on_sql", "mapping"),
    ),
    "defer-with-raiseload": (
        lambda: select(Battle).options(defer(Battle.title, raiseload=True)),
        lambda: select(Battle).options(defer(Battle.title)),
        title_of,
        "Final",
        lambda: select(Battle),  # the Fix takes the place of the defer()
        "deferred",
        "Battle.title",
        (None, "option"),
    ),
    "deferred-raiseload-in-the-mapping": (
        lambda: select(Venue),
        lambda: select(Venue).options(load_only(Venue.id, Venue.name)),
        notes_of,
        "quiet",
        None,
        "deferred",
        "Venue.notes",
        (None, "mapping"),
    ),
    "read-through-a-property": (
        lambda: select(Venue),
        lambda: select(Venue).options(lazyload(Venue.rooms)),
        count_rooms,
        2,
        None,
        "relationship-not-loaded",
        "Venue.rooms",
        ("raise", "mapping"),
    ),
}

FIX_NAMES = {"selectinload": selectinload, "joinedload": joinedload, "undefer": undefer, "Battle": Battle}
FIX_NAMES.update({model.__name__: model for model in (Venue, Room, Seat)})


def with_fix(statement, code: str):
    """The statement with the Fix's loader option appended, as the Fix says (its comment left out)."""
    return eval("statement" + code.split("   #")[0], {**FIX_NAMES, "statement": statement})


def run(url: str, recorder, steps: list) -> list:
    """Each (statement, read) in a session of its own on one engine: what it returned, else its failure
    explained while its session is still open (as the plugin does for a session a fixture holds)."""

    async def main():
        engine = await engine_for(url)
        outcomes = []
        try:
            for statement, read in steps:
                recorder.start()
                async with async_sessionmaker(engine)() as session:
                    try:
                        outcomes.append(await load_and_read(session, statement, read))
                    except Exception as error:
                        outcomes.append(explained(error, recorder))
        finally:
            await engine.dispose()
        return outcomes

    with quiet():
        return asyncio.run(main())


def shown(failure: dict) -> str:
    return "\n".join(io_text.explanation_lines(failure))


def fix_without_the_awaited_load(fix: dict) -> tuple[str, str]:
    """A MissingGreenlet's fix, less what a raise loader refuses too: an awaited load (awaitable_attrs)."""
    return fix["text"].replace(", or ask for it, awaited:", ":"), fix["code"].split("   # or: await")[0]


@pytest.mark.parametrize("url", database_params(URLS), **DRIVERS)
@pytest.mark.parametrize("name", list(CASES))
def test_a_raise_loader_is_explained_as_the_load_it_refused(name, url, recorder):
    raising, twin, read, value, fix_base, cause, attribute, (lazy, set_by) = CASES[name]
    failure, missing_greenlet = run(url, recorder, [(raising(), read), (twin(), read)])
    text = shown(failure)
    model, key = attribute.split(".")
    setting = f"lazy='{lazy}'" if lazy else "raiseload=True"

    # the error as SQLAlchemy words it, recognised by its type and words
    assert failure["error"] == "InvalidRequestError" and failure.get("wrapped_in") is None, text
    assert failure["exception"] == f"InvalidRequestError: '{attribute}' is not available due to {setting}", text
    assert failure["raiseload"] == {"lazy": lazy, "set_by": set_by, "overrides": None, "closed": False}
    # the twin without the raise loader: the MissingGreenlet production would have met
    assert missing_greenlet["error"] == "MissingGreenlet", shown(missing_greenlet)
    assert failure["cause"] == missing_greenlet["cause"] == cause and failure["kind"] == KINDS[cause], text
    assert failure["attribute"] == missing_greenlet["attribute"], text
    assert failure["attribute"]["model"] == model and failure["attribute"]["key"] == key, text
    # The twin's Why names the mapping's lazy= only where that is the lazy load that ran: a mapping's raise
    # setting that the twin's lazyload() overrode is not
    twin_why = next(line for line in shown(missing_greenlet).splitlines() if line.startswith("  Why:"))
    assert "lazy='raise" not in twin_why, twin_why
    if cause == "relationship-not-loaded":
        lazily = "keeps lazy loading (lazy='select')" if set_by == "option" else "reading it is a lazy load"
        assert lazily in twin_why, twin_why

    # Where: the line of the learner's that read it, the same as the MissingGreenlet's
    where = failure["location"]
    assert where == missing_greenlet["location"], text
    assert where["file"] == "test_explain_raiseload.py" and f".{key}" in where["source"], text
    assert "sqlalchemy/" not in text and "strategies.py" not in text, text
    # What: the query it needed, and the setting that refused it
    what = next(line for line in text.splitlines() if line.startswith("  What:"))
    assert f"Reading {attribute} on {failure['attribute']['instance']} needed a query" in what, text
    assert "refused to run it" in what and "(MissingGreenlet)" in what, text
    assert ("its mapping (" if set_by == "mapping" else "the query that loaded it") in what, text
    assert "closed by now" not in what, text  # the session was open when it was read, and still is
    # Why: the query that loaded the object, as the MissingGreenlet's names it
    origin = failure["origin"]
    assert origin == missing_greenlet["origin"] and origin["function"] == "load_and_read", text
    why = next(line for line in text.splitlines() if line.startswith("  Why:"))
    assert f"query at test_explain_raiseload.py:{origin['line']} in load_and_read()" in why, text
    # Fix: the MissingGreenlet's, on the query that loaded it (less an awaited load: it raises too)
    fix = failure["fix"]
    assert fix["at"] == missing_greenlet["fix"]["at"], text
    assert (fix["at"]["file"], fix["at"]["line"]) == (origin["file"], origin["line"]), text
    assert (fix["text"], fix["code"]) == fix_without_the_awaited_load(missing_greenlet["fix"]), text
    assert "awaitable_attrs" not in fix["code"], text
    assert fix["code"].startswith(".options(undefer(" if cause == "deferred" else ".options(selectinload("), text
    # Rule: the MissingGreenlet's page
    assert failure["rules"] and failure["rules"] == missing_greenlet["rules"], text
    assert all(f"Rule:  {rule['title']}: {rule['page']}" in text for rule in failure["rules"]), text

    # and the Fix works: applied where it says, the read returns what it should, under the raise loader too
    [fixed] = run(url, recorder, [(with_fix((fix_base or raising)(), fix["code"]), read)])
    assert fixed == value, fixed


def test_a_raise_loader_is_known_by_its_type_and_its_words():
    from sqlalchemy.exc import InvalidRequestError

    from implicit_io.explain import raiseload_error

    relationship = "'Order.customer' is not available due to lazy='raise'"
    column = "'Venue.notes' is not available due to raiseload=True"
    assert raiseload_error([InvalidRequestError(relationship)])[1].groups() == ("Order", "customer", "raise")
    assert raiseload_error([InvalidRequestError(column)])[1].groups() == ("Venue", "notes", None)
    assert raiseload_error([RuntimeError(relationship)]) is None  # the words alone are not SQLAlchemy's error
    assert raiseload_error([InvalidRequestError("Object is not persistent within this Session")]) is None


def test_the_property_that_reached_the_read_is_named(recorder):
    [failure] = run(URLS[0], recorder, [(select(Venue), count_rooms)])
    assert failure["reached_by"] == {"kind": "property", "via": "Venue.room_count"}
    assert failure["location"]["function"] == "room_count" and "self.rooms" in failure["location"]["source"]
    assert [f["function"] for f in failure["call_path"]][-2:] == ["count_rooms", "room_count"]
    assert "The read ran inside the property Venue.room_count" in shown(failure)


@pytest.mark.parametrize("url", database_params(URLS), **DRIVERS)
def test_raiseload_over_an_eager_mapping_says_the_option_overrides_it(url, recorder):
    """lazy="selectin" on Room.seats: raiseload("*") turns it off, and without the option the query loads it."""
    failure, without_the_option = run(
        url, recorder, [(select(Room).options(raiseload("*")), seat_ids), (select(Room), seat_ids)]
    )
    assert without_the_option == [1, 2]  # no failure at all: the mapping's selectin load ran with the query
    assert failure["cause"] == "relationship-not-loaded" and failure["raiseload"]["overrides"] == "selectin"
    what = next(line for line in shown(failure).splitlines() if line.startswith("  What:"))
    assert "Without the option, the mapping's lazy='selectin' loads it with that query" in what, what
    assert "MissingGreenlet" not in what, what
    assert failure["fix"]["code"] == ".options(selectinload(Room.seats))"


async def read_after_the_session_closed(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle).options(raiseload("*")))).one()
    return performer_ids(battle)


async def read_after_the_session_closed_without_raiseload(sessions):
    async with sessions() as session:
        battle = (await session.scalars(select(Battle))).one()
    return performer_ids(battle)


@pytest.mark.parametrize("url", database_params(URLS), **DRIVERS)
def test_lazy_raise_on_a_closed_session_says_so(url, recorder):
    """lazy='raise' refuses before it asks for a session: the What adds that the closed one loads nothing."""
    failure = explained(failing(read_after_the_session_closed, url), recorder)
    recorder.start()
    detached = explained(failing(read_after_the_session_closed_without_raiseload, url), recorder)
    assert detached["error"] == "DetachedInstanceError"  # what the read meets without the option
    assert failure["error"] == "InvalidRequestError" and failure["raiseload"]["closed"] is True
    assert failure["cause"] == "relationship-not-loaded"  # the read lacked the relationship, not a session
    assert "closed by now" in shown(failure) and "(DetachedInstanceError)" in shown(failure)
    assert failure["fix"]["code"] == ".options(selectinload(Battle.performers))"


def test_fastapi_serialising_a_raise_loaded_relationship(recorder):
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
            return (await session.scalars(select(Battle).options(raiseload("*")))).one()

        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://t") as client:
            await client.get("/battles/1")

    failure = explained(failing(scenario), recorder)
    text = shown(failure)
    assert failure["wrapped_in"].startswith("ResponseValidationError"), text
    assert failure["exception"] == "InvalidRequestError: 'Battle.performers' is not available due to lazy='raise'"
    assert failure["cause"] == "relationship-not-loaded" and failure["attribute"]["key"] == "performers", text
    assert failure["fix"]["code"] == ".options(selectinload(Battle.performers))", text
    assert "select(Battle)" in failure["fix"]["at"]["source"], text
    assert "While: FastAPI serialised the response of read_battle()" in text, text


# --- kata 10's method, as its README gives it ---------------------------------------------------------


def line_in(path: Path, after: str, text: str) -> int:
    """The number of the first line holding ``text`` after the line holding ``after``."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line)
    return next(i for i in range(start, len(lines)) if text in lines[i]) + 1


@pytest.mark.legs("sqlite-2.0", "sqlite-2.1")  # the kata's suite runs on SQLite whatever the leg: both lines
def test_kata_10_suite_with_raiseload_and_the_plugin_explains_the_list(tmp_path):
    kata = REPO / "katas" / "10-release-candidate"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KATAS_"))}
    env.update(RAISELOAD="1", PYTHONDONTWRITEBYTECODE="1", NO_COLOR="1")
    command = [sys.executable, "-m", "pytest", str(kata.relative_to(REPO)), "-p", "implicit_io.plugin"]
    command += ["-q", "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "suite")]
    run = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    out = run.stdout
    assert run.returncode == 1, out + run.stderr
    assert "FAILED katas/10-release-candidate/tests/shop_test.py::test_the_back_office_lists_placed_orders" in out
    section = out.split("implicit IO explained", 1)[1].split("short test summary", 1)[0]
    assert "InvalidRequestError: 'Order.customer' is not available due to lazy='raise'" in section, section
    assert "Where: app/api/orders.py:35 in order_out()" in section, section
    assert "customer=order.customer.name," in section, section
    what = re.search(r"What: +(.*)", section).group(1)
    assert re.match(r"Reading Order\.customer on Order\(id=\d+\) needed a query", what), what
    assert "a raiseload() option of the query that loaded it refused to run it (lazy='raise')" in what, what
    assert "(MissingGreenlet)" in what and "closed by now" not in what, what
    query = line_in(kata / "app/repositories/orders.py", "async def by_status", "self.session.scalars(stmt)")
    assert f"by the query at app/repositories/orders.py:{query} in by_status()" in section, section
    assert f"at app/repositories/orders.py:{query} in by_status():" in section, section
    assert ".options(selectinload(Order.customer))" in section, section
    assert "Rule:  Eager-load what you read: " in section, section
