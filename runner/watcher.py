"""Watch mode's logic, as pure functions and small state machines.

Nothing here touches a terminal, a file or a process: runner/watchloop.py
drives these with real events, and the tests drive them with made-up ones.

* ``Scheduler`` turns saves into checks: a burst of saves is one check, and
  a save that arrives while a check runs is one more check after it, so the
  verdict on screen is never older than the code on disk.
* ``changed_paths`` compares two polls of a folder.
* ``merge_reports`` joins the reports of the processes that shared a check.
* ``preload_modules`` names what a warm worker may import ahead of a check:
  everything the checks and the kata import, except the learner's own code.
* ``render_screen`` draws the one screen watch mode shows.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath

from implicit_io import review as io_review
from runner import results
from runner.catalogue import Kata
from runner.render import Style, render_check
from runner.workspace import is_code

# Saves closer together than this are one save (an editor writes, renames, touches).
# File events come grouped already (watchfiles waits for 10 ms of quiet): this is for polling.
SETTLE = 0.01
# ... but a stream of saves that never pauses still gets checked this often.
MAX_SETTLE = 0.3

KEYS = {
    "h": "next hint",
    "n": "next kata",
    "l": "list",
    "r": "check again",
    "q": "quit",
}


@dataclass
class Scheduler:
    """When to start a check, given saves, finished checks and the clock.

    ``changed(now)`` on each save, ``request(now)`` to check at once,
    ``due(now)`` asks whether to start one (and marks it started),
    ``finished(now)`` when it is done. ``wait(now)`` is how long the
    caller may sleep before asking again (None: until the next event).
    """

    settle: float = SETTLE
    max_settle: float = MAX_SETTLE
    running: bool = False
    dirty: bool = False  # a save arrived while a check ran
    due_at: float | None = None
    first_change: float | None = None

    def changed(self, now: float) -> None:
        if self.running:
            self.dirty = True
            return
        if self.first_change is None:
            self.first_change = now
        self.due_at = min(now + self.settle, self.first_change + self.max_settle)

    def request(self, now: float) -> None:
        if self.running:
            self.dirty = True
        else:
            self.due_at, self.first_change = now, now

    def due(self, now: float) -> bool:
        if self.running or self.due_at is None or now < self.due_at:
            return False
        self.running, self.due_at, self.first_change = True, None, None
        return True

    def finished(self, now: float) -> None:
        self.running = False
        if self.dirty:
            self.dirty = False
            self.request(now)

    def wait(self, now: float) -> float | None:
        if self.running or self.due_at is None:
            return None
        return max(0.0, self.due_at - now)

    @property
    def pending(self) -> bool:
        """A check is running, or one is owed."""
        return self.running or self.dirty or self.due_at is not None


def is_watched(path: PurePath, kata_dir: PurePath) -> bool:
    """A save that should start a check: a file of this kata's code (editors' side files are not code)."""
    return is_code(path, kata_dir)


Snapshot = Mapping[PurePath, tuple[int, int]]  # path -> (mtime_ns, size)


def changed_paths(before: Snapshot, after: Snapshot) -> set[PurePath]:
    """Files added, removed or rewritten between two polls."""
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


# --- Sharing one check between warm workers --------------------------------------------


def merge_reports(parts: Sequence[tuple[dict | None, int, str]], order: Sequence[str]) -> tuple[dict | None, int, str]:
    """Join the reports of the processes that each ran a share of one check, as if one ran them all.

    ``parts`` holds (report, exit code, output) per process (one: its report,
    as it is); ``order`` is the
    checks' ids in the order pytest collected them. A part that did not finish
    decides the verdict alone: its report says why (an import error, a crash).
    """
    output = "\n".join(out for _, _, out in parts if out)
    for report, code, _ in parts:
        if not report or not report.get("finished"):
            return report, code, output
    position = {node: index for index, node in enumerate(order)}
    tests = sorted(
        (t for report, _, _ in parts for t in report["tests"]),
        key=lambda t: position.get(t["id"], len(position)),
    )
    errors: list[dict] = []
    for report, _, _ in parts:
        errors += [e for e in report.get("collection_errors", ()) if e not in errors]
    codes = [code for _, code, _ in parts if code != 5]  # 5: pytest found nothing to run in that share
    merged = {"tests": tests, "collection_errors": errors, "running": None, "finished": True}
    if len(parts) == 1 and "review" in parts[0][0]:
        merged["review"] = parts[0][0]["review"]
    else:  # each check carries its own review: the run's is their combination, as runner.plugin makes it
        reviews = [(t["name"], t["review"]) for t in tests if t.get("review")]
        if reviews:
            merged["review"] = io_review.combine(reviews)
    return merged, (max(codes) if codes else 5), output


# --- What a warm worker may import ahead of a check ----------------------------------------


def imported_modules(source: str) -> set[str]:
    """Absolute module names a Python source imports (``from a.b import c`` gives ``a.b``)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return set()
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
    return names


BASE_PRELOAD = (
    "pytest",
    "pytest_asyncio.plugin",
    "sqlalchemy",
    "sqlalchemy.orm",
    "sqlalchemy.ext.asyncio",
    "sqlalchemy.dialects.sqlite.aiosqlite",
    "aiosqlite",
    "runner.plugin",
    "runner.explain",
)
POSTGRES_PRELOAD = ("asyncpg", "sqlalchemy.dialects.postgresql.asyncpg")


