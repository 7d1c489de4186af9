"""Which frames are the team's (or the learner's) own code, and walking to them cheaply.

The recorder asks "where in your code are we?" from inside SQLAlchemy's event
hooks, which often run in the greenlet an ``AsyncSession`` call started. That
greenlet's stack ends at ``greenlet_spawn``; the code that awaited the call is
on the parent greenlet's suspended stack (``gr_frame``), so the walk continues
there. Whether a frame is "own code" is decided once per code object.
"""

from __future__ import annotations

import inspect
import itertools
import linecache
import os
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType

try:  # greenlet is optional on SQLAlchemy 2.1 (sqlalchemy[asyncio] brings it)
    from greenlet import getcurrent as _current_greenlet
except ImportError:  # pragma: no cover - a sync-only install
    _current_greenlet = None

NOT_OWN, OWN_TEST, OWN_APP = 0, 1, 2
_HERE = str(Path(__file__).resolve().parent)


def _is_test_file(relative: str) -> bool:
    """``relative``: the path below the project's root (so a project inside a tests/ folder is not all tests)."""
    name = os.path.basename(relative)
    if name == "conftest.py" or name.startswith("test_") or name.endswith("_test.py"):
        return True
    parts = relative.replace("\\", "/").split("/")
    return "tests" in parts[:-1] or "test" in parts[:-1]


class Scope:
    """Which source files are "yours": the app code first, your tests second, the rest not at all.

    ``roots``: the folders holding your code (the kata folder; a project's rootdir).
    Files under ``exclude`` (virtual environments, site-packages, this package) never count.
    ``detect_tests``: tell test files (``test_*.py``, ``conftest.py``, ``tests/``) from app code;
    the runner turns it off, its scope being the learner's app alone.
    """

    def __init__(self, roots: list[Path], exclude: list[Path] | None = None, detect_tests: bool = True) -> None:
        self.roots = [str(Path(r).resolve()) for r in roots]
        default_exclude = {sysconfig.get_paths().get(k) for k in ("purelib", "platlib", "stdlib", "platstdlib")}
        default_exclude |= {sys.prefix, sys.base_prefix, _HERE}
        candidates = [str(Path(p).resolve()) for p in (exclude or []) if p]
        candidates += [os.path.realpath(p) for p in default_exclude if p]
        # A folder holding one of the roots (a project inside /usr, say) excludes nothing of it.
        self.exclude = [e for e in candidates if not any(r == e or r.startswith(e + os.sep) for r in self.roots)]
        self.detect_tests = detect_tests
        self._by_code: dict = {}
        self._by_file: dict[str, int] = {}
        self._relative: dict[str, str] = {}
        self._display_root = self.roots[0] if self.roots else os.getcwd()

    def _classify_file(self, filename: str) -> int:
        known = self._by_file.get(filename)
        if known is not None:
            return known
        verdict = NOT_OWN
        if filename and not filename.startswith("<"):
            path = os.path.realpath(filename)
            root = next((r for r in self.roots if path == r or path.startswith(r + os.sep)), None)
            inside = root is not None
            # A project whose virtual environment sits inside it: the environment is not its code.
            excluded = any(path == e or path.startswith(e + os.sep) for e in self.exclude)
            posix = path.replace("\\", "/")
            if inside and not excluded and "/site-packages/" not in posix and "/.nox/" not in posix:
                relative = os.path.relpath(path, root)
                verdict = OWN_TEST if self.detect_tests and _is_test_file(relative) else OWN_APP
        self._by_file[filename] = verdict
        return verdict

    def classify_path(self, filename: str) -> int:
        return self._classify_file(filename)

    def classify(self, code) -> int:
        verdict = self._by_code.get(code)
        if verdict is None:
            verdict = self._by_code[code] = self._classify_file(code.co_filename)
        return verdict

    def relative(self, filename: str) -> str:
        known = self._relative.get(filename)
        if known is None:
            path = os.path.realpath(filename)
            known = Path(path).as_posix()
            for root in self.roots:
                if path.startswith(root + os.sep):
                    known = Path(os.path.relpath(path, root)).as_posix()
                    break
            self._relative[filename] = known
        return known


def stack(start: FrameType | None = None) -> Iterator[FrameType]:
    """Frames from ``start`` (the caller) outwards, through the greenlets that awaited this one."""
    frame = start if start is not None else sys._getframe(1)
    current = _current_greenlet() if _current_greenlet is not None else None
    while True:
        while frame is not None:
            yield frame
            frame = frame.f_back
        current = getattr(current, "parent", None)
        if current is None:
            return
        frame = current.gr_frame


ASYNC_FLAGS = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR | inspect.CO_ITERABLE_COROUTINE
COMPREHENSIONS = {"<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"}


def frame_info(frame: FrameType, lineno: int, scope: Scope) -> dict:
    code = frame.f_code
    filename = code.co_filename
    return {
        "file": scope.relative(filename),
        "path": filename,
        "line": lineno,
        "function": code.co_name,
        "source": linecache.getline(filename, lineno).strip(),
        "is_async": bool(code.co_flags & ASYNC_FLAGS),
    }


def own_stack(scope: Scope, start: FrameType | None = None, limit: int = 12) -> list[dict]:
    """Your frames on the current stack, outermost first (at most ``limit``, the innermost ones)."""
    found = []
    classify = scope.classify
    for frame in stack(start if start is not None else sys._getframe(1)):
        verdict = classify(frame.f_code)
        if verdict:
            found.append((frame, frame.f_lineno, verdict))
    return _pick(found, scope, limit)


