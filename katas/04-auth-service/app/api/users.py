"""Who is signed in: the route the web app calls with its access token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from app.db import get_async_db
from app.models import User
from app.schemas import UserOut
from app.security import read_access_token
from app.settings import Settings, get_settings

router = APIRouter(prefix="/users", tags=["users"])
bearer = OAuth2PasswordBearer(tokenUrl="/auth/login")


async def current_user(
    token: Annotated[str, Depends(bearer)],
    db: Annotated[AsyncSession, Depends(get_async_db)],
    settings: Annotated[Settings, Depends(get_settings)],
) -> User:
    claims = read_access_token(token, settings.secret_key)
    if claims is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid or expired token", {"WWW-Authenticate": "Bearer"})
    result = await db.execute(
        select(User).options(joinedload(User.organisation)).where(User.id == claims["sub"], User.is_active)
    )
    user = result.scalar_one_or_none()
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Invalid or expired token", {"WWW-Authenticate": "Bearer"})
    return user


@router.get("/me", response_model=UserOut)
async def me(user: Annotated[User, Depends(current_user)]) -> User:
    return user
