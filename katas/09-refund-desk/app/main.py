"""The ASGI app: `uvicorn app.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from app.api import refunds, reports


def create_app() -> FastAPI:
    app = FastAPI(title="Refund desk")
    app.include_router(refunds.router)
    app.include_router(reports.router)
    return app


app = create_app()
