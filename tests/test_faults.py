"""Fault injection: the runner under kills, hangs, races, damaged files and bad input (issue 15).

Each test runs the real command line on the fixture katas, with a temporary
folder of its own (TMPDIR), and ends by asserting *nothing left*: no process
of its workspace (found by KATAS_HOME in /proc/*/environ, which every child
of the runner inherits), no temporary folder, and on PostgreSQL no schema
that no live check holds.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runner import execute, progress
from runner import state as state_io
from runner.catalogue import load_catalogue
from runner.render import Style
from runner.watchloop import WatchLoop, default_source
from runner.worker import WarmChecker
from tests.conftest import REPO, run_cli
from tests.test_watch import FakeKeys, RecordingScreen

# These run checks on the leg's database, the same on both SQLAlchemy lines: the 2.0 legs run them (tests/conftest.py).
pytestmark = pytest.mark.per_database
# What runs no check, or none whose database matters (a usage error, a damaged file): the first leg alone.
RUNNER_ONLY = pytest.mark.one_leg

LINUX = sys.platform.startswith("linux")
needs_proc = pytest.mark.skipif(not LINUX, reason="finds leftover processes through /proc")
SOLVED = "app/service.py"
ANSWER = 'async def wait_for_answer() -> str:\n    return "answer"\n'


# --- Nothing left: processes, temporary folders, schemas ---------------------------------------


def processes_of(ws) -> list[str]:
    """The processes started for this workspace, still running: the runner, its checks, what they started."""
    if not LINUX:
        return []
    marker = f"KATAS_HOME={ws.root}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if state != "Z":  # a zombie is gone, waiting for its parent to read its exit code
                    found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
        except OSError:
            continue
    return found


# The fixture katas' checks note each PostgreSQL schema they get in this folder (RECORDING below): "left
# behind" is about this test's own runs, not about other tests that run beside it (another xdist worker's
# killed check, or one whose connection was ended on purpose, has a dead schema for a moment too).
SCHEMAS_VARIABLE = "KATAS_TEST_SCHEMAS"
RECORDING = f"""
import os
from pathlib import Path

import pytest_asyncio
from sqlalchemy import text


@pytest_asyncio.fixture(autouse=True)
async def _note_the_schema(engine):
    if engine.dialect.name == "postgresql" and os.environ.get("{SCHEMAS_VARIABLE}"):
        async with engine.connect() as conn:
            Path(os.environ["{SCHEMAS_VARIABLE}"], await conn.scalar(text("SELECT current_schema()"))).touch()
"""


@pytest.fixture(autouse=True)
def schemas_noted(fixture_ws, tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "schemas"
    folder.mkdir()
    for kata in ("01-shelf", "02-stall"):
        conftest = fixture_ws.checks_dir / kata / "conftest.py"
        conftest.write_text((conftest.read_text() if conftest.exists() else "") + RECORDING)
    monkeypatch.setenv(SCHEMAS_VARIABLE, str(folder))
    return folder


def dead_schemas() -> list[str]:
    """PostgreSQL: this test's schemas whose advisory lock nobody holds (no live check owns them)."""
    url = os.environ.get("KATAS_DATABASE_URL", "")
    if not url.startswith("postgres"):
        return []
    mine = sorted(path.name for path in Path(os.environ[SCHEMAS_VARIABLE]).iterdir())
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import NullPool

    # Read from pg_locks, never by taking a lock: a sweep running now must not see them held.
    query = text(
        "SELECT n.nspname FROM pg_namespace n WHERE n.nspname = ANY(:mine) AND NOT EXISTS ("
        "SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND l.classid = :k AND l.objsubid = 2 "
        "AND l.objid::bigint = (hashtext(n.nspname)::bigint & 4294967295))"
    )

    async def find() -> list[str]:
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return list((await conn.execute(query, {"k": 0x6B617461, "mine": mine})).scalars())
        finally:
            await engine.dispose()

    return asyncio.run(find())


