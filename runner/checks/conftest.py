"""Fixtures shared by every kata's hidden checks.

The runner starts pytest with ``KATA_DIR`` naming the learner's copy of the
kata; that folder goes first on ``sys.path`` so ``import app`` is the
learner's code, as it is on disk now.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

KATA_DIR = Path(os.environ.get("KATA_DIR", ".")).resolve()
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


def database_url(tmp_path: Path) -> str:
    """A fresh, empty database for one test."""
    return f"sqlite+aiosqlite:///{(tmp_path / 'kata.db').as_posix()}"


@pytest.fixture
def sql() -> StatementLog:
    return StatementLog()


@pytest_asyncio.fixture
async def engine(tmp_path: Path, sql: StatementLog) -> AsyncEngine:
    engine = create_async_engine(database_url(tmp_path))
    event.listen(engine.sync_engine, "before_cursor_execute", sql)
    try:
        yield engine
    finally:
        await engine.dispose()
