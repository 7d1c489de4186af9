"""POST /api/addresses/verify: the nightly job's call (the support team's "check now" button too)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_db
from app.geocoder import Geocoder, get_geocoder
from app.schemas import VerificationRun
from app.services.verification import AddressVerifier

router = APIRouter(prefix="/api")


@router.post("/addresses/verify", response_model=VerificationRun)
async def verify_addresses(
    limit: int = Query(50, ge=1, le=200),
    session: AsyncSession = Depends(get_db),
    geocoder: Geocoder = Depends(get_geocoder),
) -> VerificationRun:
    checked = await AddressVerifier(session, geocoder).verify_pending(limit)
    return VerificationRun(checked=checked)
