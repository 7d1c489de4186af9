"""Watch mode's speed: from a file saved to the verdict redrawn, for kata 01.

``measure()`` returns rows of (label, seconds) for `nox -s bench` to print
beside its other figures; ``python -m tests.bench_watch`` prints them alone.
It runs the real thing on a scratch copy of the kata (your progress is not
touched): the watch loop, the warm workers, file events from the operating
system, and saves that flip the kata between its starting code (fails) and
its reference fix (passes), so every save changes the verdict. Between two
saves it waits until the workers are warm again and then a little more, as a
learner reading the screen would. The targets (issue 18): a median within
150 ms with two workers, 250 ms with one, on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from runner.catalogue import load_catalogue, resolve  # noqa: E402
from runner.render import Style  # noqa: E402
from runner.terminal import Keys  # noqa: E402
from runner.watchloop import WatchLoop, default_source  # noqa: E402
from runner.worker import WarmChecker, default_shards  # noqa: E402
from runner.workspace import Workspace  # noqa: E402

PAUSE = 0.3  # seconds a learner looks at the screen before the next save, after the workers are warm


class _NoKeys(Keys):
    def start(self, post) -> None:
        pass


class _TimedScreen:
    def __init__(self) -> None:
        self.frames: list[tuple[float, str]] = []
        self.changed = threading.Condition()

    def draw(self, text: str) -> None:
        with self.changed:
            self.frames.append((time.perf_counter(), text))
            self.changed.notify_all()

    def wait_for(self, after: int, needle: str, timeout: float = 120.0) -> float:
        """When the first finished frame from ``after`` on showing ``needle`` was drawn."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while True:
                for stamp, text in self.frames[after:]:
                    if needle in text and "· checking …" not in text:
                        return stamp
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no verdict showing {needle!r}")
                self.changed.wait(0.05)


def _scratch(target: Path, kata_id: str) -> Workspace:
    ignore = shutil.ignore_patterns("__pycache__", "*.db")
    shutil.copytree(REPO / "katas" / kata_id, target / "katas" / kata_id, ignore=ignore)
    shutil.copytree(REPO / "solutions" / kata_id, target / "solutions" / kata_id, ignore=ignore)
    shutil.copytree(REPO / "runner" / "checks", target / "runner" / "checks", ignore=ignore)
    return Workspace(target)


def _save_to_verdict(ws: Workspace, kata_id: str, runs: int, shards: int) -> list[float]:
    katas = load_catalogue(ws)
    kata = resolve(katas, kata_id)
    solution_dir = ws.solutions_dir / kata.id
    fixed = {p.relative_to(solution_dir): p.read_bytes() for p in solution_dir.rglob("*.py")}
    start = {rel: (ws.katas_dir / kata.id / rel).read_bytes() for rel in fixed}
    screen = _TimedScreen()
    checkers: list[WarmChecker] = []

    def checker(k):
        checkers.append(WarmChecker(ws, k, shards=shards))
        return checkers[-1]

    loop = WatchLoop(
        ws,
        katas,
        kata,
        checker_factory=checker,
        keys=_NoKeys(),
        screen=screen,
        style=Style(),
        source_factory=default_source(ws),
    )
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        screen.wait_for(0, "checks pass")  # the check on opening: the starting code fails
        seconds = []
        for run in range(runs):
            while not (checkers[-1].ready() and not loop.scheduler.pending):
                time.sleep(0.01)
            time.sleep(PAUSE)
            passing = run % 2 == 0
            contents = fixed if passing else start
            seen = len(screen.frames)
            saved = time.perf_counter()
            for rel, data in contents.items():
                (ws.katas_dir / kata.id / rel).write_bytes(data)
            shown = screen.wait_for(seen, "All " if passing else "✗")
            seconds.append(shown - saved)
        return seconds
    finally:
        loop.quitting = True
        thread.join(30)


def measure(runs: int = 9, kata: str = "01-command-center") -> list[tuple[str, float]]:
    """Rows of (label, seconds): the median, fastest and slowest save-to-verdict, and one worker versus two."""
    rows: list[tuple[str, float]] = []
    kata_id = next(p.name for p in (REPO / "katas").iterdir() if p.name.startswith(kata[:2]))
    for shards in sorted({default_shards(), 1}, reverse=True):
        with tempfile.TemporaryDirectory(prefix="bench-watch-") as tmp:
            ws = _scratch(Path(tmp), kata_id)
            seconds = _save_to_verdict(ws, kata_id, runs, shards)
        what = f"watch {kata_id[:2]}: save → verdict, {shards} worker{'s' if shards > 1 else ''}"
        rows.append((f"{what}, median of {runs}", statistics.median(seconds)))
        rows.append((f"{what}, fastest", min(seconds)))
        rows.append((f"{what}, slowest", max(seconds)))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--kata", default="01")
    args = parser.parse_args()
    rows = measure(args.runs, args.kata)
    print(
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}; targets: median within 150 ms, 2 workers; 250 ms, 1"
    )
    for label, seconds in rows:
        print(f"  {label:<58} {seconds * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
