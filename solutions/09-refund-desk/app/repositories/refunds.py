"""Queries for refunds. The services and routes use what these methods return, as it is."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, undefer

from app.models import Order, Refund

# What each caller reads beyond a refund's own columns, next to the queries that load it for them.
# A decision logs str(refund), which names the refund's order.
DECIDED = (joinedload(Refund.order),)
# A report line reads refund.customer_name (refund.order.customer: two hops) and the deferred note.
REPORTED = (joinedload(Refund.order).joinedload(Order.customer), undefer(Refund.note))


class RefundRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, refund_id: int) -> Refund | None:
        return await self.session.get(Refund, refund_id, options=DECIDED)

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
            .options(*REPORTED)
        )
        return (await self.session.scalars(stmt)).all()
