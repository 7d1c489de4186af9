"""Engine and sessions for the app, built on first use from the URL setting."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from functools import cache

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./kata07.db"


def database_url() -> str:
    return os.environ.get("KATAS_DATABASE_URL", DEFAULT_DATABASE_URL)


def _driver_leaves_begin_to_sqlalchemy(dbapi_connection, connection_record) -> None:
    dbapi_connection.isolation_level = None


def _begin(connection) -> None:
    connection.exec_driver_sql("BEGIN")


def with_sqlite_transactions(engine: AsyncEngine) -> AsyncEngine:
    """On SQLite, SQLAlchemy sends BEGIN itself, so a transaction means what it means on PostgreSQL.

    Left alone, the sqlite3 driver under aiosqlite starts a transaction only before an INSERT,
    UPDATE or DELETE. A SAVEPOINT sent first opens a transaction of its own, and releasing it
    commits: a later rollback keeps what it should undo. This is SQLAlchemy's documented recipe
    (the SQLite dialect's "Transactions with SQLite and the sqlite3 driver"); PostgreSQL needs none.
    """
    sync_engine = engine.sync_engine
    if sync_engine.dialect.name == "sqlite" and not event.contains(sync_engine, "begin", _begin):
        event.listen(sync_engine, "connect", _driver_leaves_begin_to_sqlalchemy)
        event.listen(sync_engine, "begin", _begin)
    return engine


@cache
def get_engine() -> AsyncEngine:
    return with_sqlite_transactions(create_async_engine(database_url()))


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # Routes answer with what they just committed: objects must not expire on commit.
    return async_sessionmaker(engine, expire_on_commit=False)


@cache
def get_sessionmaker() -> async_sessionmaker[AsyncSession]:
    return make_sessionmaker(get_engine())


async def get_db() -> AsyncIterator[AsyncSession]:
    """One session per request (a FastAPI dependency)."""
    async with get_sessionmaker()() as session:
        yield session
