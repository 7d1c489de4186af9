"""Battle queries for the event-day screens and the bracket pages."""

# TODO(kata-01): each query here hands back battles with their performers, and
# stops there: the performers' dancers are not loaded. The command center reads
# every performer's dancer (for the stage name), so SQLAlchemy has to go back to
# the database in the middle of a plain attribute access, which async code
# cannot do. That is the event-day crash. Every method below needs to give its
# callers what they read.

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models import Battle, BattlePhase, BattleStatus, Category


class BattleRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get_by_category(self, category_id: int) -> list[Battle]:
        result = await self.session.execute(
            select(Battle)
            .options(selectinload(Battle.performers))
            .where(Battle.category_id == category_id)
            .order_by(Battle.sequence_order)
        )
        return list(result.scalars().all())

    async def get_by_category_and_status(self, category_id: int, status: BattleStatus) -> list[Battle]:
        result = await self.session.execute(
            select(Battle)
            .options(selectinload(Battle.performers))
            .where(Battle.category_id == category_id, Battle.status == status)
            .order_by(Battle.sequence_order)
        )
        return list(result.scalars().all())

    async def get_by_phase(self, tournament_id: int, phase: BattlePhase) -> list[Battle]:
        result = await self.session.execute(
            select(Battle)
            .options(selectinload(Battle.performers))
            .join(Battle.category)
            .where(Category.tournament_id == tournament_id, Battle.phase == phase)
            .order_by(Battle.sequence_order)
        )
        return list(result.scalars().all())

    async def get_by_status(self, status: BattleStatus) -> list[Battle]:
        """Battles in one status across every tournament (the operations board)."""
        result = await self.session.execute(
            select(Battle)
            .options(selectinload(Battle.performers))
            .where(Battle.status == status)
            .order_by(Battle.category_id, Battle.sequence_order)
        )
        return list(result.scalars().all())

    async def get_active_battle(self, tournament_id: int) -> Battle | None:
        """The battle on stage now; one at a time, the earliest if data says otherwise."""
        result = await self.session.execute(
            select(Battle)
            .options(selectinload(Battle.performers))
            .join(Battle.category)
            .where(Category.tournament_id == tournament_id, Battle.status == BattleStatus.ACTIVE)
            .order_by(Battle.sequence_order)
            .limit(1)
        )
        return result.scalars().first()

    async def get_with_performers(self, battle_id: int) -> Battle | None:
        result = await self.session.execute(
            select(Battle).options(selectinload(Battle.performers)).where(Battle.id == battle_id)
        )
        return result.scalars().first()

    async def get_by_tournament(self, tournament_id: int) -> list[Battle]:
        result = await self.session.execute(
            select(Battle)
            .options(selectinload(Battle.performers))
            .join(Battle.category)
            .where(Category.tournament_id == tournament_id)
            .order_by(Battle.sequence_order)
        )
        return list(result.scalars().all())

    async def get_by_tournament_and_status(self, tournament_id: int, status: BattleStatus) -> list[Battle]:
        result = await self.session.execute(
            select(Battle)
            .options(selectinload(Battle.performers))
            .join(Battle.category)
            .where(Category.tournament_id == tournament_id, Battle.status == status)
            .order_by(Battle.sequence_order)
        )
        return list(result.scalars().all())

    async def get_pending_battles_ordered(self, tournament_id: int) -> list[Battle]:
        """The queue: battles still to run, in running order."""
        result = await self.session.execute(
            select(Battle)
            .options(selectinload(Battle.performers))
            .join(Battle.category)
            .where(Category.tournament_id == tournament_id, Battle.status == BattleStatus.PENDING)
            .order_by(Battle.sequence_order)
        )
        return list(result.scalars().all())
