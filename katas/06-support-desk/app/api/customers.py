"""A customer's page: their tickets, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.models import Ticket
from app.repositories.customers import CustomerRepository
from app.repositories.tickets import TicketRepository
from app.schemas import TicketSummary

router = APIRouter(prefix="/api/customers", tags=["customers"])


@router.get("/{customer_id}/tickets", response_model=list[TicketSummary])
async def customer_tickets(customer_id: int, session: AsyncSession = Depends(get_session)) -> Sequence[Ticket]:
    if not await CustomerRepository(session).exists(customer_id):
        raise HTTPException(status_code=404, detail="unknown customer")
    return await TicketRepository(session).for_customer(customer_id)
