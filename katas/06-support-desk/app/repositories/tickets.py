"""Queries for tickets. The routes return what these methods return, as it is."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Ticket

# TODO(kata-06): every page of the desk answers 500 (ResponseValidationError, with
# a MissingGreenlet inside), and yet each method below returns without an error.
# The routes hand their tickets to FastAPI under a response_model (app/schemas.py),
# and FastAPI reads that schema's fields from them while it writes the JSON, after
# the route has returned.


class TicketRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def queue(self, status: str) -> Sequence[Ticket]:
        """The tickets in one status, longest waiting first: the agents' queue."""
        stmt = select(Ticket).where(Ticket.status == status).order_by(Ticket.opened_at, Ticket.id)
        return (await self.session.scalars(stmt)).all()

    async def get(self, ticket_id: int) -> Ticket | None:
        return await self.session.get(Ticket, ticket_id)

    async def for_customer(self, customer_id: int) -> Sequence[Ticket]:
        """Every ticket a customer opened, newest first."""
        stmt = (
            select(Ticket).where(Ticket.customer_id == customer_id).order_by(Ticket.opened_at.desc(), Ticket.id.desc())
        )
        return (await self.session.scalars(stmt)).all()
