"""The ASGI app: ``uvicorn app.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from app.api import auth, users
from app.db import attach_engine
from app.settings import get_settings


def create_app(engine: AsyncEngine | None = None) -> FastAPI:
    """The app, on the engine it is given, or on one built from the settings at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if engine is not None:
            yield  # the caller owns that engine
            return
        attach_engine(app, create_async_engine(get_settings().database_url))
        try:
            yield
        finally:
            await app.state.engine.dispose()

    app = FastAPI(title="Auth service", lifespan=lifespan)
    if engine is not None:
        attach_engine(app, engine)
    app.include_router(auth.router)
    app.include_router(users.router)
    return app


app = create_app()
