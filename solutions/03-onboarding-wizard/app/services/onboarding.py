"""The onboarding wizard: create an organization with its defaults, then walk it through the steps."""

# What the database generates, SQLAlchemy either brings back with the statement
# (RETURNING, for an INSERT's server defaults) or expires: it never guesses.
# Every object this service returns holds what its caller reads, loaded while
# an await can still run the query.

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.defaults import ONBOARDING_STEPS, default_roles
from app.models import OnboardingStatus, Organization, OrganizationType, Role
from app.schemas import OrganizationIn


class SlugTaken(ValueError):
    pass


class OnboardingNotFound(LookupError):
    pass


class StepOutOfOrder(ValueError):
    def __init__(self, step: str, expected: str | None) -> None:
        super().__init__(f"step {step!r} is not next; expected {expected!r}")
        self.step, self.expected = step, expected


class OnboardingService:
    def __init__(self, session: AsyncSession) -> None:
        self.db = session

    async def create_organization(self, data: OrganizationIn) -> tuple[Organization, OnboardingStatus]:
        """Step 1 of the wizard: the organization, its default roles, its onboarding status.

        Flushes, never commits: the caller decides when the whole of it is stored.
        """
        taken = await self.db.scalar(select(Organization.id).where(Organization.slug == data.slug))
        if taken is not None:
            raise SlugTaken(data.slug)

        org = Organization(
            name=data.name,
            slug=data.slug,
            organization_type=data.organization_type,
            registry_number=data.registry_number,
        )
        self.db.add(org)
        await self.db.flush()  # the INSERT gives the organization its id

        if org.registry_number is None:
            # No registry number: we issue a department ID, printed on badges and
            # forms, from the organization's id.
            org.department_id = f"D-{org.id:05d}"
            await self.db.flush()
            # The UPDATE had the database regenerate identifier_type (a generated
            # column) and updated_at (onupdate=func.now()); the flush expired both
            # rather than guess them. Read them back, by name: one SELECT.
            await self.db.refresh(org, ["identifier_type", "updated_at"])

        await self.create_default_roles(org.id, data.organization_type)
        # The roles went in by organization_id, so org.roles was never loaded:
        # load it now, with every role, in one SELECT however many there are.
        await self.db.refresh(org, ["roles"])
        status = await self.start_onboarding(org.id)
        return org, status

    async def create_default_roles(self, organization_id: int, organization_type: OrganizationType) -> list[Role]:
        roles = [
            Role(organization_id=organization_id, position=position, **role)
            for position, role in enumerate(default_roles(organization_type))
        ]
        self.db.add_all(roles)
        await self.db.flush()  # one INSERT for all of them
        return roles

    async def start_onboarding(self, organization_id: int) -> OnboardingStatus:
        status = OnboardingStatus(
            organization_id=organization_id,
            current_step=ONBOARDING_STEPS[1],
            completed_steps=[ONBOARDING_STEPS[0]],
        )
        self.db.add(status)
        await self.db.flush()
        return status

    async def complete_step(self, organization_id: int, step: str) -> OnboardingStatus:
        """Mark the current step done and move on to the next one."""
        status = await self.db.scalar(
            select(OnboardingStatus).where(OnboardingStatus.organization_id == organization_id)
        )
        if status is None:
            raise OnboardingNotFound(organization_id)
        if status.is_complete or step != status.current_step:
            raise StepOutOfOrder(step, status.current_step)

        following = ONBOARDING_STEPS.index(step) + 1
        status.completed_steps = [*status.completed_steps, step]
        status.current_step = ONBOARDING_STEPS[following] if following < len(ONBOARDING_STEPS) else None
        status.is_complete = status.current_step is None
        # A finished step is a checkpoint: stored before the wizard shows the next
        # one, so a member who closes the tab resumes where they left off.
        await self.db.commit()
        # The commit expired the status (expire_on_commit), and its UPDATE had the
        # database set updated_at: read the row back as stored.
        await self.db.refresh(status)
        return status
