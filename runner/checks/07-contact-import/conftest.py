"""Kata 07 fixtures: the learner's schema on the shared engine, seeded audiences, and the real app.

The engine is the shared one, with the app's own settings applied (``app.db``: on SQLite,
SQLAlchemy sends BEGIN itself), and the app's sessions come from the app's own sessionmaker.
Seeding runs in a session of its own and commits, so every request under test starts with an
empty identity map, as a production request does.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import get_db, make_sessionmaker, with_sqlite_transactions
from app.main import create_app
from app.models import Audience, Base, Contact

FIRST = ("Ines", "Tomas", "Mira", "Joao", "Lena", "Omar", "Petra", "Karim", "Sofia", "Anton", "Yara", "Emil")
LAST = ("Berg", "Costa", "Novak", "Haddad", "Lind", "Moreau", "Sato", "Okafor", "Varga", "Quist", "Rossi")


@dataclass
class SeededAudience:
    id: int
    name: str
    contacts: dict[str, str]  # email -> name, as stored


class People:
    """Names and emails no other row of the test has: every call gives new ones."""

    def __init__(self) -> None:
        self.numbers = count(1)

    def next(self) -> dict[str, str]:
        number = next(self.numbers)
        first, last = FIRST[number % len(FIRST)], LAST[(number * 5) % len(LAST)]
        return {"email": f"{first}.{last}.{number}@example.org".lower(), "name": f"{first} {last}"}


@pytest.fixture
def people() -> People:
    return People()


@pytest_asyncio.fixture
async def sessions(engine: AsyncEngine, create_schema) -> async_sessionmaker[AsyncSession]:
    with_sqlite_transactions(engine)  # the app's engine settings, before the test's first connection
    await create_schema(Base.metadata)
    return make_sessionmaker(engine)


@pytest_asyncio.fixture
async def client(sessions: async_sessionmaker[AsyncSession], app_client) -> httpx.AsyncClient:
    """The learner's FastAPI app, each request in a session of its own from the app's sessionmaker."""
    async with app_client(create_app(), get_db, sessions, "audiences.test") as client:
        yield client


@pytest.fixture
def seed_audience(sessions: async_sessionmaker[AsyncSession], people: People):
    """``await seed_audience(name, size)``: an audience holding ``size`` contacts, committed."""

    async def seed(name: str, size: int) -> SeededAudience:
        rows = [people.next() for _ in range(size)]
        async with sessions() as session:
            audience = Audience(name=name, sender_email="news@example.org")
            session.add(audience)
            await session.flush()
            session.add_all(Contact(audience_id=audience.id, **row) for row in rows)
            await session.commit()
            return SeededAudience(audience.id, name, {row["email"]: row["name"] for row in rows})

    return seed


@pytest.fixture
def stored(sessions: async_sessionmaker[AsyncSession]):
    """``await stored(audience)``: the audience's contacts as the database holds them, email -> name."""

    async def read(audience: SeededAudience) -> dict[str, str]:
        async with sessions() as session:
            rows = await session.execute(select(Contact.email, Contact.name).where(Contact.audience_id == audience.id))
            return {email: name for email, name in rows}

    return read
