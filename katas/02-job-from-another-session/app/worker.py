"""The hand-off to the workers.

Production puts task messages on a broker; the kata keeps them in process, so
nothing but the database has to run. The contract is the same: the worker gets
a job id and loads the job itself, from its own connection.
"""

from __future__ import annotations

import uuid
from collections import deque
from functools import cache


class JobQueue:
    def __init__(self) -> None:
        self.messages: deque[tuple[str, int]] = deque(maxlen=10_000)

    async def enqueue(self, job_id: int) -> str:
        """Queue a job for the workers; returns the broker's task id."""
        task_id = uuid.uuid4().hex
        self.messages.append((task_id, job_id))
        return task_id


@cache
def get_queue() -> JobQueue:
    return JobQueue()