def assert_nothing_left(ws, tmp: Path, within: float = 5.0) -> None:
    """No process, no temporary folder, no schema: at once, or within a few seconds for what a
    killed runner's children notice themselves (runner/lifeline.py polls every 0.2 s)."""
    deadline = time.monotonic() + within
    while True:
        left = {
            "processes": processes_of(ws),
            "temporary folders": sorted(p.name for p in tmp.iterdir()) if tmp.is_dir() else [],
            "schemas": dead_schemas(),
        }
        if not any(left.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert not any(left.values()), f"left behind: {left}"


@pytest.fixture
def tmp(tmp_path) -> Path:
    """The runner's temporary folder (TMPDIR): what a run leaves there is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    return folder


def cli(ws, tmp, *args, env=None, stdin=None):
    return run_cli(ws, *args, env={"TMPDIR": str(tmp), **(env or {})}, stdin=stdin)


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def solve(ws, kata_id: str = "01-shelf") -> None:
    (ws.katas_dir / kata_id / SOLVED).write_text((ws.solutions_dir / kata_id / SOLVED).read_text())


def start_cli(ws, tmp, *args, env=None, **options) -> subprocess.Popen:
    full = {**os.environ, "KATAS_HOME": str(ws.root), "PYTHONPATH": str(REPO), "TMPDIR": str(tmp), **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-m", "runner", *args],
        cwd=ws.root,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **options,
    )


def wait_for_scenario(tmp: Path, timeout: float = 30.0) -> None:
    """Until a check's pytest process is inside a scenario (its report names the one running)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for report in tmp.glob("katas-*/**/report.json"):
            try:
                if json.loads(report.read_text()).get("running"):
                    return
            except (OSError, ValueError):
                pass
        time.sleep(0.05)
    raise AssertionError(f"no check started a scenario in {tmp}")


def hang(ws, tmp: Path) -> Path:
    """Kata 02's code made to hang inside its scenario, once its database (a schema) is made:
    the file it returns appears then."""
    inside = tmp.parent / "inside"
    (ws.katas_dir / "02-stall" / "app" / "wait.py").write_text(
        "import asyncio\nfrom pathlib import Path\n\n\nasync def wait_for_answer() -> str:\n"
        f"    Path({str(inside)!r}).touch()\n    await asyncio.Event().wait()\n    return 'answer'\n"
    )
    return inside


def wait_for_file(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def git_clone(ws) -> None:
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "start"]):
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=ws.root, check=True, capture_output=True
        )


# --- Progress is never lost -------------------------------------------------------------------


def test_two_checks_at_once_both_keep_their_results_and_counts(fixture_ws, tmp):
    """A slow check of 02 runs while 01 is checked to a pass: when 02 ends, 01's pass is still there."""
    solve(fixture_ws)
    go = tmp.parent / "go"
    (fixture_ws.katas_dir / "02-stall" / "app" / "wait.py").write_text(
        "import asyncio\nfrom pathlib import Path\n\n\nasync def wait_for_answer() -> str:\n"
        f"    while not Path({str(go)!r}).exists():  # until the test says go\n"
        "        await asyncio.sleep(0.02)\n    return 'answer'\n"
    )
    slow = start_cli(fixture_ws, tmp, "check", "02", "--timeout", "60")
    wait_for_scenario(tmp)
    fast = cli(fixture_ws, tmp, "check", "01")
    assert fast.returncode == 0, fast.stdout + fast.stderr
    go.touch()
    assert slow.wait(30) == 0
    state = json.loads(fixture_ws.state_file.read_text())["katas"]
    assert state["01-shelf"]["checks"] == 1 and state["01-shelf"]["passed_at"]
    assert state["02-stall"]["checks"] == 1 and state["02-stall"]["passed_at"]
    listing = cli(fixture_ws, tmp, "list")
    assert listing.returncode == 0 and "2 of 2 katas done." in listing.stdout
    slow.stdout.close(), slow.stderr.close()
    assert_nothing_left(fixture_ws, tmp)


def _count_checks(path: str, times: int) -> None:
    for _ in range(times):
        state_io.update(Path(path), lambda s: progress.record_check(s, "01-shelf", False, 1.0))


