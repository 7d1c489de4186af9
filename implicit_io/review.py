"""A reviewer's notes on tests that pass: how many statements, whether they grow with the data, and
failures your code caught instead of fixing.

A "call" is one run of your code's outermost function (its entry point) on one
connection checkout: a service method a test calls, a route a request reaches.
When a test runs the same entry point over different amounts of data (rows
loaded or written), the statements of the smallest and the largest run say
whether the code queries once per row.
"""

from __future__ import annotations

import statistics

from implicit_io.explain import describe, hidden_groups
from implicit_io.frames import Scope


def growth(segments) -> list[dict]:
    by_entry: dict[tuple, list[tuple[int, int]]] = {}
    for segment in segments:
        entry = segment.entry
        by_entry.setdefault((entry["file"], entry["line"], entry["function"]), []).append(
            (segment.loaded, segment.statements)
        )
    found = []
    for (file, line, function), runs in by_entry.items():
        if len({rows for rows, _ in runs}) < 2:
            continue
        low, high = min(runs), max(runs)
        found.append(
            {
                "file": file,
                "line": line,
                "function": function,
                "runs": [list(low), list(high)],
                "grows": high[1] > low[1],
            }
        )
    return found


def check_review(record, scope: Scope, failed: bool = False, rules=None, kata_rules=()) -> dict:
    """What one test's run says about the approach (plain data).

    A failed test's caught failures are in its explanation (``hidden``), not here.
    """
    caught = [] if failed else list(record.incidents)
    swallowed = hidden_groups(caught, scope)
    if swallowed:  # the first one, explained in full: why it failed, and the fix that is not an except
        swallowed[0]["explained"] = describe(caught[0], scope, rules, kata_rules)
    return {
        "statements": record.statements,
        "own_statements": sum(segment.statements for segment in record.segments),
        "operations": growth(record.segments),
        "swallowed": swallowed,
    }


def combine(reviews: list[tuple[str, dict]]) -> dict:
    """One review for a whole run: per check, the operations that were measured, every caught failure."""
    checks, operations, swallowed, seen = [], {}, [], set()
    for name, review in reviews:
        checks.append({"name": name, "own_statements": review.get("own_statements")})
        for operation in review.get("operations", []):
            key = (operation["file"], operation["function"])
            known = operations.get(key)
            if known is None or operation["grows"] or (not known["grows"] and _spread(operation) > _spread(known)):
                operations[key] = operation
        for item in review.get("swallowed", []):
            location = item.get("location") or {}
            attribute = item.get("attribute") or {}
            key = (location.get("file"), location.get("line"), attribute.get("model"), attribute.get("key"))
            if key not in seen:
                seen.add(key)
                swallowed.append(dict(item, check=name))
    counted = [c["own_statements"] for c in checks if c["own_statements"]]
    return {
        "checks": checks,
        "median_statements": statistics.median(counted) if counted else 0,
        "operations": sorted(operations.values(), key=lambda o: (not o["grows"], o["file"], o["line"])),
        "swallowed": swallowed,
    }


def _spread(operation: dict) -> int:
    (low_rows, _), (high_rows, _) = operation["runs"]
    return high_rows - low_rows
