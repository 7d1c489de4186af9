"""Scene analysis: propose metadata fixes as a plan, then apply a plan."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, status
from sqlalchemy.ext.asyncio import AsyncSession

from app.api.deps import get_job_service
from app.db import get_db
from app.models import AnalysisPlan, JobKind, PlanStatus
from app.schemas import AnalyzeRequest, JobAccepted
from app.services.jobs import JobService

router = APIRouter(prefix="/api/analysis", tags=["analysis"])


@router.post("", status_code=status.HTTP_202_ACCEPTED)
async def analyze_scenes(body: AnalyzeRequest, jobs: JobService = Depends(get_job_service)) -> JobAccepted:
    job = await jobs.create_job(JobKind.ANALYZE_SCENES, {"scene_ids": body.scene_ids})
    return JobAccepted.from_job(job, f"Analysis of {len(body.scene_ids)} scenes queued")


@router.post("/plans/{plan_id}/apply", status_code=status.HTTP_202_ACCEPTED)
async def apply_plan(
    plan_id: int,
    db: AsyncSession = Depends(get_db),
    jobs: JobService = Depends(get_job_service),
) -> JobAccepted:
    plan = await db.get(AnalysisPlan, plan_id)
    if plan is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such plan")
    if plan.status != PlanStatus.DRAFT.value:
        raise HTTPException(status.HTTP_409_CONFLICT, f"plan is {plan.status}")
    message = f"Applying {plan.changes} changes from {plan.name!r}"
    job = await jobs.create_job(JobKind.APPLY_PLAN, {"plan_id": plan_id})
    return JobAccepted.from_job(job, message)
