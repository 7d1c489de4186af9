"""Every BattleRepository method hands back what its callers read."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from app.models import BattlePhase, BattleStatus
from app.repositories import BattleRepository

# Each of the nine methods, called so that it finds battles in the seeded tournament.
CALLS = {
    "get_by_category": lambda repo, t: repo.get_by_category(t.active.category_id),
    "get_by_category_and_status": lambda repo, t: repo.get_by_category_and_status(
        t.queue[0].category_id, BattleStatus.PENDING
    ),
    "get_by_phase": lambda repo, t: repo.get_by_phase(t.id, BattlePhase.PRESELECTION),
    "get_by_status": lambda repo, t: repo.get_by_status(BattleStatus.ACTIVE),
    "get_active_battle": lambda repo, t: repo.get_active_battle(t.id),
    "get_with_performers": lambda repo, t: repo.get_with_performers(t.queue[0].id),
    "get_by_tournament": lambda repo, t: repo.get_by_tournament(t.id),
    "get_by_tournament_and_status": lambda repo, t: repo.get_by_tournament_and_status(t.id, BattleStatus.COMPLETED),
    "get_pending_battles_ordered": lambda repo, t: repo.get_pending_battles_ordered(t.id),
}


def in_running_order(battles) -> list:
    return sorted(battles, key=lambda b: b.sequence_order)


# What each of those calls finds, in the order it returns them: the fix changes what comes with the battles, not which.
FINDS = {
    "get_by_category": lambda t: in_running_order(b for b in t.battles if b.category_id == t.active.category_id),
    "get_by_category_and_status": lambda t: [b for b in t.queue if b.category_id == t.queue[0].category_id],
    "get_by_phase": lambda t: in_running_order(b for b in t.battles if b.phase is BattlePhase.PRESELECTION),
    "get_by_status": lambda t: [t.active],  # the one active battle of the one seeded tournament
    "get_active_battle": lambda t: [t.active],
    "get_with_performers": lambda t: [t.queue[0]],
    "get_by_tournament": lambda t: in_running_order(t.battles),
    "get_by_tournament_and_status": lambda t: [b for b in t.battles if b.status is BattleStatus.COMPLETED],
    "get_pending_battles_ordered": lambda t: t.queue,
}


@pytest.mark.parametrize("method", CALLS)
async def test_method_loads_dancers(method, session, seed_tournament, sql):
    """BattleRepository.{method}() returns battles whose performers come with their dancers"""
    tournament = await seed_tournament()

    found = await CALLS[method](BattleRepository(session), tournament)

    battles = found if isinstance(found, list) else [found] if found is not None else []
    assert battles, f"BattleRepository.{method}() found no battle, but the tournament has matching ones"
    wanted = [b.sequence_order for b in FINDS[method](tournament)]
    assert [battle.sequence_order for battle in battles] == wanted, (
        f"BattleRepository.{method}() should find battles {wanted}, in that order, as it did before the fix; "
        f"it found {[battle.sequence_order for battle in battles]}. Loading the dancers changes what comes with "
        "the battles, not which battles a query finds"
    )
    for battle in battles:
        expected = tournament.battle(battle.id).names
        assert len(battle.performers) == 2, (
            f"BattleRepository.{method}(): battle #{battle.sequence_order} should have 2 performers, "
            f"it has {len(battle.performers)}"
        )
        for slot, performer in enumerate(battle.performers, start=1):
            assert "dancer" not in inspect(performer).unloaded, (
                f"BattleRepository.{method}(): in battle #{battle.sequence_order}, slot {slot}'s performer "
                "came back without its dancer; reading performer.dancer would need another query, "
                "and in async code that is MissingGreenlet"
            )

    sql.clear()
    names = {battle.id: tuple(p.dancer.blaze for p in battle.performers) for battle in battles}

    assert len(sql) == 0, (
        f"after BattleRepository.{method}() returned, reading the stage names still ran "
        f"{len(sql)} SQL statement(s); they should come with the query"
    )
    for battle in battles:
        expected = tournament.battle(battle.id).names
        assert names[battle.id] == expected, (
            f"BattleRepository.{method}(): battle #{battle.sequence_order} should have "
            f"{expected[0]!r} vs {expected[1]!r}, it has {names[battle.id][0]!r} vs {names[battle.id][1]!r}"
        )
