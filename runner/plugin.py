"""The pytest plugin the runner loads into the hidden checks' process.

It records each check's outcome and, for a failure, the explanation, as
JSON in the file named by KATAS_REPORT. It rewrites that file as each check
starts, so a check that hangs is still named when the runner stops it.

While the checks run, ``implicit_io``'s recorder watches SQLAlchemy (see
implicit_io/recorder.py): it sees an implicit load that is about to fail
before it fails, which query loaded each object, and every statement. That is
what lets the explanation name the query to fix, and what the review of a
passing run (statements per check, growth with data, failures the learner's
code caught) is made of: ``review`` in the report, per check and for the run.
"""

from __future__ import annotations

import gc
import inspect
import json
import os
from pathlib import Path

import pytest

from implicit_io import review as io_review
from implicit_io.recorder import Recorder
from runner.explain import explain, kata_rules, rules_for, scope_for

REPORT = os.environ.get("KATAS_REPORT")
KATA_DIR = Path(os.environ.get("KATA_DIR", ".")).resolve()
RECORDER = Recorder(scope_for(KATA_DIR)).install()

_report: dict = {"tests": [], "collection_errors": [], "running": None}
_explanations: dict[str, dict] = {}
_reviews: list[tuple[str, dict]] = []
_budgets: set[str] = set()  # checks that count statements: query budgets
_where: dict[str, Path | None] = {"home": None, "checks": None}
_running: dict[str, str | None] = {"id": None}  # the check that runs now: a KeyboardInterrupt names it


def _save() -> None:
    if REPORT:
        Path(REPORT).write_text(json.dumps(_report), encoding="utf-8")


def _explain(exc: BaseException) -> dict:
    return explain(
        exc, KATA_DIR, record=RECORDER.record, recorder=RECORDER, home=_where["home"], checks_dir=_where["checks"]
    )


def scenario(item: pytest.Item) -> str:
    """The line a learner sees: the check's docstring, filled with its parameters."""
    doc = (getattr(item, "function", None).__doc__ or "").strip()
    line = doc.splitlines()[0] if doc else item.name
    params = getattr(getattr(item, "callspec", None), "params", {})
    try:
        return line.format(**params)
    except (KeyError, IndexError, ValueError):
        return line


def pytest_configure(config) -> None:
    # The hidden checks' rootdir is runner/checks: the checkout is two levels up,
    # the running kata's checks are the folder pytest was given.
    root = Path(str(config.rootpath)).resolve()
    _where["home"] = root.parent.parent if root.name == "checks" else None
    folders = [Path(a) for a in config.args if Path(a).is_dir()]
    _where["checks"] = folders[0].resolve() if folders else None
    gc.freeze()


def _brief_failure(excinfo) -> str:
    return excinfo.exconly()


def pytest_collection_modifyitems(session, config, items) -> None:
    # With --tb=no nobody reads pytest's formatted traceback (the report carries
    # the explanation): skip building it, a few milliseconds per failing check.
    if config.getoption("tbstyle", "auto") == "no":
        for item in items:
            item.repr_failure = _brief_failure


def pytest_collection_finish(session) -> None:
    # Everything imported so far (SQLAlchemy, pytest, the learner's models) lives
    # until the process ends: frozen, the garbage collector stops walking it on
    # every collection, and pytest's own gc.collect() at the end costs little.
    gc.freeze()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    RECORDER.start()
    _report["running"] = scenario(item)
    _running["id"] = item.nodeid
    _save()


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(early_config, parser, args):
    # A kata's conftest imports the learner's models: when that import fails,
    # pytest stops before any check runs. Explain it like any other failure,
    # sys.exit() and KeyboardInterrupt at import included (they are no Exception).
    try:
        return (yield)
    except BaseException as exc:
        _report["collection_errors"].append(explain(exc, KATA_DIR))
        _save()
        raise


def pytest_internalerror(excrepr, excinfo) -> None:
    # sys.exit() while pytest imports a checks module (the learner's code at import) is no collection
    # error to pytest but an internal one: explain it like an import that failed.
    try:
        failure = _explain(excinfo.value)
    except Exception:
        return
    if failure.get("cause") in ("exit", "interrupted"):
        _report["collection_errors"].append(failure)
        _save()


def pytest_keyboard_interrupt(excinfo) -> None:
    # KeyboardInterrupt raised by the learner's code stops pytest itself: the check
    # that ran it gets no report of its own. Name it, with its explanation.
    running = _report.get("running")
    try:
        failure = _explain(excinfo.value)
    except Exception as exc:  # the explainer never turns a failure into a crash
        failure = {"kind": "error", "exception": f"{type(exc).__name__}: {exc}"}
    if failure.get("cause") != "interrupted":
        return  # a real Ctrl-C, or a stop the runner asked for: nothing of the learner's to explain
    if running:
        entry = {"id": _running["id"] or running, "name": running, "outcome": "failed", "failure": failure}
        _report["tests"].append(entry)
    else:
        _report["collection_errors"].append(failure)
    _save()


def pytest_exception_interact(node, call, report) -> None:
    # Called after the report is logged: only collection errors are left to catch here.
    if call.excinfo is not None and not isinstance(node, pytest.Item):
        _report["collection_errors"].append(_explain(call.excinfo.value))
        _save()


def _counts_statements(item: pytest.Item) -> bool:
    """A query budget: a check that asks for the ``sql`` fixture itself (every check's engine uses it)."""
    try:
        return "sql" in inspect.signature(item.function).parameters
    except (AttributeError, TypeError, ValueError):
        return False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call) -> None:
    # Set at the first phase that reports: a check that fails in setup is named too.
    if not any(key == "scenario" for key, _ in item.user_properties):
        item.user_properties.append(("scenario", scenario(item)))
        if _counts_statements(item):
            _budgets.add(item.nodeid)
    if call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
        if item.nodeid not in _explanations:
            try:
                _explanations[item.nodeid] = _explain(call.excinfo.value)
            except Exception as exc:  # the explainer never turns a failure into a crash
                _explanations[item.nodeid] = {"kind": "error", "exception": f"{type(exc).__name__}: {exc}"}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":
        try:
            failed = report.failed or any(
                t["id"] == report.nodeid and t["outcome"] == "failed" for t in _report["tests"]
            )
            record = RECORDER.finish()
            rules = rules_for(_where["home"]) if record.incidents else None  # only to explain a caught failure
            review = io_review.check_review(record, RECORDER.scope, failed, rules, kata_rules(_where["checks"]))
            _reviews.append((report.nodeid, review))
            # Each check's own review too: a run split over processes combines them (io_review.combine).
            for entry in _report["tests"]:
                if entry["id"] == report.nodeid:
                    entry["review"] = review
                    # A query budget that failed on a query per row: the statement, and the line that sent it.
                    failure, repeated = entry.get("failure"), io_review.per_row(review)
                    if repeated and failure and failure.get("kind") == "assertion" and report.nodeid in _budgets:
                        failure["per_row"] = repeated
        except Exception:
            pass
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
    try:
        names = {t["id"]: t["name"] for t in _report["tests"]}
        _report["review"] = io_review.combine([(names.get(nodeid, nodeid), r) for nodeid, r in _reviews])
    except Exception:
        pass
    _save()
