"""`check --json`: exercism's results.json, version 3, checked against the interface's shape.

The shape check (runner.results_json.validate) is written from the
interface's text; these tests hold the real command's output to it, for a
pass, a failure, an error of every kind, and show the checks' source never
leaks into it.
"""

from __future__ import annotations

import json

import pytest

from runner import results_json
from tests.conftest import run_cli

# The runner alone, whatever the database and SQLAlchemy: one leg of `nox -s tests` runs these (tests/conftest.py).
pytestmark = pytest.mark.one_leg

SERVICE = "app/service.py"


def check_json(ws, *args):
    proc = run_cli(ws, "check", *args, "--json")
    doc = json.loads(proc.stdout)
    assert results_json.validate(doc) == [], doc
    text = proc.stdout
    assert "test_shelf" not in text and "test_stall" not in text and "def test_" not in text, "no hidden source"
    assert "assert " not in text
    assert all("test_code" not in test for test in doc["tests"]), "the checks' code stays hidden"
    return proc, doc


def test_a_failing_check_is_fail_with_the_explanation(fixture_ws):
    proc, doc = check_json(fixture_ws, "01")
    assert proc.returncode == 1
    assert doc["version"] == 3 and doc["status"] == "fail" and doc["message"] is None
    [test] = doc["tests"]
    assert test["name"] == "The shelf lists its books' titles"
    assert test["status"] == "error"  # an exception in the learner's code, not a wrong value
    assert "MissingGreenlet" in test["message"]
    assert "katas/01-shelf/app/service.py:8 in titles()" in test["message"]
    assert "Reading Shelf.books on Shelf(id=1)" in test["message"]


def test_a_pass_is_pass_and_is_recorded(fixture_ws):
    service = fixture_ws.katas_dir / "01-shelf" / SERVICE
    service.write_text((fixture_ws.solutions_dir / "01-shelf" / SERVICE).read_text())
    proc, doc = check_json(fixture_ws, "01")
    assert proc.returncode == 0
    assert doc == {
        "version": 3,
        "status": "pass",
        "message": None,
        "tests": [{"name": "The shelf lists its books' titles", "status": "pass", "message": None}],
    }
    assert json.loads(fixture_ws.state_file.read_text())["katas"]["01-shelf"]["passed_at"]


def test_a_wrong_value_is_fail_and_what_the_code_printed_is_its_output(fixture_ws):
    service = fixture_ws.katas_dir / "01-shelf" / SERVICE
    service.write_text(
        "async def titles(session, shelf_id):\n    print('looking at shelf', shelf_id)\n"
        "    print('x' * 600)\n    return []\n"
    )
    _, doc = check_json(fixture_ws, "01")
    [test] = doc["tests"]
    assert test["status"] == "fail" and test["message"] == "The shelf should list A and B."
    assert test["output"].startswith("looking at shelf 1\n")
    assert len(test["output"]) <= 500 and test["output"].endswith(results_json.TRUNCATED)


@pytest.mark.parametrize(
    "source, expected",
    [
        ("async def titles(session, shelf_id)\n    return []\n", "katas/01-shelf/app/service.py:1: SyntaxError"),
        ("from app.models import Shelve\n", "ImportError"),
    ],
    ids=["syntax-error", "import-error"],
)
def test_code_that_cannot_run_is_error_with_a_message(fixture_ws, source, expected):
    (fixture_ws.katas_dir / "01-shelf" / SERVICE).write_text(source)
    proc, doc = check_json(fixture_ws, "01")
    assert proc.returncode == 1
    assert doc["status"] == "error" and doc["tests"] == []
    assert expected in doc["message"]


def test_a_hang_is_error_naming_the_check_it_was_in(fixture_ws):
    _, doc = check_json(fixture_ws, "02", "--timeout", "3")
    assert doc["status"] == "error"
    assert "did not finish within 3 s while checking: The answer comes back" in doc["message"]


def test_json_is_for_one_kata(fixture_ws):
    proc = run_cli(fixture_ws, "check", "--all", "--json")
    assert proc.returncode == 2 and "--json checks one kata" in proc.stderr


