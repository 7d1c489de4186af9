"""Schedules: the scheduler starts them on their cron; the UI can run one now."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import get_job_service
from app.db import get_db
from app.models import JobKind, Schedule
from app.schemas import JobAccepted
from app.services.jobs import JobService

router = APIRouter(prefix="/api/schedules", tags=["schedules"])


@router.post("/{schedule_id}/trigger", status_code=status.HTTP_202_ACCEPTED)
async def trigger_schedule(
    schedule_id: int,
    db: AsyncSession = Depends(get_db),
    jobs: JobService = Depends(get_job_service),
) -> JobAccepted:
    schedule = await db.get(Schedule, schedule_id)
    if schedule is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such schedule")
    if not schedule.enabled:
        raise HTTPException(status.HTTP_409_CONFLICT, f"schedule {schedule.name!r} is disabled")
    message = f"{schedule.name}: run queued"
    job = await jobs.create_job(JobKind(schedule.job_kind), schedule.params, schedule_id=schedule_id)
    return JobAccepted.from_job(job, message)
