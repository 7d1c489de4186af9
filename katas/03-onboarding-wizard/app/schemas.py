"""What the onboarding API accepts and answers."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from app.models import IdentifierType, OnboardingStatus, Organization, OrganizationType, Role


class OrganizationIn(BaseModel):
    name: str = Field(min_length=2, max_length=120)
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,59}$")
    organization_type: OrganizationType
    registry_number: str | None = Field(default=None, max_length=30)


class RoleOut(BaseModel):
    key: str
    name: str
    permissions: list[str]
    created_at: datetime

    @classmethod
    def from_model(cls, role: Role) -> RoleOut:
        return cls(key=role.key, name=role.name, permissions=role.permissions, created_at=role.created_at)


class OnboardingOut(BaseModel):
    organization_id: int
    current_step: str | None
    completed_steps: list[str]
    is_complete: bool
    started_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, status: OnboardingStatus) -> OnboardingOut:
        return cls(
            organization_id=status.organization_id,
            current_step=status.current_step,
            completed_steps=status.completed_steps,
            is_complete=status.is_complete,
            started_at=status.started_at,
            updated_at=status.updated_at,
        )


class OrganizationCreated(BaseModel):
    """The wizard's first page after "Create": everything it shows comes from here."""

    id: int
    name: str
    slug: str
    organization_type: OrganizationType
    identifier_type: IdentifierType
    registry_number: str | None
    department_id: str | None
    created_at: datetime
    updated_at: datetime
    roles: list[RoleOut]
    onboarding: OnboardingOut

    @classmethod
    def from_models(cls, org: Organization, status: OnboardingStatus) -> OrganizationCreated:
        return cls(
            id=org.id,
            name=org.name,
            slug=org.slug,
            organization_type=org.organization_type,
            identifier_type=org.identifier_type,
            registry_number=org.registry_number,
            department_id=org.department_id,
            created_at=org.created_at,
            updated_at=org.updated_at,
            roles=[RoleOut.from_model(role) for role in org.roles],
            onboarding=OnboardingOut.from_model(status),
        )
