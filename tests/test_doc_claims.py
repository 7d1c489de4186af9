"""What the rule pages teach about SQLAlchemy, on the database KATAS_DATABASE_URL names.

The pages' own examples run on SQLite (tests/test_docs.py). The claims below
are the ones a page makes for PostgreSQL too, or that hold whatever the
database: each test states its page, and runs on SQLite, or on PostgreSQL
through asyncpg when KATAS_DATABASE_URL names it (the postgresql legs of
`nox -s tests`), on SQLAlchemy 2.0 and 2.1.
"""

from __future__ import annotations

import asyncio
import gc
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Computed, DateTime, FetchedValue, ForeignKey, String, exc, func, insert, inspect, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload
from sqlalchemy.orm.exc import DetachedInstanceError

from tests.databases import database, is_missing_greenlet, on_postgresql

pytestmark = pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")


class Base(DeclarativeBase):
    pass


class Team(Base):
    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(default=0)  # a trigger counts the renames; undeclared
    renames: Mapped[int] = mapped_column(default=0, server_onupdate=FetchedValue())  # the same, declared
    members: Mapped[list[Member]] = relationship(order_by="Member.id")


class Member(Base):
    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("team.id"))
    badge_id: Mapped[int] = mapped_column(ForeignKey("badge.id"))
    badge: Mapped[Badge] = relationship()


class Badge(Base):
    __tablename__ = "badge"

    id: Mapped[int] = mapped_column(primary_key=True)


