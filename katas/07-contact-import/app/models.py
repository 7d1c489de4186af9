"""Audiences (the lists a newsletter goes to) and their contacts."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Audience(Base):
    """A list of contacts a newsletter is sent to."""

    __tablename__ = "audiences"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    sender_email: Mapped[str] = mapped_column(String(200))


class Contact(Base):
    """Someone on an audience. One email appears at most once per audience (it may be on several)."""

    __tablename__ = "contacts"
    __table_args__ = (UniqueConstraint("audience_id", "email", name="uq_contacts_audience_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    audience_id: Mapped[int] = mapped_column(ForeignKey("audiences.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(200))  # stored normalised: stripped, lower case
    name: Mapped[str] = mapped_column(String(120))
