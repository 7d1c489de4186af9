"""One failing test per kind of implicit IO, on an AsyncSession (the bugs are in bookshop/services.py)."""

from bookshop import services
from sqlalchemy.orm import selectinload  # noqa: F401


async def test_catalogue_names_every_author(sessions, seed):
    await seed()
    async with sessions() as session:
        assert (await services.catalogue_lines(session))[0] == "Book 1 by Ursula"


async def test_review_counts_per_author(sessions, seed):
    await seed()
    async with sessions() as session:
        assert await services.review_counts(session) == {"Ursula": 4, "Octavia": 4}


async def test_rename_returns_the_new_title(sessions, seed):
    await seed()
    async with sessions() as session:
        book = await services.rename(session, 1, "Book One")
        assert book.title == "Book One"


async def test_reprice_returns_the_update_time(sessions, seed):
    await seed()
    async with sessions() as session:
        changed = await services.reprice(session, 2, 1500)
        assert changed["price"] == 1500 and changed["updated_at"] is not None


async def test_blurb(sessions, seed):
    await seed()
    async with sessions() as session:
        assert await services.blurb(session, 3) == "About book 3"


async def test_legacy_count(engine, seed):
    await seed()
    assert services.legacy_book_count(engine) == 4


async def test_book_reviews_after_fetch(sessions, seed):
    await seed()
    book = await services.fetch_book(sessions, 1)
    assert len(book.reviews) == 2


async def test_plain_assertion_failure(sessions, seed):
    await seed()
    async with sessions() as session:
        assert await services.catalogue_lines_fixed(session) == [], "an ordinary failure: nothing to explain"
