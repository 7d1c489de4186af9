"""Creating jobs: the row the workers and the UI read, and the message that starts the work."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job, JobKind
from app.worker import JobQueue


class JobService:
    """Writes jobs and hands them to the queue, in the caller's session (the request's)."""

    def __init__(self, session: AsyncSession, queue: JobQueue) -> None:
        self.session = session
        self.queue = queue

    async def create_job(
        self,
        kind: JobKind,
        params: dict[str, Any] | None = None,
        *,
        retry_of_id: int | None = None,
        schedule_id: int | None = None,
    ) -> Job:
        """A new job, committed and queued, with every column loaded.

        It commits the caller's session: the job must be visible to the
        worker, so whatever else the caller had pending is committed with it.
        """
        job = Job(kind=kind.value, params=params or {}, retry_of_id=retry_of_id, schedule_id=schedule_id)
        self.session.add(job)
        await self.session.flush()
        job_id = job.id
        # Commit before queueing: the worker loads the job by id from its own
        # connection, and must find it.
        await self.session.commit()

        job.task_id = await self.queue.enqueue(job_id)
        await self.session.commit()
        # The commit expired every attribute, and updated_at was set by the
        # database in the UPDATE: load them here, where we can await, so the
        # caller reads plain values and never a lazy load.
        await self.session.refresh(job)
        return job
