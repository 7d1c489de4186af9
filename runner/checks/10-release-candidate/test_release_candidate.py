"""The release candidate, as production runs it: every route over HTTP, the worker's batches, and
what each costs; and the release's own test suite, with raiseload("*") on."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from app.mail import MemoryOutbox
from app.models import Notification, Order, OrderLine, Shipment
from app.worker import ConfirmationWorker

ORDERS = "/api/orders"


async def fetch(client, method: str, url: str, what: str, status: int = 200, **kwargs):
    response = await client.request(method, url, **kwargs)
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


def check_order(expected: dict, got, what: str) -> None:
    """The answer shows the order as the database holds it, field by field."""
    assert isinstance(got, dict), f"{what} should answer an order; it answered {got!r}"
    for name, value in expected.items():
        assert same(value, got.get(name, "(missing)")), (
            f"{what}, order {expected['number']}: {name} should be {value!r}, the response has "
            f"{got.get(name, '(missing)')!r}"
        )


@pytest.mark.parametrize("status", ["placed", "confirmed"])
async def test_the_back_office_lists_the_orders(status, client, shop):
    """The back office lists the {status} orders, newest first, each with its customer and lines"""
    await shop.add(4, status="placed")
    await shop.add(3, status="confirmed")

    got = await fetch(client, "GET", f"{ORDERS}?status={status}", f"the list of {status} orders")

    expected = shop.listed(status)
    numbers = [order["number"] for order in expected]
    shown = [order.get("number") for order in got] if isinstance(got, list) else got
    assert shown == numbers, f"the list of {status} orders should show {numbers} in that order; it shows {shown}"
    for want, order in zip(expected, got, strict=True):
        check_order(want, order, f"the list of {status} orders")


async def test_the_back_office_list_costs_the_same_for_30_orders_as_for_5(client, shop, sql):
    """The back office's list runs the same number of SQL statements for 5 orders as for 30"""
    counts = {}
    for size, status in ((5, "placed"), (30, "confirmed")):
        await shop.add(size, status=status)
        sql.clear()  # the list's statements only, not the seeding's
        got = await fetch(client, "GET", f"{ORDERS}?status={status}", f"the list of {size} orders")
        counts[size] = len(sql)
        assert len(got) == size, f"the list of {size} {status} orders shows {len(got)}"

    assert counts[5] == counts[30], (
        f"the list ran {counts[5]} SQL statements for 5 orders and {counts[30]} for 30: something queries once "
        "per order, and the warehouse screens poll this list every few seconds. Load what the list shows with "
        "the query that finds the orders"
    )


async def test_an_orders_page_shows_it(client, shop):
    """An order's page shows the order, its customer and its lines; an unknown order is a 404"""
    _, order, _ = await shop.add(3, status="confirmed", lines=3)

    got = await fetch(client, "GET", f"{ORDERS}/{order.id}", f"the page of order {order.number}")

    check_order(order.shown(), got, f"the page of order {order.number}")
    await fetch(client, "GET", f"{ORDERS}/{order.id + 1000}", "the page of an unknown order", status=404)


