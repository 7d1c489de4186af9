"""Sessions for the app. The engine is made at startup (``app.main``), from the URL setting."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./kata02.db"

# Not bound yet: importing the app opens nothing. init_db() binds it.
SessionLocal = async_sessionmaker(class_=AsyncSession)


def database_url() -> str:
    return os.environ.get("KATAS_DATABASE_URL", DEFAULT_DATABASE_URL)


def init_db(engine: AsyncEngine) -> None:
    """Point every session the app opens at ``engine``: at startup, and in tests."""
    SessionLocal.configure(bind=engine)


async def get_db() -> AsyncIterator[AsyncSession]:
    """The request's session, closed when the request is done."""
    async with SessionLocal() as session:
        yield session
