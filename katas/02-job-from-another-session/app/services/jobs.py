"""Creating jobs: the row the workers and the UI read, and the message that starts the work."""

# TODO(kata-02): every route that starts a job crashes with MissingGreenlet
# when it reads the job this service hands back. By then the job's session,
# this service's own (see app/api/deps.py), has committed it twice. What does
# a commit do to the objects of its session, and which session could load
# them again (with an await)? Decide which session a job belongs to, and hand
# the routes a job whose values are loaded. The crash shows up in
# JobAccepted.from_job, but that line only reads what it was given.

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Job, JobKind
from app.worker import JobQueue


class JobService:
    """Writes jobs and hands them to the queue.

    It works in a session of its own (app.api.deps.get_job_service): job
    bookkeeping is committed on its own, whatever else the request does.
    """

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
        job = Job(kind=kind.value, params=params or {}, retry_of_id=retry_of_id, schedule_id=schedule_id)
        self.session.add(job)
        await self.session.flush()
        job_id = job.id
        # Commit before queueing: the worker loads the job by id from its own
        # connection, and must find it.
        await self.session.commit()

        job.task_id = await self.queue.enqueue(job_id)
        await self.session.commit()
        return job
