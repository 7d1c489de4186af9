"""What the shop's pages and jobs ask of the database. Each bug is marked BUG."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, selectinload, sessionmaker

from bookshop.models import Author, Book, Review


async def catalogue_lines(session: AsyncSession) -> list[str]:
    books = (await session.scalars(select(Book).order_by(Book.id))).all()  # BUG: the authors are not loaded
    return [line(book) for book in books]


def line(book: Book) -> str:
    return f"{book.title} by {book.author.name}"


async def review_counts(session: AsyncSession) -> dict[str, int]:
    # BUG: one hop: the books come, their reviews do not
    authors = (await session.scalars(select(Author).options(selectinload(Author.books)).order_by(Author.id))).all()
    return {author.name: sum(len(book.reviews) for book in author.books) for author in authors}


async def rename(session: AsyncSession, book_id: int, title: str) -> Book:
    book = await session.get(Book, book_id)
    book.title = title
    await session.commit()  # BUG: expires the book, and the caller reads it
    return book


async def reprice(session: AsyncSession, book_id: int, price: int) -> dict:
    book = await session.get(Book, book_id)
    book.price = price
    await session.flush()  # BUG: the UPDATE sets updated_at in the database; nothing reads it back
    return {"price": book.price, "updated_at": book.updated_at}


async def blurb(session: AsyncSession, book_id: int) -> str:
    book = await session.get(Book, book_id)
    return book.blurb  # BUG: deferred


def legacy_book_count(engine: AsyncEngine) -> int:
    # BUG: a sync Session on the async engine
    with Session(engine.sync_engine) as session:
        return session.scalar(select(func.count(Book.id)))


async def fetch_book(sessions: async_sessionmaker[AsyncSession], book_id: int) -> Book:
    async with sessions() as session:
        return await session.get(Book, book_id)  # BUG: the caller reads it after this session is closed


def sync_summary(sessions: sessionmaker[Session], book_id: int) -> str:
    with sessions() as session:
        book = session.get(Book, book_id)
    return f"{book.title}: {len(book.reviews)} reviews"  # BUG: read after its session closed


def sync_review_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    # Sync code may lazy load: no bug here (one query per book, though).
    with sessions() as session:
        authors = session.scalars(select(Author).order_by(Author.id)).all()
        return {author.name: sum(len(book.reviews) for book in author.books) for author in authors}


async def title_with_author(book: Book) -> str:
    # BUG: the fallback hides the failure: the page says "unknown author" for every book
    try:
        return f"{book.title} by {book.author.name}"
    except Exception:
        return f"{book.title} by an unknown author"


async def review_totals(session: AsyncSession) -> dict[int, int]:
    # Explicit, awaited loads: correct, and one query per book.
    books = (await session.scalars(select(Book).order_by(Book.id))).all()
    return {book.id: len(await book.awaitable_attrs.reviews) for book in books}


async def catalogue_lines_fixed(session: AsyncSession) -> list[str]:
    books = (await session.scalars(select(Book).options(selectinload(Book.author)).order_by(Book.id))).all()
    return [line(book) for book in books]


async def retitle(session: AsyncSession, book_id: int, title: str) -> Book:
    # Correct: the commit expires the book, the refresh reads it back, updated_at included.
    book = await session.get(Book, book_id)
    book.title = title
    await session.commit()
    await session.refresh(book)
    return book


async def review_count(sessions: async_sessionmaker[AsyncSession], book_id: int) -> int:
    async with sessions() as session:  # a session (and a connection) of its own, per call
        return await session.scalar(select(func.count()).where(Review.book_id == book_id))


async def shelf(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    # Correct, and one query per book: each in a session, a connection checkout, of its own.
    async with sessions() as session:
        books = (await session.scalars(select(Book).order_by(Book.id))).all()
    return {book.title: await review_count(sessions, book.id) for book in books}
