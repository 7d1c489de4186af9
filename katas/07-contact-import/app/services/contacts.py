"""Contacts of an audience: added one at a time, or imported from a file in one transaction."""

from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Audience, Contact
from app.schemas import ContactIn, ImportReport, SkippedRow

logger = logging.getLogger(__name__)


class AudienceNotFound(LookupError):
    pass


class AlreadySubscribed(Exception):
    """The audience has a contact with this email already: expected, reported, never a failure."""

    def __init__(self, email: str, name: str, audience_name: str) -> None:
        super().__init__(f"{email} is already in {audience_name}")
        self.email = email
        self.name = name


def normalise_email(raw: str) -> str:
    return raw.strip().lower()


class ContactService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_contact(self, audience_id: int, new: ContactIn) -> Contact:
        audience = await self._audience(audience_id)
        contact = await self._subscribe(audience, new)
        await self.session.commit()
        return contact

    async def import_contacts(self, audience_id: int, rows: list[ContactIn], *, dry_run: bool) -> ImportReport:
        """Add every row of a file, in one transaction; a row already in the audience is skipped and reported."""
        audience = await self._audience(audience_id)
        report = ImportReport(audience=audience.name, dry_run=dry_run)
        for row in rows:
            try:
                contact = await self._subscribe(audience, row)
            except AlreadySubscribed as duplicate:
                report.skipped.append(SkippedRow(email=duplicate.email, name=duplicate.name, reason=str(duplicate)))
                continue
            report.imported.append(contact.email)
        if dry_run:
            await self.session.rollback()  # a preview: the same work, nothing kept
        else:
            await self.session.commit()
        logger.info("audience %s: %d imported, %d skipped", audience_id, len(report.imported), len(report.skipped))
        return report

    async def _audience(self, audience_id: int) -> Audience:
        audience = await self.session.get(Audience, audience_id)
        if audience is None:
            raise AudienceNotFound(audience_id)
        return audience

    async def _subscribe(self, audience: Audience, new: ContactIn) -> Contact:
        """Add one contact to the audience, or raise AlreadySubscribed if its email is on it already."""
        contact = Contact(audience_id=audience.id, email=normalise_email(new.email), name=new.name.strip())
        self.session.add(contact)
        try:
            # The unique constraint decides, not a SELECT first: two imports running at once
            # cannot both add the same email.
            await self.session.flush()
        except IntegrityError:
            # TODO(kata-07): a duplicate answers 500 (MissingGreenlet), raised by the `raise`
            # below. Both routes come through here: a contact added from the form, and every
            # row of an import, whose earlier rows are in this same transaction.
            await self.session.rollback()
            raise AlreadySubscribed(contact.email, contact.name, audience.name) from None
        return contact
