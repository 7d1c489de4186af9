"""A check's process ends when the runner that started it is gone, whatever ended the runner.

Loaded first in every pytest process of a check (``-p runner.lifeline``) and
in every warm spare of watch mode. The runner names itself in
``KATAS_PARENT_PID``; a thread here looks at the parent pid every
POLL seconds, and once it differs (the runner was killed with -9, its
terminal closed, its laptop lid shut) it kills this process's whole group:
the checks and anything the learner's code started. Before that, on
PostgreSQL, it starts the sweep of the schemas the killed checks leave
(runner/sweep.py), in a session of its own so it survives the kill.

Polling, rather than Linux's PR_SET_PDEATHSIG: that signal fires when the
*thread* that started the child ends, and watch mode starts spares from
short-lived threads. A poll works on macOS too.
"""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

POLL = 0.2  # seconds between two looks at the parent
_started = threading.Event()


def _parent_gone(expected: int) -> bool:
    return os.getppid() != expected


def _end_group() -> None:
    try:
        from runner import processes

        checks = os.environ.get("KATAS_CHECKS_DIR")
        if checks:
            processes.sweep_schemas(Path(checks), detach=True)
    finally:
        try:
            if os.getpgrp() == os.getpid():  # the group is ours alone (the runner started it so)
                os.killpg(0, signal.SIGKILL)
        finally:
            os._exit(70)


def _watch(expected: int) -> None:
    stop = threading.Event()
    while not stop.wait(POLL):
        if _parent_gone(expected):
            _end_group()


def start() -> bool:
    """Watch the parent named in KATAS_PARENT_PID (once per process); False when there is none to watch."""
    raw = os.environ.get("KATAS_PARENT_PID", "")
    if os.name == "nt" or not raw.isdigit() or _started.is_set():
        return False
    _started.set()
    expected = int(raw)
    if _parent_gone(expected):  # gone before this process even started
        _end_group()
    threading.Thread(target=_watch, args=(expected,), daemon=True, name="katas-lifeline").start()
    return True


start()  # as a pytest plugin (-p runner.lifeline), at the moment pytest loads it
