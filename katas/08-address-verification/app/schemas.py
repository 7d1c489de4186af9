"""What POST /api/addresses/verify answers: one line per address it checked."""

from __future__ import annotations

from pydantic import BaseModel


class CheckedAddress(BaseModel):
    address_id: int
    status: str  # "verified", "needs_review", or "pending" when the geocoder did not answer
    verification_id: int | None = None  # the stored answer, when there was one
    error: str | None = None


class VerificationRun(BaseModel):
    checked: list[CheckedAddress]
