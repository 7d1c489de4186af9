"""Adding contacts to an audience: one from the app's form, or a whole file at once."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy.ext.asyncio import AsyncSession

from app.db import get_db
from app.schemas import ContactIn, ContactOut, ImportReport, ImportRequest
from app.services.contacts import AlreadySubscribed, AudienceNotFound, ContactService

router = APIRouter(prefix="/api/audiences")


@router.post("/{audience_id}/contacts", response_model=ContactOut, status_code=201)
async def add_contact(audience_id: int, new: ContactIn, session: AsyncSession = Depends(get_db)) -> ContactOut:
    try:
        contact = await ContactService(session).add_contact(audience_id, new)
    except AudienceNotFound:
        raise HTTPException(status_code=404, detail="unknown audience") from None
    except AlreadySubscribed as duplicate:
        raise HTTPException(status_code=409, detail=str(duplicate)) from None
    return ContactOut(id=contact.id, email=contact.email, name=contact.name)


@router.post("/{audience_id}/imports", response_model=ImportReport)
async def import_contacts(
    audience_id: int, upload: ImportRequest, session: AsyncSession = Depends(get_db)
) -> ImportReport:
    try:
        return await ContactService(session).import_contacts(audience_id, upload.contacts, dry_run=upload.dry_run)
    except AudienceNotFound:
        raise HTTPException(status_code=404, detail="unknown audience") from None
