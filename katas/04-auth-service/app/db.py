"""The app's database: one async engine, and the sessions the routes get from it.

The engine belongs to the app (``app.state.engine``): create_app() builds it
at start-up from the settings, or takes the one it is given (a test's, a
script's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from fastapi import FastAPI, Request
from sqlalchemy import create_engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, sessionmaker


def attach_engine(app: FastAPI, engine: AsyncEngine) -> None:
    app.state.engine = engine
    # Routes build their responses after committing: keep the loaded values.
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)
    # The routes from before the move to async still take a sync Session, from
    # an engine of their own. The settings hold one database URL now, so that
    # engine is built from it too.
    app.state.legacy_sessionmaker = sessionmaker(create_engine(engine.url))


async def get_async_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One AsyncSession per request, closed when the response is done."""
    async with request.app.state.sessionmaker() as session:
        yield session


def get_db(request: Request) -> Iterator[Session]:
    """A sync Session, for the routes written before the move to async."""
    db = request.app.state.legacy_sessionmaker()
    try:
        yield db
    finally:
        db.close()
