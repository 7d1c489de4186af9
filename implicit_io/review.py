"""A reviewer's notes on tests that pass: how many statements, whether they grow with the data, and
failures your code caught instead of fixing.

A "call" is one run of the function where your code was entered (a route a
request reached, a service method a test called), however many connection
checkouts it takes: a commit then a refresh is one call. A decorator's wrapper
is not the call; the function it wraps is (``implicit_io.frames.EntryFinder``).

A call queries once per row when one line of yours sends the same SELECT again
and again in it, each time for another value: at least ``MIN_REPEATS`` times,
with as many different values. That is the statement the review names, with
the line that sent it. Work a call does once, however much data it handles, is
never "per row": a commit, a refresh, an eager load's extra SELECT, and the
INSERTs of the objects it creates (on SQLite, SQLAlchemy sends one INSERT per
row: writing what the story asks for is not a query per row).

A call is "flat" when the data it handled varied widely over its runs (three
sizes or more, or two far apart) and its SELECTs did not change at all.
Between those two, the review says nothing: a call that takes another path
(stores a digest on the first visit, serves it on the next) sends a few
statements more without growing with the data.
"""

from __future__ import annotations

import statistics

from implicit_io.explain import describe, hidden_groups
from implicit_io.frames import Scope

MIN_REPEATS = 3  # sends of one SELECT in one call, each for another value, before it is "per row"
FAR_APART = (3, 10)  # two data sizes are far apart when the larger is 3 times the smaller, and 10 rows more


def _repeats(query) -> bool:
    return query.count >= MIN_REPEATS and query.distinct[0] >= MIN_REPEATS


def growth(segments) -> list[dict]:
    """One entry per function your code was entered through: every call's size, and the SELECTs it repeated."""
    by_entry: dict[tuple, dict] = {}
    for segment in segments:
        entry = segment.entry
        operation = by_entry.setdefault(
            (entry["file"], entry["line"], entry["function"]), {**entry, "calls": [], "per_row": {}}
        )
        operation["calls"].append((segment.loaded + segment.written, segment.reads))
        for query in segment.queries.values():
            if _repeats(query):
                where = query.sent_at
                found = operation["per_row"].setdefault(
                    (query.sql, where["file"], where["line"]), {"sql": query.sql, **where, "counts": set()}
                )
                found["counts"].add((query.count, *query.distinct))
    return [_judge(operation) for operation in by_entry.values()]


def _judge(operation: dict) -> dict:
    """Plain data (lists, sorted) and the verdict: grows (a SELECT repeated per row), flat, or neither."""
    calls = sorted(tuple(call) for call in operation["calls"])
    per_row = sorted(
        (
            dict(found, counts=[list(c) for c in sorted({tuple(c) for c in found["counts"]})])
            for found in operation["per_row"].values()
        ),
        key=lambda found: (-max(c[0] for c in found["counts"]), found["file"], found["line"]),
    )
    sizes = sorted({rows for rows, _ in calls})
    low = min(calls, key=lambda call: (call[0], -call[1]))
    high = max(calls, key=lambda call: (call[0], call[1]))
    varied = len(sizes) >= 3 or (sizes[-1] >= FAR_APART[0] * max(sizes[0], 1) and sizes[-1] - sizes[0] >= FAR_APART[1])
    reads = {queries for _, queries in calls}
    return {
        "file": operation["file"],
        "line": operation["line"],
        "function": operation["function"],
        "calls": [list(call) for call in calls],  # (rows, SELECTs) of each call
        "runs": [list(low), list(high)],  # (rows, SELECTs) of the smallest and the largest call
        "per_row": per_row,
        "grows": bool(per_row),
        "flat": not per_row and varied and len(reads) == 1,
    }


def check_review(record, scope: Scope, failed: bool = False, rules=None, kata_rules=()) -> dict:
    """What one test's run says about the approach (plain data).

    A failed test's caught failures are in its explanation (``hidden``), not here; its
    operations are kept (a failing query budget shows the query it repeated) but
    ``combine`` leaves the test out of the run's review.
    """
    caught = [] if failed else list(record.incidents)
    swallowed = hidden_groups(caught, scope)
    if swallowed:  # the first one, explained in full: why it failed, and the fix that is not an except
        swallowed[0]["explained"] = describe(caught[0], scope, rules, kata_rules)
    return {
        "failed": failed,
        "statements": record.statements,
        "own_statements": sum(segment.statements for segment in record.segments),
        "operations": growth(record.segments),
        "swallowed": swallowed,
    }


def per_row(review: dict | None) -> list[dict]:
    """The operations of a review that query once per row."""
    return [operation for operation in (review or {}).get("operations", []) if operation.get("grows")]


def combine(reviews: list[tuple[str, dict]]) -> dict:
    """One review for a whole run, of the checks that passed: each one's statements, every call measured
    (the calls of one function over all the checks), every caught failure."""
    checks, operations, swallowed, seen = [], {}, [], set()
    for name, review in reviews:
        if review.get("failed"):
            continue
        checks.append({"name": name, "own_statements": review.get("own_statements")})
        for operation in review.get("operations", []):
            known = operations.setdefault(
                (operation["file"], operation["line"], operation["function"]),
                {**operation, "calls": [], "per_row": {}},
            )
            known["calls"] += operation["calls"]
            for found in operation.get("per_row", []):
                merged = known["per_row"].setdefault(
                    (found["sql"], found["file"], found["line"]), dict(found, counts=set())
                )
                merged["counts"] |= {tuple(count) for count in found["counts"]}
        for item in review.get("swallowed", []):
            location = item.get("location") or {}
            attribute = item.get("attribute") or {}
            key = (location.get("file"), location.get("line"), attribute.get("model"), attribute.get("key"))
            if key not in seen:
                seen.add(key)
                swallowed.append(dict(item, check=name))
    counted = [c["own_statements"] for c in checks if c["own_statements"]]
    judged = [_judge(operation) for operation in operations.values()]
    return {
        "checks": checks,
        "median_statements": statistics.median(counted) if counted else 0,
        "operations": sorted(judged, key=lambda o: (not o["grows"], not o["flat"], o["file"], o["line"])),
        "swallowed": swallowed,
    }
