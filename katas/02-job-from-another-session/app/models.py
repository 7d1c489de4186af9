"""Jobs, the schedules that start them, and the analysis plans a job can apply."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class JobKind(str, enum.Enum):
    SYNC_ALL = "sync_all"
    SYNC_SCENES = "sync_scenes"
    SYNC_PERFORMERS = "sync_performers"
    SYNC_TAGS = "sync_tags"
    SYNC_STUDIOS = "sync_studios"
    ANALYZE_SCENES = "analyze_scenes"
    APPLY_PLAN = "apply_plan"


class JobStatus(str, enum.Enum):
    PENDING = "pending"  # written, handed to the queue, no worker has it yet
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Plain strings, not database enums: the worker fleet adds kinds faster than migrations run.
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), server_default=JobStatus.PENDING.value)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The broker's id for the queued task, so a job can be cancelled or traced.
    task_id: Mapped[str | None] = mapped_column(String(64))
    retry_of_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    schedule_id: Mapped[int | None] = mapped_column(ForeignKey("schedules.id"))
    error: Mapped[str | None] = mapped_column(String(500))
    # The database's clock, not the web server's: workers on other hosts write these too.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


class Schedule(Base):
    """A job the scheduler starts on a cron expression; the UI can trigger it by hand."""

    __tablename__ = "schedules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    job_kind: Mapped[str] = mapped_column(String(32))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    cron: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(default=True)


class PlanStatus(str, enum.Enum):
    DRAFT = "draft"
    APPLIED = "applied"


class AnalysisPlan(Base):
    """Metadata changes an analysis job proposes; applying them is another job."""

    __tablename__ = "analysis_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default=PlanStatus.DRAFT.value)
    changes: Mapped[int] = mapped_column(default=0)  # how many scene edits the plan holds
