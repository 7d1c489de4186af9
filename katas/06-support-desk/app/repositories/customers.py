"""Queries for customers."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Customer


class CustomerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def exists(self, customer_id: int) -> bool:
        return bool(await self.session.scalar(select(exists().where(Customer.id == customer_id))))
