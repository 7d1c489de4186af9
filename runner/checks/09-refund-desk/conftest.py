"""Kata 09's fixtures: the learner's app on this test's database, the desk's data, and its log.

Seeding runs in a session of its own and commits, so each request's session starts empty, as a
production request's does: an identity map warmed by the seeding would hide the lazy loads.
"""

from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import get_session, make_sessionmaker
from app.models import Base, Customer, Order, Refund

FIRST = ["Ada", "Bram", "Chiara", "Dmitri", "Esra", "Femi", "Greta", "Hiro", "Ines", "Jonas", "Kalani"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Novak", "Alvarez", "Byrne", "Schulz", "Haddad"]


@dataclass
class SeededRefund:
    id: int
    order_id: int
    order_number: str
    customer: str
    amount_cents: int
    status: str
    requested_at: datetime
    decided_at: datetime | None
    note: str

    def line(self) -> dict:
        """The refund as the month's report lists it."""
        return {
            "refund_id": self.id,
            "decided_at": self.decided_at,
            "amount_cents": self.amount_cents,
            "customer": self.customer,
            "note": self.note,
        }

    def queued(self) -> dict:
        """The refund as the agents' queue lists it."""
        return {
            "id": self.id,
            "order_id": self.order_id,
            "amount_cents": self.amount_cents,
            "status": self.status,
            "requested_at": self.requested_at,
            "decided_at": self.decided_at,
        }


@dataclass
class Desk:
    """What the checks stored, as the desk's pages must answer it.

    Each refund is on an order of a customer of its own. Ids come from one counter per table,
    and times are shuffled, so neither ids nor insertion order give away the order a page shows.
    """

    sessions: async_sessionmaker[AsyncSession]
    refunds: dict[int, SeededRefund] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ids = {table: count(start) for table, start in (("c", 301), ("o", 7001), ("r", 101))}
        self._rng = random.Random(9)

    async def add(self, number: int, *, status: str = "requested", month: str = "2024-05") -> list[SeededRefund]:
        """Store ``number`` refunds in ``status``: decided (if decided) in ``month``, on days shuffled."""
        start = datetime.strptime(month, "%Y-%m")
        minutes = [n * 97 for n in range(number)]  # 97 minutes apart: 50 refunds fit in 4 days
        self._rng.shuffle(minutes)
        rows: dict[type, list[dict]] = {Customer: [], Order: [], Refund: []}
        made = []
        for minute in minutes:
            customer_id, order_id = next(self._ids["c"]), next(self._ids["o"])
            name = f"{FIRST[customer_id % len(FIRST)]} {LAST[customer_id % len(LAST)]} ({customer_id})"
            placed_at = start - timedelta(days=20, minutes=minute)
            rows[Customer].append({"id": customer_id, "name": name, "email": f"c{customer_id}@mail.example"})
            rows[Order].append(
                {"id": order_id, "number": f"A-{order_id}", "customer_id": customer_id, "placed_at": placed_at}
            )
            requested_at = start - timedelta(days=5, minutes=minute)
            refund = SeededRefund(
                id=next(self._ids["r"]),
                order_id=order_id,
                order_number=f"A-{order_id}",
                customer=name,
                amount_cents=self._rng.randrange(500, 30000),
                status=status,
                requested_at=requested_at,
                decided_at=None if status == "requested" else start + timedelta(minutes=minute),
                note=f"Parcel {order_id} arrived damaged. " + "Photos attached, agent checked them. " * 40,
            )
            rows[Refund].append(
                {
                    "id": refund.id,
                    "order_id": order_id,
                    "amount_cents": refund.amount_cents,
                    "status": status,
                    "requested_at": requested_at,
                    "decided_at": refund.decided_at,
                    "note": refund.note,
                }
            )
            self.refunds[refund.id] = refund
            made.append(refund)
        async with self.sessions() as session:
            for model, values in rows.items():  # parents first: one executemany per table
                await session.execute(insert(model), values)
            await session.commit()
        return made

    def queue(self, status: str) -> list[dict]:
        found = [r for r in self.refunds.values() if r.status == status]
        return [r.queued() for r in sorted(found, key=lambda r: (r.requested_at, r.id))]

    def report(self, month: str) -> dict:
        found = [r for r in self.refunds.values() if r.status == "approved" and r.decided_at.strftime("%Y-%m") == month]
        lines = [r.line() for r in sorted(found, key=lambda r: (r.decided_at, r.id))]
        return {"month": month, "total_cents": sum(line["amount_cents"] for line in lines), "lines": lines}

    async def stored(self, refund_id: int) -> tuple[str, datetime | None]:
        """What the database holds of a refund's decision: its status and decided_at."""
        async with self.sessions() as session:
            row = (await session.execute(select(Refund.status, Refund.decided_at).where(Refund.id == refund_id))).one()
        return row.status, row.decided_at


@pytest_asyncio.fixture
async def sessions(engine: AsyncEngine, create_schema) -> async_sessionmaker[AsyncSession]:
    """Sessions with the app's own settings (app/db.py), on this test's empty database."""
    await create_schema(Base.metadata)
    return make_sessionmaker(engine)


@pytest.fixture
def desk(sessions) -> Desk:
    return Desk(sessions)


@pytest_asyncio.fixture
async def client(sessions, app_client) -> httpx.AsyncClient:
    """The learner's FastAPI app, each request in a session of its own on this test's database."""
    from app.main import create_app

    async with app_client(create_app(), get_session, sessions, "desk.test") as client:
        yield client


class AppLog(logging.Handler):
    """The app's log as finance reads it: each record written out, at INFO and above.

    Like a file or a console handler, it renders each record's message as it writes it. Where
    logging's own handlers print "--- Logging error ---" to stderr and lose the line, this one lets
    the error through, as pytest's caplog does: a log line that cannot be written fails the check.
    """

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.lines: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append((record.levelname, record.getMessage()))
        except Exception:
            self.handleError(record)

    def handleError(self, record: logging.LogRecord) -> None:
        raise  # noqa: PLE0704  (the error being handled: the line could not be written)

    def naming(self, *texts: str) -> list[str]:
        """The lines that name each of ``texts`` (as words: "#12" is not in "#123")."""
        return [
            f"{level} {message}"
            for level, message in self.lines
            if all(re.search(rf"(?<![\w-]){re.escape(text)}(?![\w-])", message) for text in texts)
        ]


@pytest.fixture
def app_log():
    """Every line the app logs (logger "app" and below) while the check runs."""
    handler = AppLog()
    logger = logging.getLogger("app")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)
