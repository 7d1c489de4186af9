"""What the API answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class RefundOut(BaseModel):
    id: int
    order_id: int
    amount_cents: int
    status: str
    requested_at: datetime
    decided_at: datetime | None


class ReportLine(BaseModel):
    """One approved refund, as finance pays it out."""

    refund_id: int
    decided_at: datetime
    amount_cents: int
    customer: str
    note: str


class RefundReport(BaseModel):
    month: str
    total_cents: int
    lines: list[ReportLine]