@RUNNER_ONLY
def test_updates_from_many_processes_are_never_lost(tmp_path):
    """The lock proven without the checks' time: 4 processes x 25 read-modify-writes give 100 checks."""
    import multiprocessing

    path = tmp_path / ".katas" / "state.json"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_count_checks, args=(str(path), 25)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert json.loads(path.read_text())["katas"]["01-shelf"]["checks"] == 100


@RUNNER_ONLY
def test_a_damaged_file_keeps_what_the_note_promises_and_every_damaged_copy(fixture_ws, tmp):
    fixture_ws.state_dir.mkdir()
    good = {"checks": 2, "hints": 1, "first_check": 10.0, "passed_at": 20.0}
    first = json.dumps({"version": 1, "katas": {"01-shelf": good, "02-stall": {"checks": "lots"}}})
    fixture_ws.state_file.write_text(first)
    proc = cli(fixture_ws, tmp, "progress")
    assert proc.returncode == 0
    assert "the intact entries of 1 kata are kept, 1 dropped" in one_line(proc.stderr)
    again = cli(fixture_ws, tmp, "list")  # the next command: what was kept is there, no second note
    assert again.returncode == 0 and again.stderr == ""
    assert "1 of 2 katas done." in again.stdout
    fixture_ws.state_file.write_text("{damaged again")
    third = cli(fixture_ws, tmp, "progress")
    assert third.returncode == 0 and "state.json.damaged-2" in one_line(third.stderr)
    assert (fixture_ws.state_dir / "state.json.damaged").read_text() == first, "the first copy is kept"
    assert (fixture_ws.state_dir / "state.json.damaged-2").read_text() == "{damaged again"
    assert_nothing_left(fixture_ws, tmp)


def _strict_json(text: str):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@RUNNER_ONLY
def test_out_of_range_values_never_crash_progress_report_or_summary(fixture_ws, tmp):
    fixture_ws.state_dir.mkdir()
    # 01: a pass recorded before its first check (a clock set back); 02: Infinity and NaN.
    fixture_ws.state_file.write_text(
        '{"version": 1, "katas": {'
        '"01-shelf": {"checks": 1, "hints": 0, "first_check": 2000.0, "passed_at": 1000.0},'
        '"02-stall": {"checks": 1, "hints": 0, "first_check": NaN, "passed_at": Infinity}}}'
    )
    for command in (["progress"], ["report"], ["list"]):
        proc = cli(fixture_ws, tmp, *command)
        assert proc.returncode == 0, proc.stderr
        assert "Traceback" not in proc.stderr
    proc = cli(fixture_ws, tmp, "report", "--json")
    assert proc.returncode == 0
    report = _strict_json(proc.stdout)
    assert [k["seconds_to_pass"] for k in report["katas"]] == [0.0, None]
    handed_in = tmp.parent / "ada.json"
    handed_in.write_text(proc.stdout)
    broken = tmp.parent / "bob.json"
    broken.write_text(proc.stdout.replace('"seconds_to_pass": 0.0', '"seconds_to_pass": Infinity'))
    summary = cli(fixture_ws, tmp, "summary", str(handed_in), str(broken))
    assert summary.returncode == 0, summary.stderr
    assert "1 learner report" in summary.stdout and "report(s)" not in summary.stdout
    assert "bob.json: damaged: katas[0].seconds_to_pass is not a number" in summary.stdout
    assert_nothing_left(fixture_ws, tmp)