# --- The shape check itself ----------------------------------------------------------------


GOOD = {
    "version": 3,
    "status": "fail",
    "message": None,
    "tests": [
        {"name": "a", "status": "pass", "message": None},
        {"name": "b", "status": "fail", "message": "why", "output": "printed", "task_id": 1},
    ],
}


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"version": 2}, "version must be the number 3"),
        ({"version": True}, "version must be the number 3"),
        ({"status": "failed"}, "status must be one of"),
        ({"status": "error", "message": None}, "status error needs a message"),
        ({"message": "not an error"}, "message must be null or absent"),
        ({"tests": None}, "tests must be an array"),
        ({"status": "pass"}, "status pass needs tests, every one passing"),
        ({"extra": 1}, "unknown top-level keys"),
        ({"tests": [{"name": "", "status": "pass"}]}, "name must be a non-empty string"),
        ({"tests": [{"name": "a", "status": "ok"}]}, "status must be one of"),
        ({"tests": [{"name": "a", "status": "fail"}]}, "a failing test should say why"),
        ({"tests": [{"name": "a", "status": "fail", "message": "m", "output": "x" * 501}]}, "longer than 500"),
        ({"tests": [{"name": "a", "status": "fail", "message": "m", "task_id": "1"}]}, "task_id must be a number"),
        ({"tests": [{"name": "a", "status": "fail", "message": "m", "source": "x"}]}, "unknown keys"),
        ({"tests": [{"name": "a", "status": "pass"}]}, "status fail needs at least one failing test"),
    ],
)
def test_the_shape_check_catches_each_departure(change, complaint):
    assert results_json.validate(GOOD) == []
    problems = results_json.validate({**GOOD, **change})
    assert any(complaint in p for p in problems), problems


def test_the_interfaces_own_example_passes_the_shape_check():
    example = {
        "version": 3,
        "status": "fail",
        "message": None,
        "tests": [
            {
                "name": "Test that the thing works",
                "status": "fail",
                "message": "Expected 42 but got 123123",
                "output": "Debugging information output by the user",
                "test_code": "assert_equal 42, answerToTheUltimateQuestion()",
                "task_id": 1,
            }
        ],
    }
    assert results_json.validate(example) == []
    assert results_json.validate([]) == ["the document is not a JSON object"]


def test_code_that_exits_at_import_is_an_error_that_says_why(fixture_ws):
    (fixture_ws.katas_dir / "01-shelf" / SERVICE).write_text("import sys\nsys.exit(0)\n")
    proc, doc = check_json(fixture_ws, "01")
    assert proc.returncode == 1 and doc["status"] == "error"
    assert not doc["message"].rstrip().endswith(":"), doc["message"]
    assert "Why:   sys.exit() raises SystemExit" in doc["message"]
    assert "katas/01-shelf/app/service.py:2" in doc["message"]


def test_the_json_message_keeps_the_fix_for_the_hints(fixture_ws):
    _, doc = check_json(fixture_ws, "01")
    [test] = doc["tests"]
    assert "Why:" in test["message"] and "Fix:" not in test["message"]
    _, doc = check_json_env(fixture_ws, {"KATAS_SHOW_FIX": "1"}, "01")
    assert "Fix:" in doc["tests"][0]["message"]


def check_json_env(ws, env, *args):
    proc = run_cli(ws, "check", *args, "--json", env=env)
    doc = json.loads(proc.stdout)
    assert results_json.validate(doc) == [], doc
    return proc, doc


def test_a_keyboard_interrupt_in_your_code_names_its_check_and_why(fixture_ws):
    (fixture_ws.katas_dir / "01-shelf" / SERVICE).write_text(
        "async def titles(session, shelf_id):\n    raise KeyboardInterrupt\n"
    )
    _, doc = check_json(fixture_ws, "01")
    [test] = doc["tests"]
    assert test["name"] == "The shelf lists its books' titles" and test["status"] == "error"
    assert "Why:   KeyboardInterrupt is what Ctrl-C raises" in test["message"]
