"""Customers open tickets; agents are assigned to them and answer in replies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Agent(Base):
    """Someone on the support team."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    email: Mapped[str] = mapped_column(String(120), unique=True)


class Customer(Base):
    """An account that can open tickets."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    plan: Mapped[str] = mapped_column(String(20))  # "free", "team" or "enterprise": agents triage on it

    tickets: Mapped[list[Ticket]] = relationship(back_populates="customer")


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), index=True)  # None: nobody yet
    subject: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)  # the customer's own words, as they opened it
    status: Mapped[str] = mapped_column(String(20), index=True)  # "open", "pending" (on the customer), "solved"
    opened_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # naive UTC

    # SQLAlchemy's default loading for all three (lazy="select"): each is read with a query of its own.
    customer: Mapped[Customer] = relationship(back_populates="tickets")
    assignee: Mapped[Agent | None] = relationship()
    replies: Mapped[list[Reply]] = relationship(back_populates="ticket", order_by="Reply.sent_at")


class Reply(Base):
    """What an agent wrote on a ticket. A long ticket has hundreds."""

    __tablename__ = "replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("agents.id"))
    body: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC

    ticket: Mapped[Ticket] = relationship(back_populates="replies")
    author: Mapped[Agent] = relationship()