def test_after_reset_or_an_edit_the_kata_is_no_longer_passed(fixture_ws, tmp):
    git_clone(fixture_ws)
    solve(fixture_ws)
    assert cli(fixture_ws, tmp, "check", "01").returncode == 0
    assert "1 of 2 katas done." in cli(fixture_ws, tmp, "list").stdout
    reset = cli(fixture_ws, tmp, "reset", "01", "--yes")
    assert reset.returncode == 0, reset.stderr
    listing = cli(fixture_ws, tmp, "list").stdout
    assert "0 of 2 katas done." in listing and "Next: nox -s kata-01" in listing
    report = _strict_json(cli(fixture_ws, tmp, "report", "--json").stdout)
    assert report["katas"][0]["status"] == "started"
    # Plain `nox` checks the kata you are on: 01 again, not "Every kata passes."
    current = cli(fixture_ws, tmp, "check")
    assert current.returncode == 1 and "Kata 01" in current.stdout
    # catch-up sees 01 unfinished: it checks it and gives it the fix.
    caught = cli(fixture_ws, tmp, "catch-up", "02", "--yes", "--timeout", "20")
    assert caught.returncode == 0 and "Kata 01: the reference fix is in" in caught.stdout
    assert "Nothing to catch up" not in caught.stdout
    assert "1 of 2 katas finished." in cli(fixture_ws, tmp, "report").stdout  # caught up: finished
    # An edit after the fix makes it unfinished again; the solution, once passed, stays open.
    service = fixture_ws.katas_dir / "01-shelf" / SOLVED
    service.write_text(service.read_text() + "\n# an experiment\n")
    assert "0 of 2 katas finished." in cli(fixture_ws, tmp, "report").stdout
    assert "Next: nox -s kata-01" in cli(fixture_ws, tmp, "list").stdout
    assert cli(fixture_ws, tmp, "solution", "01").returncode == 0
    assert_nothing_left(fixture_ws, tmp)


# --- Nothing keeps running, nothing is left behind ---------------------------------------------


@needs_proc
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGKILL, -9), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_the_checks_die_with_the_runner(fixture_ws, tmp, signum, code):
    inside = hang(fixture_ws, tmp)
    proc = start_cli(fixture_ws, tmp, "check", "02", "--timeout", "60", env={"KATAS_CHECK_PROCESSES": "2"})
    wait_for_file(inside)
    proc.send_signal(signum)
    assert proc.wait(10) == code
    proc.stdout.close(), proc.stderr.close()
    if signum == signal.SIGKILL:
        # No clean-up ran: the checks end themselves (lifeline), the next run sweeps the folder.
        deadline = time.monotonic() + 5
        while processes_of(fixture_ws) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cli(fixture_ws, tmp, "list").returncode == 0
    assert_nothing_left(fixture_ws, tmp)


# `check 02` alone (no option): runner/early.py starts the check's processes before the runner's imports.
@needs_proc
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGKILL, -9), (signal.SIGTERM, 143)])
def test_checks_started_ahead_die_with_the_runner(fixture_ws, tmp, signum, code):
    inside = hang(fixture_ws, tmp)
    proc = start_cli(fixture_ws, tmp, "check", "02", env={"KATAS_CHECK_PROCESSES": "2"})
    wait_for_file(inside)
    proc.send_signal(signum)
    assert proc.wait(10) == code
    proc.stdout.close(), proc.stderr.close()
    if signum == signal.SIGKILL:  # the checks end themselves (lifeline), the next run sweeps the folder
        deadline = time.monotonic() + 5
        while processes_of(fixture_ws) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cli(fixture_ws, tmp, "list").returncode == 0
    assert_nothing_left(fixture_ws, tmp)


def test_checks_started_ahead_and_not_used_leave_nothing(fixture_ws, tmp):
    """Started ahead, then the runner stops on a usage error: a kata.toml it cannot read, a syntax error."""
    (fixture_ws.checks_dir / "01-shelf" / "kata.toml").write_text("hints = [\n")
    proc = cli(fixture_ws, tmp, "check", "01")
    assert proc.returncode == 2
    assert one_line(proc.stderr).startswith("error: ")
    assert_nothing_left(fixture_ws, tmp, within=0)
    (fixture_ws.checks_dir / "01-shelf" / "kata.toml").write_text("")
    (fixture_ws.katas_dir / "01-shelf" / SOLVED).write_text("def broken(:\n")
    proc = cli(fixture_ws, tmp, "check", "01", env={"KATAS_SESSION_KATA": "01"})
    assert proc.returncode == 1
    assert "SyntaxError" in proc.stdout or "syntax" in proc.stdout.lower(), proc.stdout
    assert_nothing_left(fixture_ws, tmp, within=0)


FORKS = """import os
import time


async def wait_for_answer() -> str:
    if os.fork() == 0:  # a child that holds the check's output open, and sleeps
        time.sleep(120)
        os._exit(0)
    time.sleep(120)  # with the check's database (a schema) made
    return "answer"
"""