class Unit(Base):
    """What the database generates, each column its own way (refresh-what-the-database-generated.md)."""

    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    registry_number: Mapped[str | None] = mapped_column(String(20))
    tier: Mapped[str] = mapped_column(String(10), server_default="trial")
    kind: Mapped[str] = mapped_column(
        String(1), Computed("CASE WHEN registry_number IS NOT NULL THEN 'R' ELSE 'D' END", persisted=True)
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


def read(getter) -> str:
    try:
        getter()
    except Exception as error:
        if is_missing_greenlet(error):
            return "MissingGreenlet"
        raise
    return "loaded"


def run(tmp_path: Path, body) -> None:
    async def main() -> None:
        async with database(Base.metadata, tmp_path) as (engine, statements):
            await body(engine, statements, async_sessionmaker(engine))

    asyncio.run(main())


def test_refresh_with_names_after_a_commit_loads_only_those(tmp_path: Path) -> None:
    """refresh-what-the-database-generated.md: "after commit + refresh" leaves the other columns expired."""

    async def body(engine, statements, sessions):
        async with sessions() as session:
            team = Team(status="active")
            session.add(team)
            await session.flush()
            session.add(Member(team_id=team.id, badge=Badge()))
            await session.commit()
            statements.clear()
            await session.refresh(team, ["members"])
            assert " ".join(statements[0].split()).startswith("SELECT team.id FROM team WHERE")  # the key only
            assert len(team.members) == 1
            assert read(lambda: team.status) == "MissingGreenlet"
            await session.refresh(team, ["status", "members"])
            assert team.status == "active"

    run(tmp_path, body)


async def create_trigger(engine) -> None:
    """A trigger that counts renames in two columns; only one of them says so in the model."""
    async with engine.begin() as conn:
        if on_postgresql():
            await conn.execute(
                text(
                    "CREATE FUNCTION count_rename() RETURNS trigger AS $$ BEGIN "
                    "NEW.revision := OLD.revision + 1; NEW.renames := OLD.renames + 1; RETURN NEW; END $$ "
                    "LANGUAGE plpgsql"
                )
            )
            await conn.execute(
                text(
                    "CREATE TRIGGER rename BEFORE UPDATE OF status ON team FOR EACH ROW EXECUTE FUNCTION count_rename()"
                )
            )
        else:
            await conn.execute(
                text(
                    "CREATE TRIGGER rename AFTER UPDATE OF status ON team BEGIN "
                    "UPDATE team SET revision = revision + 1, renames = renames + 1 WHERE id = NEW.id; END"
                )
            )


def test_an_update_expires_what_a_trigger_changes_only_where_declared(tmp_path: Path) -> None:
    """expire-on-commit.md: an undeclared trigger leaves the stale value; server_onupdate=FetchedValue() expires it."""

    async def body(engine, statements, sessions):
        await create_trigger(engine)
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            team = Team(status="active")
            session.add(team)
            await session.commit()
            team.status = "paused"
            await session.commit()
            assert read(lambda: team.revision) == "loaded" and team.revision == 0  # stale, silently
            assert read(lambda: team.renames) == "MissingGreenlet"  # declared: expired
            await session.refresh(team, ["revision", "renames"])
            assert (team.revision, team.renames) == (1, 1)

    run(tmp_path, body)


@pytest.mark.parametrize(("members", "expected"), [(1, 5), (2, 6)])
def test_selectinload_sends_at_most_500_keys_per_statement(tmp_path: Path, members: int, expected: int) -> None:
    """chain-loader-options.md, eager-load-what-you-read.md: 700 parents over two hops are more than 3 statements."""

    async def body(engine, statements, sessions):
        async with engine.begin() as conn:
            await conn.execute(insert(Team), [{"id": n, "status": "active"} for n in range(1, 701)])
            await conn.execute(insert(Badge), [{"id": n} for n in range(1, 700 * members + 1)])
            rows = [{"id": n, "team_id": (n - 1) // members + 1, "badge_id": n} for n in range(1, 700 * members + 1)]
            await conn.execute(insert(Member), rows)
        statements.clear()
        async with sessions() as session:
            stmt = select(Team).options(selectinload(Team.members).selectinload(Member.badge))
            teams = (await session.scalars(stmt)).all()
            assert sum(len(team.members) for team in teams) == 700 * members
        # 1 + ceil(700 / 500) + ceil(700 * members / 500)
        assert len(statements) == expected

    run(tmp_path, body)


def test_get_with_for_update_queries_for_an_object_the_session_holds(tmp_path: Path) -> None:
    """get-and-the-identity-map.md: with_for_update, like populate_existing, bypasses the identity map."""

    async def body(engine, statements, sessions):
        async with sessions() as session:
            session.add(Team(id=1, status="active", members=[Member(badge=Badge())]))
            await session.commit()
        async with sessions() as session:
            held = (await session.scalars(select(Team))).one()
            statements.clear()
            team = await session.get(Team, 1, options=[selectinload(Team.members)])
            assert team is held and statements == [] and read(lambda: held.members) == "MissingGreenlet"
            statements.clear()
            team = await session.get(Team, 1, options=[selectinload(Team.members)], with_for_update=True)
            assert team is held and len(statements) == 2 and len(held.members) == 1
            assert ("FOR UPDATE" in statements[0]) is on_postgresql()  # SQLite has no row locks

    run(tmp_path, body)


def test_the_identity_map_holds_clean_objects_weakly_and_dirty_ones_strongly(tmp_path: Path) -> None:
    """get-and-the-identity-map.md: an unreferenced object leaves the map, unless it has unflushed changes."""

    async def body(engine, statements, sessions):
        async with sessions() as session:
            session.add_all([Team(id=1, status="active"), Team(id=2, status="active")])
            await session.commit()
        async with sessions() as session:
            clean, dirty = (await session.scalars(select(Team).order_by(Team.id))).all()
            dirty.status = "edited"
            del clean, dirty
            gc.collect()
            statements.clear()
            assert (await session.get(Team, 2)).status == "edited" and statements == []  # held, change intact
            with session.no_autoflush:  # (a get() that queries would flush the edit first)
                assert (await session.get(Team, 1)).status == "active" and len(statements) == 1  # gone: queried

    run(tmp_path, body)


def test_a_detached_object_refreshed_by_its_owner_reads_fine(tmp_path: Path) -> None:
    """an-object-does-not-cross-a-session-boundary.md, kata 02's SOLUTION.md: detached and loaded is harmless."""

    async def body(engine, statements, sessions):
        async with sessions() as session:
            team = Team(status="active")
            session.add(team)
            await session.commit()
            await session.refresh(team)
        assert inspect(team).detached and team.status == "active"

    run(tmp_path, body)


def test_an_insert_returns_what_the_database_generates_and_an_update_expires_it(tmp_path: Path) -> None:
    """refresh-what-the-database-generated.md, "On PostgreSQL": RETURNING on INSERT; the UPDATE expires."""

    async def body(engine, statements, sessions):
        async with sessions() as session:
            unit = Unit()
            session.add(unit)
            statements.clear()
            await session.flush()
            assert len(statements) == 1 and "RETURNING" in statements[0]
            assert (unit.tier, unit.kind) == ("trial", "D") and not inspect(unit).expired_attributes
            unit.registry_number = "R-1"
            await session.flush()
            assert inspect(unit).expired_attributes == {"kind", "updated_at"}
            Unit.__mapper__.eager_defaults = True
            try:
                unit.registry_number = "R-2"
                statements.clear()
                await session.flush()
            finally:
                Unit.__mapper__.eager_defaults = "auto"
            assert len(statements) == 1 and "RETURNING" in statements[0] and unit.kind == "R"

    run(tmp_path, body)


def test_an_object_of_another_session(tmp_path: Path) -> None:
    """an-object-does-not-cross-a-session-boundary.md, "On PostgreSQL": the four outcomes."""

    async def body(engine, statements, sessions):
        async with sessions() as db, sessions() as owner:
            team = Team(status="active")
            owner.add(team)
            await owner.commit()
            assert read(lambda: team.status) == "MissingGreenlet"  # the owner is open
            with pytest.raises(exc.InvalidRequestError, match="is not persistent within this Session"):
                await db.refresh(team)
            with pytest.raises(exc.InvalidRequestError, match="is already attached to session"):
                db.add(team)
        with pytest.raises(DetachedInstanceError):
            _ = team.status  # the owner is closed
        async with sessions() as db:
            with pytest.raises(exc.InvalidRequestError, match="is not persistent within this Session"):
                await db.refresh(team)

    run(tmp_path, body)
