"""Hints that follow the current failure: which ladder of hints fits the last check, and its last tier.

A kata's ``kata.toml`` holds its ladder (``hints``: a nudge, the concept, nearly
the answer) for the failure its start shows, and ladders keyed to the failures
a learner meets on the way (``[[hints_for]]``, matched by the explained cause of
a failing check, by part of its scenario line, or by a failure their code
caught). The last tier of every ladder is the literal Fix the explainer wrote for
the failure the last check showed: the answer, earned.

Choosing is pure (``choose``, ``tiers``); ``reveal`` is the IO edge: it reads the
last check (runner/lastcheck.py) and keeps how far each ladder has been climbed
in ``.katas/hints/<kata-id>.json``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from implicit_io import text as io_text
from runner import lastcheck
from runner.catalogue import Kata
from runner.workspace import Workspace

# The kinds of failure that are the implicit-IO crash a kata starts with (its own ladder).
CRASH_KINDS = {"lazy-load", "unloaded-column", "io-outside-greenlet", "detached", "concurrent-session"}


@dataclass(frozen=True)
class Ladder:
    key: str  # "start" (the kata's own ladder), "for-N" (its Nth [[hints_for]]), "check" (none fits)
    hints: tuple[str, ...]
    failure: dict | None = None  # the failure whose Fix is the last tier
    scenario: str | None = None  # a failing check it belongs to
    about: str = ""  # one line: which failure these hints are about
    caught: bool = False  # the failure was caught by the learner's code (the Fix reads "Not the except")


def _matches(focus: dict, entry: dict) -> bool:
    """Whether a keyed ladder fits a failure: its cause, a failure the code caught, or (once nothing
    crashes there) the check it fails."""
    failure = entry.get("failure") or {}
    if failure.get("cause") in focus.get("causes", ()):
        return True
    if focus.get("caught") and failure.get("behind"):
        return True
    if failure.get("kind") in CRASH_KINDS or failure.get("behind"):
        return False  # a check that crashes is about the crash, whatever its name says
    return any(part in name for part in focus.get("checks", ()) for name in entry.get("checks", ()))


def _fix_source(failure: dict) -> tuple[dict | None, bool]:
    """The failure whose Fix answers it: itself, or the caught failure behind an assertion."""
    if failure.get("fix"):
        return failure, False
    behind = failure.get("behind")
    if behind and behind.get("fix"):
        return behind, True
    return None, False


def _about(entry: dict) -> str:
    """One line naming the failure a ladder is for, as the check showed it."""
    failure = entry.get("failure") or {}
    checks = entry.get("checks") or []
    scenario = f", in: {checks[0]}" if checks else ""
    attribute = failure.get("attribute") or (failure.get("behind") or {}).get("attribute")
    error = failure.get("error") or (failure.get("behind") or {}).get("error")
    if failure.get("behind") and attribute:
        return f"a {error} your code caught, on {attribute['model']}.{attribute['key']}{scenario}"
    if failure.get("kind") == "assertion":
        return f"a check that fails{scenario}"
    if attribute:
        return f"{error} on {attribute['model']}.{attribute['key']}{scenario}"
    return f"{failure.get('error') or failure.get('exception', 'an error').split(':')[0]}{scenario}"


def choose(kata: Kata, last: dict | None, rule_statements: tuple[str, ...] = ()) -> Ladder:
    """The ladder for the failure the last check showed; the kata's own when there is no check yet."""
    entries = (last or {}).get("failures") or []
    if not last or last.get("passed") or not entries:
        return Ladder("start", kata.hints, about="the failure this kata starts with")
    for entry in entries:  # in check order: the first failure a keyed ladder fits
        for index, focus in enumerate(kata.hints_for):
            if _matches(focus, entry):
                failure, caught = _fix_source(entry["failure"])
                return Ladder(
                    f"for-{index}",
                    tuple(focus.get("hints", ())),
                    failure,
                    (entry.get("checks") or [None])[0],
                    _about(entry),
                    caught,
                )
    for entry in entries:
        if (entry.get("failure") or {}).get("kind") in CRASH_KINDS:
            return Ladder("start", kata.hints, entry["failure"], (entry.get("checks") or [None])[0], _about(entry))
    # No crash, and no ladder written for this failure: its own words, then the rules the kata trains.
    entry = entries[0]
    failure = entry.get("failure") or {}
    message = failure.get("message") or failure.get("exception") or "see the check's message"
    checks = entry.get("checks") or []
    first = (
        f"The crash is behind you; what fails now is a check: {checks[0]}. What it saw: {message}"
        if checks
        else f"What fails now: {message}"
    )
    rules = tuple(f"The rule behind this kata: {statement}" for statement in rule_statements if statement)
    fix, caught = _fix_source(failure)
    return Ladder("check", (first, *rules), fix, checks[0] if checks else None, _about(entry), caught)


def tiers(ladder: Ladder, kata_dir: str = "", style=None) -> list[str]:
    """Every tier of the ladder, in order: the written hints, then the literal Fix when there is one."""
    shown = [hint.strip() for hint in ladder.hints]
    if ladder.failure:
        lines = io_text.fix_lines(ladder.failure, kata_dir, style, caught=ladder.caught)
        if lines:
            where = f" (in: {ladder.scenario})" if ladder.scenario else ""
            shown.append("\n".join([f"The fix for the failure your last check showed{where}:", *lines]))
    return shown


# --- IO: how far each ladder has been climbed -------------------------------------------------


def positions_path(ws: Workspace, kata_id: str) -> Path:
    return ws.state_dir / "hints" / f"{kata_id}.json"


def _load_positions(ws: Workspace, kata_id: str) -> dict:
    try:
        data = json.loads(positions_path(ws, kata_id).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return (
        {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, int)} if isinstance(data, dict) else {}
    )


def _save_positions(ws: Workspace, kata_id: str, positions: dict) -> None:
    lastcheck.write_atomically(positions_path(ws, kata_id), positions)


def rule_statements(ws: Workspace, kata: Kata) -> tuple[str, ...]:
    from implicit_io.rules import RuleIndex

    index = RuleIndex.discover(ws.root)
    return tuple(index.rules[slug].statement for slug in kata.rules if slug in index.rules)


@dataclass(frozen=True)
class Revealed:
    ladder: Ladder
    tiers: tuple[str, ...]
    first: int  # index of the first tier to show
    revealed: int  # tiers revealed so far on this ladder (the last one shown is tiers[revealed - 1])
    new: bool  # this call revealed a tier not seen before


def reveal(ws: Workspace, kata: Kata, kata_dir: str, style=None, show_all: bool = False) -> Revealed:
    """The next tier of the ladder that fits the last check (every tier with ``show_all``), and remember it."""
    ladder = choose(kata, lastcheck.load(ws, kata.id), rule_statements(ws, kata))
    shown = tuple(tiers(ladder, kata_dir, style))
    positions = _load_positions(ws, kata.id)
    before = min(positions.get(ladder.key, 0), len(shown))
    revealed = len(shown) if show_all else min(before + 1, len(shown))
    if revealed != positions.get(ladder.key):
        positions[ladder.key] = revealed
        _save_positions(ws, kata.id, positions)
    first = 0 if show_all else max(revealed - 1, 0)
    return Revealed(ladder, shown, first, revealed, revealed > before)
