"""Watch mode: the scheduling logic, the keys, the warm worker, and the loop driven end to end.

The loop is driven with a fake keyboard and a recording screen, and with
real saves of real files: the checks run in the real warm worker on the
fixture katas. One test runs `python -m runner watch` on a pseudo-terminal
(POSIX) to show Ctrl-C leaves the terminal as it was.
"""

from __future__ import annotations

import io
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from runner import results, watcher
from runner.catalogue import Kata, load_catalogue
from runner.render import Style
from runner.terminal import (
    EventSource,
    FileSource,
    Keys,
    LineKeys,
    PollingSource,
    WindowsKeys,
    decode_keys,
    wait_for,
)
from runner.watchloop import WatchLoop, default_source
from runner.worker import WarmChecker
from tests.conftest import REPO

# The command line (and watch mode) over fixture katas: the runner alone, one leg runs these
# (tests/conftest.py). What differs by database (its label, schemas left) is in test_faults and test_database.
pytestmark = pytest.mark.one_leg

SOLVED = "app/service.py"
SHELF = Kata(id="01-shelf", number="01", slug="shelf", title="The shelf", hints=("look again", "b", "c"))


# --- The scheduler: a burst of saves is one check; a save during a check is one more -------------


def test_a_burst_of_saves_is_one_check():
    s = watcher.Scheduler(settle=0.03, max_settle=0.3)
    for t in (0.0, 0.01, 0.02):
        s.changed(t)
    assert not s.due(0.049)
    assert s.due(0.05)
    assert not s.due(0.06), "one check for the burst, not one per save"


def test_saves_that_never_pause_are_still_checked():
    s = watcher.Scheduler(settle=0.03, max_settle=0.3)
    t, started = 0.0, None
    while t < 1.0 and started is None:
        s.changed(t)
        t += 0.02
        if s.due(t):
            started = t
    assert started is not None and started <= 0.32


def test_a_save_during_a_check_causes_exactly_one_more():
    s = watcher.Scheduler()
    s.request(0.0)
    assert s.due(0.0) and s.running
    for t in (0.1, 0.2, 0.3):
        s.changed(t)
        assert not s.due(t), "never two checks at once"
    s.finished(1.0)
    assert s.due(1.0), "the saves during the check are checked"
    s.finished(2.0)
    assert not s.due(5.0) and not s.pending, "and only once"


def test_merge_keeps_pytests_order_and_lets_an_unfinished_part_decide():
    order = ["t::a", "t::b", "t::c"]
    one = {"tests": [{"id": "t::a"}, {"id": "t::c"}], "collection_errors": [], "finished": True}
    two = {"tests": [{"id": "t::b"}], "collection_errors": [], "finished": True}
    merged, code, _ = watcher.merge_reports([(one, 0, ""), (two, 1, "")], order)
    assert [t["id"] for t in merged["tests"]] == order and code == 1
    empty = {"tests": [], "collection_errors": [], "finished": True}
    assert watcher.merge_reports([(one, 0, ""), (empty, 5, "")], order)[1] == 0
    crashed = (None, 3, "Fatal Python error")
    assert watcher.merge_reports([(one, 0, ""), crashed], order) == (None, 3, "Fatal Python error")


def test_preload_never_names_the_learners_code_or_the_checks():
    sources = [
        "from app.models import Base\nimport fastapi.testclient\nfrom . import x\nimport conftest\n",
        "from sqlalchemy.orm import selectinload\nimport test_shelf\nimport helpers\n",
    ]
    found = watcher.preload_modules(sources, local_names={"helpers", "app"})
    assert "fastapi.testclient" in found and "sqlalchemy.orm" in found and "runner.plugin" in found
    assert not [m for m in found if m.split(".")[0] in {"app", "conftest", "helpers", "test_shelf"}]


def test_only_the_katas_python_files_are_watched(tmp_path):
    kata = tmp_path / "katas" / "01-x"
    assert watcher.is_watched(kata / "app" / "service.py", kata)
    assert not watcher.is_watched(kata / "app" / "__pycache__" / "service.cpython-311.pyc", kata)
    assert not watcher.is_watched(kata / "app" / ".service.py.swp", kata)
    assert not watcher.is_watched(tmp_path / "katas" / "02-y" / "app.py", kata)
    before = {kata / "a.py": (1, 10), kata / "b.py": (1, 10)}
    after = {kata / "a.py": (2, 10), kata / "c.py": (1, 3)}
    assert watcher.changed_paths(before, after) == {kata / "a.py", kata / "b.py", kata / "c.py"}


