from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Category


class CategoryRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_tournament(self, tournament_id: int) -> list[Category]:
        result = await self.session.execute(
            select(Category).where(Category.tournament_id == tournament_id).order_by(Category.id)
        )
        return list(result.scalars().all())
