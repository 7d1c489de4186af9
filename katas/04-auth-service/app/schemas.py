"""What the auth routes answer."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class OrganisationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    slug: str


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    full_name: str
    # The web app picks the workspace to open from this: it is in every token response.
    organisation: OrganisationOut


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int  # seconds
    refresh_token: str
    user: UserOut


class RefreshRequest(BaseModel):
    refresh_token: str