@pytest.mark.parametrize("lines", [2, 5])
async def test_placing_an_order_stores_it_and_answers_it(lines, client, shop):
    """Placing an order of {lines} lines stores it at today's prices and answers it; unknown plants are refused"""
    await shop.add(2)  # other customers' orders: the new one is not alone in its tables
    customer_id = await shop.customer()
    name, _ = shop.customers[customer_id]
    asked = [{"sku": sku, "quantity": n + 1} for n, sku in enumerate(shop.skus[:lines])]

    got = await fetch(
        client, "POST", ORDERS, "placing an order", 201, json={"customer_id": customer_id, "lines": asked}
    )

    [stored] = await shop.stored(Order, Order.customer_id == customer_id)
    stored_lines = await shop.stored(OrderLine, OrderLine.order_id == stored.id)
    assert stored.status == "placed" and len(stored_lines) == lines, (
        f"after placing an order of {lines} lines the database holds it as {stored.status!r} with "
        f"{len(stored_lines)} lines; it should be 'placed', with {lines}"
    )
    expected = {
        "id": stored.id,
        "number": stored.number,
        "status": "placed",
        "customer": name,
        "placed_at": stored.placed_at,
        "total_cents": sum(a["quantity"] * shop.products[a["sku"]]["price_cents"] for a in asked),
        "lines": [
            {
                "sku": a["sku"],
                "name": shop.products[a["sku"]]["name"],
                "quantity": a["quantity"],
                "unit_price_cents": shop.products[a["sku"]]["price_cents"],
            }
            for a in asked
        ],
    }
    check_order(expected, got, "the answer to placing an order")
    unknown = {"customer_id": customer_id, "lines": [{"sku": "NO-SUCH-SKU", "quantity": 1}]}
    await fetch(client, "POST", ORDERS, "an order of a plant the shop does not sell", 422, json=unknown)
    nobody = {"customer_id": customer_id + 1000, "lines": asked[:1]}
    await fetch(client, "POST", ORDERS, "an order of a customer that does not exist", 404, json=nobody)


async def test_placing_an_order_queries_as_much_for_5_lines_as_for_2(client, shop, sql):
    """Placing an order runs the same number of queries (SELECTs) for 5 lines as for 2"""
    await shop.add(2)
    counts = {}
    for lines in (2, 5):
        customer_id = await shop.customer()
        asked = [{"sku": sku, "quantity": 1} for sku in shop.skus[:lines]]
        sql.clear()
        got = await fetch(
            client,
            "POST",
            ORDERS,
            f"placing an order of {lines} lines",
            201,
            json={"customer_id": customer_id, "lines": asked},
        )
        counts[lines] = len([s for s in sql.statements if s.lstrip().upper().startswith("SELECT")])
        assert len(got.get("lines", [])) == lines, f"placing an order of {lines} lines answered {got}"
    assert counts[2] == counts[5], (
        f"placing an order ran {counts[2]} queries for 2 lines and {counts[5]} for 5: something reads once per "
        "line. Load the products of all the lines in one query, and answer from what is loaded"
    )


async def test_shipping_an_order_stamps_it_with_the_databases_time(client, shop, sql, database_clock):
    """Shipping a confirmed order stores its shipment, stamped with the time the database gave the order"""
    _, order = await shop.add(2, status="confirmed")
    [placed] = await shop.add(1, status="placed")

    sql.clear()
    got = await fetch(
        client,
        "POST",
        f"{ORDERS}/{order.id}/shipment",
        "shipping a confirmed order",
        201,
        json={"carrier": "Parcelway"},
    )
    statements = len(sql)

    [stored] = await shop.stored(Order, Order.id == order.id)
    shipments = await shop.stored(Shipment, Shipment.order_id == order.id)
    assert stored.status == "shipped" and len(shipments) == 1, (
        f"after shipping order {order.number} the database holds it as {stored.status!r} with {len(shipments)} "
        "shipments; it should be 'shipped', with one"
    )
    assert database_clock.gave(stored.updated_at), (
        f"the order's updated_at is {stored.updated_at}, not a time {database_clock} gave: the database stamps it"
    )
    assert shipments[0].shipped_at == stored.updated_at, (
        f"the shipment of {order.number} is stamped {shipments[0].shipped_at}, and the database stamped the order "
        f"{stored.updated_at} when it shipped: the carrier's claims are matched on that time, so they must be the same"
    )
    assert got.get("number") == order.number and same(stored.updated_at, got.get("shipped_at")), (
        f"shipping {order.number} answered {got}: it should name the order and the time it shipped, {stored.updated_at}"
    )
    assert statements <= 6, f"shipping one order ran {statements} SQL statements; it takes a handful (at most 6)"
    await fetch(
        client,
        "POST",
        f"{ORDERS}/{placed.id}/shipment",
        "shipping an order not confirmed yet",
        409,
        json={"carrier": "Parcelway"},
    )
    await fetch(
        client,
        "POST",
        f"{ORDERS}/{order.id + 1000}/shipment",
        "shipping an unknown order",
        404,
        json={"carrier": "Parcelway"},
    )


