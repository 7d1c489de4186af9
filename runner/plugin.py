"""The pytest plugin the runner loads into the hidden checks' process.

It records each check's outcome and, for a failure, the explanation, as
JSON in the file named by KATAS_REPORT. It rewrites that file as each check
starts, so a check that hangs is still named when the runner stops it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from runner.explain import explain

REPORT = os.environ.get("KATAS_REPORT")
KATA_DIR = Path(os.environ.get("KATA_DIR", ".")).resolve()

_report: dict = {"tests": [], "collection_errors": [], "running": None}
_explanations: dict[str, dict] = {}


def _save() -> None:
    if REPORT:
        Path(REPORT).write_text(json.dumps(_report), encoding="utf-8")


def scenario(item: pytest.Item) -> str:
    """The line a learner sees: the check's docstring, filled with its parameters."""
    doc = (getattr(item, "function", None).__doc__ or "").strip()
    line = doc.splitlines()[0] if doc else item.name
    params = getattr(getattr(item, "callspec", None), "params", {})
    try:
        return line.format(**params)
    except (KeyError, IndexError, ValueError):
        return line


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _report["running"] = scenario(item)
    _save()


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # A kata's conftest imports the learner's models: when that import fails,
    # pytest stops before any check runs. Explain it like any other failure.
    try:
        return (yield)
    except Exception as exc:
        _report["collection_errors"].append(explain(exc, KATA_DIR))
        _save()
        raise


def pytest_exception_interact(node, call, report) -> None:
    # Called after the report is logged: only collection errors are left to catch here.
    if call.excinfo is not None and not isinstance(node, pytest.Item):
        _report["collection_errors"].append(explain(call.excinfo.value, KATA_DIR))
        _save()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call) -> None:
    if call.when == "call":
        item.user_properties.append(("scenario", scenario(item)))
    if call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
        _explanations.setdefault(item.nodeid, explain(call.excinfo.value, KATA_DIR))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    failed_setup = report.when == "setup" and report.failed
    if report.when != "call" and not failed_setup and not (report.when == "teardown" and report.failed):
        return
    name = dict(report.user_properties).get("scenario", report.nodeid)
    entry = next((t for t in _report["tests"] if t["id"] == report.nodeid), None)
    if entry is None:
        entry = {"id": report.nodeid, "name": name, "outcome": "passed"}
        _report["tests"].append(entry)
    if report.failed:
        entry["outcome"] = "failed"
        entry["failure"] = _explanations.get(report.nodeid) or {"kind": "error", "exception": "the check failed"}
    elif report.skipped:
        entry["outcome"] = "skipped"
    _save()


def pytest_collectreport(report) -> None:
    if report.failed and not _report["collection_errors"]:
        _report["collection_errors"].append({"kind": "error", "exception": str(report.longrepr).splitlines()[-1]})
        _save()


def pytest_sessionfinish(session, exitstatus) -> None:
    _report["running"] = None
    _report["finished"] = True
    _save()
