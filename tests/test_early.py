"""runner/early.py: a check's processes started before the runner's own imports, used only when they are
exactly what the check would start."""

from __future__ import annotations

import pytest

from runner import early, execute, results
from runner.catalogue import load_catalogue

pytestmark = pytest.mark.one_leg  # how a check's processes start: the same on every database


@pytest.mark.parametrize(
    ("argv", "session", "expected"),
    [
        (["check", "01"], "", "01"),
        (["check", "kata-02"], "", "02"),
        (["check"], "01", "01"),  # nox -s kata-01
        (["check", "01"], "02", "01"),
        (["check"], "", None),  # the kata you are on: the runner reads your progress first
        (["check", "01", "--verbose"], "", None),
        (["check", "--all"], "", None),
        (["check", "shelf"], "", None),
        (["hint", "01"], "", None),
        ([], "", None),
    ],
)
def test_only_a_plain_check_of_one_kata_starts_ahead(argv, session, expected):
    assert early.kata_argument(argv, {early.SESSION_VARIABLE: session} if session else {}) == expected


@pytest.fixture
def started_ahead(fixture_ws, monkeypatch, tmp_path):
    monkeypatch.setenv("KATAS_HOME", str(fixture_ws.root))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)

    def start(kata: str = "01") -> early.Prestarted:
        early.prestart(["check", kata])
        assert early._prestarted is not None and early._prestarted.procs
        return early._prestarted

    yield start
    early._discard()


def test_the_check_adopts_processes_started_ahead(fixture_ws, started_ahead):
    kata = load_catalogue(fixture_ws)[0]
    (fixture_ws.katas_dir / kata.id / "app" / "service.py").write_text(
        (fixture_ws.solutions_dir / kata.id / "app" / "service.py").read_text()
    )
    started = started_ahead()
    result = execute.run_checks(fixture_ws, kata)
    assert result.passed, result
    assert early._prestarted is None
    assert all(proc.poll() == 0 and not proc.killed for proc in started.procs)  # they ran the check to its end
    assert not started.folder.exists()


@pytest.mark.parametrize("why", ["verbose", "another kata", "syntax error", "environment"])
def test_processes_started_ahead_are_killed_when_they_are_not_what_the_check_would_start(
    fixture_ws, started_ahead, monkeypatch, why
):
    kata = load_catalogue(fixture_ws)[0]
    started = started_ahead("02" if why == "another kata" else "01")  # 02's code hangs: never its verdict here
    options = {}
    if why == "verbose":
        options = {"verbose": True}
    elif why == "syntax error":
        (fixture_ws.katas_dir / kata.id / "app" / "service.py").write_text("def broken(:\n")
    else:
        monkeypatch.setenv("KATAS_DATABASE_URL", "sqlite+aiosqlite://")
    result = execute.run_checks(fixture_ws, kata, timeout=30, **options)
    assert all(proc.killed for proc in started.procs)
    assert not started.folder.exists()
    assert early._prestarted is None
    if why == "syntax error":
        assert result.status == results.SYNTAX
    else:
        assert result.status == results.FAIL and result.scenarios, result  # kata 01's start, by its own processes


def test_a_head_start_that_fails_starts_nothing_and_leaves_nothing(fixture_ws, started_ahead, monkeypatch, tmp_path):
    """A second process that cannot start (here: a Popen that raises): the first is killed, the folder goes."""
    from runner import processes

    real, started = processes.Child, []

    def second_fails(*args, **kwargs):
        if started:
            raise OSError("no more processes")
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setenv("KATAS_CHECK_PROCESSES", "2")
    monkeypatch.setattr(processes, "Child", second_fails)
    early.prestart(["check", "01"])  # no exception: the check will run the usual way
    assert early._prestarted is None
    assert len(started) == 1 and started[0].killed
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(processes.PREFIX)]
