"""Verification runs: every pending address goes to the geocoder, and its answer is stored."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.geocoder import Geocoder, GeocoderUnavailable, Match
from app.models import NEEDS_REVIEW, PENDING, VERIFIED, Address, Verification
from app.schemas import CheckedAddress

logger = logging.getLogger(__name__)

# Below this, a person looks at the geocoder's answer before a driver is sent there.
CONFIDENT = 0.8


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class AddressVerifier:
    def __init__(self, session: AsyncSession, geocoder: Geocoder) -> None:
        self.session = session
        self.geocoder = geocoder

    async def verify_pending(self, limit: int) -> list[CheckedAddress]:
        """Check up to ``limit`` pending addresses, oldest first, and store what the geocoder said."""
        pending = (
            await self.session.scalars(
                select(Address).where(Address.status == PENDING).order_by(Address.id).limit(limit)
            )
        ).all()
        # The lookups are the slow part and never touch the session: they wait together. gather()
        # returns the answers in the order of `pending`, whatever order they arrived in.
        answers = await asyncio.gather(*(self._lookup(address.query()) for address in pending))
        # The session's work stays in this one task, one address after another, and is flushed once.
        stored = [self._record(address, answer) for address, answer in zip(pending, answers)]
        await self.session.flush()  # the verifications' ids, for the report and the log
        checked = [self._report(address, verification) for address, verification in stored]
        await self.session.commit()
        return checked

    async def _lookup(self, query: str) -> Match | GeocoderUnavailable:
        try:
            return await self.geocoder.lookup(query)
        except GeocoderUnavailable as error:
            return error

    def _record(self, address: Address, answer: Match | GeocoderUnavailable) -> tuple[Address, Verification | None]:
        if isinstance(answer, GeocoderUnavailable):
            # Nothing is known yet: the address stays pending and the next run tries it again.
            logger.warning("address %s: %s", address.id, answer)
            address.failed_lookups += 1
            address.last_error = str(answer)[:200]
            return address, None
        verification = Verification(
            address=address,
            reference=answer.reference,
            formatted=answer.formatted,
            confidence=answer.confidence,
            checked_at=utcnow(),
        )
        self.session.add(verification)
        if answer.confidence >= CONFIDENT:
            address.status = VERIFIED
            address.latitude, address.longitude = answer.latitude, answer.longitude
        else:
            address.status = NEEDS_REVIEW
        address.last_error = None
        return address, verification

    def _report(self, address: Address, verification: Verification | None) -> CheckedAddress:
        if verification is None:
            return CheckedAddress(address_id=address.id, status=address.status, error=address.last_error)
        logger.info("address %s: %s (verification %s)", address.id, address.status, verification.id)
        return CheckedAddress(address_id=address.id, status=address.status, verification_id=verification.id)
