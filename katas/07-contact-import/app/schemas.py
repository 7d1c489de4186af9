"""What the contact routes take and answer."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ContactIn(BaseModel):
    email: str = Field(min_length=3, max_length=200)
    name: str = Field(max_length=120)


class ContactOut(BaseModel):
    id: int
    email: str
    name: str


class ImportRequest(BaseModel):
    """The rows of an uploaded file, as the web app parsed them, in the file's order."""

    contacts: list[ContactIn]
    dry_run: bool = False  # a preview: report what the import would do, store nothing


class SkippedRow(BaseModel):
    email: str
    name: str
    reason: str


class ImportReport(BaseModel):
    audience: str
    dry_run: bool
    imported: list[str] = []  # the emails added, in the file's order
    skipped: list[SkippedRow] = []