def test_a_long_screen_fits_the_terminal_by_shrinking_the_scenario_list():
    lines = ["Kata 01: X", ""] + [f"  ✓ passes {i}" for i in range(8)] + [f"  ✗ fails {i}" for i in range(8)]
    text = "\n".join(lines + ["", "Why it fails", "  MissingGreenlet …"] + ["detail"] * 10 + ["h next hint"])
    fitted = watcher.fit(text, 30, Style()).splitlines()
    assert len(fitted) < 30
    assert [line for line in fitted if "✗" in line] == [f"  ✗ fails {i}" for i in range(8)], "failures first"
    assert "  … 8 more: 8 pass, 0 fail" in fitted
    assert fitted[-1] == "h next hint" and "Why it fails" in fitted
    assert watcher.fit(text, None, Style()) == text and watcher.fit(text, 200, Style()) == text


def test_the_screen_offers_next_only_after_a_pass_and_hides_the_hint_then():
    kata = SHELF
    failing = results.CheckResult(
        status=results.FAIL, scenarios=(results.Scenario("It works", False, {"kind": "assertion", "message": "no"}),)
    )
    view = watcher.View(kata=kata, kata_dir="katas/01-shelf", result=failing, hint=(1, "look again"), keys="keys")
    text = watcher.render_screen(view, Style())
    assert "Hint 1 of 3" in text and "look again" in text and "n next kata" not in text
    passing = results.CheckResult(status=results.PASS, scenarios=(results.Scenario("It works", True),))
    done = watcher.render_screen(watcher.View(kata=kata, kata_dir="k", result=passing, hint=(1, "look again")), Style())
    assert "n next kata" in done and "look again" not in done
    typed = watcher.View(kata=kata, kata_dir="k", result=failing, keys="keys: type the letter, then Enter")
    assert watcher.render_screen(typed, Style()).endswith("(keys: type the letter, then Enter)")


# --- Keys ----------------------------------------------------------------------------------------


def test_keys_drop_escape_sequences_and_read_ctrl_c_as_quit():
    assert decode_keys("\x1b[Ah\x1bOPn") == ["h", "n"]
    assert decode_keys("Q\x03") == ["q", "q"]


def test_windows_console_keys_through_msvcrt():
    class FakeMsvcrt:
        def __init__(self, chars):
            self.chars = list(chars)

        def kbhit(self):
            return bool(self.chars)

        def getwch(self):
            return self.chars.pop(0)

    posted = []
    keys = WindowsKeys(FakeMsvcrt(["h", "\xe0", "H", "L", "q"]))  # \xe0 H: the up arrow
    keys.start(posted.append)
    deadline = time.monotonic() + 5
    while len(posted) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    keys.stop()
    assert posted == [("key", "h"), ("key", "l"), ("key", "q")]


def test_without_a_terminal_each_line_is_a_key():
    posted = []
    keys = LineKeys(io.StringIO("h\n\nlist\nq\n"))
    keys.start(posted.append)
    keys._thread.join(5)
    assert posted == [("key", "h"), ("key", "l"), ("key", "q")]


# --- The loop, driven --------------------------------------------------------------------------


class FakeKeys(Keys):
    def start(self, post):
        self.post = post

    def press(self, key: str) -> None:
        self.post(("key", key))


