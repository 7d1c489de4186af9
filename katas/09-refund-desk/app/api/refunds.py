"""The agents' queue, and their decisions."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.models import Refund
from app.repositories.refunds import RefundRepository
from app.schemas import RefundOut
from app.services.decisions import AlreadyDecided, RefundService, UnknownRefund

router = APIRouter(prefix="/api/refunds", tags=["refunds"])

Status = Literal["requested", "approved", "rejected"]
Decision = Literal["approve", "reject"]
DECIDED = {"approve": "approved", "reject": "rejected"}


def out(refund: Refund) -> RefundOut:
    return RefundOut(
        id=refund.id,
        order_id=refund.order_id,
        amount_cents=refund.amount_cents,
        status=refund.status,
        requested_at=refund.requested_at,
        decided_at=refund.decided_at,
    )


@router.get("")
async def list_refunds(status: Status = "requested", session: AsyncSession = Depends(get_session)) -> list[RefundOut]:
    """The queue: every agent's screen polls it."""
    return [out(refund) for refund in await RefundRepository(session).queue(status)]


@router.post("/{refund_id}/{decision}")
async def decide(refund_id: int, decision: Decision, session: AsyncSession = Depends(get_session)) -> RefundOut:
    try:
        refund = await RefundService(session).decide(refund_id, DECIDED[decision])
    except UnknownRefund:
        raise HTTPException(status_code=404, detail="unknown refund") from None
    except AlreadyDecided as decided:
        raise HTTPException(status_code=409, detail=f"already {decided}") from None
    return out(refund)
