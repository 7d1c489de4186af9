"""What the API reads and answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class LineIn(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=99)


class OrderIn(BaseModel):
    customer_id: int
    lines: list[LineIn] = Field(min_length=1)


class LineOut(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price_cents: int


class OrderOut(BaseModel):
    id: int
    number: str
    status: str
    customer: str
    placed_at: datetime
    total_cents: int
    lines: list[LineOut]


class ShipmentIn(BaseModel):
    carrier: str = Field(min_length=1, max_length=40)


class ShipmentOut(BaseModel):
    order_id: int
    number: str
    carrier: str
    tracking_code: str
    shipped_at: datetime
