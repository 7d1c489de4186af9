"""Customers place orders; a refund is asked for on an order, and an agent approves or rejects it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(AsyncAttrs, DeclarativeBase):
    pass


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d} EUR"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(200))


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # "A-10042": what the customer quotes
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    placed_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC

    # SQLAlchemy's default loading (lazy="select"): the first read of it is a query.
    customer: Mapped[Customer] = relationship()


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount_cents: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), index=True)  # "requested", "approved" or "rejected"
    requested_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The customer's message and the agents' notes, photos described and all: kilobytes per refund.
    # Deferred, so the queue the agents poll does not carry them: loaded only where something asks.
    note: Mapped[str] = mapped_column(Text, deferred=True)

    order: Mapped[Order] = relationship()

    def __str__(self) -> str:
        # How a refund reads in the logs and in messages.
        return f"refund #{self.id} of {money(self.amount_cents)} on order {self.order.number}"

    @property
    def customer_name(self) -> str:
        """Who the money goes back to."""
        return self.order.customer.name