def own_traceback(scope: Scope, tb: TracebackType | None, limit: int = 12) -> list[dict]:
    """Your frames in a traceback, outermost first."""
    found = []
    while tb is not None:
        verdict = scope.classify(tb.tb_frame.f_code)
        if verdict:
            found.append((tb.tb_frame, tb.tb_lineno, verdict))
        tb = tb.tb_next
    found.reverse()  # innermost first, like a stack walk
    return _pick(found, scope, limit)


def _pick(found: list, scope: Scope, limit: int) -> list[dict]:
    """Innermost-first (frame, line, verdict) -> outermost-first dicts, app code preferred over tests."""
    app = [f for f in found if f[2] == OWN_APP]
    chosen = app or found
    # A comprehension runs as a frame of its own (before Python 3.12): show the function around it.
    chosen = [f for i, f in enumerate(chosen) if f[0].f_code.co_name not in COMPREHENSIONS or i == len(chosen) - 1]
    return [dict(frame_info(frame, line, scope), test=verdict == OWN_TEST) for frame, line, verdict in chosen[:limit]][
        ::-1
    ]


# Frames a call of yours passes through without being a caller of its own: SQLAlchemy, the
# standard library (contextlib, functools), this package. Any other code that is not your app
# (a framework, a test) calls into your code: where it does, a call of yours starts.
_TRANSPARENT, _FOREIGN = 0, 1
_STDLIB = sorted(
    {os.path.realpath(p) for k in ("stdlib", "platstdlib") if (p := sysconfig.get_paths().get(k))},
    key=len,
    reverse=True,
)


class EntryFinder:
    """For the statement being sent: the call of yours it belongs to, and the frame of yours that sent it.

    A call is one run of the function where your code was entered from outside it: the route a
    framework called, the service method a test called. Walking outwards from the statement, your
    frames form runs separated by other code; the innermost run is the call's, its outermost frame
    the entry. Your code calling your code through SQLAlchemy (``run_sync``) or the standard library
    (a context manager) stays one run. A decorator's wrapper is not the call: where the entry's
    closure holds the function it calls next (``@login_required`` around a view), the entry is that
    function, so views wrapped by one shared decorator stay different calls.

    The answer is a pair of frame objects, ``(entry, sender)`` (the sender's ``f_lineno`` is the line
    now sending), or None outside your code. Asked once per statement; the walk starts at the first
    frame outside SQLAlchemy, and its answer holds while that same frame object sends (a flush of
    500 rows under one ``await session.commit()``). That frame is held until another one sends, so no
    later frame can take its id.
    """

    def __init__(self, scope: Scope) -> None:
        self.scope = scope
        self._kinds: dict = {}
        self._anchor = None
        self._answer: tuple | None = None

    def _kind(self, code) -> int:
        known = self._kinds.get(code)
        if known is None:
            if self.scope.classify(code) == OWN_APP:
                known = OWN_APP
            else:
                known = _FOREIGN
                path = os.path.realpath(code.co_filename) if not code.co_filename.startswith("<") else ""
                posix = path.replace("\\", "/")
                if not path or "/sqlalchemy/" in posix or path.startswith(_HERE + os.sep):
                    known = _TRANSPARENT
                elif "-packages" not in posix and any(path.startswith(s + os.sep) for s in _STDLIB):
                    known = _TRANSPARENT
            self._kinds[code] = known
        return known

    def release(self) -> None:
        self._anchor, self._answer = None, None

    def find(self, start: FrameType) -> tuple | None:
        frames = stack(start)
        anchor = None
        for frame in frames:
            if "/sqlalchemy/" not in frame.f_code.co_filename.replace("\\", "/"):
                anchor = frame
                break
        if anchor is None:
            self.release()
            return None
        if anchor is self._anchor:
            return self._answer
        run: list[FrameType] = []
        kind = self._kind
        for frame in itertools.chain((anchor,), frames):
            verdict = kind(frame.f_code)
            if verdict == OWN_APP:
                run.append(frame)
            elif verdict == _FOREIGN and run:
                break
        self._anchor, self._answer = anchor, _entry_and_sender(run) if run else None
        return self._answer


def _entry_and_sender(run: list[FrameType]) -> tuple[FrameType, FrameType]:
    """``run``: your frames of one call, innermost first."""
    sender = next((f for f in run if f.f_code.co_name not in COMPREHENSIONS), run[0])
    entry = len(run) - 1
    while entry > 0:
        calls = _closure_codes(run[entry])
        inner = next((i for i in range(entry - 1, -1, -1) if run[i].f_code in calls), None)
        if inner is None:
            break
        entry = inner
    return run[entry], sender


def _closure_codes(frame: FrameType) -> set:
    """The code of the functions a frame's closure holds (a decorator's wrapper holds the one it wraps)."""
    code = frame.f_code
    if not code.co_freevars:
        return set()
    try:
        local = frame.f_locals
    except Exception:  # pragma: no cover - a frame that cannot show its locals
        return set()
    found = set()
    for name in code.co_freevars:
        value = local.get(name)
        for _ in range(5):  # through functools.wraps' __wrapped__, a few levels at most
            function = getattr(value, "__func__", value)
            inner = getattr(function, "__code__", None)
            if inner is not None:
                found.add(inner)
            value = getattr(value, "__wrapped__", None)
            if value is None:
                break
    return found
