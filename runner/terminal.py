"""The IO edge of watch mode: the keyboard, the screen and the file events.

Each source runs in a thread of its own and posts events to one queue,
which runner/watchloop.py reads (the shape rustlings' watch mode has too):

* ``("key", "h")`` from the keyboard: a POSIX terminal in cbreak mode
  (termios), a Windows console (msvcrt), or, without a terminal, one line
  of input per key;
* ``("files", {paths})`` from file events (watchfiles) or from polling;
* ``("events-ok",)`` once a probe file's event has arrived, and
  ``("events-failed", reason)`` when file events are unavailable here.

Every piece degrades rather than fails: no terminal, no colour, no file
events each have a plainer way that still works, and say so.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from runner import watcher

Post = Callable[[tuple], None]

POLL_INTERVAL = 0.1  # seconds between two looks at a kata's files when polling
PROBE_TIMEOUT = 1.5  # seconds to wait for a probe file's event before falling back to polling
PROBE_NAME = "watch-probe"


# --- The keyboard ------------------------------------------------------------------------------


class Keys:
    """Posts one ("key", char) per key press, until stopped; restores the terminal on stop."""

    description = "keys"

    def start(self, post: Post) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        pass


def decode_keys(data: str) -> list[str]:
    """Letters from what a terminal sent: escape sequences (arrows, mouse) and control bytes are dropped."""
    keys, skip = [], False
    for char in data:
        if char == "\x1b":
            skip = True
            continue
        if skip:
            # an escape sequence ends with a letter or ~ after its [ or O
            if char.isalpha() and char not in "[O" or char == "~":
                skip = False
            continue
        if char == "\x03":  # Ctrl-C arriving as a byte (a raw Windows console)
            keys.append("q")
        elif char == "\x04":  # Ctrl-D
            keys.append("q")
        elif char.isprintable():
            keys.append(char.lower())
    return keys


class PosixKeys(Keys):
    """A POSIX terminal in cbreak mode: keys arrive one by one, unechoed; Ctrl-C still interrupts."""

    description = "keys"

    def __init__(self, fd: int | None = None):
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._saved = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, post: Post) -> None:
        import termios
        import tty

        self._saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)  # no line buffering, no echo; ISIG stays on, so Ctrl-C is SIGINT
        self._thread = threading.Thread(target=self._read, args=(post,), daemon=True, name="keys")
        self._thread.start()

    def _read(self, post: Post) -> None:
        import select

        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self.fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(self.fd, 64).decode("utf-8", "replace")
            except (OSError, ValueError):
                return
            if not data:
                return
            for key in decode_keys(data):
                post(("key", key))

    def stop(self) -> None:
        self._stop.set()
        if self._saved is not None:
            import termios

            with contextlib.suppress(Exception):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None
        if self._thread:
            self._thread.join(timeout=1)


class WindowsKeys(Keys):
    """A Windows console, read with msvcrt: no mode to change, so nothing to restore."""

    def __init__(self, msvcrt=None):
        if msvcrt is None:
            import msvcrt  # noqa: PLC0415 - Windows only
        self.msvcrt = msvcrt
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, post: Post) -> None:
        self._thread = threading.Thread(target=self._read, args=(post,), daemon=True, name="keys")
        self._thread.start()

    def _read(self, post: Post) -> None:
        while not self._stop.is_set():
            if not self.msvcrt.kbhit():
                time.sleep(0.03)
                continue
            char = self.msvcrt.getwch()
            if char in ("\x00", "\xe0"):  # a function or arrow key: its second half names it
                self.msvcrt.getwch()
                continue
            for key in decode_keys(char):
                post(("key", key))

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=1)


class LineKeys(Keys):
    """No terminal (a pipe, an IDE's output pane): each line typed is a key, its first letter."""

    description = "keys: type the letter, then Enter"

    def __init__(self, stream=None):
        self.stream = stream or sys.stdin
        self._thread: threading.Thread | None = None

    def start(self, post: Post) -> None:
        self._thread = threading.Thread(target=self._read, args=(post,), daemon=True, name="keys")
        self._thread.start()

    def _read(self, post: Post) -> None:
        try:
            for line in self.stream:
                keys = decode_keys(line.strip())
                if keys:
                    post(("key", keys[0]))
        except (OSError, ValueError):
            return
        # End of input: no more keys, but watching goes on (Ctrl-C ends it).


def keyboard(stdin=None) -> Keys:
    """The best way to read keys here."""
    stdin = stdin or sys.stdin
    try:
        tty = stdin.isatty()
    except (AttributeError, ValueError):
        tty = False
    if tty and os.name == "nt":
        return WindowsKeys()
    if tty:
        try:
            import termios  # noqa: F401

            return PosixKeys(stdin.fileno())
        except ImportError:
            pass
    return LineKeys(stdin)


# --- The screen ----------------------------------------------------------------------------------


CLEAR = "\x1b[H\x1b[2J"


def enable_windows_ansi() -> bool:
    """Turn on ANSI escape handling in a Windows console (Windows 10 and later); False if it cannot."""
    try:
        import ctypes

        kernel32 = ctypes.windll.kernel32
        handle = kernel32.GetStdHandle(-11)  # STD_OUTPUT_HANDLE
        mode = ctypes.c_uint32()
        if not kernel32.GetConsoleMode(handle, ctypes.byref(mode)):
            return False
        return bool(kernel32.SetConsoleMode(handle, mode.value | 0x0004))  # ENABLE_VIRTUAL_TERMINAL_PROCESSING
    except Exception:  # noqa: BLE001 - no console, an old Windows: draw without clearing
        return False


class Screen:
    """Draws one screen at a time: cleared first on a terminal, separated by a rule elsewhere."""

    def __init__(self, stream=None, clear: bool | None = None):
        self.stream = stream or sys.stdout
        if clear is None:
            tty = hasattr(self.stream, "isatty") and self.stream.isatty()
            clear = tty and os.environ.get("TERM") != "dumb" and (os.name != "nt" or enable_windows_ansi())
        self.clear = clear

    def size(self) -> tuple[int, int] | None:
        """(rows, columns) when the screen is redrawn in place: a longer screen would scroll its top away."""
        if not self.clear:
            return None
        size = shutil.get_terminal_size((0, 0))
        return (size.lines, size.columns) if size.lines and size.columns else None

    def draw(self, text: str) -> None:
        prefix = CLEAR if self.clear else "\n" + "=" * 60 + "\n"
        try:
            self.stream.write(prefix + text + "\n")
            self.stream.flush()
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        pass


# --- File events -------------------------------------------------------------------------------


class FileSource:
    description = ""

    def start(self, post: Post) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        pass


def snapshot(folder: Path) -> dict[Path, tuple[int, int]]:
    """(mtime, size) of every watched file of a kata."""
    found = {}
    try:
        paths = list(folder.rglob("*"))
    except OSError:
        return found
    for path in paths:
        if not watcher.is_watched(path, folder):
            continue
        try:
            stat = path.stat()
        except OSError:
            continue
        found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


class PollingSource(FileSource):
    """Looks at the kata's files every POLL_INTERVAL: works on any file system, costs a little CPU."""

    def __init__(self, folder: Path, interval: float = POLL_INTERVAL):
        self.folder, self.interval = folder, interval
        self.description = f"polling every {interval:g} s"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, post: Post) -> None:
        before = snapshot(self.folder)
        self._thread = threading.Thread(target=self._poll, args=(post, before), daemon=True, name="poll")
        self._thread.start()

    def _poll(self, post: Post, before) -> None:
        while not self._stop.wait(self.interval):
            after = snapshot(self.folder)
            changed = watcher.changed_paths(before, after)
            before = after
            if changed:
                post(("files", frozenset(changed)))

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=2)


