"""The ASGI app: `uvicorn app.main:app`. The worker runs beside it: `python -m app.worker`."""

from __future__ import annotations

from fastapi import FastAPI

from app.api import orders


def create_app() -> FastAPI:
    app = FastAPI(title="Nursery orders")
    app.include_router(orders.router)
    return app


app = create_app()