@needs_proc
def test_the_time_limit_holds_when_a_forked_child_holds_the_output(fixture_ws, tmp, schemas_noted):
    (fixture_ws.katas_dir / "02-stall" / "app" / "wait.py").write_text(FORKS)
    started = time.monotonic()
    proc = cli(fixture_ws, tmp, "check", "02", "--timeout", "2")
    took = time.monotonic() - started
    assert proc.returncode == 1
    assert "The check did not finish within 2 s" in proc.stdout
    assert took < 10, f"the check took {took:.1f} s"
    # A long check shows it is alive meanwhile.
    assert re.search(r"^still checking kata 02 after \d s \(stopped at 2 s\)", proc.stdout, re.M), proc.stdout
    assert proc.stderr == ""
    if os.environ.get("KATAS_DATABASE_URL", "").startswith("postgres"):  # the killed check's schema is watched
        assert len(list(schemas_noted.iterdir())) == 1
    assert_nothing_left(fixture_ws, tmp, within=0)


@needs_proc
def test_nothing_the_learners_code_started_outlives_the_check(fixture_ws, tmp):
    (fixture_ws.katas_dir / "02-stall" / "app" / "wait.py").write_text(
        'import subprocess\n\n\nasync def wait_for_answer() -> str:\n    subprocess.Popen(["sleep", "120"])\n'
        '    return "answer"\n'
    )
    proc = cli(fixture_ws, tmp, "check", "02", env={"KATAS_CHECK_PROCESSES": "2"})
    assert proc.returncode == 0, proc.stdout
    assert_nothing_left(fixture_ws, tmp, within=0)


def _nox_workspace(ws) -> None:
    """The fixture workspace made a checkout nox can run: the noxfile, the pins, and a katas'
    environment that is this very Python (installed, by its stamp)."""
    shutil.copy(REPO / "noxfile.py", ws.root / "noxfile.py")
    shutil.copytree(REPO / "requirements", ws.root / "requirements")
    scripts = ws.root / ".nox" / "katas" / "bin"
    scripts.mkdir(parents=True)
    python = scripts / "python"
    python.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    python.chmod(0o755)
    digest = subprocess.run(
        [sys.executable, "-c", "import runpy; print(runpy.run_path('noxfile.py')['pins_digest']())"],
        cwd=ws.root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()
    (ws.root / ".nox" / "katas" / "installed.sha256").write_text(digest)


def nox(ws, tmp, *args, **options) -> subprocess.CompletedProcess:
    if not (ws.root / "noxfile.py").exists():
        _nox_workspace(ws)
    env = {**os.environ, "PYTHONPATH": str(REPO), "KATAS_HOME": str(ws.root), "TMPDIR": str(tmp)}
    return subprocess.run(
        [sys.executable, "-m", "nox", "-f", str(ws.root / "noxfile.py"), *args],
        cwd=ws.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        **options,
    )


@needs_proc
def test_ctrl_c_through_nox_leaves_nothing(fixture_ws, tmp):
    _nox_workspace(fixture_ws)
    inside = hang(fixture_ws, tmp)
    env = {**os.environ, "PYTHONPATH": str(REPO), "KATAS_HOME": str(fixture_ws.root), "TMPDIR": str(tmp)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "nox", "-f", str(fixture_ws.root / "noxfile.py"), "-s", "kata-02"],
        cwd=fixture_ws.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a terminal of its own: Ctrl-C goes to the whole foreground group
    )
    wait_for_file(inside)
    os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=30)
    assert proc.returncode != 0
    assert "interrupted" in output and "Traceback" not in output
    assert_nothing_left(fixture_ws, tmp)


# --- Watch mode --------------------------------------------------------------------------------


