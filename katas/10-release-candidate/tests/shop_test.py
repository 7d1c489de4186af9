"""The order service's test suite: the routes over HTTP and the worker's batch, on SQLite.

Run it from the repository's root: `python -m pytest katas/10-release-candidate`. It passes, and has
passed for every release.
"""

from __future__ import annotations

import os
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import httpx
import pytest_asyncio
from sqlalchemy import event, insert, select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import raiseload

from app.db import get_session
from app.mail import MemoryOutbox
from app.main import create_app
from app.models import Base, Customer, Notification, Order, OrderLine, Product
from app.worker import ConfirmationWorker

# TODO(kata-10): this suite passes, and the release candidate failed in production. First make the
# suite fail the way production does. From the repository's root,
# `RAISELOAD=1 python -m pytest katas/10-release-candidate -p implicit_io.plugin` turns on the switch
# in the session fixture and the explainer. Then look at what the fixtures share that production
# never shares, and change them until every route and the worker fail here as they did there. Then
# fix the app, until the suite passes with RAISELOAD=1 too.
MAY = datetime(2024, 5, 2, 9, 30)


def raise_on_lazy_loads(state) -> None:
    """raiseload("*") on every query the app sends: a relationship no loader option names raises when read."""
    if state.is_select and not state.is_column_load and not state.is_relationship_load:
        state.statement = state.statement.options(raiseload("*"))


@pytest_asyncio.fixture
async def session(tmp_path):
    """One session for the whole test, kept open so the test's objects stay usable in its asserts."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with async_sessionmaker(engine, expire_on_commit=False)() as session:
        if os.environ.get("RAISELOAD") == "1":
            event.listen(session.sync_session, "do_orm_execute", raise_on_lazy_loads)
        yield session
    await engine.dispose()


@pytest_asyncio.fixture
async def client(session):
    """The app over HTTP, every request in the test's session."""
    app = create_app()

    async def same_session():
        yield session

    app.dependency_overrides[get_session] = same_session
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://shop.test") as client:
        yield client


@pytest_asyncio.fixture
async def catalog(session):
    """Two customers and three plants."""
    customers = [
        Customer(name="Noor Haddad", email="noor@mail.example"),
        Customer(name="Jonas Berg", email="jb@mail.example"),
    ]
    products = [
        Product(sku="FIC-LYR-30", name="Fiddle-leaf fig, 30 cm", price_cents=2490),
        Product(sku="MON-DEL-60", name="Monstera, 60 cm", price_cents=4900),
        Product(sku="POT-TER-14", name="Terracotta pot, 14 cm", price_cents=690),
    ]
    session.add_all([*customers, *products])
    await session.flush()
    return customers, products


async def add_orders(session, customer, products, count: int, status: str = "placed") -> None:
    """``count`` orders of one line each, stored in two statements: fixtures this size stay fast."""
    ids = [n + 1 for n in range(count)]
    await session.execute(
        insert(Order),
        [
            {
                "id": i,
                "number": f"N-T{i:04d}",
                "customer_id": customer.id,
                "status": status,
                "placed_at": MAY + timedelta(hours=i),
            }
            for i in ids
        ],
    )
    await session.execute(
        insert(OrderLine),
        [
            {
                "order_id": i,
                "product_id": products[i % 3].id,
                "quantity": 1,
                "unit_price_cents": products[i % 3].price_cents,
            }
            for i in ids
        ],
    )


async def test_the_back_office_lists_placed_orders(client, session, catalog):
    (noor, _), products = catalog
    await add_orders(session, noor, products, 3)

    response = await client.get("/api/orders", params={"status": "placed"})

    assert response.status_code == 200, response.text
    orders = response.json()
    assert [order["number"] for order in orders] == ["N-T0003", "N-T0002", "N-T0001"]
    assert {order["customer"] for order in orders} == {"Noor Haddad"}
    assert orders[0]["lines"][0]["sku"] == "FIC-LYR-30"


async def test_an_order_page(client, session, catalog):
    (_, jonas), products = catalog
    await add_orders(session, jonas, products, 2)

    response = await client.get("/api/orders/2")

    assert response.status_code == 200, response.text
    assert response.json()["customer"] == "Jonas Berg"
    assert (await client.get("/api/orders/99")).status_code == 404


async def test_placing_an_order(client, catalog):
    (noor, _), _ = catalog

    response = await client.post(
        "/api/orders",
        json={
            "customer_id": noor.id,
            "lines": [{"sku": "MON-DEL-60", "quantity": 1}, {"sku": "POT-TER-14", "quantity": 2}],
        },
    )

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "placed" and order["customer"] == "Noor Haddad"
    assert order["total_cents"] == 4900 + 2 * 690


async def test_placing_an_order_of_an_unknown_plant(client, catalog):
    (noor, _), _ = catalog

    response = await client.post(
        "/api/orders", json={"customer_id": noor.id, "lines": [{"sku": "ROSE", "quantity": 1}]}
    )

    assert response.status_code == 422


async def test_shipping_an_unknown_order(client, catalog):
    response = await client.post("/api/orders/99/shipment", json={"carrier": "Parcelway"})

    assert response.status_code == 404


async def test_the_worker_confirms_placed_orders(session, catalog):
    (noor, jonas), (fig, monstera, pot) = catalog
    session.add_all(
        [
            Order(
                number="N-W1",
                customer=noor,
                status="placed",
                placed_at=MAY,
                lines=[OrderLine(product=fig, quantity=1, unit_price_cents=2490)],
            ),
            Order(
                number="N-W2",
                customer=jonas,
                status="placed",
                placed_at=MAY,
                lines=[OrderLine(product=pot, quantity=3, unit_price_cents=690)],
            ),
        ]
    )
    await session.flush()
    outbox = MemoryOutbox()

    @asynccontextmanager
    async def sessions():  # the worker's session factory: the test's session, so the test sees its writes
        yield session

    confirmed = await ConfirmationWorker(sessions, outbox).run_once()

    assert confirmed == 2
    assert sorted(m.to for m in outbox.sent) == ["jb@mail.example", "noor@mail.example"]
    assert "Total: 20.70 EUR" in next(m.body for m in outbox.sent if m.to == "jb@mail.example")
    assert len((await session.scalars(select(Notification))).all()) == 2
    assert (await ConfirmationWorker(sessions, outbox).run_once()) == 0
