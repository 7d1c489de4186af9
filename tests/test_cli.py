"""The runner's commands, run as a learner runs them, on fixture katas."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.conftest import run_cli

# The command line (and watch mode) over fixture katas: the runner alone, one leg runs these
# (tests/conftest.py). What differs by database (its label, schemas left) is in test_faults and test_database.
pytestmark = pytest.mark.one_leg


def test_unknown_kata_is_a_usage_error(fixture_ws):
    proc = run_cli(fixture_ws, "check", "42")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "error: unknown kata '42': choose one of 01, 02 (python -m runner list)"
    ]


def test_missing_argument_is_a_usage_error(fixture_ws):
    proc = run_cli(fixture_ws, "hint")
    assert proc.returncode == 2
    assert "kata" in proc.stderr


def test_failing_check_explains_the_missing_greenlet(fixture_ws):
    proc = run_cli(fixture_ws, "check", "01")
    assert proc.returncode == 1, proc.stdout
    out = proc.stdout
    assert "Kata 01: The shelf that would not list its books" in out
    assert "✗ The shelf lists its books' titles" in out
    assert "MissingGreenlet: greenlet_spawn has not been called" in out
    # the learner's own line, not SQLAlchemy's internals
    assert "katas/01-shelf/app/service.py:8 in titles()" in out
    assert "return sorted(book.title for book in shelf.books)" in out
    assert "Reading Shelf.books on Shelf(id=1)" in out
    assert "docs/rules/eager-load-what-you-read.md" in out
    assert "nox -s kata-01 -- hint" in out
    assert "sqlalchemy/" not in out and "test_shelf" not in out  # no internals, no hidden source
    assert "\x1b[" not in out  # not a terminal: no colour


def test_passing_check_records_progress_and_points_on(fixture_ws):
    service = fixture_ws.katas_dir / "01-shelf" / "app" / "service.py"
    service.write_text((fixture_ws.solutions_dir / "01-shelf" / "app" / "service.py").read_text())
    proc = run_cli(fixture_ws, "check", "kata-01")
    assert proc.returncode == 0, proc.stdout
    assert "✓ The shelf lists its books' titles" in proc.stdout
    assert "Kata 01 is done" in proc.stdout
    assert "statements per check" in proc.stdout  # the reviewer's notes on a passing fix
    assert "python -m runner solution 01" in proc.stdout
    assert "Next: kata 02, The request that never came back: nox -s kata-02" in proc.stdout
    state = json.loads(fixture_ws.state_file.read_text())
    assert state["katas"]["01-shelf"]["passed_at"]
    listing = run_cli(fixture_ws, "list").stdout
    assert "1 of 2 katas done." in listing and "Next: nox -s kata-02" in listing


def test_wrong_values_show_the_checks_message_not_its_source(fixture_ws):
    service = fixture_ws.katas_dir / "01-shelf" / "app" / "service.py"
    service.write_text("async def titles(session, shelf_id):\n    return []\n")
    proc = run_cli(fixture_ws, "check", "01")
    assert proc.returncode == 1
    assert "The shelf should list A and B." in proc.stdout
    assert "assert " not in proc.stdout


def test_syntax_error_names_file_and_line(fixture_ws):
    service = fixture_ws.katas_dir / "01-shelf" / "app" / "service.py"
    service.write_text("async def titles(session, shelf_id)\n    return []\n")
    proc = run_cli(fixture_ws, "check", "01")
    assert proc.returncode == 1
    assert "katas/01-shelf/app/service.py:1: SyntaxError" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_import_error_in_learner_code_is_named(fixture_ws):
    service = fixture_ws.katas_dir / "01-shelf" / "app" / "service.py"
    service.write_text("from app.models import Shelve\n")
    proc = run_cli(fixture_ws, "check", "01")
    assert proc.returncode == 1
    assert "ImportError" in proc.stdout and "Shelve" in proc.stdout
    assert "katas/01-shelf/app/service.py:1" in proc.stdout


@pytest.mark.parametrize("processes", ["1", "2"])
def test_hanging_check_stops_at_the_time_limit(fixture_ws, processes):
    proc = run_cli(fixture_ws, "check", "02", "--timeout", "3", env={"KATAS_CHECK_PROCESSES": processes})
    assert proc.returncode == 1
    assert "did not finish within 3 s while checking: The answer comes back" in proc.stdout


def test_a_check_with_fewer_scenarios_than_processes(fixture_ws):
    # Kata 01 of the fixtures has one scenario: the second process has nothing to run.
    one = run_cli(fixture_ws, "check", "01", env={"KATAS_CHECK_PROCESSES": "1"})
    two = run_cli(fixture_ws, "check", "01", env={"KATAS_CHECK_PROCESSES": "2"})
    assert one.returncode == two.returncode == 1
    assert one.stdout == two.stdout


def test_hints_are_tiered(fixture_ws):
    first = run_cli(fixture_ws, "hint", "01").stdout
    assert "Hint 1 of 3" in first and "a nudge" in first and "the concept" not in first
    second = run_cli(fixture_ws, "hint", "01").stdout
    assert "Hint 2 of 3" in second and "the concept" in second and "a nudge" not in second
    everything = run_cli(fixture_ws, "hint", "01", "--all").stdout
    assert all(f"Hint {n} of 3" in everything for n in (1, 2, 3))
    assert "That is the last hint" in everything


def test_solution_waits_for_a_pass_then_diffs_against_the_learners_code(fixture_ws):
    early = run_cli(fixture_ws, "solution", "01")
    assert early.returncode == 1 and "does not pass yet" in early.stdout
    service = fixture_ws.katas_dir / "01-shelf" / "app" / "service.py"
    service.write_text((fixture_ws.solutions_dir / "01-shelf" / "app" / "service.py").read_text())
    assert run_cli(fixture_ws, "check", "01").returncode == 0
    # the learner's fix differs from the reference in one line
    service.write_text(service.read_text().replace("selectinload(Shelf.books)", "selectinload(Shelf.books) "))
    shown = run_cli(fixture_ws, "solution", "01")
    assert shown.returncode == 0
    assert "Load the books with the shelf." in shown.stdout
    assert "--- yours/app/service.py" in shown.stdout and "+++ solution/app/service.py" in shown.stdout


def _git(ws, *args):
    subprocess.run(["git", *args], cwd=ws.root, check=True, capture_output=True)


def test_reset_restores_the_start_and_keeps_a_backup(fixture_ws):
    _git(fixture_ws, "init", "-q")
    _git(fixture_ws, "-c", "user.name=t", "-c", "user.email=t@t", "add", "-A")
    _git(fixture_ws, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "start")
    service = fixture_ws.katas_dir / "01-shelf" / "app" / "service.py"
    start = service.read_text()
    service.write_text("# my work in progress\n")

    refused = run_cli(fixture_ws, "reset", "01", stdin="")
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert service.read_text() == "# my work in progress\n"

    proc = run_cli(fixture_ws, "reset", "01", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert service.read_text() == start
    backups = list(fixture_ws.backups_dir.iterdir())
    assert len(backups) == 1
    assert (backups[0] / "app" / "service.py").read_text() == "# my work in progress\n"
    assert backups[0].name in proc.stdout


def test_reset_outside_git_says_so_and_changes_nothing(fixture_ws, tmp_path):
    service = fixture_ws.katas_dir / "01-shelf" / "app" / "service.py"
    service.write_text("# mine\n")
    proc = run_cli(fixture_ws, "reset", "01", "--yes", env={"GIT_CEILING_DIRECTORIES": str(tmp_path)})
    assert proc.returncode == 2
    assert "git" in proc.stderr
    assert service.read_text() == "# mine\n"


def test_damaged_progress_file_is_set_aside_not_a_crash(fixture_ws):
    fixture_ws.state_dir.mkdir()
    fixture_ws.state_file.write_text("{not json")
    proc = run_cli(fixture_ws, "progress")
    assert proc.returncode == 0
    assert "damaged" in proc.stderr
    assert "0 of 2 katas done." in proc.stdout


def test_no_color_is_respected(fixture_ws):
    from runner.render import Style

    class Tty:
        encoding = "utf-8"

        def isatty(self):
            return True

    import os

    old = os.environ.pop("NO_COLOR", None)
    try:
        assert Style.for_stream(Tty()).color is True
        os.environ["NO_COLOR"] = "1"
        assert Style.for_stream(Tty()).color is False
    finally:
        os.environ.pop("NO_COLOR", None)
        if old is not None:
            os.environ["NO_COLOR"] = old


def test_check_all_prints_the_progress_table(fixture_ws):
    proc = run_cli(fixture_ws, "check", "--all", "--timeout", "3")
    assert proc.returncode == 1
    assert "✗ 01 The shelf that would not list its books" in proc.stdout
    assert "kata  status" in proc.stdout


def test_import_error_in_a_kata_conftest_is_explained(fixture_ws):
    models = fixture_ws.katas_dir / "01-shelf" / "app" / "models.py"
    models.write_text(models.read_text().replace("class Base(", "class Basis("))
    proc = run_cli(fixture_ws, "check", "01")
    assert proc.returncode == 1, proc.stdout
    assert "NameError: name 'Base' is not defined" in proc.stdout
    assert "katas/01-shelf/app/models.py:9" in proc.stdout
    assert "conftest" not in proc.stdout


def test_a_check_failing_in_setup_is_named_by_its_scenario(fixture_ws):
    conftest = fixture_ws.checks_dir / "01-shelf" / "conftest.py"
    conftest.write_text(
        conftest.read_text()
        + "\n\nimport pytest\n\n\n@pytest.fixture(autouse=True)\ndef broken():\n    raise RuntimeError('no')\n"
    )
    proc = run_cli(fixture_ws, "check", "01")
    assert proc.returncode == 1
    assert "✗ The shelf lists its books' titles" in proc.stdout
    assert "test_shelf.py::" not in proc.stdout


@pytest.mark.parametrize("cache", ["__pycache__", "PYTHONPYCACHEPREFIX"])
def test_a_quick_second_save_is_judged_as_it_is_on_disk(fixture_ws, tmp_path, cache):
    """Same size, same mtime: a cached .pyc of the first save must not be reused, beside the code or
    in the mirror tree a learner's PYTHONPYCACHEPREFIX names."""
    import os

    WRITE_PYC = {"PYTHONDONTWRITEBYTECODE": ""}  # some machines turn .pyc writing off, hiding the bug
    if cache == "PYTHONPYCACHEPREFIX":
        WRITE_PYC["PYTHONPYCACHEPREFIX"] = str(tmp_path / "pycache")
    service = fixture_ws.katas_dir / "01-shelf" / "app" / "service.py"
    fixed = (fixture_ws.solutions_dir / "01-shelf" / "app" / "service.py").read_text()
    service.write_text(fixed)
    stamp = service.stat().st_mtime_ns
    assert run_cli(fixture_ws, "check", "01", env=WRITE_PYC).returncode == 0
    if cache == "PYTHONPYCACHEPREFIX":  # the first check compiled the learner's code there
        assert list((tmp_path / "pycache").rglob("service.*.pyc"))
    broken = fixed.replace("selectinload(Shelf.books)", "selectinload(Shelf.bookz)")
    assert len(broken) == len(fixed)
    service.write_text(broken)
    os.utime(service, ns=(stamp, stamp))
    assert run_cli(fixture_ws, "check", "01", env=WRITE_PYC).returncode == 1


