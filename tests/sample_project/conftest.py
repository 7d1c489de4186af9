"""The bookshop's fixtures: a fresh database per test, seeded in a session of its own.

SQLite by default. With KATAS_DATABASE_URL naming PostgreSQL (asyncpg), the async
tests run there, in a schema of their own; the sync ones stay on SQLite.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

HERE = Path(__file__).resolve().parent


def pytest_ignore_collect(collection_path, config):
    # The katas repository's own suite walks past this folder: these tests fail
    # on purpose, and tests/test_team_plugin.py runs them in a pytest of their own.
    return Path(str(config.rootpath)).resolve() != HERE or None


def seed_rows(books: int) -> list:
    from bookshop.models import Author, Book, Review

    authors = [Author(name="Ursula"), Author(name="Octavia")]
    rows = list(authors)
    for n in range(books):
        book = Book(title=f"Book {n + 1}", author=authors[n % 2], price=1000 + n, blurb=f"About book {n + 1}")
        book.reviews = [Review(stars=5), Review(stars=4)]
        rows.append(book)
    return rows


@pytest_asyncio.fixture
async def engine(tmp_path):
    from bookshop.models import Base

    url = os.environ.get("KATAS_DATABASE_URL", "")
    schema = None
    if url.startswith("postgresql+asyncpg"):
        schema = f"bookshop_{uuid.uuid4().hex[:12]}"
        admin = create_async_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await admin.dispose()
        engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
    else:
        engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()
    if schema:
        admin = create_async_engine(url)
        async with admin.begin() as conn:
            await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        await admin.dispose()


@pytest.fixture
def sessions(engine):
    return async_sessionmaker(engine)  # the defaults: a commit expires everything


@pytest_asyncio.fixture
async def seed(sessions):
    async def seed(books: int = 4) -> None:
        async with sessions() as session:
            session.add_all(seed_rows(books))
            await session.commit()

    return seed


@pytest.fixture
def sync_sessions(tmp_path):
    from bookshop.models import Base

    engine = create_engine(f"sqlite:///{tmp_path / 'sync.db'}")
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine)
    with factory() as session:
        session.add_all(seed_rows(3))
        session.commit()
    yield factory
    engine.dispose()
