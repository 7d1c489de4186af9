"""Kata 10's fixtures: the learner's app and worker on this test's database, and the shop's data.

Seeding runs in a session of its own and commits, so each request's session and each worker
batch's sessions start empty, as production's do: an identity map warmed by the seeding would
hide the lazy loads, and a session shared with the seeding would hide what a commit expires.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import get_session, make_sessionmaker
from app.models import Base, Customer, Order, OrderLine, Product

PLANTS = [
    ("FIC-LYR-30", "Fiddle-leaf fig, 30 cm", 2490),
    ("MON-DEL-60", "Monstera, 60 cm", 4900),
    ("POT-TER-14", "Terracotta pot, 14 cm", 690),
    ("CAL-ORB-20", "Calathea orbifolia, 20 cm", 1890),
    ("SAN-ZEY-40", "Snake plant, 40 cm", 2150),
    ("PIL-PEP-12", "Chinese money plant, 12 cm", 990),
]
NAMES = ["Noor Haddad", "Jonas Berg", "Ines Moreau", "Hiro Tanaka", "Femi Okafor", "Greta Novak", "Esra Byrne"]


@dataclass
class SeededOrder:
    id: int
    number: str
    customer: str
    email: str
    status: str
    placed_at: datetime
    lines: list[dict]  # {"sku", "name", "quantity", "unit_price_cents"}

    @property
    def total_cents(self) -> int:
        return sum(line["quantity"] * line["unit_price_cents"] for line in self.lines)

    def shown(self) -> dict:
        """The order as the API answers it."""
        return {
            "id": self.id,
            "number": self.number,
            "status": self.status,
            "customer": self.customer,
            "placed_at": self.placed_at,
            "total_cents": self.total_cents,
            "lines": self.lines,
        }


@dataclass
class Shop:
    """What the checks stored, as the shop's pages and mails must show it.

    Each order is a customer's own; ids come from one counter per table and placing times are
    shuffled, so neither ids nor insertion order give away the order a page lists.
    """

    sessions: async_sessionmaker[AsyncSession]
    orders: dict[int, SeededOrder] = field(default_factory=dict)
    customers: dict[int, tuple[str, str]] = field(default_factory=dict)  # id: (name, email)
    skus: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = {table: count(start) for table, start in (("c", 41), ("o", 1201), ("l", 9001), ("p", 501))}
        self._rng = random.Random(10)

    async def catalog(self) -> None:
        """The plants, stored once per check."""
        rows = []
        for sku, name, price in PLANTS:
            rows.append({"id": next(self._ids["p"]), "sku": sku, "name": name, "price_cents": price})
        await self.store({Product: rows})
        self.products = {row["sku"]: row for row in rows}
        self.skus = [row["sku"] for row in rows]

    async def customer(self) -> int:
        """A stored customer, no orders yet: their id."""
        customer_id = next(self._ids["c"])
        name = f"{NAMES[customer_id % len(NAMES)]} ({customer_id})"
        email = f"c{customer_id}@mail.example"
        await self.store({Customer: [{"id": customer_id, "name": name, "email": email}]})
        self.customers[customer_id] = (name, email)
        return customer_id

    async def add(self, number: int, *, status: str = "placed", lines: int = 2) -> list[SeededOrder]:
        """Store ``number`` orders in ``status``, each of a customer of its own, with ``lines`` lines."""
        if not self.skus:
            await self.catalog()
        hours = [n * 7 for n in range(number)]
        self._rng.shuffle(hours)
        rows: dict[type, list[dict]] = {Customer: [], Order: [], OrderLine: []}
        made = []
        for hour in hours:
            customer_id, order_id = next(self._ids["c"]), next(self._ids["o"])
            name, email = f"{NAMES[customer_id % len(NAMES)]} ({customer_id})", f"c{customer_id}@mail.example"
            self.customers[customer_id] = (name, email)
            rows[Customer].append({"id": customer_id, "name": name, "email": email})
            placed_at = datetime(2024, 5, 1, 8) + timedelta(hours=hour, minutes=self._rng.randrange(60))
            order = SeededOrder(order_id, f"N-{order_id}", name, email, status, placed_at, [])
            rows[Order].append(
                {
                    "id": order_id,
                    "number": order.number,
                    "customer_id": customer_id,
                    "status": status,
                    "placed_at": placed_at,
                }
            )
            for sku in self._rng.sample(self.skus, lines):
                product = self.products[sku]
                quantity = self._rng.randrange(1, 4)
                rows[OrderLine].append(
                    {
                        "id": next(self._ids["l"]),
                        "order_id": order_id,
                        "product_id": product["id"],
                        "quantity": quantity,
                        "unit_price_cents": product["price_cents"],
                    }
                )
                order.lines.append(
                    {
                        "sku": sku,
                        "name": product["name"],
                        "quantity": quantity,
                        "unit_price_cents": product["price_cents"],
                    }
                )
            self.orders[order_id] = order
            made.append(order)
        await self.store(rows)
        return made

    async def store(self, rows: dict) -> None:
        """Insert rows (model: list of dicts, parents first), one executemany per table, and commit.

        The rows carry their ids. SQLite numbers the app's next row after the largest id; PostgreSQL's
        sequence does not see ids it did not give, so it is moved past them: the app's new orders get
        the same ids on both databases, and so do the objects a failure names.
        """
        async with self.sessions() as session:
            for model, values in rows.items():
                await session.execute(insert(model), values)
            if session.bind.dialect.name == "postgresql":
                for model in rows:
                    table = model.__tablename__
                    await session.execute(
                        text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                    )
            await session.commit()

    def listed(self, status: str) -> list[dict]:
        found = [o for o in self.orders.values() if o.status == status]
        return [o.shown() for o in sorted(found, key=lambda o: (o.placed_at, o.id), reverse=True)]

    async def stored(self, model, *where) -> list:
        """The rows of ``model`` the database holds now, read in a session of its own."""
        async with self.sessions() as session:
            return list((await session.scalars(select(model).where(*where).order_by(model.id))).all())

    async def status(self, order_id: int) -> str:
        [order] = await self.stored(Order, Order.id == order_id)
        return order.status


@pytest_asyncio.fixture
async def sessions(engine: AsyncEngine, database_clock, create_schema) -> async_sessionmaker[AsyncSession]:
    """Sessions with the app's own settings (app/db.py), on this test's empty database."""
    await create_schema(Base.metadata)
    return make_sessionmaker(engine)


@pytest.fixture
def shop(sessions) -> Shop:
    return Shop(sessions)


@pytest_asyncio.fixture
async def client(sessions, app_client) -> httpx.AsyncClient:
    """The learner's FastAPI app, each request in a session of its own on this test's database."""
    from app.main import create_app

    async with app_client(create_app(), get_session, sessions, "shop.test") as client:
        yield client
