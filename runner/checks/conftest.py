"""Fixtures shared by every kata's hidden checks.

The runner starts pytest with ``KATA_DIR`` naming the learner's copy of the
kata; that folder goes first on ``sys.path`` so ``import app`` is the
learner's code, as it is on disk now.
"""

from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

KATA_DIR = Path(os.environ.get("KATA_DIR", ".")).resolve()
# Unset: SQLite through aiosqlite, nothing to start. A postgresql+asyncpg:// URL: the same checks there.
DATABASE_URL = os.environ.get("KATAS_DATABASE_URL", "")
sys.path.insert(0, str(KATA_DIR))


class StatementLog:
    """Every SQL statement the engine sends, recorded by an engine event.

    Counting at the cursor is the only honest count: it sees lazy loads,
    refreshes and selectin batches alike.
    """

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        self.statements.append(statement)

    def __len__(self) -> int:
        return len(self.statements)

    def clear(self) -> None:
        self.statements.clear()


def sqlite_url(tmp_path: Path) -> str:
    """A fresh, empty database file for one test."""
    return f"sqlite+aiosqlite:///{(tmp_path / 'kata.db').as_posix()}"


@pytest.fixture
def sql() -> StatementLog:
    return StatementLog()


@pytest_asyncio.fixture
async def engine(tmp_path: Path, sql: StatementLog) -> AsyncEngine:
    """An engine on an empty database of this test's own.

    On PostgreSQL: a schema per test, first on the search_path, dropped with
    everything in it (tables, enum types) afterwards. The kata's code may
    commit, close and reopen sessions at will: nothing wraps it in a
    transaction that would hide what it did.
    """
    if not DATABASE_URL:
        engine = create_async_engine(sqlite_url(tmp_path))
        admin, schema = None, None
    else:
        schema = f"kata_{uuid.uuid4().hex[:16]}"
        admin = create_async_engine(DATABASE_URL, poolclass=NullPool)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_async_engine(DATABASE_URL, connect_args={"server_settings": {"search_path": schema}})
    event.listen(engine.sync_engine, "before_cursor_execute", sql)
    try:
        yield engine
    finally:
        await engine.dispose()
        if admin is not None:
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()
