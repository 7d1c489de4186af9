"""Drop the PostgreSQL schemas of checks that were killed: ``python -m runner.sweep CHECKS_DIR``.

A check stopped at its time limit, or killed with the runner, never tears
its schema down. The hidden checks' conftest (CHECKS_DIR/conftest.py) knows
which schemas belong to nobody (their advisory lock is free) and drops them
when a run starts; this runs that same sweep right after a kill, so nothing
waits for the next check. The killed process's connections close with it,
but the server may take a moment to notice: a schema still locked is looked
at again a few times.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import sys
import time
from pathlib import Path

PAUSES = (0.1, 0.3, 0.6)  # seconds before each look after the first


def _conftest(checks_dir: Path):
    spec = importlib.util.spec_from_file_location("katas_checks_conftest", checks_dir / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def _leftovers(conftest, url) -> int:
    """How many of the checks' schemas are left (live runs' included)."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT count(*) FROM pg_namespace WHERE nspname ~ :p"), {"p": conftest.SCHEMA_PATTERN}
            )
            return int(found.scalar_one())
    finally:
        await engine.dispose()


def main(argv: list[str]) -> int:
    conftest = _conftest(Path(argv[0]))
    url = conftest.postgres_url(os.environ.get(conftest.SETTING, ""))
    if url is None:
        return 0
    for pause in (0.0, *PAUSES):
        time.sleep(pause)
        asyncio.run(conftest._open_postgres(url))  # connects, and sweeps what nobody holds
        if asyncio.run(_leftovers(conftest, url)) == 0:
            break  # else a live run's, or one whose server has not yet noticed its end: look again
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