@needs_proc
def test_watch_shows_a_hang_is_alive_and_a_save_that_fixes_it_cancels_it(fixture_ws, tmp, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setenv("KATAS_HOME", str(fixture_ws.root))  # the spares inherit it: processes_of finds them
    monkeypatch.setattr("tempfile.tempdir", None)
    katas = load_catalogue(fixture_ws)
    stall = katas[1]
    screen, keys = RecordingScreen(), FakeKeys()
    loop = WatchLoop(
        fixture_ws,
        katas,
        stall,
        checker_factory=lambda kata: WarmChecker(fixture_ws, kata, timeout=60),
        keys=keys,
        screen=screen,
        style=Style(),
        source_factory=default_source(fixture_ws),
    )
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        frame = screen.wait_for("checking … 1 s, stopped at 60 s")
        assert f"on {execute.database_label()}" in frame
        seen = len(screen.frames)
        saved = time.monotonic()
        (fixture_ws.katas_dir / "02-stall" / "app" / "wait.py").write_text(ANSWER)
        screen.wait_for("The check passes", after=seen)
        assert time.monotonic() - saved < 15, "the hanging check was stopped at the save, not at its limit"
    finally:
        keys.press("q")
        thread.join(30)
    monkeypatch.setattr("tempfile.tempdir", None)
    assert not thread.is_alive()
    assert json.loads(fixture_ws.state_file.read_text())["katas"]["02-stall"]["checks"] == 1, "cancelled: not counted"
    assert_nothing_left(fixture_ws, tmp)


@needs_proc
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGKILL, -9), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_killed_watch_leaves_no_spare_and_no_folder(fixture_ws, tmp, signum, code):
    inside = hang(fixture_ws, tmp)
    proc = start_cli(fixture_ws, tmp, "watch", "02", "--poll", "--timeout", "60", stdin=subprocess.PIPE)
    wait_for_file(inside)  # the first check hangs in its scenario
    proc.send_signal(signum)
    assert proc.wait(15) == code
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()
    if signum == signal.SIGKILL:
        deadline = time.monotonic() + 5
        while processes_of(fixture_ws) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cli(fixture_ws, tmp, "list").returncode == 0  # the next run sweeps the folders
    assert_nothing_left(fixture_ws, tmp)


# --- One clear line and the documented exit code, never a traceback ----------------------------


@RUNNER_ONLY
@pytest.mark.parametrize(
    ("command", "value"),
    [(["check", "01"], v) for v in ("-1", "0", "nan", "inf", "1e400", "soon")]
    + [(["watch", "01"], "-1"), (["catch-up", "02"], "nan")],
)
def test_a_time_limit_that_is_not_one_is_a_usage_error(fixture_ws, tmp, command, value):
    proc = cli(fixture_ws, tmp, *command, "--timeout", value)
    assert proc.returncode == 2
    assert "--timeout" in one_line(proc.stderr)
    assert_nothing_left(fixture_ws, tmp, within=0)


@RUNNER_ONLY
@pytest.mark.skipif(os.name == "nt", reason="a pseudo-terminal is POSIX")
def test_ctrl_d_at_the_reset_prompt_is_a_no(fixture_ws, tmp):
    import pty

    git_clone(fixture_ws)
    service = fixture_ws.katas_dir / "01-shelf" / SOLVED
    service.write_text("# mine\n")
    master, slave = pty.openpty()
    proc = start_cli(fixture_ws, tmp, "reset", "01", stdin=slave)
    os.close(slave)
    os.write(master, b"\x04")  # Ctrl-D: the terminal holds it until the prompt reads
    out, err = proc.communicate(timeout=30)
    os.close(master)
    assert proc.returncode == 0, err
    assert "[y/N]" in out and "Nothing changed." in out and err == ""
    assert service.read_text() == "# mine\n"
    assert_nothing_left(fixture_ws, tmp)


@RUNNER_ONLY
@pytest.mark.parametrize("command", [["reset", "01", "--yes"], ["catch-up", "02", "--yes"]])
def test_katas_being_a_file_is_named(fixture_ws, tmp, command):
    git_clone(fixture_ws)
    service = fixture_ws.katas_dir / "01-shelf" / SOLVED
    service.write_text("# mine\n")
    fixture_ws.state_dir.write_text("not a folder")
    proc = cli(fixture_ws, tmp, *command)
    assert proc.returncode == 2
    assert ".katas is a file" in one_line(proc.stderr)
    assert service.read_text() == "# mine\n", "nothing changed: no backup could be kept"
    assert_nothing_left(fixture_ws, tmp)