class RecordingScreen:
    def __init__(self):
        self.frames: list[str] = []
        self.changed = threading.Condition()

    def draw(self, text: str) -> None:
        with self.changed:
            self.frames.append(text)
            self.changed.notify_all()

    def wait_for(self, *needles: str, after: int = 0, timeout: float = 90) -> str:
        """The first frame from index ``after`` on that holds every needle."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for frame in self.frames[after:]:
                    if all(n in frame for n in needles):
                        return frame
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    last = self.frames[-1] if self.frames else "(nothing drawn)"
                    raise AssertionError(f"no frame shows {needles}; the last one:\n{last}")
                self.changed.wait(remaining)


class QuietSource(FileSource):
    description = "test events"

    def start(self, post):
        pass


class GateChecker:
    """A checker whose checks finish when the test says so."""

    def __init__(self):
        self.runs = 0
        self.gate = threading.Event()

    def run(self):
        self.runs += 1
        self.gate.wait(30)
        failure = {"kind": "assertion", "message": "not yet"}
        return results.CheckResult(status=results.FAIL, scenarios=(results.Scenario("It works", False, failure),))

    def close(self):
        self.gate.set()


def start_loop(ws, checker_factory, source_factory=None, poll=False):
    katas = load_catalogue(ws)
    keys, screen = FakeKeys(), RecordingScreen()
    loop = WatchLoop(
        ws,
        katas,
        katas[0],
        checker_factory=checker_factory,
        keys=keys,
        screen=screen,
        style=Style(),
        source_factory=source_factory or (lambda folder, poll: QuietSource()),
        poll=poll,
    )
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.setdefault("code", loop.run()), daemon=True)
    thread.start()
    return loop, keys, screen, thread, outcome


def stop_loop(keys, thread, outcome):
    keys.press("q")
    thread.join(30)
    assert not thread.is_alive(), "q ends watch mode"
    assert outcome["code"] == 0


def wait_until(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_loop_checks_a_burst_of_saves_once(fixture_ws):
    checker = GateChecker()
    checker.gate.set()
    loop, keys, screen, thread, outcome = start_loop(fixture_ws, lambda kata: checker)
    wait_until(lambda: loop.checks == 1)  # the check on opening
    for _ in range(5):
        loop.post(("files", frozenset({fixture_ws.katas_dir / "01-shelf" / SOLVED})))
    wait_until(lambda: loop.checks == 2)
    time.sleep(0.5)
    assert checker.runs == 2, "five saves in a burst are one check"
    stop_loop(keys, thread, outcome)


def test_loop_checks_again_after_a_save_during_a_check(fixture_ws):
    checker = GateChecker()
    loop, keys, screen, thread, outcome = start_loop(fixture_ws, lambda kata: checker)
    wait_until(lambda: checker.runs == 1)  # blocked in the gate
    for _ in range(3):
        loop.post(("files", frozenset({fixture_ws.katas_dir / "01-shelf" / SOLVED})))
    screen.wait_for("Saved while checking")
    checker.gate.set()
    wait_until(lambda: loop.checks == 2)
    time.sleep(0.5)
    assert checker.runs == 2, "never a stale verdict: one more check, and only one"
    assert "checking …" not in screen.frames[-1]
    stop_loop(keys, thread, outcome)


def test_loop_falls_back_to_polling_when_file_events_fail(fixture_ws):
    checker = GateChecker()
    checker.gate.set()

    class NoEvents(FileSource):
        description = "file events"

        def start(self, post):
            post(("events-failed", "inotify watch limit reached"))

    def sources(folder, poll):
        return PollingSource(folder, interval=0.05) if poll else NoEvents()

    loop, keys, screen, thread, outcome = start_loop(fixture_ws, lambda kata: checker, sources)
    frame = screen.wait_for("polling every 0.05 s")
    assert "File events are unavailable (inotify watch limit reached): polling." in frame
    wait_until(lambda: loop.checks >= 1)
    settled = loop.checks
    service = fixture_ws.katas_dir / "01-shelf" / SOLVED
    service.write_text(service.read_text() + "\n# saved\n")
    wait_until(lambda: loop.checks == settled + 1)
    stop_loop(keys, thread, outcome)


def test_file_events_that_never_arrive_are_noticed_by_the_probe(tmp_path, monkeypatch):
    """A network drive or a container mount: the watcher starts, and no event ever comes."""
    import watchfiles

    def silent(*paths, stop_event, **options):
        stop_event.wait()
        yield from ()

    monkeypatch.setattr(watchfiles, "watch", silent)
    events: queue.Queue = queue.Queue()
    source = EventSource(tmp_path / "kata", probe_dir=tmp_path / "probe", probe_timeout=0.5)
    (tmp_path / "kata").mkdir()
    source.start(events.put)
    try:
        event = wait_for(events, ("events-ok", "events-failed"), 10)
    finally:
        source.stop()
    assert event is not None and event[0] == "events-failed"
    assert "no file event arrived" in event[1]


def test_file_events_that_arrive_pass_the_probe_and_report_saves(tmp_path):
    kata = tmp_path / "kata"
    (kata / "app").mkdir(parents=True)
    events: queue.Queue = queue.Queue()
    source = EventSource(kata, probe_dir=tmp_path / "probe")
    source.start(events.put)
    try:
        assert wait_for(events, ("events-ok", "events-failed"), 10) == ("events-ok",)
        (kata / "app" / "service.py").write_text("x = 1\n")
        (kata / "app" / "notes.txt").write_text("not code\n")
        event = wait_for(events, ("files",), 10)
    finally:
        source.stop()
    assert event is not None and event[1] == frozenset({(kata / "app" / "service.py").resolve()})


def test_watch_end_to_end_fail_fix_next_hang_quit(fixture_ws):
    """The real worker, real file events, real saves: the loop a learner sees."""

    def checker(kata):
        return WarmChecker(fixture_ws, kata, timeout=4)

    loop, keys, screen, thread, outcome = start_loop(fixture_ws, checker, default_source(fixture_ws))
    frame = screen.wait_for("✗ The shelf lists its books' titles")
    assert "MissingGreenlet" in frame and "katas/01-shelf/app/service.py:8" in frame
    assert "h next hint" in frame and "n next kata" not in frame and "(file events)" in frame

    seen = len(screen.frames)
    keys.press("n")
    screen.wait_for("does not pass yet", after=seen)
    keys.press("h")
    # the kata's three hints, then the fix for the failure on screen (runner/hints.py)
    assert "first hint: a nudge" in screen.wait_for("Hint 1 of 4", after=seen)

    seen = len(screen.frames)
    service = fixture_ws.katas_dir / "01-shelf" / SOLVED
    service.write_text((fixture_ws.solutions_dir / "01-shelf" / SOLVED).read_text())
    frame = screen.wait_for("The check passes", after=seen)
    assert "n next kata" in frame and "n: kata 02" in frame
    state = fixture_ws.state_file.read_text()
    assert '"passed_at": null' not in state.split('"01-shelf"')[1].split("}")[0], "the pass is recorded"

    seen = len(screen.frames)
    keys.press("l")
    assert "✓ 01" in screen.wait_for("1 of 2 katas done", after=seen)
    keys.press("x")  # any key leaves the list
    keys.press("n")
    frame = screen.wait_for("Kata 02: The request that never came back", "did not finish within 4 s", after=seen)
    assert "while checking: The answer comes back" in frame

    # The hung worker was killed; the next save is checked by a new one.
    seen = len(screen.frames)
    wait = fixture_ws.katas_dir / "02-stall" / "app" / "wait.py"
    wait.write_text('async def wait_for_answer() -> str:\n    return "answer"\n')
    screen.wait_for("The check passes", after=seen)
    stop_loop(keys, thread, outcome)


# --- The warm worker: the code on disk now, whatever an earlier save left ---------------------


SERVICE = """from sqlalchemy import select

