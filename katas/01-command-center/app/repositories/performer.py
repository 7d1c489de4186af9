from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models import Performer


class PerformerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_id_with_dancer(self, performer_id: int) -> Performer | None:
        # The performer page shows the stage name, so the dancer comes with the query.
        result = await self.session.execute(
            select(Performer).options(selectinload(Performer.dancer)).where(Performer.id == performer_id)
        )
        return result.scalar_one_or_none()
