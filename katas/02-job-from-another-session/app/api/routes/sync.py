"""Mirror the upstream catalogue: everything, or one entity type at a time."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from app.api.deps import get_job_service
from app.models import JobKind
from app.schemas import JobAccepted
from app.services.jobs import JobService

router = APIRouter(prefix="/api/sync", tags=["sync"])


@router.post("/all", status_code=status.HTTP_202_ACCEPTED)
async def sync_all(full: bool = False, jobs: JobService = Depends(get_job_service)) -> JobAccepted:
    job = await jobs.create_job(JobKind.SYNC_ALL, {"full": full})
    return JobAccepted.from_job(job, "Full sync queued" if full else "Incremental sync queued")


@router.post("/scenes", status_code=status.HTTP_202_ACCEPTED)
async def sync_scenes(full: bool = False, jobs: JobService = Depends(get_job_service)) -> JobAccepted:
    job = await jobs.create_job(JobKind.SYNC_SCENES, {"full": full})
    return JobAccepted.from_job(job, "Scene sync queued")


@router.post("/performers", status_code=status.HTTP_202_ACCEPTED)
async def sync_performers(full: bool = False, jobs: JobService = Depends(get_job_service)) -> JobAccepted:
    job = await jobs.create_job(JobKind.SYNC_PERFORMERS, {"full": full})
    return JobAccepted.from_job(job, "Performer sync queued")


@router.post("/tags", status_code=status.HTTP_202_ACCEPTED)
async def sync_tags(jobs: JobService = Depends(get_job_service)) -> JobAccepted:
    # Tags are few: always a full sync.
    job = await jobs.create_job(JobKind.SYNC_TAGS, {"full": True})
    return JobAccepted.from_job(job, "Tag sync queued")


@router.post("/studios", status_code=status.HTTP_202_ACCEPTED)
async def sync_studios(full: bool = False, jobs: JobService = Depends(get_job_service)) -> JobAccepted:
    job = await jobs.create_job(JobKind.SYNC_STUDIOS, {"full": full})
    return JobAccepted.from_job(job, "Studio sync queued")
