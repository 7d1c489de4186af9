"""The shop's HTTP API."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI, HTTPException, Request
from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bookshop.models import Author, Book

sessions = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)  # bound at start-up (or by a test)
app = FastAPI()


async def get_session() -> AsyncIterator[AsyncSession]:
    async with sessions() as session:
        yield session


class AuthorOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    author: AuthorOut


@app.get("/books/{book_id}", response_model=BookOut)
async def read_book(book_id: int, session: AsyncSession = Depends(get_session)) -> Book:
    return await session.get(Book, book_id)  # BUG: the response reads book.author, never loaded


def staff_only(view):
    """Every back-office page: one shared check of the staff header, then the page itself."""

    @functools.wraps(view)
    async def wrapper(request: Request, *args, **kwargs):
        if request.headers.get("x-staff") != "yes":
            raise HTTPException(status_code=403, detail="staff only")
        return await view(request, *args, **kwargs)

    return wrapper


@app.get("/admin/authors/count")
@staff_only
async def author_count(request: Request, session: AsyncSession = Depends(get_session)) -> dict:
    return {"authors": await session.scalar(select(func.count(Author.id)))}


@app.get("/admin/authors")
@staff_only
async def author_list(request: Request, session: AsyncSession = Depends(get_session)) -> list[dict]:
    # Two eager loads: two more SELECTs, however many authors, books and reviews there are.
    authors = await session.scalars(
        select(Author).options(selectinload(Author.books).selectinload(Book.reviews)).order_by(Author.id)
    )
    return [{"name": a.name, "books": len(a.books), "reviews": sum(len(b.reviews) for b in a.books)} for a in authors]
