"""Progress and hint counters: pure functions over a small dict.

Shape: {"version": 1, "katas": {"01-command-center": {"checks": 3, "hints": 1,
"first_check": 1700000000.0, "passed_at": 1700000300.0 | None,
"caught_up_at": 1700000400.0 | None, "passed_digest": "…", "caught_up_digest": "…",
"fixed": ["the list's customer"], "fixed_digest": "…"}}}

``fixed``: for a kata that names its failures (kata.toml ``[[failures]]``), the
ones its last check showed fixed, and ``fixed_digest`` the code that check judged.

``caught_up_at`` is set by ``catch-up``: the kata got the reference fix so
the learner could join the room further on. It counts as finished (the
runner moves past it) but not as passed (reports tell the two apart).

``passed_digest`` and ``caught_up_digest`` say what the kata's code was when
it passed or got the fix (runner/workspace.py's ``code_digest``). The
record keeps the history; ``as_of`` gives the view every command shows: a
kata whose code changed since (a ``reset``, an experiment that broke it) is
not passed, nor finished, until a check passes on the code as it is.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence

from runner.catalogue import Kata

VERSION = 1


def empty() -> dict:
    return {"version": VERSION, "katas": {}}


FIELDS = {
    "checks": int,
    "hints": int,
    "first_check": float,
    "passed_at": float,
    "caught_up_at": float,
    "passed_digest": str,
    "caught_up_digest": str,
    "fixed": list,
    "fixed_digest": str,
}
# Beyond these, a value is damage, not progress: a count nobody reaches, a time after the year 5000.
LIMITS = {int: 10**9, float: 1e11}


def _value_is_valid(value: object, kind: type) -> bool:
    if kind is list:  # names of a kata's failures
        return isinstance(value, list) and len(value) <= 64 and all(_value_is_valid(v, str) for v in value)
    if kind is str:
        return isinstance(value, str) and len(value) <= 128
    if isinstance(value, bool) or not isinstance(value, (int, float) if kind is float else int):
        return False
    # Infinity and NaN parse from JSON: they are not times, and would crash every duration.
    return math.isfinite(value) and 0 <= value < LIMITS[kind]


def _entry_is_valid(item: object) -> bool:
    if not isinstance(item, dict):
        return False
    for key, kind in FIELDS.items():
        value = item.get(key)
        if value is None and kind is not int:
            continue
        if key not in item and kind is int:
            continue
        if not _value_is_valid(value, kind):
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
        "passed_digest": None,
        "caught_up_digest": None,
        "fixed": [],
        "fixed_digest": None,
        **state["katas"].get(kata_id, {}),
    }


def record_check(
    state: dict,
    kata_id: str,
    passed: bool,
    now: float,
    digest: str | None = None,
    fixed: Sequence[str] | None = None,
) -> dict:
    """One more check; a pass keeps the time of the first one and what the code was this time.

    ``fixed``: the kata's named failures this check showed fixed (None: it names none).
    """
    new = copy.deepcopy(state)
    item = entry(new, kata_id)
    item["checks"] += 1
    item["first_check"] = item["first_check"] or now
    if passed:
        item["passed_at"] = item["passed_at"] or now
        item["passed_digest"] = digest
    if fixed is not None:
        item["fixed"] = list(fixed)
        item["fixed_digest"] = digest
    new["katas"][kata_id] = item
    return new


def record_hint(state: dict, kata_id: str, total: int) -> tuple[dict, int]:
    """Reveal the next hint: returns the new state and how many are now revealed."""
    new = copy.deepcopy(state)
    item = entry(new, kata_id)
    item["hints"] = min(item["hints"] + 1, total)
    new["katas"][kata_id] = item
    return new, item["hints"]


def record_catch_up(state: dict, kata_id: str, now: float, digest: str | None = None) -> dict:
    new = copy.deepcopy(state)
    item = entry(new, kata_id)
    item["caught_up_at"] = item["caught_up_at"] or now
    item["caught_up_digest"] = digest
    new["katas"][kata_id] = item
    return new


def record_reset(state: dict, kata_id: str) -> dict:
    """The kata is back at its start: a pass recorded without a digest no longer stands for its code."""
    new = copy.deepcopy(state)
    if kata_id in new["katas"]:
        item = entry(new, kata_id)
        for key in ("passed", "caught_up"):
            if item[f"{key}_at"] and not item[f"{key}_digest"]:
                item[f"{key}_digest"] = "reset"
        if item["fixed"] and not item["fixed_digest"]:
            item["fixed_digest"] = "reset"
        new["katas"][kata_id] = item
    return new


def as_of(state: dict, digests: Mapping[str, str | None]) -> dict:
    """The progress as the code is now: a kata changed since its pass (or its catch-up) is neither.

    ``digests`` holds each kata's code digest now. A record without a digest
    (written before digests were kept) is taken at its word. A pass recorded
    before the first check (a clock set back) counts from the pass.
    """
    view = copy.deepcopy(state)
    for kata_id, item in view["katas"].items():
        now = digests.get(kata_id)
        if item.get("passed_at") and item.get("passed_digest") and item["passed_digest"] != now:
            item["passed_at"] = None
        if item.get("caught_up_at") and item.get("caught_up_digest") and item["caught_up_digest"] != now:
            item["caught_up_at"] = None
        if item.get("fixed") and item.get("fixed_digest") and item["fixed_digest"] != now:
            item["fixed"] = []  # what the last check saw fixed is not what the code is now
        if item.get("passed_at") and item.get("first_check") and item["first_check"] > item["passed_at"]:
            item["first_check"] = item["passed_at"]
    return view


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
