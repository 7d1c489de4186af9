"""What the desk's pages answer, field by field, and what each costs, over HTTP as the agents' screens call them."""

from __future__ import annotations

from datetime import datetime

import pytest

QUEUE = "/api/tickets"


def ticket_url(ticket_id: int) -> str:
    return f"/api/tickets/{ticket_id}"


def customer_url(customer_id: int) -> str:
    return f"/api/customers/{customer_id}/tickets"


async def fetch(client, url: str, what: str):
    response = await client.get(url)
    assert response.status_code == 200, f"{what} (GET {url}) answered {response.status_code}: {response.text[:300]}"
    return response.json()


def difference(expected, got, path: str = ""):
    """The first field where the response differs from the database: (its path, expected, got), or None."""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return path or "the item", expected, got
        for key, value in expected.items():
            found = difference(value, got.get(key, "(missing)"), f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(got, list) or len(got) != len(expected):
            shown = f"{len(got)} items" if isinstance(got, list) else got
            return path, f"{len(expected)} items", shown
        for index, (want, item) in enumerate(zip(expected, got, strict=True)):
            found = difference(want, item, f"{path}[{index}]")
            if found:
                return found
        return None
    if isinstance(expected, datetime):
        try:
            same = isinstance(got, str) and datetime.fromisoformat(got) == expected
        except ValueError:
            same = False
        return None if same else (path, expected.isoformat(), got)
    return None if got == expected else (path, expected, got)


def check_ticket(expected: dict, got, what: str) -> None:
    found = difference(expected, got)
    assert found is None, (
        f"{what}, ticket {expected['id']} ({expected['subject']!r}): {found[0]} should be {found[1]!r}, the "
        f"response has {found[2]!r}. It is in the database: the response has to load it, not guess it"
    )


def check_list(expected: list[dict], got, what: str) -> None:
    """The page lists the expected tickets in that order, and every field of each is the database's."""
    ids = [ticket["id"] for ticket in expected]
    shown = [item.get("id") for item in got] if isinstance(got, list) else got
    assert shown == ids, f"{what} should list tickets {ids} in that order; it lists {shown}"
    for want, item in zip(expected, got, strict=True):
        check_ticket(want, item, what)


async def test_the_queue_shows_every_field(client, desk):
    """The queue lists the open tickets, longest waiting first, each with its customer and assignee"""
    await desk.add_tickets(6)
    await desk.add_tickets(4, statuses=("pending", "solved"))

    check_list(desk.queue("open"), await fetch(client, QUEUE, "the queue"), "the queue")
    pending = await fetch(client, f"{QUEUE}?status=pending", "the queue of pending tickets")
    check_list(desk.queue("pending"), pending, "the queue of pending tickets")


@pytest.mark.parametrize("ticket", ["with a thread of 6 replies", "just opened, nobody assigned yet"])
async def test_a_tickets_page_shows_every_field(ticket, client, desk):
    """A ticket's page ({ticket}) shows its customer, assignee, description and every reply with its author"""
    await desk.add_tickets(2)
    if ticket.startswith("with"):
        [seeded] = await desk.add_tickets(1, replies=6)
    else:
        [seeded] = await desk.add_tickets(1, replies=0, unassigned_every=1)

    got = await fetch(client, ticket_url(seeded.id), "the ticket's page")

    check_ticket(seeded.detail(), got, "the ticket's page")


async def test_a_customers_page_shows_every_field(client, desk):
    """A customer's page lists all their tickets, newest first, each with its status and assignee"""
    await desk.add_tickets(3)
    customer = await desk.add_customer(7)
    await desk.add_tickets(3)

    got = await fetch(client, customer_url(customer.id), "the customer's page")

    check_list(desk.customer_page(customer.id), got, f"the page of {customer.name}")


async def test_unknown_ids_answer_404(client, desk):
    """A ticket or a customer that does not exist answers 404"""
    [ticket] = await desk.add_tickets(1)
    for url in (ticket_url(ticket.id + 1000), customer_url(ticket.customer.id + 1000)):
        response = await client.get(url)
        assert response.status_code == 404, f"GET {url} names nothing stored, and answered {response.status_code}"


async def seed_page(page: str, desk, size: int) -> tuple[str, object, str]:
    """A page of ``size`` items on a desk that already holds other pages: its URL, its expected body, its name."""
    if page == "The queue":
        status = "open" if size > 5 else "pending"  # the two sizes, in two queues of one desk
        await desk.add_tickets(size, statuses=(status,))
        return f"{QUEUE}?status={status}", desk.queue(status), f"the queue of {size} {status} tickets"
    if page == "A ticket's page":
        [ticket] = await desk.add_tickets(1, replies=size)
        return ticket_url(ticket.id), ticket.detail(), f"the page of a ticket with {size} replies"
    customer = await desk.add_customer(size)
    return customer_url(customer.id), desk.customer_page(customer.id), f"the page of a customer with {size} tickets"


PAGES = {
    "The queue": ("tickets", "ticket"),
    "A ticket's page": ("replies", "reply"),
    "A customer's page": ("tickets", "ticket"),
}


@pytest.mark.parametrize(("page", "items"), [(page, items) for page, (items, _) in PAGES.items()])
async def test_statements_do_not_grow_with_the_page(page, items, client, desk, sql):
    """{page} runs the same number of SQL statements for 5 {items} as for 50"""
    counts = []
    for size in (5, 50):
        url, expected, what = await seed_page(page, desk, size)
        sql.clear()  # the request's statements only, not the seeding's
        got = await fetch(client, url, what)
        counts.append(len(sql))
        if isinstance(expected, list):
            check_list(expected, got, what)
        else:
            check_ticket(expected, got, what)

    assert counts[0] == counts[1], (
        f"{page} ran {counts[0]} SQL statements for 5 {items} and {counts[1]} for 50: something queries once "
        f"per row, so the page gets slower with every {PAGES[page][1]} added. Load what the response reads in "
        "queries whose number does not depend on the page's size"
    )


# Who pays for what a list loads and does not show.
PAYS = {
    "The queue": "The agents' screens poll it all day: whatever it loads and does not show is paid on every poll",
    "A customer's page": "Whatever it loads and does not show is paid on every visit",
}


@pytest.mark.parametrize("page", list(PAYS))
async def test_a_list_loads_only_what_it_shows(page, client, desk, loaded):
    """{page} loads what it shows and nothing more: no reply, no ticket it does not list"""
    # Customers with tickets in every status, each ticket with replies: all of it stored, little of it shown.
    customers = [await desk.add_customer(6) for _ in range(2)]
    await desk.add_tickets(4, replies=3)
    url = QUEUE if page == "The queue" else customer_url(customers[0].id)

    loaded.clear()
    got = await fetch(client, url, page)

    listed = len(got)
    extra = [
        f"{n} {what}"
        for what, n in (("replies", loaded["Reply"]), ("more tickets", loaded["Ticket"] - listed))
        if n > 0
    ]
    assert not extra, (
        f"{page} lists {listed} tickets and no reply, and the request loaded {' and '.join(extra)}. {PAYS[page]}. "
        'Load what its response schema reads, and only that: a relationship declared lazy="selectin" is '
        "loaded by every query of its class, whether the page shows it or not"
    )
