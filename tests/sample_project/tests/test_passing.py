"""Tests that pass: one hides a failure, one queries once per row; the plugin says so, and they still pass."""

from bookshop import services
from bookshop.models import Book
from sqlalchemy import select


async def test_title_with_author_falls_back(sessions, seed):
    await seed()
    async with sessions() as session:
        book = (await session.scalars(select(Book).where(Book.id == 1))).one()
        assert (await services.title_with_author(book)).startswith("Book 1 by ")


async def test_review_totals(sessions, seed):
    await seed(2)
    async with sessions() as session:
        small = await services.review_totals(session)
    await seed(6)
    async with sessions() as session:
        large = await services.review_totals(session)
    assert set(small.values()) == set(large.values()) == {2}


async def test_catalogue_fixed(sessions, seed):
    await seed()
    async with sessions() as session:
        assert (await services.catalogue_lines_fixed(session))[0] == "Book 1 by Ursula"
