"""A fresh database for a test, SQLite or the PostgreSQL KATAS_DATABASE_URL names, its statements counted."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool


def on_postgresql() -> bool:
    return os.environ.get("KATAS_DATABASE_URL", "").strip().startswith("postgresql")


class Statements(list):
    """Every statement the engine sent, as the cursor got it."""

    def kinds(self) -> list[str]:
        return [statement.split(None, 1)[0].upper() for statement in self]


@asynccontextmanager
async def database(metadata, folder: Path) -> AsyncIterator[tuple[AsyncEngine, Statements]]:
    """An engine on an empty database with ``metadata``'s tables; every statement it sends, recorded.

    SQLite: a new file under ``folder``. PostgreSQL: a new schema, dropped afterwards
    (named ``figures_…``, so the hidden checks' sweep of ``kata_…`` schemas leaves it alone).
    """
    url = os.environ.get("KATAS_DATABASE_URL", "").strip()
    admin, schema = None, None
    if on_postgresql():
        schema = f"figures_{uuid.uuid4().hex[:12]}"
        admin = create_async_engine(url, poolclass=NullPool)
        async with admin.begin() as conn:
            await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_async_engine(url, connect_args={"server_settings": {"search_path": schema}})
    else:
        folder.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(f"sqlite+aiosqlite:///{(folder / f'{uuid.uuid4().hex}.db').as_posix()}")
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        statements = Statements()
        event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        yield engine, statements
    finally:
        await engine.dispose()
        if admin is not None:
            async with admin.begin() as conn:
                await conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            await admin.dispose()


def is_missing_greenlet(error: BaseException | None) -> bool:
    """MissingGreenlet, or an error wrapping one (SQLAlchemy 2.1 with aiosqlite)."""
    while error is not None:
        if type(error).__name__ == "MissingGreenlet":
            return True
        error = getattr(error, "orig", None) or error.__cause__
    return False
