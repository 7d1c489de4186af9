"""The ASGI app: `uvicorn app.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.audiences import router as audiences_router


def create_app() -> FastAPI:
    app = FastAPI(title="Newsletter audiences")
    app.include_router(audiences_router)
    return app


app = create_app()
