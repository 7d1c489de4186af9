"""What the refund desk answers, what it stores and logs, and what each page costs, over HTTP."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

QUEUE = "/api/refunds"


def report_url(month: str) -> str:
    return f"/api/reports/refunds/{month}"


async def fetch(client, method: str, url: str, what: str, status: int = 200):
    response = await client.request(method, url)
    assert response.status_code == status, (
        f"{what} ({method} {url}) answered {response.status_code}, not {status}: {response.text[:300]}"
    )
    return response.json()


def same(expected, got) -> bool:
    if isinstance(expected, datetime):
        try:
            return isinstance(got, str) and datetime.fromisoformat(got) == expected
        except ValueError:
            return False
    return got == expected


def check_items(expected: list[dict], got, what: str, key: str) -> None:
    """The page lists the expected items in that order, each field as the database holds it."""
    ids = [item[key] for item in expected]
    shown = [item.get(key) for item in got] if isinstance(got, list) else got
    assert shown == ids, f"{what} should list refunds {ids} in that order; it lists {shown}"
    for want, item in zip(expected, got, strict=True):
        for name, value in want.items():
            assert same(value, item.get(name, "(missing)")), (
                f"{what}, refund {want[key]}: {name} should be {value!r}, the response has "
                f"{item.get(name, '(missing)')!r}"
            )


@pytest.mark.parametrize("decision", ["approve", "reject"])
async def test_a_decision_is_stored_and_logged(decision, client, desk, app_log):
    """An agent's {decision} is stored, answered and written to the log finance reconciles"""
    await desk.add(3)
    refund, *_ = await desk.add(2)
    decided = {"approve": "approved", "reject": "rejected"}[decision]

    got = await fetch(client, "POST", f"{QUEUE}/{refund.id}/{decision}", f"the {decision} of a requested refund")

    status, decided_at = await desk.stored(refund.id)
    assert status == decided and decided_at is not None, (
        f"after the {decision}, the database holds refund {refund.id} as {status!r} decided at {decided_at}; "
        f"it should be {decided!r}, with the time of the decision"
    )
    assert got.get("status") == decided and got.get("id") == refund.id, f"the {decision} answered {got}"
    assert app_log.naming(f"#{refund.id}", refund.order_number), (
        f"the log has no line naming refund #{refund.id} and its order {refund.order_number} after the "
        f"{decision}; it has {app_log.lines}. Finance matches each decision to its order by that line"
    )


async def test_a_refund_is_decided_once(client, desk, app_log):
    """A refund already decided is not decided again: 409, and the attempt is logged"""
    [refund] = await desk.add(1, status="approved")
    [other] = await desk.add(1)

    await fetch(client, "POST", f"{QUEUE}/{refund.id}/reject", "rejecting an approved refund", status=409)
    await fetch(client, "POST", f"{QUEUE}/{other.id + 1000}/approve", "approving a refund nobody asked for", 404)

    assert await desk.stored(refund.id) == ("approved", refund.decided_at), (
        f"refund {refund.id} was approved already: a second decision must not change it"
    )
    assert app_log.naming(f"#{refund.id}", refund.order_number), (
        f"the log has no line naming refund #{refund.id} and its order {refund.order_number} after the "
        f"attempt to decide it again; it has {app_log.lines}"
    )


async def test_the_queue_lists_the_requests_without_their_notes(client, desk, sql):
    """The queue lists the requested refunds, oldest first, and does not carry their notes"""
    await desk.add(6)
    await desk.add(3, status="approved")

    sql.clear()
    got = await fetch(client, "GET", QUEUE, "the queue")

    check_items(desk.queue("requested"), got, "the queue", "id")
    notes = [s for s in sql.statements if re.search(r"\bnote\b", s)]
    assert not notes, (
        "the queue shows no note, and it loaded the notes of every refund it lists:\n  "
        + notes[0].strip().replace("\n", " ")[:300]
        + "\nEvery agent's screen polls the queue, and a note is kilobytes: that is why Refund.note is "
        "deferred. Load the note where a page reads it, not for every query of refunds"
    )


async def test_the_report_pays_out_every_approved_refund(client, desk):
    """The month's report lists each refund approved in it, with its customer and note, and the total"""
    await desk.add(4, status="approved", month="2024-04")
    await desk.add(7, status="approved", month="2024-05")
    await desk.add(3, status="rejected", month="2024-05")
    await desk.add(2)

    got = await fetch(client, "GET", report_url("2024-05"), "the report of May 2024")

    expected = desk.report("2024-05")
    check_items(expected["lines"], got.get("lines"), "the report of May 2024", "refund_id")
    assert got.get("total_cents") == expected["total_cents"], (
        f"the report's total should be {expected['total_cents']} cents, the sum of its lines; it is "
        f"{got.get('total_cents')}"
    )


async def test_the_report_costs_as_much_for_50_refunds_as_for_5(client, desk, sql):
    """The report runs the same number of SQL statements for 5 refunds as for 50"""
    counts = {}
    for size, month in ((5, "2024-02"), (50, "2024-03")):
        await desk.add(size, status="approved", month=month)
        sql.clear()  # the report's statements only, not the seeding's
        got = await fetch(client, "GET", report_url(month), f"the report of {size} refunds")
        counts[size] = len(sql)
        check_items(desk.report(month)["lines"], got.get("lines"), f"the report of {size} refunds", "refund_id")

    assert counts[5] == counts[50], (
        f"the report ran {counts[5]} SQL statements for 5 refunds and {counts[50]} for 50: something queries "
        "once per refund, so the report gets slower with every refund of the month. Load what the report "
        "reads with the query that finds the refunds"
    )
