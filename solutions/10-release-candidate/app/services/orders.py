"""Placing and shipping orders: the rules of the shop, whoever calls them."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Order, OrderLine, Shipment
from app.repositories.orders import CatalogRepository, OrderRepository
from app.schemas import LineIn


class UnknownCustomer(LookupError):
    pass


class UnknownOrder(LookupError):
    pass


class UnknownProducts(LookupError):
    def __init__(self, skus: list[str]) -> None:
        super().__init__(", ".join(skus))
        self.skus = skus


class NotShippable(Exception):
    """Only a confirmed order ships: a placed one is not paid yet, a shipped one left already."""


@dataclass(frozen=True)
class Shipped:
    order_id: int
    number: str
    carrier: str
    tracking_code: str
    shipped_at: datetime


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def new_order_number() -> str:
    return "N-" + uuid.uuid4().hex[:6].upper()


def tracking_code(carrier: str, number: str) -> str:
    """The carrier's code for a parcel: the label printer and the customer's mail both show it."""
    digest = hashlib.sha256(f"{carrier}:{number}".encode()).hexdigest()[:10].upper()
    return f"{carrier[:3].upper()}{digest}"


class OrderService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.orders = OrderRepository(session)
        self.catalog = CatalogRepository(session)

    async def place(self, customer_id: int, lines: list[LineIn]) -> Order:
        """Store a new order at today's prices; the worker confirms it by mail."""
        customer = await self.catalog.customer(customer_id)
        if customer is None:
            raise UnknownCustomer(customer_id)
        products = await self.catalog.products([line.sku for line in lines])
        unknown = sorted({line.sku for line in lines} - products.keys())
        if unknown:
            raise UnknownProducts(unknown)
        order = Order(
            number=new_order_number(),
            customer=customer,  # the objects, not their ids: the response reads them, loaded
            status="placed",
            placed_at=utcnow(),
            lines=[
                OrderLine(
                    product=products[line.sku],
                    quantity=line.quantity,
                    unit_price_cents=products[line.sku].price_cents,
                )
                for line in lines
            ],
        )
        self.session.add(order)
        await self.session.commit()
        return order

    async def ship(self, order_id: int, carrier: str) -> Shipped:
        """Hand a confirmed order to the carrier: the order is shipped, at the database's time."""
        order = await self.orders.get_for_update(order_id)
        if order is None:
            raise UnknownOrder(order_id)
        if order.status != "confirmed":
            raise NotShippable(order.status)
        order.status = "shipped"
        await self.session.flush()  # the UPDATE stamps orders.updated_at: the shipment keeps that time
        # The database wrote updated_at (onupdate=func.now()): the flush expired it, and reading it is a
        # query. Ask for it here, where the code can await: one SELECT of that one column.
        await self.session.refresh(order, ["updated_at"])
        shipped = Shipped(
            order_id=order.id,
            number=order.number,
            carrier=carrier,
            tracking_code=tracking_code(carrier, order.number),
            shipped_at=order.updated_at,
        )
        self.session.add(
            Shipment(
                order_id=shipped.order_id,
                carrier=carrier,
                tracking_code=shipped.tracking_code,
                shipped_at=shipped.shipped_at,
            )
        )
        await self.session.commit()
        return shipped
