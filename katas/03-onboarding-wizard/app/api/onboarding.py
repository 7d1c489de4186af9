"""The onboarding wizard's API: POST /api/onboarding/organization, then one POST per step."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_db
from app.schemas import OnboardingOut, OrganizationCreated, OrganizationIn
from app.services.onboarding import OnboardingNotFound, OnboardingService, SlugTaken, StepOutOfOrder

router = APIRouter(prefix="/api/onboarding")


@router.post("/organization", status_code=201)
async def create_organization(payload: OrganizationIn, session: AsyncSession = Depends(get_db)) -> OrganizationCreated:
    try:
        org, status = await OnboardingService(session).create_organization(payload)
    except SlugTaken:
        raise HTTPException(status_code=409, detail="that address is taken") from None
    # The response first, then the commit: if the commit fails, the caller gets
    # an error, not a page for an organization that does not exist.
    response = OrganizationCreated.from_models(org, status)
    await session.commit()
    return response


@router.post("/{organization_id}/steps/{step}")
async def complete_step(organization_id: int, step: str, session: AsyncSession = Depends(get_db)) -> OnboardingOut:
    try:
        status = await OnboardingService(session).complete_step(organization_id, step)
    except OnboardingNotFound:
        raise HTTPException(status_code=404, detail="no onboarding for this organization") from None
    except StepOutOfOrder as error:
        raise HTTPException(status_code=409, detail=str(error)) from None
    return OnboardingOut.from_model(status)
