"""Dependencies the routes share."""

from __future__ import annotations

from collections.abc import AsyncIterator

from app.db import SessionLocal
from app.services.jobs import JobService
from app.worker import get_queue


async def get_job_service() -> AsyncIterator[JobService]:
    # Jobs get a session of their own, so that a job row is committed even
    # when the rest of the request rolls back.
    async with SessionLocal() as session:
        yield JobService(session, get_queue())
