"""The ASGI app: `uvicorn app.main:app`."""

from __future__ import annotations

from fastapi import FastAPI

from app.api.onboarding import router as onboarding_router


def create_app() -> FastAPI:
    app = FastAPI(title="Onboarding")
    app.include_router(onboarding_router)
    return app


app = create_app()