def test_the_doctor_names_katas_being_a_file(fixture_ws, tmp):
    fixture_ws.state_dir.write_text("not a folder")
    proc = cli(fixture_ws, tmp, "doctor")
    assert proc.returncode == 1 and "Traceback" not in proc.stdout + proc.stderr
    assert "progress folder: .katas is a file" in proc.stdout
    assert "move it away (rename it to .katas.old)" in proc.stdout
    assert_nothing_left(fixture_ws, tmp)


@RUNNER_ONLY
def test_solution_with_a_file_that_is_not_utf8(fixture_ws, tmp):
    fixture_ws.state_dir.mkdir()
    passed = {"checks": 1, "hints": 0, "first_check": 1.0, "passed_at": 2.0}
    fixture_ws.state_file.write_text(json.dumps({"version": 1, "katas": {"01-shelf": passed}}))
    (fixture_ws.katas_dir / "01-shelf" / SOLVED).write_bytes(b"# caf\xe9 in Latin-1\n")
    proc = cli(fixture_ws, tmp, "solution", "01")
    assert proc.returncode == 0
    assert "app/service.py is not UTF-8 text" in one_line(proc.stderr)
    assert "+++ solution/app/service.py" in proc.stdout
    assert_nothing_left(fixture_ws, tmp)


