"""Customers, their delivery addresses, and every check the geocoder made of an address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# An address's status. Drivers are only routed to verified addresses; the support team goes through
# needs_review by hand; pending ones wait for the next verification run.
PENDING = "pending"
VERIFIED = "verified"
NEEDS_REVIEW = "needs_review"


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))

    addresses: Mapped[list[Address]] = relationship(back_populates="customer")


class Address(Base):
    """A delivery address as the customer typed it, and where the geocoder placed it."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    line: Mapped[str] = mapped_column(String(200))  # "12 Quay Street"
    postcode: Mapped[str] = mapped_column(String(12))
    city: Mapped[str] = mapped_column(String(80))
    country: Mapped[str] = mapped_column(String(2))  # ISO 3166 code
    status: Mapped[str] = mapped_column(String(20), default=PENDING, index=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    failed_lookups: Mapped[int] = mapped_column(default=0)  # the geocoder did not answer for it
    last_error: Mapped[str | None] = mapped_column(String(200))

    customer: Mapped[Customer] = relationship(back_populates="addresses")
    verifications: Mapped[list[Verification]] = relationship(back_populates="address")

    def query(self) -> str:
        """The address in one line, as the geocoder takes it."""
        return f"{self.line}, {self.postcode} {self.city}, {self.country}"


class Verification(Base):
    """One answer of the geocoder for one address: kept as the proof of what a driver was sent to."""

    __tablename__ = "verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    address_id: Mapped[int] = mapped_column(ForeignKey("addresses.id"), index=True)
    reference: Mapped[str] = mapped_column(String(40))  # the geocoder's id for its answer
    formatted: Mapped[str] = mapped_column(String(300))  # the address as the geocoder spells it
    confidence: Mapped[float]
    checked_at: Mapped[datetime] = mapped_column(DateTime)  # naive UTC

    address: Mapped[Address] = relationship(back_populates="verifications")
