"""What GET /api/digest returns."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel


class SourceOut(BaseModel):
    id: int
    name: str
    theme: str


class DigestItemOut(BaseModel):
    rank: int
    content_id: int
    title: str
    url: str
    published_at: datetime
    source: SourceOut


class DigestOut(BaseModel):
    day: date
    items: list[DigestItemOut]
