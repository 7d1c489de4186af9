"""Queries for orders. The routes, the services and the worker use what these return, as it is."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload

from app.models import Customer, Order, OrderLine, Product

# What an order's page shows: its customer, and its lines with their products.
WITH_DETAILS = (joinedload(Order.customer), selectinload(Order.lines).joinedload(OrderLine.product))


class OrderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, order_id: int) -> Order | None:
        return await self.session.get(Order, order_id, options=WITH_DETAILS)

    async def get_for_update(self, order_id: int) -> Order | None:
        """The order alone, to change its status."""
        return await self.session.get(Order, order_id)

    async def by_status(self, status: str, limit: int = 100) -> Sequence[Order]:
        """The orders in one status, newest first: the shop's back office lists these."""
        stmt = (
            select(Order)
            .where(Order.status == status)
            .options(*WITH_DETAILS)  # the list shows each order's customer too
            .order_by(Order.placed_at.desc(), Order.id.desc())
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()

    async def to_confirm(self, limit: int = 200) -> Sequence[Order]:
        """The placed orders, oldest first: the worker's batch."""
        stmt = (
            select(Order)
            .where(Order.status == "placed")
            .options(*WITH_DETAILS)  # the mail names the customer and reads their address
            .order_by(Order.placed_at, Order.id)
            .limit(limit)
        )
        return (await self.session.scalars(stmt)).all()


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def customer(self, customer_id: int) -> Customer | None:
        return await self.session.get(Customer, customer_id)

    async def products(self, skus: list[str]) -> dict[str, Product]:
        """The products of these SKUs, by SKU, in one query; an unknown SKU is left out."""
        found = await self.session.scalars(select(Product).where(Product.sku.in_(set(skus))))
        return {product.sku: product for product in found}
