"""One shard of the test suite: `KATAS_TEST_SHARD=0/2 python -m pytest -p tests.shard`.

`nox -s tests` runs one pytest per core, each with this plugin and its own
shard: the suite's time is mostly checks, each a child Python process, and
they run side by side. Tests are dealt round-robin in collection order, so
every shard gets its share of each test file. Without KATAS_TEST_SHARD it
does nothing.
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    spec = os.environ.get("KATAS_TEST_SHARD")
    if not spec:
        return
    index, count = (int(part) for part in spec.split("/"))
    keep = [item for number, item in enumerate(items) if number % count == index]
    dropped = [item for number, item in enumerate(items) if number % count != index]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
    items[:] = keep
