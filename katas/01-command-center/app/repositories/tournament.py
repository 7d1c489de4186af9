from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Tournament


class TournamentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_id(self, tournament_id: int) -> Tournament | None:
        return await self.session.get(Tournament, tournament_id)