class EventSource(FileSource):
    """File events from the operating system, through watchfiles.

    When watchfiles is missing, or the watcher fails, it posts
    ("events-failed", reason). Events that silently never arrive (a network
    drive, a WSL path on a Windows disk, a folder mounted into a container)
    are caught by a probe: a file touched in ``probe_dir``, watched with the
    kata, whose event must arrive within PROBE_TIMEOUT.
    """

    description = "file events"

    def __init__(self, folder: Path, probe_dir: Path | None = None, probe_timeout: float = PROBE_TIMEOUT):
        # Resolved: the operating system reports real paths (macOS: /private/var for /var).
        self.folder, self.probe_dir, self.probe_timeout = folder.resolve(), probe_dir, probe_timeout
        self._stop = threading.Event()
        self._probed = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, post: Post) -> None:
        try:
            import watchfiles  # noqa: F401
        except ImportError:
            post(("events-failed", "watchfiles is not installed"))
            return
        probe = None
        if self.probe_dir is not None:
            with contextlib.suppress(OSError):
                self.probe_dir.mkdir(parents=True, exist_ok=True)
                probe = self.probe_dir / PROBE_NAME
        for target, args in ((self._watch, (post, probe)), (self._probe, (post, probe))):
            thread = threading.Thread(target=target, args=args, daemon=True, name="file-events")
            thread.start()
            self._threads.append(thread)

    def _watch(self, post: Post, probe: Path | None) -> None:
        import watchfiles

        paths = [self.folder] + ([probe.parent] if probe else [])
        try:
            for changes in watchfiles.watch(
                *paths,
                watch_filter=None,
                step=10,  # ms of quiet that ends a burst of events (an editor's write and rename take less)
                debounce=400,  # ms at most before a burst is reported anyway
                stop_event=self._stop,
                force_polling=False,  # polling is ours to choose (--poll, or the probe's verdict)
                raise_interrupt=False,
                ignore_permission_denied=True,
            ):
                paths_changed = {Path(p).resolve() for _, p in changes}
                if probe and any(p.name == PROBE_NAME for p in paths_changed):
                    self._probed.set()
                files = frozenset(p for p in paths_changed if watcher.is_watched(p, self.folder))
                if files:
                    post(("files", files))
        except Exception as exc:  # noqa: BLE001 - any failure of the OS watcher means: poll instead
            if not self._stop.is_set():
                post(("events-failed", f"{type(exc).__name__}: {exc}".strip()))

    def _probe(self, post: Post, probe: Path | None) -> None:
        if probe is None:
            return
        deadline = time.monotonic() + self.probe_timeout
        while not self._stop.is_set() and time.monotonic() < deadline:
            with contextlib.suppress(OSError):
                probe.write_text(str(time.time()), encoding="utf-8")
            if self._probed.wait(0.15):
                post(("events-ok",))
                break
        else:
            if not self._stop.is_set():
                post(("events-failed", "no file event arrived (a network drive, a WSL or container mount?)"))
        with contextlib.suppress(OSError):
            probe.unlink()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=2)


def wait_for(events: queue.Queue, kinds: Iterable[str], timeout: float) -> tuple | None:
    """The first event of one of these kinds within the timeout (others are dropped): for probes and tests."""
    kinds = set(kinds)
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            event = events.get(timeout=remaining)
        except queue.Empty:
            return None
        if event[0] in kinds:
            return event
