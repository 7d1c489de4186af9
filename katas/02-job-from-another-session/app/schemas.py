"""What the API answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.models import Job


class JobAccepted(BaseModel):
    """A job that was started: the UI lists it at once and polls it by id."""

    job_id: int
    kind: str
    status: str
    created_at: datetime
    updated_at: datetime  # the UI sorts the jobs list by it, and shows "queued 3 s ago"
    message: str

    @classmethod
    def from_job(cls, job: Job, message: str) -> JobAccepted:
        return cls(
            job_id=job.id,
            kind=job.kind,
            status=job.status,
            created_at=job.created_at,
            updated_at=job.updated_at,
            message=message,
        )


class JobOut(BaseModel):
    id: int
    kind: str
    status: str
    task_id: str | None
    error: str | None
    created_at: datetime
    updated_at: datetime


class AnalyzeRequest(BaseModel):
    scene_ids: list[int] = Field(min_length=1, max_length=500)


class SyncOptions(BaseModel):
    # False: only what changed upstream since the last sync (the UI's "quick sync").
    full: bool = False