def test_overwriting_asks_first_and_never_guesses_without_a_terminal(monkeypatch, capsys):
    import io

    from runner.commands._common import UsageError, confirmed

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    assert confirmed(True, "reset", "Reset?") is True  # --yes: no question
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # piped: not a terminal
    with pytest.raises(UsageError, match="reset overwrites your code; run it with --yes"):
        confirmed(False, "reset", "Reset?")
    for answer, expected in (("y", True), ("YES", True), ("", False), ("n", False)):
        monkeypatch.setattr("sys.stdin", Terminal())
        monkeypatch.setattr("builtins.input", lambda prompt, answer=answer: answer)
        assert confirmed(False, "catch-up", "Apply?") is expected, answer
    assert "Nothing changed." in capsys.readouterr().out


def test_the_fix_is_the_last_hint_and_the_hints_follow_the_failure(fixture_ws):
    """A failing check shows What, Where, Why and the Rule; the literal fix waits at the end of the hints."""
    out = run_cli(fixture_ws, "check", "01").stdout
    assert "Why:" in out and "Rule:" in out and "Fix:" not in out
    assert "selectinload(Shelf.books)" not in out
    assert "hint (the last one is the fix itself)" in out
    last = json.loads((fixture_ws.state_dir / "last" / "01-shelf.json").read_text())
    assert last["failing"] == ["The shelf lists its books' titles"]
    assert "failures" not in fixture_ws.state_file.read_text()  # not in the progress file
    hints = run_cli(fixture_ws, "hint", "01", "--all").stdout
    assert "Hint 1 of 4" in hints and "first hint: a nudge" in hints
    assert "Hint 4 of 4" in hints and "The fix for the failure your last check showed" in hints
    assert ".options(selectinload(Shelf.books))" in hints and "katas/01-shelf/app/service.py:7" in hints
    # The crash fixed, a wrong value left: the hints leave the crash behind.
    service = fixture_ws.katas_dir / "01-shelf" / "app" / "service.py"
    service.write_text("async def titles(session, shelf_id):\n    return []\n")
    run_cli(fixture_ws, "check", "01")
    hint = run_cli(fixture_ws, "hint", "01").stdout
    assert "The crash is behind you" in hint and "The shelf should list A and B." in hint, hint
    assert "nudge" not in hint and "Hint 1 of" in hint


