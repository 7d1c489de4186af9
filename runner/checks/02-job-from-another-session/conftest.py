"""Kata 02 fixtures: the real app on the test's engine, seeded rows, and a session watch.

The app is driven over HTTP (httpx's ASGITransport: no server, no mocks). Its
sessions are pointed at the test's engine with the app's own startup hook,
``app.db.init_db``, so the request's session and the job service's session
are the app's own, whatever a fix does with them.

The queue stays the app's own too; the check only looks over its shoulder:
when a job is queued, it reads the job the way a worker would, by id on a
connection of its own, and notes what it found and the task id the queue gave.
The database's clock is one the check sets (``database_clock``): a time that
Python computed is never one of its readings.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session
from sqlalchemy.util import greenlet_spawn

from app.db import init_db
from app.main import create_app
from app.models import AnalysisPlan, Base, Job, JobKind, JobStatus, Schedule
from app.worker import JobQueue


@dataclass(frozen=True)
class Seeded:
    failed_job_id: int
    schedule_id: int
    plan_id: int


@dataclass
class Handoff:
    """One job handed to the queue: what a worker found by its id at that moment, and the task id given."""

    found: object | None  # the job's row as a worker read it when it was queued; None: not there (yet)
    task_id: str | None = None


@dataclass
class Api:
    client: httpx.AsyncClient
    engine: AsyncEngine
    seeded: Seeded
    clock: object  # the database's clock during the check (DatabaseClock)
    queued: dict[int, Handoff] = field(default_factory=dict)  # by job id

    async def worker_reads(self, job_id: int):
        """The job as a worker loads it: by id, on a connection of its own; None if it cannot see it."""
        async with self.engine.connect() as conn:
            return (await conn.execute(select(Job.__table__).where(Job.__table__.c.id == job_id))).first()

    async def job_rows(self) -> list:
        """Every job as the database holds it, read on a connection of the check's own."""
        async with self.engine.connect() as conn:
            return list((await conn.execute(select(Job.__table__).order_by(Job.id))).all())

    @contextmanager
    def watch_sessions(self) -> Iterator[list[Session]]:
        """Every ORM session that talks to the engine while the block runs.

        A session joins the list when it begins a transaction on the engine.
        The watch keeps a reference to each session and to every object it
        loads or adds, so nothing is garbage-collected behind the check's
        back: a session that was never closed still holds its objects (and,
        inside a transaction, its connection) when the check looks.
        """
        sessions: list[Session] = []
        kept: list[object] = []

        def began(session, transaction, connection) -> None:
            if connection.engine is self.engine.sync_engine and not any(s is session for s in sessions):
                sessions.append(session)

        def keep(session, instance) -> None:
            kept.append(instance)

        hooks = [("after_begin", began), ("after_attach", keep), ("loaded_as_persistent", keep)]
        for name, fn in hooks:
            event.listen(Session, name, fn)
        try:
            yield sessions
        finally:
            for name, fn in hooks:
                event.remove(Session, name, fn)

    @staticmethod
    def left_open(sessions: list[Session]) -> list[Session]:
        """The sessions still in a transaction, or still holding objects: not closed."""
        return [s for s in sessions if s.in_transaction() or len(s.identity_map)]

    async def close_leftovers(self, sessions: list[Session]) -> None:
        """Close what the code under test left open, so the database can drop the test's tables."""
        for session in self.left_open(sessions):
            await greenlet_spawn(session.close)  # what AsyncSession.close() does


@pytest_asyncio.fixture
async def api(
    engine: AsyncEngine, database_clock, create_schema, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Api]:
    await create_schema(Base.metadata)
    # Seeded in a session of its own, committed: the app's sessions start empty.
    async with async_sessionmaker(engine, expire_on_commit=False)() as s:
        failed = Job(
            kind=JobKind.SYNC_SCENES.value,
            status=JobStatus.FAILED.value,
            params={"full": True},
            task_id="task-of-the-failed-job",
            error="upstream answered 502",
        )
        schedule = Schedule(
            name="Nightly studio sync", job_kind=JobKind.SYNC_STUDIOS.value, params={"full": False}, cron="0 3 * * *"
        )
        plan = AnalysisPlan(name="Fix studio names", changes=12)
        s.add_all([failed, schedule, plan])
        await s.commit()
        seeded = Seeded(failed.id, schedule.id, plan.id)

    init_db(engine)
    transport = httpx.ASGITransport(app=create_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://kata") as client:
        api = Api(client, engine, seeded, database_clock)
        enqueue = JobQueue.enqueue

        async def enqueue_and_watch(queue: JobQueue, job_id: int) -> str:
            # The worker's read runs in a task of its own, as a worker would: none of the request's frames.
            handoff = api.queued[job_id] = Handoff(await asyncio.create_task(api.worker_reads(job_id)))
            handoff.task_id = await enqueue(queue, job_id)
            return handoff.task_id

        monkeypatch.setattr(JobQueue, "enqueue", enqueue_and_watch)
        yield api
