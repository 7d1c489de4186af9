"""Progress and hint counters: pure functions over a small dict.

Shape: {"version": 1, "katas": {"01-command-center": {"checks": 3, "hints": 1,
"first_check": 1700000000.0, "passed_at": 1700000300.0 | None,
"caught_up_at": 1700000400.0 | None}}}

``caught_up_at`` is set by ``catch-up``: the kata got the reference fix so
the learner could join the room further on. It counts as finished (the
runner moves past it) but not as passed (reports tell the two apart).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from runner.catalogue import Kata

VERSION = 1


def empty() -> dict:
    return {"version": VERSION, "katas": {}}


FIELDS = {"checks": int, "hints": int, "first_check": float, "passed_at": float, "caught_up_at": float}


def _entry_is_valid(item: object) -> bool:
    if not isinstance(item, dict):
        return False
    for key, kind in FIELDS.items():
        value = item.get(key)
        if value is None and kind is float:
            continue
        if key not in item and kind is int:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
            return False
        if value < 0:
            return False
    return True


def is_valid(state: object) -> bool:
    return (
        isinstance(state, dict)
        and state.get("version") == VERSION
        and isinstance(state.get("katas"), dict)
        and all(isinstance(k, str) and _entry_is_valid(v) for k, v in state["katas"].items())
    )


def salvage(state: object) -> tuple[dict, int]:
    """What can be kept of a progress file that parses but is not valid: its well-formed entries.

    Returns the rebuilt state and how many entries were dropped.
    """
    rebuilt, dropped = empty(), 0
    katas = state.get("katas") if isinstance(state, dict) else None
    if not isinstance(katas, dict) or (isinstance(state, dict) and state.get("version") not in (VERSION, None)):
        return rebuilt, len(katas) if isinstance(katas, dict) else 0
    for kata_id, item in katas.items():
        if isinstance(kata_id, str) and _entry_is_valid(item):
            rebuilt["katas"][kata_id] = {k: item[k] for k in FIELDS if k in item}
        else:
            dropped += 1
    return rebuilt, dropped


def entry(state: dict, kata_id: str) -> dict:
    return {
        "checks": 0,
        "hints": 0,
        "first_check": None,
        "passed_at": None,
        "caught_up_at": None,
        **state["katas"].get(kata_id, {}),
    }


def record_check(state: dict, kata_id: str, passed: bool, now: float) -> dict:
    new = copy.deepcopy(state)
    item = entry(new, kata_id)
    item["checks"] += 1
    item["first_check"] = item["first_check"] or now
    if passed and not item["passed_at"]:
        item["passed_at"] = now
    new["katas"][kata_id] = item
    return new


def record_hint(state: dict, kata_id: str, total: int) -> tuple[dict, int]:
    """Reveal the next hint: returns the new state and how many are now revealed."""
    new = copy.deepcopy(state)
    item = entry(new, kata_id)
    item["hints"] = min(item["hints"] + 1, total)
    new["katas"][kata_id] = item
    return new, item["hints"]


def record_catch_up(state: dict, kata_id: str, now: float) -> dict:
    new = copy.deepcopy(state)
    item = entry(new, kata_id)
    item["caught_up_at"] = item["caught_up_at"] or now
    new["katas"][kata_id] = item
    return new


def is_done(state: dict, kata_id: str) -> bool:
    """The learner's own code passed the checks."""
    return bool(entry(state, kata_id)["passed_at"])


def is_finished(state: dict, kata_id: str) -> bool:
    """Nothing left to do here: it passed, or catch-up gave it the reference fix."""
    item = entry(state, kata_id)
    return bool(item["passed_at"] or item["caught_up_at"])


def status(state: dict, kata_id: str) -> str:
    """passed, caught-up, started or not-started."""
    item = entry(state, kata_id)
    if item["passed_at"]:
        return "passed"
    if item["caught_up_at"]:
        return "caught-up"
    return "started" if item["checks"] or item["hints"] else "not-started"


def seconds_to_pass(state: dict, kata_id: str) -> float | None:
    item = entry(state, kata_id)
    if item["passed_at"] and item["first_check"]:
        return max(0.0, item["passed_at"] - item["first_check"])
    return None


def first_unfinished(katas: Sequence[Kata], state: dict) -> Kata | None:
    return next((k for k in katas if not is_finished(state, k.id)), None)
