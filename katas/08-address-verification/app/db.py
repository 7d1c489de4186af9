"""Engine and sessions for the app, built on first use from the URL setting."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from functools import cache

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./kata08.db"


def database_url() -> str:
    return os.environ.get("KATAS_DATABASE_URL", DEFAULT_DATABASE_URL)


@cache
def get_engine() -> AsyncEngine:
    return create_async_engine(database_url())


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Reports are built after the commit: objects must not expire on commit.
    return async_sessionmaker(engine, expire_on_commit=False)


@cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    """The session factory (a FastAPI dependency): every session of the app comes from it."""
    return make_sessionmaker(get_engine())


async def get_db(sessions: async_sessionmaker[AsyncSession] = Depends(get_sessionmaker)) -> AsyncIterator[AsyncSession]:
    """One session per request (a FastAPI dependency)."""
    async with sessions() as session:
        yield session
