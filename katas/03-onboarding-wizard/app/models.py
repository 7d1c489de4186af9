"""Organizations, their roles, and where each one is in the onboarding wizard."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Computed, DateTime, Enum, ForeignKey, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class OrganizationType(enum.Enum):
    FIRE_DEPARTMENT = "fire_department"
    EMS_AGENCY = "ems_agency"
    RESCUE_SQUAD = "rescue_squad"


class IdentifierType(enum.Enum):
    REGISTRY_NUMBER = "registry_number"  # the number in the national registry of services
    DEPARTMENT_ID = "department_id"  # issued by us when the organization has no registry number


class Organization(Base):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    organization_type: Mapped[OrganizationType]
    registry_number: Mapped[str | None] = mapped_column(String(30))
    department_id: Mapped[str | None] = mapped_column(String(12), unique=True)
    # Derived by the database from the identifiers above, on every INSERT and
    # UPDATE, so a registry number added later (by support, in SQL) moves the
    # organization into the right group in every report. A VARCHAR holding the
    # member's name, not a native enum: on PostgreSQL a native enum column would
    # need the expression to cast to the type ('...'::identifiertype), which
    # SQLite cannot parse, and the same schema runs on both.
    identifier_type: Mapped[IdentifierType] = mapped_column(
        Enum(IdentifierType, native_enum=False),
        Computed(
            "CASE WHEN registry_number IS NOT NULL THEN 'REGISTRY_NUMBER' ELSE 'DEPARTMENT_ID' END",
            persisted=True,
        ),
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The database's clock, not each app server's.
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )

    roles: Mapped[list[Role]] = relationship(back_populates="organization", order_by="Role.position")


class Role(Base):
    """A role members of one organization can hold; the defaults come with onboarding."""

    __tablename__ = "roles"

    # A role is known by its key within its organization ("chief", "member", ...).
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int]  # display order, highest rank first
    permissions: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    organization: Mapped[Organization] = relationship(back_populates="roles")


class OnboardingStatus(Base):
    """Where an organization is in the wizard; the wizard resumes from here."""

    __tablename__ = "onboarding_statuses"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), unique=True)
    current_step: Mapped[str | None] = mapped_column(String(30))  # None once every step is done
    completed_steps: Mapped[list[str]] = mapped_column(JSON)
    is_complete: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )
