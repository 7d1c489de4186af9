"""The shop's HTTP API."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bookshop.models import Book

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
