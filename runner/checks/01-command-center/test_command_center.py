"""What the MC sees when they open the event command center."""

from __future__ import annotations

from app.models import BattleStatus
from app.services.event_service import EventService


def shown(card) -> tuple[str, str]:
    return (card.performer1_name, card.performer2_name)


async def test_command_center_opens(session, seed_tournament):
    """The command center opens for a running tournament, with its phase and battle counts"""
    tournament = await seed_tournament()

    context = await EventService(session).get_command_center_context(tournament.id)

    assert (context.tournament_name, context.tournament_phase) == (tournament.name, tournament.phase), (
        f"expected tournament {tournament.name!r} in phase {tournament.phase.name}, "
        f"got {context.tournament_name!r} in phase {context.tournament_phase.name}"
    )
    assert [c.name for c in context.categories] == list(tournament.categories.values()), (
        f"expected the categories {list(tournament.categories.values())}, got {[c.name for c in context.categories]}"
    )
    for progress in context.categories:
        expected = tuple(
            tournament.count(status, progress.category_id)
            for status in (BattleStatus.PENDING, BattleStatus.ACTIVE, BattleStatus.COMPLETED)
        )
        counted = (progress.counts.pending, progress.counts.active, progress.counts.completed)
        assert counted == expected, (
            f"{progress.name}: expected (pending, active, completed) battles = {expected}, got {counted}"
        )
    assert context.counts.total == len(tournament.battles), (
        f"expected {len(tournament.battles)} battles in all, the command center counted {context.counts.total}"
    )


async def test_current_battle_shows_both_names(session, seed_tournament):
    """The current battle card shows both performers' stage names"""
    tournament = await seed_tournament()
    on_stage = tournament.active

    context = await EventService(session).get_command_center_context(tournament.id)

    assert context.current_battle is not None, (
        f"battle #{on_stage.sequence_order} is on stage, but the command center shows no current battle"
    )
    assert context.current_battle.battle_id == on_stage.id, (
        f"expected battle #{on_stage.sequence_order} as the current battle, "
        f"got #{context.current_battle.sequence_order}"
    )
    assert shown(context.current_battle) == on_stage.names, (
        f"the current battle card should read {on_stage.names[0]!r} vs {on_stage.names[1]!r}, "
        f"it reads {context.current_battle.performer1_name!r} vs {context.current_battle.performer2_name!r}"
    )


async def test_queue_shows_names_in_running_order(session, seed_tournament):
    """Every battle in the queue shows performer1_name and performer2_name, in running order"""
    tournament = await seed_tournament()

    context = await EventService(session).get_command_center_context(tournament.id)

    assert [card.sequence_order for card in context.queue] == [b.sequence_order for b in tournament.queue], (
        f"expected the queue to hold battles {[b.sequence_order for b in tournament.queue]} in that order, "
        f"got {[card.sequence_order for card in context.queue]}"
    )
    for card, battle in zip(context.queue, tournament.queue, strict=True):
        assert shown(card) == battle.names, (
            f"queued battle #{battle.sequence_order} should read {battle.names[0]!r} vs {battle.names[1]!r}, "
            f"it reads {card.performer1_name!r} vs {card.performer2_name!r}"
        )


async def test_empty_slot_shows_tbd(session, seed_tournament):
    """A battle slot nobody fills yet shows as TBD"""
    tournament = await seed_tournament(open_slot=True)
    final = tournament.queue[-1]

    context = await EventService(session).get_command_center_context(tournament.id)

    card = next((c for c in context.queue if c.battle_id == final.id), None)
    assert card is not None, f"the final (battle #{final.sequence_order}) is missing from the queue"
    assert shown(card) == (final.names[0], "TBD"), (
        f"the final has {final.names[0]!r} in slot 1 and nobody in slot 2, so it should read "
        f"{final.names[0]!r} vs 'TBD'; it reads {card.performer1_name!r} vs {card.performer2_name!r}"
    )


async def test_no_unknown_for_a_known_dancer(session, seed_tournament):
    """No performer whose dancer exists is shown as Unknown"""
    tournament = await seed_tournament()

    context = await EventService(session).get_command_center_context(tournament.id)

    cards = [context.current_battle, *context.queue] if context.current_battle else context.queue
    unknown = [card.sequence_order for card in cards if "Unknown" in shown(card)]
    assert not unknown, (
        f"every performer in this tournament has a dancer, yet battles {unknown} show 'Unknown': "
        "the stage name was there to read, the page just could not reach it"
    )


async def test_dancer_who_left_shows_unknown(session, seed_tournament):
    """A performer whose dancer deleted their account still shows as Unknown"""
    tournament = await seed_tournament(dancer_left=True)
    battle = tournament.queue[0]

    context = await EventService(session).get_command_center_context(tournament.id)

    card = next((c for c in context.queue if c.battle_id == battle.id), None)
    assert card is not None, f"battle #{battle.sequence_order} is missing from the queue"
    assert shown(card) == battle.names, (
        f"battle #{battle.sequence_order}'s slot-1 performer has no dancer any more, so it should read "
        f"{battle.names[0]!r} vs {battle.names[1]!r}; it reads {card.performer1_name!r} vs {card.performer2_name!r}"
    )


async def test_statements_do_not_grow_with_battles(session_factory, seed_tournament, sql):
    """The command center runs as many SQL statements for 30 battles as for 3"""
    small = await seed_tournament(3, name="Small Club Night")
    large = await seed_tournament(30, name="National Finals")

    async def statements_for(tournament) -> int:
        async with session_factory() as session:
            sql.clear()
            await EventService(session).get_command_center_context(tournament.id)
            return len(sql)

    for_small, for_large = await statements_for(small), await statements_for(large)

    assert for_small == for_large, (
        f"the command center ran {for_small} SQL statements for 3 battles and {for_large} for 30: "
        "something queries once per battle or per performer, so a busy event day gets slower "
        "with every battle. Load what the page reads in the queries that fetch the battles."
    )
