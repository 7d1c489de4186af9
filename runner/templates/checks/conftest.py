"""Kata {{number}}'s fixtures: the learner's schema on the shared engine, and the story's data.

SCAFFOLD: the story's seed data; keep the pattern. The shared fixtures (runner/checks/conftest.py):
`engine` (an empty database of the test's own), `create_schema` and `sql` (every statement sent).
Seeding runs in a session of its own and commits, so the session under test starts empty, as a
production request's does: an identity map warmed by the seeding would hide the lazy loads.
"""

from __future__ import annotations

import pytest
import pytest_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import make_sessionmaker
from app.models import Base, Member, Team


@pytest_asyncio.fixture
async def sessions(engine: AsyncEngine, create_schema) -> async_sessionmaker[AsyncSession]:
    """Sessions with the app's own settings (app/db.py), on this test's empty database."""
    await create_schema(Base.metadata)
    return make_sessionmaker(engine)


@pytest.fixture
def seed_team(sessions: async_sessionmaker[AsyncSession]):
    """``await seed_team(size)``: a stored team of ``size`` members; its id and their names."""

    async def seed(size: int) -> tuple[int, list[str]]:
        names = [f"Member {number:02d}" for number in range(size, 0, -1)]
        async with sessions() as session:
            team = Team(name=f"Team of {size}", members=[Member(name=name) for name in names])
            session.add(team)
            await session.flush()
            team_id = team.id  # read before the commit, whatever expire_on_commit says
            await session.commit()
        return team_id, names

    return seed