@RUNNER_ONLY
def test_a_reader_that_stops_early_is_no_error(fixture_ws, tmp):
    """`python -m runner report | head -2`: the pipe closes before the report is written."""
    proc = start_cli(fixture_ws, tmp, "report")
    proc.stdout.close()  # the reader is gone before the first line
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert err == ""
    shell = subprocess.run(
        f'"{sys.executable}" -m runner report | head -2; exit "${{PIPESTATUS[0]}}"',
        shell=True,
        executable="/bin/bash",
        cwd=fixture_ws.root,
        env={**os.environ, "KATAS_HOME": str(fixture_ws.root), "PYTHONPATH": str(REPO), "TMPDIR": str(tmp)},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert shell.returncode == 0 and shell.stderr == "" and len(shell.stdout.splitlines()) == 2
    assert_nothing_left(fixture_ws, tmp)


@RUNNER_ONLY
def test_a_katas_home_that_is_not_one(fixture_ws, tmp):
    proc = cli(fixture_ws, tmp, "check", env={"KATAS_HOME": "/nonexistent"})
    assert proc.returncode == 2 and proc.stdout == ""
    assert "KATAS_HOME=/nonexistent names no checkout of the katas (no such folder)" in one_line(proc.stderr)
    assert_nothing_left(fixture_ws, tmp, within=0)


@RUNNER_ONLY
@pytest.mark.parametrize("name", ["", " "])
def test_an_empty_kata_name_is_not_the_current_kata(fixture_ws, tmp, name):
    proc = cli(fixture_ws, tmp, "check", name)
    assert proc.returncode == 2 and proc.stdout == ""
    assert "unknown kata" in one_line(proc.stderr)
    assert_nothing_left(fixture_ws, tmp, within=0)


@pytest.mark.parametrize(
    ("args", "code", "expected"),
    [
        (["list"], 0, "0 of 2 katas done."),
        (["progress"], 0, "kata  status"),
        (["report"], 0, "0 of 2 katas finished."),
        (["summary", "FILE"], 0, "1 learner report"),
    ],
)
def test_every_command_works_through_a_kata_session(fixture_ws, tmp, args, code, expected):
    if "FILE" in args:
        report = tmp.parent / "ada.json"
        report.write_text(cli(fixture_ws, tmp, "report", "--json").stdout)
        args = [str(report) if a == "FILE" else a for a in args]
    proc = nox(fixture_ws, tmp, "-s", "kata-01", "--", *args)
    assert proc.returncode == code, proc.stdout + proc.stderr
    assert expected in proc.stdout
    assert "unrecognized arguments" not in proc.stderr and "uv binary not found" not in proc.stderr
    assert_nothing_left(fixture_ws, tmp)


def test_the_doctor_works_through_a_kata_session(fixture_ws, tmp):
    proc = nox(fixture_ws, tmp, "-s", "kata-01", "--", "doctor")
    assert "Can this laptop run the katas?" in proc.stdout, proc.stderr
    assert "unrecognized arguments" not in proc.stderr
    assert_nothing_left(fixture_ws, tmp)


@RUNNER_ONLY
def test_a_kata_session_still_hands_its_kata_to_the_commands_that_take_one():
    from runner.cli import parse

    assert parse(["hint"], "01").kata == "01"
    assert parse(["check", "--timeout", "3"], "01").kata == "01"
    assert parse(["check", "02"], "01").kata == "02"
    assert parse(["catch-up"], "04").kata == "04"
    assert not hasattr(parse(["list"], "01"), "kata")
    assert parse(["summary", "a.json"], "01").files == ["a.json"]


# --- Where the learner is ----------------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="the katas' environment is a shell script here")
def test_a_python_without_the_katas_packages_hands_over_or_says_what_to_run(fixture_ws, tmp, tmp_path):
    bare = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=60)
    python = str(bare / "bin" / "python")
    env = {**os.environ, "KATAS_HOME": str(fixture_ws.root), "PYTHONPATH": str(REPO), "TMPDIR": str(tmp)}
    env.pop("KATAS_HANDED_OVER", None)

    def run(*args):
        return subprocess.run(
            [python, "-m", "runner", *args], cwd=fixture_ws.root, env=env, capture_output=True, text=True, timeout=60
        )

    told = run("check", "01")
    assert told.returncode == 2
    assert "run python -m nox -s doctor once" in one_line(told.stderr)
    assert "No module named" not in told.stderr
    assert run("list").returncode == 0, "what needs no checks works from there"
    # Once a kata session has made .nox/katas, the runner hands over to it.
    katas = fixture_ws.root / ".nox" / "katas" / "bin"
    katas.mkdir(parents=True)
    (katas / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (katas / "python").chmod(0o755)
    handed = run("check", "01")
    assert handed.returncode == 1, handed.stderr
    assert "MissingGreenlet" in handed.stdout
    assert_nothing_left(fixture_ws, tmp)


def test_every_run_names_its_database_and_never_a_password(fixture_ws, tmp):
    proc = cli(fixture_ws, tmp, "check", "01")
    assert f"Checked on {execute.database_label()}." in proc.stdout
    url = os.environ.get("KATAS_DATABASE_URL", "")
    if url.startswith("postgres"):
        assert "Checked on PostgreSQL at " in proc.stdout
        secret = url.replace("postgresql+asyncpg://postgres@", "postgresql+asyncpg://postgres:s3cret@")
        shown = cli(fixture_ws, tmp, "check", "01", env={"KATAS_DATABASE_URL": secret})
        assert "Checked on PostgreSQL at 127.0.0.1:5432/test." in shown.stdout and "s3cret" not in shown.stdout
    else:
        assert "Checked on SQLite (aiosqlite)." in proc.stdout
    label = execute.database_label({"KATAS_DATABASE_URL": "postgresql+asyncpg://ada:s3cret@db.local/room"})
    assert label == "PostgreSQL at db.local:5432/room"
    assert_nothing_left(fixture_ws, tmp)


@RUNNER_ONLY
def test_no_noise_of_ours():
    proc = subprocess.run([sys.executable, "-m", "nox", "-l"], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "uv binary not found" not in proc.stdout + proc.stderr
    ignored = (REPO / ".gitignore").read_text().split()
    assert ".venv/" in ignored or ".venv" in ignored


@RUNNER_ONLY
def test_progress_values_are_checked_for_range():
    finite = {"checks": 1, "hints": 0, "first_check": 1.0, "passed_at": 2.0}
    assert progress.is_valid({"version": 1, "katas": {"a": finite}})
    for key, value in (("passed_at", math.inf), ("first_check", math.nan), ("checks", -1), ("passed_at", 1e300)):
        assert not progress.is_valid({"version": 1, "katas": {"a": {**finite, key: value}}}), (key, value)
