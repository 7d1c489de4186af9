"""SCAFFOLD: the code the story's failure runs through. The example: a team's roster."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Team

# TODO(kata-{{number}}): SCAFFOLD: what fails here, as the learner meets it (the error, the line), without the answer.


async def roster(session: AsyncSession, team_id: int) -> list[str]:
    """The names of a team's members, in alphabetical order."""
    team = await session.scalar(select(Team).where(Team.id == team_id))
    return sorted(member.name for member in team.members)
