"""A check's result in the shape of exercism's test-runner ``results.json``, version 3.

The interface (exercism's docs: building/tooling/test-runners/interface.md):

* top level: ``version`` (3), ``status`` (``pass``: every test passed;
  ``fail``: at least one failed; ``error``: the tests could not run, e.g. a
  syntax error), ``message`` (required when ``status`` is ``error``, else
  null), ``tests`` (in the order the tests file lists them);
* per test: ``name``, ``status`` (pass, fail, error), ``message`` (why it
  failed, in plain words), ``output`` (what the learner's code printed,
  at most 500 characters), and the optional ``test_code`` and ``task_id``.

``test_code`` is never filled in: the checks are hidden, and their source
is not the learner's to read. A failure's ``message`` is the runner's own
explanation (where, what, why) instead. ``validate`` is the shape check the
tests hold the output to.
"""

from __future__ import annotations

from runner import results
from runner.catalogue import Kata
from runner.render import Style, explain_failure

VERSION = 3
OUTPUT_LIMIT = 500
TRUNCATED = "Output was truncated. Please limit to 500 chars"
STATUSES = ("pass", "fail", "error")
TOP_KEYS = {"version", "status", "message", "tests"}
TEST_KEYS = {"name", "test_code", "status", "message", "output", "task_id"}
PLAIN = Style(color=False, unicode=True)


def limit_output(text: str) -> str | None:
    """The learner's output, cut to the 500 characters the interface allows."""
    text = text.rstrip()
    if not text:
        return None
    if len(text) <= OUTPUT_LIMIT:
        return text
    keep = OUTPUT_LIMIT - len(TRUNCATED) - 1
    return text[:keep] + "\n" + TRUNCATED


def failure_message(failure: dict, kata_dir: str) -> str:
    return "\n".join(line.rstrip() for line in explain_failure(failure, kata_dir, PLAIN)).strip()


def _problem_lines(result: results.CheckResult, kata_dir: str) -> list[str]:
    lines = []
    for problem in result.problems:
        if problem.get("kind") == "syntax":
            loc = problem.get("location") or {}
            lines.append(f"{kata_dir}/{loc.get('file')}:{loc.get('line')}: {problem['exception']}")
            if loc.get("source"):
                lines.append(f"    {loc['source']}")
        else:
            lines.append(failure_message(problem, kata_dir))
    return lines


def error_message(result: results.CheckResult, kata: Kata, kata_dir: str) -> str:
    """Why no check could run, for the top-level message of an ``error``."""
    if result.status == results.SYNTAX:
        return "\n".join(["Your code does not parse yet:", *_problem_lines(result, kata_dir)])
    if result.status == results.TIMEOUT:
        running = f" while checking: {result.running}" if result.running else ""
        return (
            f"The check did not finish within {result.detail} s{running}. Something in your code waits "
            "forever: a session or connection left open and waited on, an await on something that never "
            "completes, or a loop that never ends."
        )
    if result.status == results.BROKEN:
        return f"The check could not run. Its last output:\n{result.detail or '(nothing)'}"
    lines = [line for line in _problem_lines(result, kata_dir) if line.strip()]
    if not lines:  # never a sentence that ends in a colon and nothing
        return "The checks could not load your code, and it left no error to show: python -m runner check --verbose"
    return "\n".join(["The checks could not load your code:", *lines])


def to_results(result: results.CheckResult, kata: Kata, kata_dir: str, outputs: dict[str, str] | None = None) -> dict:
    """The results.json document for one check of one kata.

    ``outputs`` maps a scenario line to what the learner's code printed
    during it (runner/capture.py records it).
    """
    outputs = outputs or {}
    if result.status in (results.SYNTAX, results.TIMEOUT, results.BROKEN) or not result.scenarios:
        return {"version": VERSION, "status": "error", "message": error_message(result, kata, kata_dir), "tests": []}
    tests = []
    for scenario in result.scenarios:
        test: dict = {"name": scenario.name, "status": "pass", "message": None}
        if not scenario.passed:
            failure = scenario.failure or {"kind": "error", "exception": "the check failed"}
            test["status"] = "fail" if failure.get("kind") == "assertion" else "error"
            test["message"] = failure_message(failure, kata_dir)
        output = limit_output(outputs.get(scenario.name, ""))
        if output:
            test["output"] = output
        tests.append(test)
    for problem in result.problems:  # a checks file that could not load, beside others that ran
        tests.append(
            {"name": "The checks load your code", "status": "error", "message": failure_message(problem, kata_dir)}
        )
    status = "pass" if result.passed else "fail"
    return {"version": VERSION, "status": status, "message": None, "tests": tests}


def validate(doc: object) -> list[str]:
    """Every way ``doc`` departs from the results.json v3 interface; empty when it conforms."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        return ["the document is not a JSON object"]
    extra = set(doc) - TOP_KEYS
    if extra:
        problems.append(f"unknown top-level keys: {sorted(extra)}")
    if doc.get("version") != VERSION or isinstance(doc.get("version"), bool):
        problems.append(f"version must be the number {VERSION}, not {doc.get('version')!r}")
    status = doc.get("status")
    if status not in STATUSES:
        problems.append(f"status must be one of {STATUSES}, not {status!r}")
    message = doc.get("message")
    if status == "error":
        if not isinstance(message, str) or not message.strip():
            problems.append("status error needs a message saying what went wrong")
    elif message is not None:
        problems.append("message must be null or absent unless status is error")
    tests = doc.get("tests")
    if not isinstance(tests, list):
        problems.append("tests must be an array")
        return problems
    for index, test in enumerate(tests):
        where = f"tests[{index}]"
        if not isinstance(test, dict):
            problems.append(f"{where} is not an object")
            continue
        extra = set(test) - TEST_KEYS
        if extra:
            problems.append(f"{where}: unknown keys {sorted(extra)}")
        if not isinstance(test.get("name"), str) or not test["name"].strip():
            problems.append(f"{where}: name must be a non-empty string")
        if test.get("status") not in STATUSES:
            problems.append(f"{where}: status must be one of {STATUSES}, not {test.get('status')!r}")
        for key in ("message", "output", "test_code"):
            if key in test and test[key] is not None and not isinstance(test[key], str):
                problems.append(f"{where}: {key} must be a string or null")
        if isinstance(test.get("output"), str) and len(test["output"]) > OUTPUT_LIMIT:
            problems.append(f"{where}: output is longer than {OUTPUT_LIMIT} characters")
        if "task_id" in test and (not isinstance(test["task_id"], int) or isinstance(test["task_id"], bool)):
            problems.append(f"{where}: task_id must be a number")
        if test.get("status") in ("fail", "error") and not test.get("message"):
            problems.append(f"{where}: a failing test should say why in its message")
    statuses = [t.get("status") for t in tests if isinstance(t, dict)]
    if status == "pass" and (not statuses or any(s != "pass" for s in statuses)):
        problems.append("status pass needs tests, every one passing")
    if status == "fail" and not any(s in ("fail", "error") for s in statuses):
        problems.append("status fail needs at least one failing test")
    return problems
