"""The daily digest: chosen once per reader and day, stored, and shown on every visit that day."""

from __future__ import annotations

import logging
from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Content, DailyDigest, User
from app.schemas import DigestItemOut, DigestOut, SourceOut
from app.services.digest_selector import DigestSelector

logger = logging.getLogger(__name__)


class UserNotFound(LookupError):
    pass


class DigestService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.selector = DigestSelector(session)

    async def get_digest(self, user_id: int, day: date) -> DigestOut:
        user = await self.session.get(User, user_id)
        if user is None:
            raise UserNotFound(user_id)
        digest = await self.session.scalar(
            select(DailyDigest).where(DailyDigest.user_id == user.id, DailyDigest.day == day)
        )
        if digest is None:
            # First visit of the day: choose the contents and keep the choice.
            picks = await self.selector.select_for(user, day)
            digest = DailyDigest(
                user_id=user.id,
                day=day,
                items=[{"content_id": content.id, "rank": rank} for rank, content in enumerate(picks, 1)],
                created_at=datetime.now(timezone.utc).replace(tzinfo=None),
            )
            self.session.add(digest)
            await self.session.commit()
        return await self._build_digest_response(digest)

    async def _build_digest_response(self, digest: DailyDigest) -> DigestOut:
        # TODO(kata-05): /api/digest answers 500 (MissingGreenlet), raised in this
        # method where it reads content.source. This method serves every digest:
        # one chosen a moment ago in this same request, and one stored earlier
        # today. Each item needs its source, and the number of queries must not
        # grow with the size of the digest.
        items: list[DigestItemOut] = []
        for entry in sorted(digest.items, key=lambda entry: entry["rank"]):
            content = await self.session.get(Content, entry["content_id"])
            if content is None:
                # Purged since the digest was stored: leave it out, keep the others.
                logger.warning("digest %s: content %s no longer exists", digest.id, entry["content_id"])
                continue
            items.append(
                DigestItemOut(
                    rank=entry["rank"],
                    content_id=content.id,
                    title=content.title,
                    url=content.url,
                    published_at=content.published_at,
                    source=SourceOut(id=content.source.id, name=content.source.name, theme=content.source.theme),
                )
            )
        return DigestOut(day=digest.day, items=items)