from app.models import Shelf


async def titles(session, shelf_id: int) -> list[str]:
    return {answer}
"""


@pytest.mark.parametrize("no_pyc", ["", "1"], ids=["pyc-written", "PYTHONDONTWRITEBYTECODE"])
def test_every_check_judges_the_code_on_disk_now(fixture_ws, monkeypatch, no_pyc):
    """Same size, same modification time, different code: no .pyc and no module of an earlier save decides.
    (A spare writes compiled files whatever PYTHONDONTWRITEBYTECODE says: both ways are tried.)"""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", no_pyc)  # "": as on most laptops, .pyc files are written
    kata = load_catalogue(fixture_ws)[0]
    service = fixture_ws.katas_dir / kata.id / SOLVED
    right, wrong = SERVICE.format(answer='["A", "B"]'), SERVICE.format(answer='["A", "C"]')
    assert len(right) == len(wrong)
    stamp = time.time_ns()
    checker = WarmChecker(fixture_ws, kata, timeout=30)
    try:
        for source, passes in ((right, True), (wrong, False), (right, True), (wrong, False)):
            service.write_text(source)
            os.utime(service, ns=(stamp, stamp))
            result = checker.run()
            assert result.passed is passes, (source, result.status, result.scenarios)
    finally:
        checker.close()


def test_spares_keep_the_hidden_checks_compiled_in_the_watchers_own_folder(fixture_ws, monkeypatch):
    """Under PYTHONDONTWRITEBYTECODE (CI, some laptops) the next spare reads the checks' rewritten code back
    instead of rewriting it; nothing is written beside the kata, the checks or the runner."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    kata = load_catalogue(fixture_ws)[0]
    service = fixture_ws.katas_dir / kata.id / SOLVED
    service.write_text((fixture_ws.solutions_dir / kata.id / SOLVED).read_text())
    checker = WarmChecker(fixture_ws, kata, timeout=30)
    try:
        assert checker.run().passed
        checks = fixture_ws.checks_dir / kata.id
        kept = [p.name for p in (checker.pycache / checks.relative_to(checks.anchor)).glob("*.pyc")]
        assert any("pytest" in name for name in kept), kept  # pytest's assertion rewrite, cached
        assert checker.run().passed  # and read back by the next spare
    finally:
        checker.close()
    assert not list(fixture_ws.root.rglob("__pycache__"))


