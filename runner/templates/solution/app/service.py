"""SCAFFOLD: the reference fix: the kata's files it changes, complete, at the same paths."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.models import Team


async def roster(session: AsyncSession, team_id: int) -> list[str]:
    """The names of a team's members, in alphabetical order."""
    # The members are loaded with the team (one more statement, however many there are).
    team = await session.scalar(select(Team).where(Team.id == team_id).options(selectinload(Team.members)))
    return sorted(member.name for member in team.members)
