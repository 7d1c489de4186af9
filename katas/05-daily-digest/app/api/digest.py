"""GET /api/digest: the reader's digest for a day (today by default)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from fastapi import APIRouter, Depends, Header, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_db
from app.schemas import DigestOut
from app.services.digest_service import DigestService, UserNotFound

router = APIRouter(prefix="/api")


async def current_user_id(x_user_id: int = Header()) -> int:
    """The gateway authenticates the reader and passes their id on."""
    return x_user_id


@router.get("/digest", response_model=DigestOut)
async def read_digest(
    day: date | None = None,
    user_id: int = Depends(current_user_id),
    session: AsyncSession = Depends(get_db),
) -> DigestOut:
    try:
        return await DigestService(session).get_digest(user_id, day or datetime.now(timezone.utc).date())
    except UserNotFound:
        raise HTTPException(status_code=404, detail="unknown user") from None
