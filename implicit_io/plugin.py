"""pytest plugin: explain every implicit-IO failure in your own test suite.

    pytest -p implicit_io.plugin

Nothing to configure. Your code is what lives under pytest's rootdir (outside
virtual environments and site-packages); your tests are its ``test_*.py``,
``*_test.py``, ``conftest.py`` and ``tests/`` files. For each failing test
whose failure is a ``MissingGreenlet`` (in any of its shapes, FastAPI's
``ResponseValidationError`` included), a ``DetachedInstanceError``, a raise
loader's ``InvalidRequestError`` (``raiseload()``, ``lazy="raise"``: explained
as the lazy load it refused), one session used by concurrent tasks, or another
session's object handed to a session, the failure report gets a section,
"implicit IO explained": what touched the database, where in your code, why,
the fix (always: your own suite wants the answer), and the rule it breaks. At the
end, "implicit IO review" lists, for tests that passed, failures your code
caught and calls that query once per row (the repeated statement, and your
line that sent it); a failing test's own report gets those calls as a section.

It changes no outcome: a failure stays a failure, a pass stays a pass, and
nothing it does can raise into your tests.

For tools: with ``IMPLICIT_IO_JSON`` naming a file, the explanations and the
review are also written there, as plain data, one JSON document per line.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

SECTION = "implicit IO explained"
REVIEW = "implicit IO review"
_state: dict = {}


def pytest_configure(config) -> None:
    try:
        from implicit_io.frames import Scope
        from implicit_io.recorder import Recorder
        from implicit_io.rules import RuleIndex, find_home
    except ImportError:  # no SQLAlchemy here: nothing to explain
        return
    scope = Scope([Path(str(config.rootpath))])
    home = find_home(Path(__file__).resolve().parent.parent)
    _state.update(
        scope=scope,
        recorder=Recorder(scope).install(),
        rules=RuleIndex.discover(home, show_relative_to=Path.cwd()) if home else RuleIndex.empty(),
        reviews=[],
        failed=set(),
        failed_reports={},
    )


def pytest_unconfigure(config) -> None:
    recorder = _state.pop("recorder", None)
    if recorder is not None:
        recorder.uninstall()
    _state.clear()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    recorder = _state.get("recorder")
    if recorder is not None:
        recorder.start()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    recorder = _state.get("recorder")
    if recorder is None:
        return
    try:
        report = outcome.get_result()
        if report.failed:
            _state["failed"].add(item.nodeid)
            _state["failed_reports"].setdefault(item.nodeid, report)
            if call.excinfo is not None:
                failure = _explain(call.excinfo.value)
                if failure is not None:
                    from implicit_io.text import explanation_lines

                    report.sections.append((SECTION, "\n".join(explanation_lines(failure))))
                    _dump({"test": item.nodeid, "when": call.when, "failure": failure})
        if call.when == "teardown":
            from implicit_io.review import check_review

            review = check_review(
                recorder.finish(), _state["scope"], failed=item.nodeid in _state["failed"], rules=_state["rules"]
            )
            repeated = [o for o in review["operations"] if o["grows"]]
            if review["failed"]:  # not in the review of passing tests: a query per row goes in its own report
                if repeated:
                    from implicit_io.text import per_row_lines

                    lines = [line for o in repeated for line in per_row_lines(o)]
                    _state["failed_reports"][item.nodeid].sections.append((REVIEW, "\n".join(lines)))
            elif review["swallowed"] or repeated:
                _state["reviews"].append((item.nodeid, review))
            _dump({"test": item.nodeid, "review": review})
    except Exception:  # the explainer never changes an outcome
        pass


def _explain(exc: BaseException) -> dict | None:
    from implicit_io.explain import explain

    recorder = _state["recorder"]
    failure = explain(exc, _state["scope"], record=recorder.record, rules=_state["rules"], recorder=recorder)
    if failure.get("kind") in ("assertion", "error") and not failure.get("behind") and not failure.get("cause"):
        return None  # nothing we know more about than pytest's own report
    return failure


def _dump(document: dict) -> None:
    path = os.environ.get("IMPLICIT_IO_JSON")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(document, default=str) + "\n")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    reviews = _state.get("reviews") or []
    if not reviews:
        return
    try:
        from implicit_io.text import review_lines

        terminalreporter.write_sep("=", REVIEW)
        for nodeid, review in reviews:
            shown = dict(review, operations=[o for o in review["operations"] if o["grows"]])
            terminalreporter.write_line(nodeid)
            for line in review_lines(shown):
                terminalreporter.write_line(line)
    except Exception:
        pass
