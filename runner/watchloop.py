"""Watch mode's loop: one queue of events, one thread that reads it, one screen.

Keys, file events and finished checks all arrive on one queue (see
runner/terminal.py); this loop is the only reader, so what it does is a
plain sequence: a save marks the kata changed, the Scheduler says when to
check, a check runs in a thread of its own (so `q` and Ctrl-C answer at
once), and its verdict is recorded and drawn.

Everything it touches comes in through the constructor, so the tests drive
it with a fake keyboard, a fake screen and real or fake checkers.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from runner import execute, hints, lastcheck, progress, render, results, watcher
from runner import state as state_io
from runner.catalogue import Kata
from runner.terminal import EventSource, FileSource, Keys, PollingSource, Screen
from runner.workspace import Workspace, code_digest

CheckerFactory = Callable[[Kata], object]  # -> an object with run() -> CheckResult | None, close(), maybe cancel()
# A check that takes longer than this shows it is alive: the seconds so far, redrawn every
# ALIVE_EVERY (a terminal redraws in place; elsewhere each screen is printed below the last).
ALIVE_AFTER = 1.0
ALIVE_EVERY = {True: 1.0, False: 5.0}
SourceFactory = Callable[[Path, bool], FileSource]


def default_source(ws: Workspace) -> SourceFactory:
    def make(folder: Path, poll: bool) -> FileSource:
        return PollingSource(folder) if poll else EventSource(folder, probe_dir=ws.state_dir)

    return make


class WatchLoop:
    def __init__(
        self,
        ws: Workspace,
        katas: Sequence[Kata],
        kata: Kata,
        *,
        checker_factory: CheckerFactory,
        keys: Keys,
        screen: Screen,
        style: render.Style,
        source_factory: SourceFactory | None = None,
        poll: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.ws, self.katas, self.kata = ws, list(katas), kata
        self.checker_factory = checker_factory
        self.keys, self.screen, self.style = keys, screen, style
        self.source_factory = source_factory or default_source(ws)
        self.poll = poll
        self.clock = clock
        self.events: queue.Queue = queue.Queue()
        self.scheduler = watcher.Scheduler()
        self.checker = None
        self.source: FileSource | None = None
        self.generation = 0  # bumped on each kata switch: a late verdict for an old kata is dropped
        self.view: watcher.View | None = None
        self.checks = 0  # checks finished in this session (tests and the bench read it)
        self.quitting = False
        self._threads: list[threading.Thread] = []
        self._notes: list[str] = []
        self._check_started: float | None = None
        self._alive_shown = 0.0

    # -- lifecycle ------------------------------------------------------------------------

    def post(self, event: tuple) -> None:
        self.events.put(event)

    def run(self) -> int:
        self.keys.start(self.post)
        try:
            self._open(self.kata)
            while not self.quitting:
                now = self.clock()
                if self.scheduler.due(now):
                    self._start_check()
                self._show_alive(now)
                wait = self.scheduler.wait(now)
                try:
                    event = self.events.get(timeout=0.2 if wait is None else min(wait, 0.2))
                except queue.Empty:
                    continue
                self.handle(event)
        finally:
            self.close()
        return 0

    def close(self) -> None:
        self.quitting = True
        self.keys.stop()
        if self.source:
            self.source.stop()
        if self.checker:
            self.checker.close()
        for thread in self._threads:
            thread.join(timeout=5)

    def _open(self, kata: Kata) -> None:
        """Watch a kata: its own checker and file source, and a first check at once."""
        if self.source:
            self.source.stop()
        if self.checker:
            self.checker.close()
        self.generation += 1
        self.kata = kata
        self.scheduler = watcher.Scheduler()
        kata_dir = self.ws.katas_dir / kata.id
        self.checker = self.checker_factory(kata)
        self.source = self.source_factory(kata_dir, self.poll)
        self.view = watcher.View(
            kata=kata,
            kata_dir=self.ws.display(kata_dir),
            hint=self._latest_hint(kata),
            source=self.source.description or "file events",
            keys=getattr(self.keys, "description", "keys"),
            database=execute.database_label(),
            limit=getattr(self.checker, "timeout", None),
        )
        self.source.start(self.post)
        self.scheduler.request(self.clock())  # the first check starts at once and draws the screen

    # -- events ---------------------------------------------------------------------------

    def handle(self, event: tuple) -> None:
        kind = event[0]
        if kind == "key":
            self.on_key(event[1])
        elif kind == "files":
            self.scheduler.changed(self.clock())
            if self.scheduler.running and hasattr(self.checker, "cancel"):
                # The running check judges code that is no longer on disk (a hang the save may fix):
                # stopped at once, and the code as it is now is checked next.
                self.checker.cancel()
                self._update(message="Saved while checking: that check is stopped; checking your code as it is now.")
            elif self.scheduler.running:
                self._update(message="Saved while checking: one more check follows.")
        elif kind == "checked":
            _, generation, result, seconds, digest = event
            if generation == self.generation:
                self.on_checked(result, seconds, digest)
        elif kind == "events-failed":
            self._fall_back(event[1])
        elif kind == "events-ok":
            pass

    def _fall_back(self, reason: str) -> None:
        """File events do not work here: poll instead, and say why."""
        if self.poll:
            return
        self.poll = True
        if self.source:
            self.source.stop()
        self.source = self.source_factory(self.ws.katas_dir / self.kata.id, True)
        self.source.start(self.post)
        self._update(source=self.source.description, message=f"File events are unavailable ({reason}): polling.")
        self.scheduler.request(self.clock())  # a save may have gone unnoticed

    def on_key(self, key: str) -> None:
        view = self.view
        if key == "q":
            self.quitting = True
            return
        if view.listing is not None:  # any key leaves the list
            self._update(listing=None, message="")
            return
        if key == "h":
            self.reveal_hint()
        elif key == "l":
            self._update(listing=render.render_list(self.katas, self._view(), self.style))
        elif key == "r":
            self.scheduler.request(self.clock())
            self._update(message="")
        elif key == "n":
            self.next_kata()
        else:
            self._update(message=f"`{key}` does nothing here.")

    def reveal_hint(self) -> None:
        # The ladder for the failure on screen, its last tier the fix itself (runner/hints.py, as `hint`).
        shown = hints.reveal(self.ws, self.kata, self.ws.display(self.ws.katas_dir / self.kata.id), self.style)
        total = len(shown.tiers)
        if not total:
            self._update(message=f"Kata {self.kata.number} has no hints.")
            return
        kata_id = self.kata.id
        if shown.new:
            self._record(
                lambda state: progress.record_hint(state, kata_id, progress.entry(state, kata_id)["hints"] + 1)[0]
            )
        note = "" if shown.revealed < total else "That is the last hint."
        self._update(hint=(shown.revealed, shown.tiers[shown.revealed - 1], total), message=note)

    def next_kata(self) -> None:
        if self.view.result is None or not self.view.result.passed:
            self._update(message=f"Kata {self.kata.number} does not pass yet: `n` opens the next one once it does.")
            return
        target = self._next(self._view())
        if target is None:
            self._update(message="That was the last kata: every kata passes. `q` to leave.")
            return
        self._open(target)

    def on_checked(self, result: results.CheckResult | None, seconds: float, digest: str | None = None) -> None:
        self.scheduler.finished(self.clock())
        self._check_started = None
        if result is None:  # cancelled by a save: the next check is already owed
            self._update(checking=self.scheduler.pending, elapsed=None)
            return
        self.checks += 1
        kata_id = self.kata.id
        fixed = results.fixed_failures(self.kata.failures, result) if self.kata.failures else None
        self._record(lambda state: progress.record_check(state, kata_id, result.passed, time.time(), digest, fixed))
        lastcheck.save(self.ws, kata_id, result, time.time())  # what the hints follow
        state = self._view()
        message = ""
        if self.scheduler.pending:
            message = "This verdict is for your code before the last save: checking that now."
        self._update(
            result=result,
            seconds=seconds,
            elapsed=None,
            checking=self.scheduler.pending,
            next_kata=self._next(state) if result.passed else None,
            message=message,
            listing=None,
        )

    # -- checks ---------------------------------------------------------------------------

    def _start_check(self) -> None:
        checker, generation = self.checker, self.generation
        thread = threading.Thread(target=self._check, args=(checker, generation), daemon=True, name="check")
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()
        self._check_started, self._alive_shown = self.clock(), 0.0
        self._update(checking=True, elapsed=None)

    def _show_alive(self, now: float) -> None:
        """A check that runs long shows the seconds it has taken, so a hang is not mistaken for nothing."""
        if self._check_started is None or not self.scheduler.running:
            return
        elapsed = now - self._check_started
        every = ALIVE_EVERY[bool(getattr(self.screen, "clear", True))]
        if elapsed >= ALIVE_AFTER and elapsed - self._alive_shown >= every:
            self._alive_shown = elapsed
            self._update(elapsed=elapsed)

    def _check(self, checker, generation: int) -> None:
        started = self.clock()
        digest = code_digest(self.ws.katas_dir / self.kata.id)  # the code this check judges
        try:
            result = checker.run()
        except Exception as exc:  # noqa: BLE001 - whatever happens, the watcher stays up and says it
            result = results.CheckResult(status=results.BROKEN, detail=f"{type(exc).__name__}: {exc}")
        self.post(("checked", generation, result, self.clock() - started, digest))

    # -- state and drawing ----------------------------------------------------------------

    def _state(self) -> dict:
        # Read each time: `hint` or `check` in another terminal may have written it.
        state, warning = state_io.load(self.ws.state_file)
        if warning:
            self._notes.append(warning)
        return state

    def _view(self) -> dict:
        """The progress as the code is now (a kata changed since its pass is not passed)."""
        return progress.as_of(self._state(), state_io.digests(self.ws, self.katas))

    def _record(self, change) -> None:
        """Change the progress as it is on disk, under its lock: a check in another terminal keeps its result."""
        _, warning = state_io.update(self.ws.state_file, change)
        if warning:
            self._notes.append(warning)

    def _next(self, state: dict) -> Kata | None:
        """The first unfinished kata after this one, else the first unfinished anywhere."""
        ids = [k.id for k in self.katas]
        start = ids.index(self.kata.id) + 1 if self.kata.id in ids else 0
        ordered = self.katas[start:] + self.katas[:start]
        return next((k for k in ordered if k.id != self.kata.id and not progress.is_finished(state, k.id)), None)

    def _latest_hint(self, kata: Kata) -> tuple[int, str] | None:
        revealed = min(progress.entry(self._state(), kata.id)["hints"], len(kata.hints))
        return (revealed, kata.hints[revealed - 1]) if revealed else None

    def _update(self, **changes) -> None:
        if self._notes:  # a damaged progress file was set aside: say so once
            changes["message"] = " ".join([*self._notes, changes.get("message", "")]).strip()
            self._notes.clear()
        self.view = replace(self.view, **changes)
        self.draw()

    def draw(self) -> None:
        size = self.screen.size() if hasattr(self.screen, "size") else None
        height, width = size if size else (None, None)
        self.screen.draw(watcher.render_screen(self.view, self.style, height, width))
