"""Queries for tickets. The routes return what these methods return, as it is."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from app.models import Reply, Ticket

# FastAPI reads the response schema's fields from what a route returns, after the route has
# returned: no query can run then. So each query loads what its schema (app/schemas.py) reads,
# hop by hop, and nothing else. Change a schema, change its options here.
SUMMARY = (  # TicketSummary: customer, assignee
    joinedload(Ticket.customer),
    joinedload(Ticket.assignee),
)
DETAIL = (  # TicketDetail: the summary's, and every reply with its author
    *SUMMARY,
    selectinload(Ticket.replies).joinedload(Reply.author),
)


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def queue(self, status: str) -> Sequence[Ticket]:
        """The tickets in one status, longest waiting first: the agents' queue."""
        stmt = select(Ticket).where(Ticket.status == status).order_by(Ticket.opened_at, Ticket.id).options(*SUMMARY)
        return (await self.session.scalars(stmt)).all()

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self.session.scalar(select(Ticket).where(Ticket.id == ticket_id).options(*DETAIL))

    async def for_customer(self, customer_id: int) -> Sequence[Ticket]:
        """Every ticket a customer opened, newest first."""
        stmt = (
            select(Ticket)
            .where(Ticket.customer_id == customer_id)
            .order_by(Ticket.opened_at.desc(), Ticket.id.desc())
            .options(*SUMMARY)
        )
        return (await self.session.scalars(stmt)).all()
