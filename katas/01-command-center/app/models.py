"""Tournament data: who dances, in which category, and the battles they meet in."""

from __future__ import annotations

import enum

from sqlalchemy import Column, ForeignKey, Integer, String, Table
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class TournamentPhase(enum.Enum):
    REGISTRATION = "registration"
    PRESELECTION = "preselection"
    POOLS = "pools"
    FINALS = "finals"
    CLOSED = "closed"


class BattlePhase(enum.Enum):
    PRESELECTION = "preselection"
    POOLS = "pools"
    FINALS = "finals"


class BattleStatus(enum.Enum):
    PENDING = "pending"
    ACTIVE = "active"
    COMPLETED = "completed"


class Tournament(Base):
    __tablename__ = "tournaments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    phase: Mapped[TournamentPhase] = mapped_column(default=TournamentPhase.REGISTRATION)

    categories: Mapped[list[Category]] = relationship(back_populates="tournament")


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    tournament_id: Mapped[int] = mapped_column(ForeignKey("tournaments.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))

    tournament: Mapped[Tournament] = relationship(back_populates="categories")
    battles: Mapped[list[Battle]] = relationship(back_populates="category")


class Dancer(Base):
    __tablename__ = "dancers"

    id: Mapped[int] = mapped_column(primary_key=True)
    blaze: Mapped[str] = mapped_column(String(80))  # stage name, what the MC calls out
    legal_name: Mapped[str | None] = mapped_column(String(120))


class Performer(Base):
    """A dancer's entry in one category."""

    __tablename__ = "performers"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    # Nullable: the battle history outlives a dancer who deletes their account.
    dancer_id: Mapped[int | None] = mapped_column(ForeignKey("dancers.id", ondelete="SET NULL"))

    category: Mapped[Category] = relationship()
    dancer: Mapped[Dancer | None] = relationship()


# Slot 1 and slot 2 of a battle. The bracket builder writes these rows with the
# slot; the ORM only reads them, in slot order.
battle_performers = Table(
    "battle_performers",
    Base.metadata,
    Column("battle_id", ForeignKey("battles.id", ondelete="CASCADE"), primary_key=True),
    Column("performer_id", ForeignKey("performers.id"), primary_key=True),
    Column("slot", Integer, nullable=False),
)


class Battle(Base):
    __tablename__ = "battles"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    phase: Mapped[BattlePhase]
    status: Mapped[BattleStatus] = mapped_column(default=BattleStatus.PENDING)
    sequence_order: Mapped[int]  # position in the running order of the day

    category: Mapped[Category] = relationship(back_populates="battles")
    performers: Mapped[list[Performer]] = relationship(secondary=battle_performers, order_by=battle_performers.c.slot)
