"""The app's database: one async engine, and the sessions the routes get from it.

The engine belongs to the app (``app.state.engine``): create_app() builds it
at start-up from the settings, or takes the one it is given (a test's, a
script's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker


def attach_engine(app: FastAPI, engine: AsyncEngine) -> None:
    app.state.engine = engine
    # Routes build their responses after committing: keep the loaded values.
    app.state.sessionmaker = async_sessionmaker(engine, expire_on_commit=False)


async def get_async_db(request: Request) -> AsyncIterator[AsyncSession]:
    """One AsyncSession per request, closed when the response is done.

    The only session the app hands out: an ``async def`` route must await its
    queries, and a sync Session cannot be awaited, whatever engine it is on.
    """
    async with request.app.state.sessionmaker() as session:
        yield session
