"""One share of a check's scenarios, for a check split over processes.

A check of a kata is a pytest run of its hidden checks. On a machine with
two cores, two pytest processes that each run every other scenario give the
verdict sooner than one that runs them all (``runner/execute.py``, and watch
mode's warm workers in ``runner/worker.py``). Each process collects all the
scenarios, keeps its share, and the first one writes the collected order, so
the parent can merge the reports as if one process had run them
(``runner.watcher.merge_reports``).

As a plugin, ``-p runner.share`` reads its share from the environment:
``KATAS_SHARE=index/count`` and ``KATAS_SHARE_ORDER=file``; without them it
does nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

# The parent imports this module for these names: pytest is imported only where a share runs.
SHARE_VARIABLE = "KATAS_SHARE"
ORDER_VARIABLE = "KATAS_SHARE_ORDER"


def shard_items(count: int, index: int, shards: int) -> list[int]:
    """The positions of the collected checks that share ``index`` of ``shards`` runs: every shards-th one."""
    return list(range(index, count, shards))


def share_plugin(index: int, shards: int, order_file: str | None):
    """A plugin object that keeps share ``index`` of ``shards``; share 0 writes the collected order."""
    import pytest

    class Share:
        @pytest.hookimpl(trylast=True)  # after every other plugin: the final order
        def pytest_collection_modifyitems(self, session, config, items) -> None:
            if order_file and index == 0:
                Path(order_file).write_text(json.dumps([item.nodeid for item in items]), encoding="utf-8")
            if shards > 1:
                keep = set(shard_items(len(items), index, shards))
                dropped = [item for position, item in enumerate(items) if position not in keep]
                items[:] = [item for position, item in enumerate(items) if position in keep]
                if dropped:
                    config.hook.pytest_deselected(items=dropped)

    return Share()


def pytest_configure(config) -> None:
    spec = os.environ.get(SHARE_VARIABLE)
    if spec:
        index, shards = (int(part) for part in spec.split("/"))
        config.pluginmanager.register(share_plugin(index, shards, os.environ.get(ORDER_VARIABLE)), "katas-share")