def test_a_facilitator_shows_the_fix_to_the_room(fixture_ws):
    out = run_cli(fixture_ws, "check", "01", env={"KATAS_SHOW_FIX": "1"}).stdout
    assert "Fix:" in out and ".options(selectinload(Shelf.books))" in out
    assert "the last one is the fix itself" not in out


@pytest.mark.parametrize(
    "file, source, words",
    [
        (
            "app/service.py",
            "async def titles(session, shelf_id):\n    raise KeyboardInterrupt\n",
            "KeyboardInterrupt is what Ctrl-C raises",
        ),
        ("app/service.py", "import sys\nsys.exit(0)\n", "it stopped the process that loads your code"),
        ("app/models.py", "import sys\nsys.exit(0)\n", "it stopped the process that loads your code"),
    ],
    ids=["keyboard-interrupt-in-a-function", "sys-exit-at-import", "sys-exit-in-the-conftests-import"],
)
def test_code_that_stops_the_run_is_told_why(fixture_ws, file, source, words):
    (fixture_ws.katas_dir / "01-shelf" / file).write_text(source)
    proc = run_cli(fixture_ws, "check", "01")
    assert proc.returncode == 1
    assert "Why:" in proc.stdout and words in proc.stdout, proc.stdout
    assert f"katas/01-shelf/{file}:2" in proc.stdout
