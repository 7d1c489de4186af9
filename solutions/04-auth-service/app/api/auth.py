"""Sign-in: password login (the OAuth2 password form) and refresh-token rotation."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Cookie, Depends, HTTPException, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.db import get_async_db
from app.models import RefreshToken, User
from app.schemas import OrganisationOut, RefreshRequest, TokenResponse, UserOut
from app.security import (
    create_access_token,
    new_refresh_token,
    refresh_token_hash,
    utcnow,
    verify_password,
)
from app.settings import Settings, get_settings

router = APIRouter(prefix="/auth", tags=["auth"])

REFRESH_COOKIE = "refresh_token"


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"})


def issue_refresh_token(db: AsyncSession, user: User, settings: Settings) -> str:
    """A new refresh token for the user; the caller commits."""
    token = new_refresh_token()
    now = utcnow()
    db.add(  # no IO: the row goes out with the caller's commit
        RefreshToken(
            user_id=user.id,
            token_hash=refresh_token_hash(token),
            issued_at=now,
            expires_at=now + timedelta(days=settings.refresh_token_days),
        )
    )
    return token


def token_response(response: Response, user: User, refresh_token: str, settings: Settings) -> TokenResponse:
    # The browser keeps the refresh token in a cookie; API clients read it from the body.
    response.set_cookie(REFRESH_COOKIE, refresh_token, **settings.refresh_cookie_settings())
    return TokenResponse(
        access_token=create_access_token(
            user.id, user.organisation_id, settings.secret_key, settings.access_token_minutes
        ),
        expires_in=settings.access_token_minutes * 60,
        refresh_token=refresh_token,
        user=UserOut(
            id=user.id,
            email=user.email,
            full_name=user.full_name,
            organisation=OrganisationOut.model_validate(user.organisation),
        ),
    )


@router.post("/login", response_model=TokenResponse)
async def login_oauth2(
    response: Response,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    db: Annotated[AsyncSession, Depends(get_async_db)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> TokenResponse:
    email = form.username.strip().lower()
    # The organisation comes with the user: the response reads it, and a lazy load could not run there.
    result = await db.execute(select(User).options(joinedload(User.organisation)).where(User.email == email))
    user = result.scalar_one_or_none()
    # One answer for every failure: the response must not tell which emails exist.
    if user is None or not user.is_active or not verify_password(form.password, user.password_hash):
        raise unauthorized("Incorrect email or password")

    user.last_login_at = utcnow()
    refresh_token = issue_refresh_token(db, user, settings)
    await db.commit()
    return token_response(response, user, refresh_token, settings)


@router.post("/refresh", response_model=TokenResponse)
async def refresh_token(
    response: Response,
    db: Annotated[AsyncSession, Depends(get_async_db)],
    settings: Annotated[Settings, Depends(get_settings)],
    body: RefreshRequest | None = None,
    cookie: Annotated[str | None, Cookie(alias=REFRESH_COOKIE)] = None,
) -> TokenResponse:
    presented = body.refresh_token if body is not None else cookie
    if not presented:
        raise unauthorized("Refresh token missing")

    stored = await db.scalar(select(RefreshToken).where(RefreshToken.token_hash == refresh_token_hash(presented)))
    if stored is None or stored.revoked_at is not None or stored.expires_at <= utcnow():
        raise unauthorized("Invalid or expired refresh token")
    result = await db.execute(select(User).options(joinedload(User.organisation)).where(User.id == stored.user_id))
    user = result.scalar_one_or_none()
    if user is None or not user.is_active:
        raise unauthorized("Invalid or expired refresh token")

    # Rotation: a refresh token works once, so a stolen copy dies with its first use.
    stored.revoked_at = utcnow()
    new_token = issue_refresh_token(db, user, settings)
    await db.commit()
    return token_response(response, user, new_token, settings)
