"""The ASGI app: `uvicorn app.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.digest import router as digest_router


def create_app() -> FastAPI:
    app = FastAPI(title="Reading digest")
    app.include_router(digest_router)
    return app


app = create_app()
