"""Progress and hint counters: pure functions over a small dict.

Shape: {"version": 1, "katas": {"01-command-center": {"checks": 3, "hints": 1,
"first_check": 1700000000.0, "passed_at": 1700000300.0 | None}}}
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from runner.catalogue import Kata

VERSION = 1


def empty() -> dict:
    return {"version": VERSION, "katas": {}}


def is_valid(state: object) -> bool:
    return (
        isinstance(state, dict)
        and state.get("version") == VERSION
        and isinstance(state.get("katas"), dict)
        and all(isinstance(v, dict) for v in state["katas"].values())
    )


def entry(state: dict, kata_id: str) -> dict:
    return {"checks": 0, "hints": 0, "first_check": None, "passed_at": None, **state["katas"].get(kata_id, {})}


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


def is_done(state: dict, kata_id: str) -> bool:
    return bool(entry(state, kata_id)["passed_at"])


def first_unfinished(katas: Sequence[Kata], state: dict) -> Kata | None:
    return next((k for k in katas if not is_done(state, k.id)), None)
