"""Engine and sessions for the app, built on first use from the URL setting."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from functools import cache

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./kata10.db"


def database_url() -> str:
    return os.environ.get("KATAS_DATABASE_URL", DEFAULT_DATABASE_URL)


@cache
def get_engine() -> AsyncEngine:
    return create_async_engine(database_url())


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The sessions of the routes and of the worker.

    expire_on_commit=False: after a commit, an object keeps the values it was loaded or stored
    with, and reading them sends no query. With SQLAlchemy's default, a commit expires every object
    of the session, and the next read of any attribute (a route's response after the create's
    commit, the worker's mail after the claim's commit) is a query that async code cannot run
    there. The hidden checks make their sessions here too (their conftest.py).
    """
    return async_sessionmaker(engine, expire_on_commit=False)


@cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(get_engine())


async def get_session() -> AsyncIterator[AsyncSession]:
    """One session per request (a FastAPI dependency)."""
    async with get_sessionmaker()() as session:
        yield session
