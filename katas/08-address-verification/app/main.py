"""The ASGI app: `uvicorn app.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.addresses import router as addresses_router


def create_app() -> FastAPI:
    app = FastAPI(title="Address book")
    app.include_router(addresses_router)
    return app


app = create_app()