def preload_modules(sources: Iterable[str], local_names: Iterable[str], postgres: bool = False) -> list[str]:
    """The modules to import before a check: the runner's, and those the checks and the kata import.

    ``local_names`` are the top-level names that live in the kata or the checks
    folder (``app``, ``conftest``, ``test_…``): those are the learner's code or
    the hidden checks, imported only once the check starts, from disk.
    """
    local = set(local_names) | {"app", "conftest", "__future__"}
    wanted = list(BASE_PRELOAD) + (list(POSTGRES_PRELOAD) if postgres else [])
    found = set()
    for source in sources:
        found |= imported_modules(source)
    wanted += sorted(name for name in found if name.split(".")[0] not in local and not name.startswith("test_"))
    return list(dict.fromkeys(wanted))


# --- The screen -------------------------------------------------------------------------------


@dataclass(frozen=True)
class View:
    """Everything the watch screen shows, as plain data."""

    kata: Kata
    kata_dir: str  # as the learner would type it
    result: results.CheckResult | None = None
    seconds: float | None = None  # how long the last check took
    checking: bool = False
    hint: tuple | None = None  # (number, text[, tiers on its ladder]) of the latest hint revealed
    next_kata: Kata | None = None
    source: str = ""  # how saves are noticed: "file events" or "polling every 0.1 s"
    message: str = ""  # one line: what just happened (a key that does nothing, a fallback)
    listing: str | None = None  # the list with progress, shown instead of the kata after `l`
    keys: str = "keys"  # how keys are read: one by one, or "type the letter, then Enter" without a terminal
    database: str = ""  # which database the checks use ("SQLite (aiosqlite)", "PostgreSQL at host:port/db")
    elapsed: float | None = None  # seconds the running check has taken so far, once it takes long
    limit: float | None = None  # the time limit of a check


def key_line(view: View, style: Style) -> str:
    keys = ["h", "l", "r", "q"]
    if view.result is not None and view.result.passed:
        keys.insert(0, "n")
    line = "  ".join(f"{style.strong(k)} {KEYS[k]}" for k in keys)
    return line if view.keys == "keys" else f"{line}   ({view.keys})"


ANSI = re.compile(r"\x1b\[[0-9;]*m")
SCENARIO_LINE = re.compile(r"^  (✓|✗|ok|x ) ")


def rows(lines: Sequence[str], width: int | None) -> int:
    """How many terminal rows the lines take, long lines wrapping at ``width``."""
    if not width:
        return len(lines)
    return sum(max(1, -(-len(ANSI.sub("", line)) // width)) for line in lines)


def fit(text: str, height: int | None, style: Style, width: int | None = None) -> str:
    """Make a screen fit a terminal of ``height`` rows: the scenario list shrinks first.

    What is kept: every failing scenario that fits, then a line counting the
    rest; the explanation, the hint and the keys stay whole.
    """
    lines = text.split("\n")
    if not height or rows(lines, width) < height:
        return text
    marks = [SCENARIO_LINE.match(ANSI.sub("", line)) for line in lines]
    scenario_rows = [i for i, m in enumerate(marks) if m]
    if len(scenario_rows) < 4:
        return text
    excess = rows(lines, width) - (height - 1)
    keep_count = max(3, len(scenario_rows) - excess - 1)
    failing = [i for i in scenario_rows if marks[i].group(1) in ("✗", "x ")]
    keep = set((failing or scenario_rows)[:keep_count])
    hidden = [i for i in scenario_rows if i not in keep]
    if not hidden:
        return text
    passed = sum(marks[i].group(1) in ("✓", "ok") for i in hidden)
    summary = style.dim(f"  … {len(hidden)} more: {passed} pass, {len(hidden) - passed} fail")
    last_kept = max(keep)
    out = []
    for index, line in enumerate(lines):
        if index not in hidden:
            out.append(line)
        if index == last_kept:
            out.append(summary)
    return "\n".join(out)


def render_screen(view: View, style: Style, height: int | None = None, width: int | None = None) -> str:
    out: list[str] = []
    if view.listing is not None:
        out += [view.listing, "", style.dim("any key: back to the kata")]
    elif view.result is None:
        out += [style.strong(f"Kata {view.kata.number}: {view.kata.title}"), "", "Checking your code …"]
    else:
        out.append(render_check(view.kata, view.result, style, view.kata_dir, next_kata=view.next_kata))
        if view.hint and not view.result.passed:
            number, text, *total = view.hint  # (number, text, tiers on its ladder: runner/hints.py)
            out += ["", style.strong(f"Hint {number} of {total[0] if total else len(view.kata.hints)}"), text.strip()]
        if view.result.passed:
            nxt = f"n: kata {view.next_kata.number}" if view.next_kata else "q to leave"
            out += ["", style.good(f"Done. Experiment as you like; {nxt} when you are ready.")]
    status = f"watching {view.kata_dir} ({view.source})" if view.source else f"watching {view.kata_dir}"
    if view.database:
        status += f" on {view.database}"
    if view.checking and view.elapsed is not None:
        limit = f", stopped at {view.limit:g} s" if view.limit else ""
        status += f" · checking … {int(view.elapsed)} s{limit}"
    elif view.checking:
        status += " · checking …"
    elif view.seconds is not None:
        status += f" · checked in {view.seconds:.2f} s"
    out += ["", style.dim("─" * 60 if style.unicode else "-" * 60), style.dim(status)]
    if view.message:
        out.append(view.message)
    out.append(key_line(view, style))
    return fit("\n".join(out), height, style, width)
