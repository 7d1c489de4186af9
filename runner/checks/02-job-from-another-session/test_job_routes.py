"""Every route that starts a job answers with the job as the database holds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pytest

from app.models import JobKind, JobStatus


@dataclass(frozen=True)
class CallSite:
    """One call of JobService.create_job: the request a client sends, the job it must start."""

    id: str
    path: str  # {failed_job_id}, {schedule_id}, {plan_id}: filled from the seeded rows
    kind: JobKind
    json: dict | None = field(default=None)


CALL_SITES = {
    "POST /api/sync/all": CallSite("sync-all", "/api/sync/all?full=true", JobKind.SYNC_ALL),
    "POST /api/sync/scenes": CallSite("sync-scenes", "/api/sync/scenes", JobKind.SYNC_SCENES),
    "POST /api/sync/performers": CallSite("sync-performers", "/api/sync/performers", JobKind.SYNC_PERFORMERS),
    "POST /api/sync/tags": CallSite("sync-tags", "/api/sync/tags", JobKind.SYNC_TAGS),
    "POST /api/sync/studios": CallSite("sync-studios", "/api/sync/studios", JobKind.SYNC_STUDIOS),
    "POST /api/analysis": CallSite("analyze", "/api/analysis", JobKind.ANALYZE_SCENES, {"scene_ids": [4, 8, 15]}),
    "POST /api/analysis/plans/{plan}/apply": CallSite(
        "apply-plan", "/api/analysis/plans/{plan_id}/apply", JobKind.APPLY_PLAN
    ),
    # The seeded failed job is a scene sync, the seeded schedule a studio sync.
    "POST /api/jobs/{failed job}/retry": CallSite("retry", "/api/jobs/{failed_job_id}/retry", JobKind.SYNC_SCENES),
    "POST /api/schedules/{schedule}/trigger": CallSite(
        "trigger-schedule", "/api/schedules/{schedule_id}/trigger", JobKind.SYNC_STUDIOS
    ),
}
ROUTES = [pytest.param(route, id=site.id) for route, site in CALL_SITES.items()]


def from_json(value) -> datetime | None:
    """A timestamp from the JSON answer, comparable to what the database returned."""
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))  # Python 3.10 does not read "Z"


async def start_job(api, route: str):
    site = CALL_SITES[route]
    return await api.client.post(site.path.format(**vars(api.seeded)), json=site.json)


@pytest.mark.parametrize("route", ROUTES)
async def test_route_answers_with_the_stored_job(route, api):
    """{route} answers with the new job as the database stored it"""
    before = {row.id for row in await api.job_rows()}

    response = await start_job(api, route)

    assert response.status_code == 202, (
        f"{route} should answer 202 Accepted with the new job; "
        f"it answered {response.status_code}: {response.text[:300]}"
    )
    new = [row for row in await api.job_rows() if row.id not in before]
    assert len(new) == 1, f"{route} should write exactly one new job row; the jobs table has {len(new)} new rows"
    row = new[0]
    kind = CALL_SITES[route].kind.value
    assert row.kind == kind, f"{route} should start a {kind!r} job; the row says {row.kind!r}"
    handoff = api.queued.get(row.id)
    assert handoff is not None and row.task_id is not None, (
        f"job {row.id} was written but never handed to the queue (no task id stored, or no message queued for it): "
        "no worker will run it"
    )
    assert handoff.found is not None, (
        f"job {row.id} was handed to the queue before it was committed: at that moment a worker, loading it by id "
        f"on a connection of its own, found no job {row.id}, and a real worker would have dropped the task. "
        "Commit the job first, then queue it"
    )
    assert row.task_id == handoff.task_id, (
        f"job {row.id} should store the task id the queue gave it, {handoff.task_id!r}; it holds {row.task_id!r}"
    )
    for column in ("created_at", "updated_at"):
        held = getattr(row, column)
        assert api.clock.gave(held), (
            f"{column}: the database holds {held} for job {row.id}, a time {api.clock} never gave: the value "
            "was computed in Python and written with the statement. The database sets this column itself: "
            "let it, and answer with the value it stored"
        )
    assert row.updated_at > row.created_at, (
        f"updated_at: job {row.id} holds {row.updated_at}, the time of its INSERT (created_at is "
        f"{row.created_at}): the second write, storing the task id, did not move it. The database moves "
        "updated_at on every UPDATE (onupdate=func.now()): keep it doing so, and answer with the time it stored"
    )

    body = response.json()
    assert body.get("job_id") == row.id, (
        f"the answer should name job {row.id}, the row the request wrote; it names {body.get('job_id')!r}"
    )
    answered = (body.get("kind"), body.get("status"))
    assert answered == (row.kind, row.status) == (kind, JobStatus.PENDING.value), (
        f"a new job is {kind!r}, status 'pending' (the database's default); the database holds "
        f"({row.kind!r}, {row.status!r}) and the answer says {answered}"
    )
    for column in ("created_at", "updated_at"):
        held = getattr(row, column)
        assert from_json(body.get(column)) == held, (
            f"{column}: the database holds {held} for job {row.id}, the answer says {body.get(column)!r}. "
            "The database sets this column itself (the second write, queueing the job, moves updated_at): "
            "the answer has to carry the value it stored, not a guess and not an empty one"
        )


async def test_every_route_closes_its_sessions(api):
    """Every route that starts a job closes the sessions it used and gives its connection back to the pool"""
    left_open, checked_out = {}, {}
    for route in CALL_SITES:
        with api.watch_sessions() as sessions:
            try:
                response = await start_job(api, route)
            finally:
                # Looked at before anything else runs, then cleaned up so the next route starts clean.
                still_open = api.left_open(sessions)
                pooled = api.engine.sync_engine.pool.checkedout()
                await api.close_leftovers(sessions)
        assert response.status_code == 202, (
            f"{route} should answer 202 Accepted; it answered {response.status_code}: {response.text[:300]}"
        )
        if still_open:
            left_open[route] = f"{len(still_open)} of its {len(sessions)} sessions"
        if pooled:
            checked_out[route] = pooled

    assert not left_open, (
        "after answering, these routes left sessions open (not closed: still holding their objects, or a "
        f"transaction): {left_open}. A session that is never closed keeps its objects, and the next time "
        "anything reads through it, a database connection that never goes back to the pool. Open sessions "
        "with `async with`, in one place, for the length of the request"
    )
    assert not checked_out, (
        f"after answering, these routes left database connections checked out of the pool: {checked_out}. "
        "A few such requests and the pool runs dry: the API hangs, waiting for a connection"
    )