def money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d} EUR"


async def test_the_worker_confirms_and_mails_every_placed_order(shop, sessions):
    """The worker confirms every placed order, mails each customer once, and logs each mail"""
    placed = await shop.add(4, status="placed", lines=3)
    await shop.add(2, status="confirmed")
    outbox = MemoryOutbox()

    confirmed = await ConfirmationWorker(sessions, outbox).run_once()

    assert confirmed == 4, f"the worker's batch confirmed {confirmed} orders; 4 were placed"
    for order in placed:
        assert await shop.status(order.id) == "confirmed", f"order {order.number} is not stored as confirmed"
        mails = [m for m in outbox.sent if m.to == order.email]
        assert len(mails) == 1, f"{order.email} got {len(mails)} mails for order {order.number}; one confirmation"
        assert order.number in mails[0].subject and f"Total: {money(order.total_cents)}" in mails[0].body, (
            f"the confirmation of {order.number} reads {mails[0].subject!r} / {mails[0].body!r}: it names the "
            f"order and its total, {money(order.total_cents)}"
        )
    logged = await shop.stored(Notification)
    assert sorted(n.order_id for n in logged) == sorted(o.id for o in placed), (
        f"the mail log holds {[(n.order_id, n.email) for n in logged]}; it should hold one mail per confirmed order"
    )
    again = await ConfirmationWorker(sessions, outbox).run_once()
    assert again == 0 and len(outbox.sent) == 4, "a second batch must confirm and mail nothing: all are confirmed"


async def test_the_worker_costs_the_same_for_12_orders_as_for_3(shop, sessions, sql):
    """The worker's batch runs the same number of SQL statements for 3 orders as for 12"""
    counts = {}
    for size in (3, 12):
        await shop.add(size, status="placed")
        outbox = MemoryOutbox()
        sql.clear()
        confirmed = await ConfirmationWorker(sessions, outbox).run_once()
        counts[size] = len(sql)
        assert confirmed == size and len(outbox.sent) == size, (
            f"a batch of {size} placed orders confirmed {confirmed} and sent {len(outbox.sent)} mails"
        )
    assert counts[3] == counts[12], (
        f"the worker ran {counts[3]} SQL statements for 3 orders and {counts[12]} for 12: something queries "
        "once per order. Load what the mails read with the query that claims the orders"
    )


def failed_tests(output: str) -> list[str]:
    """The failing tests pytest's short summary names (-rf), each with its error's last line."""
    return [line.removeprefix("FAILED ").strip() for line in output.splitlines() if line.startswith("FAILED ")]


def test_the_release_suite_passes_with_raiseload(tmp_path):
    """The release's own suite (tests/) passes with raiseload("*") on every query (RAISELOAD=1)"""
    # About two seconds: a pytest of its own (a process of its own, as the learner runs it), which
    # imports the app and runs every test of the release's suite.
    from app import __file__ as app_init

    kata = Path(app_init).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "KATAS_"))}
    env.update(RAISELOAD="1", COLUMNS="300", PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTHONDONTWRITEBYTECODE="1")
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "pytest_asyncio.plugin",
        "-p",
        "no:cacheprovider",
        "-q",
        "-rf",
        "--tb=no",
        "--basetemp",
        str(tmp_path / "suite"),
        "-o",
        "console_output_style=classic",
    ]
    run = subprocess.run(command, cwd=kata, env=env, capture_output=True, text=True, timeout=60)
    failed = failed_tests(run.stdout)
    assert run.returncode != 5, "the release's own suite has no tests left: tests/ should test every route"
    assert run.returncode == 0, (
        'with raiseload("*") on every query, the release\'s own suite fails:\n  '
        + "\n  ".join(failed or [(run.stdout + run.stderr).strip()[-600:]])
        + "\nA relationship a test's request read, and that the query which found its object never loaded: "
        "in production, where no earlier query of the request left it in the session, that read is a lazy "
        "load, and async code cannot run it. Run it yourself, from the repository's root: "
        "RAISELOAD=1 python -m pytest katas/10-release-candidate -p implicit_io.plugin"
    )
