"""Finance's monthly report: every refund approved in a month, to pay out and to book."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_session
from app.models import Refund
from app.repositories.refunds import RefundRepository
from app.schemas import RefundReport, ReportLine

router = APIRouter(prefix="/api/reports", tags=["reports"])


def month_bounds(month: str) -> tuple[datetime, datetime]:
    """The month "2024-05" as [2024-05-01, 2024-06-01)."""
    try:
        start = datetime.strptime(month, "%Y-%m")
    except ValueError:
        raise HTTPException(status_code=422, detail="month is YYYY-MM") from None
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def report_line(refund: Refund) -> ReportLine:
    return ReportLine(
        refund_id=refund.id,
        decided_at=refund.decided_at,
        amount_cents=refund.amount_cents,
        customer=refund.customer_name,
        note=refund.note,
    )


@router.get("/refunds/{month}")
async def refunds_report(month: str, session: AsyncSession = Depends(get_session)) -> RefundReport:
    start, end = month_bounds(month)
    refunds = await RefundRepository(session).approved_between(start, end)
    lines = [report_line(refund) for refund in refunds]
    return RefundReport(month=month, total_cents=sum(line.amount_cents for line in lines), lines=lines)
