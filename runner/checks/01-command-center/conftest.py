"""Kata 01 fixtures: the learner's schema on the shared engine, and a seeded tournament.

Seeding runs in its own session and commits, so the session under test starts
with an empty identity map: nothing it reads can be served from objects an
earlier query left behind, and every lazy load shows up.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.models import (
    Base,
    Battle,
    BattlePhase,
    BattleStatus,
    Category,
    Dancer,
    Performer,
    Tournament,
    TournamentPhase,
    battle_performers,
)

CATEGORY_NAMES = ("Breaking 1v1", "Popping 1v1", "Hip Hop 1v1")
STATUS_BY_SEQUENCE = {1: BattleStatus.COMPLETED, 2: BattleStatus.ACTIVE}  # the rest are PENDING
STAGE_NAMES = "Kid Static, Lil Ember, Sora, Vortex, Mimi Glide, Rooftop, Jinx, Tempo, Nova, Quake, Pixel".split(", ")


@dataclass(frozen=True)
class SeededBattle:
    id: int
    category_id: int
    phase: BattlePhase
    status: BattleStatus
    sequence_order: int
    names: tuple[str, str]  # what the command center must show for slot 1 and slot 2


@dataclass
class SeededTournament:
    id: int
    name: str
    phase: TournamentPhase
    categories: dict[int, str]  # id -> name, in creation order
    battles: list[SeededBattle]

    def battle(self, battle_id: int) -> SeededBattle:
        return next(b for b in self.battles if b.id == battle_id)

    @property
    def active(self) -> SeededBattle:
        return next(b for b in self.battles if b.status is BattleStatus.ACTIVE)

    @property
    def queue(self) -> list[SeededBattle]:
        pending = [b for b in self.battles if b.status is BattleStatus.PENDING]
        return sorted(pending, key=lambda b: b.sequence_order)

    def count(self, status: BattleStatus, category_id: int | None = None) -> int:
        return sum(1 for b in self.battles if b.status is status and category_id in (None, b.category_id))


def stage_name(n: int) -> str:
    base = STAGE_NAMES[n % len(STAGE_NAMES)]
    return base if n < len(STAGE_NAMES) else f"{base} {n // len(STAGE_NAMES) + 1}"


@pytest_asyncio.fixture
async def session_factory(engine: AsyncEngine, create_schema) -> async_sessionmaker[AsyncSession]:
    await create_schema(Base.metadata)
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest_asyncio.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """The session the code under test gets: fresh, nothing loaded yet."""
    async with session_factory() as session:
        yield session


@pytest.fixture
def seed_tournament(session_factory: async_sessionmaker[AsyncSession]):
    """Seed a tournament in PRESELECTION: three categories, ``battles`` battles.

    Running order: battle 1 is done, battle 2 is on stage, the rest wait; the
    last one is the final. Rows go in out of running order, and slot 2's
    performer before slot 1's, so nothing passes by leaning on insertion order.

    ``open_slot``: the final has no second performer yet ("TBD").
    ``dancer_left``: the first queued battle's slot-1 performer has no dancer.
    """

    ids = itertools.count(1)  # one sequence for every table: ids say nothing about order
    dancer_numbers = itertools.count()

    async def seed(
        battles: int = 6,
        *,
        name: str = "Riverside Summer Jam",
        open_slot: bool = False,
        dancer_left: bool = False,
    ) -> SeededTournament:
        assert battles >= 3, "the story needs a finished, an active and a pending battle"
        # Core inserts with ids chosen here: one executemany per table, where
        # ORM inserts with database-generated keys cost a statement per row on
        # SQLite. The learner's code still starts from an empty session.
        rows: dict[str, list[dict]] = {t: [] for t in ("tournaments", "categories", "dancers", "performers", "battles")}
        links: list[dict] = []
        tournament_id = next(ids)
        rows["tournaments"].append({"id": tournament_id, "name": name, "phase": TournamentPhase.PRESELECTION})
        category_ids = [next(ids) for _ in CATEGORY_NAMES]
        rows["categories"] += [
            {"id": cid, "tournament_id": tournament_id, "name": n}
            for cid, n in zip(category_ids, CATEGORY_NAMES, strict=True)
        ]
        seeded: list[SeededBattle] = []
        for sequence in range(battles, 0, -1):
            battle_id, category_id = next(ids), category_ids[sequence % len(category_ids)]
            phase = BattlePhase.FINALS if sequence == battles else BattlePhase.PRESELECTION
            status = STATUS_BY_SEQUENCE.get(sequence, BattleStatus.PENDING)
            rows["battles"].append(
                {
                    "id": battle_id,
                    "category_id": category_id,
                    "phase": phase,
                    "status": status,
                    "sequence_order": sequence,
                }
            )
            names = {1: "TBD", 2: "TBD"}
            for slot in (2, 1):
                if open_slot and sequence == battles and slot == 2:
                    continue
                dancer_id = None
                if not (dancer_left and sequence == 3 and slot == 1):
                    dancer_id = next(ids)
                    blaze = stage_name(next(dancer_numbers))
                    rows["dancers"].append({"id": dancer_id, "blaze": blaze, "legal_name": None})
                names[slot] = blaze if dancer_id else "Unknown"
                performer_id = next(ids)
                rows["performers"].append({"id": performer_id, "category_id": category_id, "dancer_id": dancer_id})
                links.append({"battle_id": battle_id, "performer_id": performer_id, "slot": slot})
            seeded.append(SeededBattle(battle_id, category_id, phase, status, sequence, (names[1], names[2])))
        async with session_factory() as s:
            for model in (Tournament, Category, Dancer, Performer, Battle):
                if rows[model.__tablename__]:
                    await s.execute(insert(model.__table__), rows[model.__tablename__])
            await s.execute(insert(battle_performers), links)
            await s.commit()
        return SeededTournament(
            id=tournament_id,
            name=name,
            phase=TournamentPhase.PRESELECTION,
            categories=dict(zip(category_ids, CATEGORY_NAMES, strict=True)),
            battles=seeded,
        )

    return seed
