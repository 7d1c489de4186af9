"""Queries for refunds. The services and routes use what these methods return, as it is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Refund

# TODO(kata-09): an approval and the monthly report fail with MissingGreenlet, and no
# line of either looks like a query: the tracebacks end in app/models.py, in
# Refund.__str__ and in the Refund.customer_name property, and the report also reads
# the note. Those reads are the queries nobody wrote: each one needs what the query
# that loaded the refund left out.


class RefundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, refund_id: int) -> Refund | None:
        return await self.session.get(Refund, refund_id)

    async def queue(self, status: str) -> Sequence[Refund]:
        """The refunds in one status, oldest request first: the agents' queue."""
        stmt = select(Refund).where(Refund.status == status).order_by(Refund.requested_at, Refund.id)
        return (await self.session.scalars(stmt)).all()

    async def approved_between(self, start: datetime, end: datetime) -> Sequence[Refund]:
        """The refunds approved in [start, end), in the order they were decided: the month's report."""
        stmt = (
            select(Refund)
            .where(Refund.status == "approved", Refund.decided_at >= start, Refund.decided_at < end)
            .order_by(Refund.decided_at, Refund.id)
        )
        return (await self.session.scalars(stmt)).all()
