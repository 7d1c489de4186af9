"""What the event command center shows while a tournament is running."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Battle, BattlePhase, BattleStatus, Performer, TournamentPhase
from app.repositories import BattleRepository, CategoryRepository, TournamentRepository


class TournamentNotFound(LookupError):
    pass


@dataclass(frozen=True)
class BattleCard:
    battle_id: int
    category_name: str
    phase: BattlePhase
    sequence_order: int
    performer1_name: str
    performer2_name: str


@dataclass(frozen=True)
class BattleCounts:
    pending: int = 0
    active: int = 0
    completed: int = 0

    @property
    def total(self) -> int:
        return self.pending + self.active + self.completed


@dataclass(frozen=True)
class CategoryProgress:
    category_id: int
    name: str
    counts: BattleCounts


@dataclass(frozen=True)
class CommandCenterContext:
    tournament_id: int
    tournament_name: str
    tournament_phase: TournamentPhase
    categories: list[CategoryProgress]
    current_battle: BattleCard | None
    queue: list[BattleCard]
    counts: BattleCounts


class EventService:
    def __init__(self, session: AsyncSession) -> None:
        self.tournaments = TournamentRepository(session)
        self.categories = CategoryRepository(session)
        self.battles = BattleRepository(session)

    async def get_command_center_context(self, tournament_id: int) -> CommandCenterContext:
        tournament = await self.tournaments.get_by_id(tournament_id)
        if tournament is None:
            raise TournamentNotFound(tournament_id)
        categories = await self.categories.get_by_tournament(tournament_id)
        category_names = {category.id: category.name for category in categories}

        active = await self.battles.get_active_battle(tournament_id)
        current_battle = self._battle_card(active, category_names) if active else None
        queue = [
            self._battle_card(battle, category_names)
            for battle in await self.battles.get_pending_battles_ordered(tournament_id)
        ]

        battles = await self.battles.get_by_tournament(tournament_id)
        progress = [
            CategoryProgress(
                category.id,
                category.name,
                _count(battle for battle in battles if battle.category_id == category.id),
            )
            for category in categories
        ]

        return CommandCenterContext(
            tournament_id=tournament.id,
            tournament_name=tournament.name,
            tournament_phase=tournament.phase,
            categories=progress,
            current_battle=current_battle,
            queue=queue,
            counts=_count(battles),
        )

    def _battle_card(self, battle: Battle, category_names: dict[int, str]) -> BattleCard:
        # Slot 2 stays empty until the bracket decides who fills it.
        performer1, performer2 = (list(battle.performers) + [None, None])[:2]
        return BattleCard(
            battle_id=battle.id,
            category_name=category_names[battle.category_id],
            phase=battle.phase,
            sequence_order=battle.sequence_order,
            performer1_name=self._get_performer_display_name(performer1),
            performer2_name=self._get_performer_display_name(performer2),
        )

    def _get_performer_display_name(self, performer: Performer | None) -> str:
        if not performer:
            return "TBD"
        # TODO: the event-day 500 (MissingGreenlet) is raised on the next line. When the
        # battle's query did not load Performer.dancer, reading it here needs a query,
        # and an attribute access cannot await one. The fix belongs in BattleRepository.
        if hasattr(performer, "dancer") and performer.dancer:
            return performer.dancer.blaze
        return "Unknown"  # the dancer deleted their account


def _count(battles: Iterable[Battle]) -> BattleCounts:
    by_status = Counter(battle.status for battle in battles)
    return BattleCounts(
        pending=by_status[BattleStatus.PENDING],
        active=by_status[BattleStatus.ACTIVE],
        completed=by_status[BattleStatus.COMPLETED],
    )
