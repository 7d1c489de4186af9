"""Deciding refunds. Every decision is logged: finance reconciles the payouts against that log."""

from __future__ import annotations

import logging
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Refund
from app.repositories.refunds import RefundRepository

logger = logging.getLogger(__name__)


class UnknownRefund(LookupError):
    pass


class AlreadyDecided(Exception):
    pass


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class RefundService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.refunds = RefundRepository(session)

    async def decide(self, refund_id: int, status: str) -> Refund:
        """Approve or reject a requested refund: a refund is decided once."""
        refund = await self.refunds.get(refund_id)
        if refund is None:
            raise UnknownRefund(refund_id)
        if refund.status != "requested":
            logger.warning(f"{refund} was already {refund.status}: not {status}")
            raise AlreadyDecided(refund.status)
        refund.status = status
        refund.decided_at = utcnow()
        await self.session.commit()
        logger.info(f"{status} {refund}")
        return refund
