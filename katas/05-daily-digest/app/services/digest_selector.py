"""Which contents go into a reader's digest for the day."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Content, User, follows

# A morning digest covers the day before and the day itself (UTC).
LOOKBACK = timedelta(days=1)
# One prolific source must not fill the whole digest.
MAX_PER_SOURCE = 3


def window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min) - LOOKBACK
    return start, datetime.combine(day + timedelta(days=1), time.min)


class DigestSelector:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def select_for(self, user: User, day: date) -> list[Content]:
        """The day's picks, best first: the newest contents of followed sources, a few per source."""
        start, end = window(day)
        # Ranking reads published_at and source_id only, so the query loads no relationship.
        candidates = await self.session.scalars(
            select(Content)
            .join(follows, follows.c.source_id == Content.source_id)
            .where(
                follows.c.user_id == user.id,
                Content.published_at >= start,
                Content.published_at < end,
            )
            .order_by(Content.published_at.desc(), Content.id.desc())
        )
        picks: list[Content] = []
        per_source: Counter[int] = Counter()
        for content in candidates:
            if per_source[content.source_id] == MAX_PER_SOURCE:
                continue
            per_source[content.source_id] += 1
            picks.append(content)
            if len(picks) == user.digest_size:
                break
        return picks
