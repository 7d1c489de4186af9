"""The agents' queue and a ticket's own page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.models import Ticket
from app.repositories.tickets import TicketRepository
from app.schemas import TicketDetail, TicketSummary

router = APIRouter(prefix="/api/tickets", tags=["tickets"])

Status = Literal["open", "pending", "solved"]


@router.get("", response_model=list[TicketSummary])
async def list_tickets(status: Status = "open", session: AsyncSession = Depends(get_session)) -> Sequence[Ticket]:
    """The queue: every agent's screen polls it."""
    return await TicketRepository(session).queue(status)


@router.get("/{ticket_id}", response_model=TicketDetail)
async def read_ticket(ticket_id: int, session: AsyncSession = Depends(get_session)) -> Ticket:
    ticket = await TicketRepository(session).get(ticket_id)
    if ticket is None:
        raise HTTPException(status_code=404, detail="unknown ticket")
    return ticket
