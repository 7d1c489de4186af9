"""The ASGI app: `uvicorn app.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from app.api import customers, tickets


def create_app() -> FastAPI:
    app = FastAPI(title="Support desk")
    app.include_router(tickets.router)
    app.include_router(customers.router)
    return app


app = create_app()