def test_a_crashing_check_does_not_take_the_worker_down(fixture_ws):
    kata = load_catalogue(fixture_ws)[0]
    service = fixture_ws.katas_dir / kata.id / SOLVED
    checker = WarmChecker(fixture_ws, kata, timeout=30)
    try:
        service.write_text("import os\n\nos._exit(3)\n")
        crashed = checker.run()
        assert crashed.status == results.BROKEN
        service.write_text((fixture_ws.solutions_dir / kata.id / SOLVED).read_text())
        assert checker.run().passed
    finally:
        checker.close()


def test_a_check_shared_between_workers_reports_every_scenario_in_order(fixture_ws):
    checks = fixture_ws.checks_dir / "01-shelf" / "test_more.py"
    checks.write_text(
        "import pytest\n\n\n@pytest.mark.parametrize('n', range(5))\ndef test_n(n):\n"
        '    """Scenario {n}"""\n    assert n != 3, "three is wrong"\n'
    )
    kata = load_catalogue(fixture_ws)[0]
    verdicts = {}
    for shards in (1, 2):
        checker = WarmChecker(fixture_ws, kata, timeout=30, shards=shards)
        try:
            result = checker.run()
        finally:
            checker.close()
        verdicts[shards] = [(s.name, s.passed) for s in result.scenarios]
    assert verdicts[2] == verdicts[1], "two workers report what one would, in the same order"
    assert verdicts[1][:5] == [(f"Scenario {n}", n != 3) for n in range(5)]


# --- The command on a real (pseudo-)terminal ----------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="a pseudo-terminal is POSIX; Windows reads keys through msvcrt")
def test_ctrl_c_ends_watch_and_leaves_the_terminal_as_it_was(fixture_ws):
    import fcntl
    import pty
    import termios

    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)

    def take_terminal():
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    env = {**os.environ, "KATAS_HOME": str(fixture_ws.root), "PYTHONPATH": str(REPO), "TERM": "xterm"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "runner", "watch", "--timeout", "20"],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        cwd=fixture_ws.root,
        env=env,
        preexec_fn=take_terminal,  # noqa: PLW1509 - the child must own the terminal for Ctrl-C to reach it
    )
    received = bytearray()

    def read():
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            received.extend(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def shown(text: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while text.encode() not in received:
            assert proc.poll() is None, received.decode(errors="replace")[-2000:]
            assert time.monotonic() < deadline, received.decode(errors="replace")[-2000:]
            time.sleep(0.02)

    try:
        shown("The shelf lists its books")
        assert b"\x1b[2J" in received, "on a terminal the screen is redrawn, not scrolled"
        os.write(master, b"h")  # one key, no Enter: cbreak mode
        shown("first hint: a nudge")
        os.write(master, b"\x03")  # Ctrl-C
        assert proc.wait(30) == 0
        shown("Stopped watching")
        assert termios.tcgetattr(slave) == before, "the terminal is back in the mode it was in"
    finally:
        if proc.poll() is None:
            proc.kill()
        os.close(master)
        os.close(slave)


def test_runner_lists_watch(fixture_ws):
    from tests.conftest import run_cli

    proc = run_cli(fixture_ws, "watch", "--help")
    assert proc.returncode == 0 and "--poll" in proc.stdout
    assert Path(REPO / "runner" / "commands" / "watch.py").is_file()


def test_a_spare_sets_pytest_up_before_the_save(fixture_ws):
    """A spare registers pytest's plugins and the -p ones ahead (runner/worker.py's _prepare), in a
    process of its own; if a pytest upgrade broke that, checks would silently fall back to pytest.main()."""
    code = (
        "from runner import worker, execute\n"
        "from runner.catalogue import load_catalogue, resolve\n"
        "from runner.share import share_plugin\n"
        "from runner.workspace import Workspace\n"
        "ws = Workspace.locate(); kata = resolve(load_catalogue(ws), '01')\n"
        "command = execute.pytest_command(ws, kata, False)\n"
        "prepared = worker._prepare(command[command.index('pytest') + 1:], [share_plugin(0, 1, None)])\n"
        "names = prepared.pluginmanager._name2plugin\n"
        "print('runner.plugin' in names, 'pytest_asyncio.plugin' in names, 'app' in __import__('sys').modules)\n"
    )
    env = {**os.environ, "KATAS_HOME": str(fixture_ws.root), "PYTHONPATH": str(REPO), "KATA_DIR": "/nonexistent"}
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert proc.stdout.split() == ["True", "True", "False"], proc.stdout + proc.stderr  # and no learner code read
