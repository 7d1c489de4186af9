"""The order service's test suite: the routes over HTTP and the worker's batch, on SQLite.

Run it from the repository's root: `python -m pytest katas/10-release-candidate`; with
`RAISELOAD=1` before it and `-p implicit_io.plugin` after it, every query runs with raiseload("*")
and the explainer is on. The fixtures give the code what
production gives it: the app's own sessionmaker (app/db.py), a fresh session per request and per
step of the worker, and data seeded beforehand in a session of its own, committed.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import pytest_asyncio
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import raiseload

from app.db import get_session, make_sessionmaker
from app.mail import MemoryOutbox
from app.main import create_app
from app.models import Base, Customer, Notification, Order, OrderLine, Product, Shipment
from app.worker import ConfirmationWorker

MAY = datetime(2024, 5, 2, 9, 30)


def raise_on_lazy_loads(state) -> None:
    """raiseload("*") on every query the app sends: a relationship no loader option names raises when read."""
    if state.is_select and not state.is_column_load and not state.is_relationship_load:
        state.statement = state.statement.options(raiseload("*"))


@pytest_asyncio.fixture
async def sessions(tmp_path):
    """Production's sessions on a new database: the app's sessionmaker, a fresh session each time."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    made = make_sessionmaker(engine)

    @asynccontextmanager
    async def session():
        async with made() as session:
            if os.environ.get("RAISELOAD") == "1":
                event.listen(session.sync_session, "do_orm_execute", raise_on_lazy_loads)
            yield session

    yield session
    await engine.dispose()


@pytest_asyncio.fixture
async def client(sessions):
    """The app over HTTP, every request in a session of its own, as in production."""
    app = create_app()

    async def session_per_request():
        async with sessions() as session:
            yield session

    app.dependency_overrides[get_session] = session_per_request
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test") as client:
        yield client


async def seed(sessions, rows: dict) -> None:
    """Store rows (model: list of dicts, parents first) in a session of its own, committed."""
    async with sessions() as session:
        for model, values in rows.items():
            await session.execute(insert(model), values)
        await session.commit()


@pytest_asyncio.fixture
async def catalog(sessions):
    """Two customers (ids 1 and 2) and three plants (ids 1 to 3)."""
    await seed(
        sessions,
        {
            Customer: [
                {"id": 1, "name": "Noor Haddad", "email": "noor@mail.example"},
                {"id": 2, "name": "Jonas Berg", "email": "jb@mail.example"},
            ],
            Product: [
                {"id": 1, "sku": "FIC-LYR-30", "name": "Fiddle-leaf fig, 30 cm", "price_cents": 2490},
                {"id": 2, "sku": "MON-DEL-60", "name": "Monstera, 60 cm", "price_cents": 4900},
                {"id": 3, "sku": "POT-TER-14", "name": "Terracotta pot, 14 cm", "price_cents": 690},
            ],
        },
    )


async def add_orders(sessions, customer_id: int, count: int, status: str = "placed", first: int = 1) -> None:
    """``count`` orders of one line each, ids from ``first``."""
    ids = range(first, first + count)
    await seed(
        sessions,
        {
            Order: [
                {
                    "id": i,
                    "number": f"N-T{i:04d}",
                    "customer_id": customer_id,
                    "status": status,
                    "placed_at": MAY + timedelta(hours=i),
                }
                for i in ids
            ],
            OrderLine: [{"order_id": i, "product_id": i % 3 + 1, "quantity": 1, "unit_price_cents": 990} for i in ids],
        },
    )


@asynccontextmanager
async def count_statements(sessions):
    """Every statement the app's engine sends meanwhile."""
    async with sessions() as session:
        engine = session.bind
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_the_back_office_lists_placed_orders(client, sessions, catalog):
    await add_orders(sessions, 1, 3)

    response = await client.get("/api/orders", params={"status": "placed"})

    assert response.status_code == 200, response.text
    orders = response.json()
    assert [order["number"] for order in orders] == ["N-T0003", "N-T0002", "N-T0001"]
    assert {order["customer"] for order in orders} == {"Noor Haddad"}


async def test_the_list_costs_the_same_for_30_orders_as_for_3(client, sessions, catalog):
    counts = {}
    for size, status, first in ((3, "placed", 1), (30, "confirmed", 100)):
        await add_orders(sessions, 2, size, status, first)
        async with count_statements(sessions) as statements:
            response = await client.get("/api/orders", params={"status": status})
        assert len(response.json()) == size
        counts[size] = len(statements)
    assert counts[3] == counts[30]


async def test_an_order_page(client, sessions, catalog):
    await add_orders(sessions, 2, 2)

    response = await client.get("/api/orders/2")

    assert response.status_code == 200, response.text
    assert response.json()["customer"] == "Jonas Berg"
    assert (await client.get("/api/orders/99")).status_code == 404


async def test_placing_an_order(client, catalog):
    response = await client.post(
        "/api/orders",
        json={"customer_id": 1, "lines": [{"sku": "MON-DEL-60", "quantity": 1}, {"sku": "POT-TER-14", "quantity": 2}]},
    )

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "placed" and order["customer"] == "Noor Haddad"
    assert order["total_cents"] == 4900 + 2 * 690


async def test_placing_an_order_of_an_unknown_plant(client, catalog):
    response = await client.post("/api/orders", json={"customer_id": 1, "lines": [{"sku": "ROSE", "quantity": 1}]})

    assert response.status_code == 422


async def test_shipping_an_order(client, sessions, catalog):
    await add_orders(sessions, 1, 1, status="confirmed")

    response = await client.post("/api/orders/1/shipment", json={"carrier": "Parcelway"})

    assert response.status_code == 201, response.text
    async with sessions() as session:
        order = await session.get(Order, 1)
        shipment = await session.scalar(select(Shipment).where(Shipment.order_id == 1))
    assert order.status == "shipped" and shipment.shipped_at == order.updated_at
    assert (await client.post("/api/orders/99/shipment", json={"carrier": "Parcelway"})).status_code == 404


async def test_the_worker_confirms_placed_orders(sessions, catalog):
    await add_orders(sessions, 1, 1)
    await add_orders(sessions, 2, 1, first=2)
    outbox = MemoryOutbox()

    confirmed = await ConfirmationWorker(sessions, outbox).run_once()

    assert confirmed == 2
    assert sorted(m.to for m in outbox.sent) == ["jb@mail.example", "noor@mail.example"]
    async with sessions() as session:
        assert len((await session.scalars(select(Notification))).all()) == 2
    assert (await ConfirmationWorker(sessions, outbox).run_once()) == 0
