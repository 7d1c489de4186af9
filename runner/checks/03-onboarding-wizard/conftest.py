"""Kata 03 fixtures: the learner's schema and app on the shared engine, and read-backs.

Every value a check expects comes from the database, read back on a
connection of its own after the request: what the database generated and
stored, never what Python computed or guessed. A read-back on another
connection also sees only what was committed. The database's clock is one the
check sets (``database_clock``): a time Python computed is never one of its
readings, and an UPDATE stamps a later time than the INSERT before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.models import Base, OnboardingStatus, Organization, OrganizationType, Role

# Long before any test runs: a status seeded with it shows whether a step's UPDATE really set a new time.
LONG_AGO = datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc)
STEPS = ("organization", "identity", "roles", "members")


@pytest_asyncio.fixture
async def session_factory(engine: AsyncEngine, database_clock, create_schema) -> async_sessionmaker[AsyncSession]:
    await create_schema(Base.metadata)
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest_asyncio.fixture
async def client(engine: AsyncEngine, session_factory, app_client) -> httpx.AsyncClient:
    """The learner's FastAPI app, its sessions bound to this test's engine with the app's own settings."""
    from app.db import get_db, make_sessionmaker
    from app.main import create_app

    async with app_client(create_app(), get_db, make_sessionmaker(engine), "onboarding.test") as client:
        yield client


class Stored:
    """What the database holds, read on a connection of its own."""

    def __init__(self, engine: AsyncEngine, clock) -> None:
        self.engine = engine
        self.clock = clock  # the database's clock during the check (DatabaseClock)

    async def _rows(self, stmt) -> list[dict]:
        async with self.engine.connect() as conn:
            return [dict(row) for row in (await conn.execute(stmt)).mappings()]

    async def organization(self, organization_id: int) -> dict | None:
        table = Organization.__table__
        rows = await self._rows(select(table).where(table.c.id == organization_id))
        return rows[0] if rows else None

    async def organization_by_slug(self, slug: str) -> dict | None:
        table = Organization.__table__
        rows = await self._rows(select(table).where(table.c.slug == slug))
        return rows[0] if rows else None

    async def roles(self, organization_id: int) -> list[dict]:
        table = Role.__table__
        return await self._rows(
            select(table).where(table.c.organization_id == organization_id).order_by(table.c.position)
        )

    async def status(self, organization_id: int) -> dict | None:
        table = OnboardingStatus.__table__
        rows = await self._rows(select(table).where(table.c.organization_id == organization_id))
        return rows[0] if rows else None

    async def count(self, model) -> int:
        return len(await self._rows(select(model.__table__)))

    @staticmethod
    def same_time(shown: str | None, stored: datetime | None) -> bool:
        """A timestamp in the JSON response is the one the database stored."""
        if shown is None or stored is None:
            return shown is None and stored is None
        return datetime.fromisoformat(shown) == stored

    def not_stamped(self, what: str, column: str, value: datetime | None) -> str | None:
        """Why a stored time cannot be one the database stamped (a plain-words failure), or None if it is."""
        if self.clock.gave(value):
            return None
        return (
            f"{what}: the database holds {column} = {value}, a time {self.clock} never gave: the value was "
            "computed in Python and written with the statement. The database stamps this column itself "
            "(server_default, onupdate=func.now()): let it, and answer with the time it stored"
        )


@pytest.fixture
def stored(engine: AsyncEngine, database_clock) -> Stored:
    return Stored(engine, database_clock)


@dataclass(frozen=True)
class SeededOnboarding:
    organization_id: int
    current_step: str | None
    completed_steps: list[str]


@pytest.fixture
def seed_onboarding(session_factory: async_sessionmaker[AsyncSession]):
    """An organization part-way through the wizard, last touched long ago, committed."""

    async def seed(current_step: str = "identity") -> SeededOnboarding:
        completed = list(STEPS[: STEPS.index(current_step)])
        async with session_factory() as s:
            org = Organization(
                name="Harbor Point Rescue",
                slug="harbor-point",
                organization_type=OrganizationType.RESCUE_SQUAD,
                registry_number="RS-20417",
            )
            s.add(org)
            await s.flush()
            s.add(
                OnboardingStatus(
                    organization_id=org.id,
                    current_step=current_step,
                    completed_steps=completed,
                    is_complete=False,
                    started_at=LONG_AGO,
                    updated_at=LONG_AGO,
                )
            )
            await s.commit()
            return SeededOnboarding(org.id, current_step, completed)

    return seed
