"""Engine and sessions for the app, built on first use from the URL setting."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from functools import cache

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./kata01.db"


def database_url() -> str:
    return os.environ.get("KATAS_DATABASE_URL", DEFAULT_DATABASE_URL)


@cache
def get_engine() -> AsyncEngine:
    return create_async_engine(database_url())


@cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    # Loaded attributes stay readable after a commit: an expired one could only
    # be reloaded with IO, which a plain attribute read in async code cannot do.
    return async_sessionmaker(get_engine(), expire_on_commit=False)


async def session_scope() -> AsyncIterator[AsyncSession]:
    """One session per request; use as a dependency or with ``contextlib.asynccontextmanager``."""
    async with get_sessionmaker()() as session:
        yield session
