"""Dependencies the routes share."""

from __future__ import annotations

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_db
from app.services.jobs import JobService
from app.worker import get_queue


def get_job_service(db: AsyncSession = Depends(get_db)) -> JobService:
    # One session per request, opened and closed by get_db: the job the
    # service writes belongs to the session the route reads it through.
    # (FastAPI hands the same session to every dependency of one request.)
    return JobService(db, get_queue())
