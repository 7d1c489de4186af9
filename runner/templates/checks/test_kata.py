"""Kata {{number}}'s hidden checks. SCAFFOLD: one check per path the story names, each with a statement budget.

A check's docstring's first line is the scenario line the learner sees ({size} below is filled from
parametrize). Every assert carries a message in plain words: the runner shows it, never this source.
"""

from __future__ import annotations

import pytest

from app.service import roster


@pytest.mark.parametrize("size", [3, 30])
async def test_the_roster_names_every_member(size, seed_team, sessions):
    """The roster of a team of {size} names every member"""
    team_id, names = await seed_team(size)
    async with sessions() as session:
        got = await roster(session, team_id)
    assert got == sorted(names), f"the roster should name the team's {size} members in order, not {got}"


async def test_the_roster_costs_as_much_for_30_members_as_for_3(seed_team, sessions, sql):
    """The roster sends as many SQL statements for 30 members as for 3"""
    counts = {}
    for size in (3, 30):
        team_id, _ = await seed_team(size)
        sql.clear()  # count the roster's statements only, not the seeding's
        async with sessions() as session:
            await roster(session, team_id)
        counts[size] = len(sql)
    assert counts[3] == counts[30], (
        f"the roster sent {counts[3]} SQL statements for 3 members and {counts[30]} for 30: "
        "load the members with the team, not one by one"
    )
