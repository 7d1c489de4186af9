"""A pytest plugin for ``check --json``: what the learner's code printed during each check.

pytest captures a test's stdout and stderr already; this plugin writes them,
per scenario line, as JSON to the file named by KATAS_OUTPUT, for the
``output`` field of results.json. It is loaded with ``-p runner.capture``
(through PYTEST_ADDOPTS) beside runner.plugin, whose scenario names it reuses.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

OUTPUT_FILE = os.environ.get("KATAS_OUTPUT")

_outputs: dict[str, str] = {}
_names: dict[str, str] = {}


def pytest_runtest_logreport(report) -> None:
    scenario = dict(report.user_properties).get("scenario")
    if scenario:
        _names[report.nodeid] = scenario
    if report.when != "teardown":
        return
    # The teardown report carries the sections of all three phases.
    text = "".join(content for title, content in report.sections if title.startswith("Captured std"))
    if text.strip():
        name = _names.get(report.nodeid, report.nodeid)
        _outputs[name] = _outputs.get(name, "") + text
    if OUTPUT_FILE:
        Path(OUTPUT_FILE).write_text(json.dumps(_outputs), encoding="utf-8")
