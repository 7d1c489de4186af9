"""The jobs list: poll a job, retry a failed one."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import get_job_service
from app.db import get_db
from app.models import Job, JobKind, JobStatus
from app.schemas import JobAccepted, JobOut
from app.services.jobs import JobService

router = APIRouter(prefix="/api/jobs", tags=["jobs"])


@router.get("/{job_id}")
async def get_job(job_id: int, db: AsyncSession = Depends(get_db)) -> JobOut:
    job = await db.get(Job, job_id)
    if job is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job")
    return JobOut.model_validate(job, from_attributes=True)


@router.post("/{job_id}/retry", status_code=status.HTTP_202_ACCEPTED)
async def retry_job(
    job_id: int,
    db: AsyncSession = Depends(get_db),
    jobs: JobService = Depends(get_job_service),
) -> JobAccepted:
    failed = await db.get(Job, job_id)
    if failed is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such job")
    if failed.status != JobStatus.FAILED.value:
        raise HTTPException(status.HTTP_409_CONFLICT, f"only a failed job can be retried, this one is {failed.status}")
    message = f"Retry of job {failed.id} queued"
    job = await jobs.create_job(JobKind(failed.kind), failed.params, retry_of_id=failed.id)
    return JobAccepted.from_job(job, message)
