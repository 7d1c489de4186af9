"""The ASGI app: ``uvicorn app.main:app``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from app.api.routes import analysis, jobs, schedules, sync
from app.db import database_url, init_db


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    engine = create_async_engine(database_url())
    init_db(engine)
    yield
    await engine.dispose()


def create_app() -> FastAPI:
    app = FastAPI(title="Library sync jobs", lifespan=lifespan)
    for module in (sync, analysis, jobs, schedules):
        app.include_router(module.router)
    return app


app = create_app()
