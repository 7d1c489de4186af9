"""Kata 06's fixtures: the learner's app over HTTP, a support desk seeded as the checks need it,
and what each request loaded.

Seeding runs in a session of its own and commits, so every request under test
starts with an empty identity map, as a production request does: whatever a
response reads, the request loaded itself. The desk keeps its own record of
what it stored (``Desk``), so a check compares the response with what the
database holds, never with what the learner's code read back.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import count

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import event, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.db import get_session, make_sessionmaker
from app.models import Agent, Base, Customer, Reply, Ticket

START = datetime(2026, 3, 2, 8, 0)  # the first ticket of the seed was opened then (naive UTC)
PLANS = ("free", "team", "enterprise")
FIRST = ("Ada", "Bo", "Chidi", "Dana", "Emil", "Fatou", "Goran", "Hana", "Ivo", "Jun", "Kemal", "Lin")
LAST = ("Moreau", "Okafor", "Silva", "Novak", "Tanaka", "Haddad", "Larsen", "Petrov", "Quinn", "Reyes")
TOPICS = ("Login fails", "Invoice is wrong", "Export times out", "Cannot invite a teammate", "Webhook retries")


@dataclass(frozen=True)
class SeededAgent:
    id: int
    name: str

    def shown(self) -> dict:
        return {"id": self.id, "name": self.name}


@dataclass(frozen=True)
class SeededCustomer:
    id: int
    name: str
    plan: str

    def shown(self) -> dict:
        return {"id": self.id, "name": self.name, "plan": self.plan}


@dataclass(frozen=True)
class SeededReply:
    id: int
    author: SeededAgent
    body: str
    sent_at: datetime

    def shown(self) -> dict:
        return {"id": self.id, "body": self.body, "sent_at": self.sent_at, "author": self.author.shown()}


@dataclass
class SeededTicket:
    id: int
    customer: SeededCustomer
    assignee: SeededAgent | None
    subject: str
    description: str
    status: str
    opened_at: datetime
    replies: list[SeededReply] = field(default_factory=list)

    def summary(self) -> dict:
        """The ticket as TicketSummary shows it."""
        return {
            "id": self.id,
            "subject": self.subject,
            "status": self.status,
            "opened_at": self.opened_at,
            "customer": self.customer.shown(),
            "assignee": self.assignee.shown() if self.assignee else None,
        }

    def detail(self) -> dict:
        """The ticket as TicketDetail shows it: the thread oldest first."""
        thread = sorted(self.replies, key=lambda reply: reply.sent_at)
        return {**self.summary(), "description": self.description, "replies": [r.shown() for r in thread]}


class Desk:
    """What the checks stored, kept in Python: the truth a response is compared with.

    Every ticket gets an assignee and reply authors of its own (agents nobody
    else's rows point at), so a relationship left unloaded is read per ticket
    or per reply, and a query per row shows in the statement count. Ids come
    from one counter per table and opening times are shuffled, so neither ids
    nor insertion order give away the order a page must show.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.tickets: dict[int, SeededTicket] = {}
        self.customers: dict[int, SeededCustomer] = {}
        self._ids = {table: count(start) for table, start in (("a", 501), ("c", 301), ("t", 101), ("r", 1001))}
        self._minutes = count(0)
        self._rng = random.Random(6)

    def _agent(self) -> SeededAgent:
        number = next(self._ids["a"])
        return SeededAgent(number, f"{FIRST[number % len(FIRST)]} {LAST[number % len(LAST)]} ({number})")

    def _customer(self) -> SeededCustomer:
        number = next(self._ids["c"])
        customer = SeededCustomer(number, f"Customer {number}", PLANS[number % len(PLANS)])
        self.customers[number] = customer
        return customer

    async def add_tickets(
        self,
        number: int,
        *,
        statuses: tuple[str, ...] = ("open",),
        customer: SeededCustomer | None = None,
        replies: int = 2,
        unassigned_every: int = 4,
        assignee_replies: bool = True,
    ) -> list[SeededTicket]:
        """Store ``number`` tickets, their statuses taken in turn from ``statuses``: each of a new
        customer (or all of ``customer``), one in ``unassigned_every`` unassigned, ``replies`` replies each.
        ``assignee_replies``: the assignee wrote the first reply (the other authors are agents of their own)."""
        rows: dict[type, list[dict]] = {Agent: [], Customer: [], Ticket: [], Reply: []}
        minutes = [next(self._minutes) * 7 for _ in range(number)]
        self._rng.shuffle(minutes)
        made = []
        for index, minute in enumerate(minutes):
            owner = customer or self._customer()
            if customer is None:
                rows[Customer].append({"id": owner.id, "name": owner.name, "plan": owner.plan})
            assignee = None if index % unassigned_every == unassigned_every - 1 else self._agent()
            ticket = SeededTicket(
                id=next(self._ids["t"]),
                customer=owner,
                assignee=assignee,
                subject=f"{TOPICS[index % len(TOPICS)]} (#{index + 1})",
                description=f"Since this morning: {TOPICS[index % len(TOPICS)].lower()}. Ticket {index + 1}.",
                status=statuses[index % len(statuses)],
                opened_at=START + timedelta(minutes=minute),
            )
            # Replies go in out of order: ids say nothing about the order of the thread.
            sent = [ticket.opened_at + timedelta(minutes=5 * (n + 1)) for n in range(replies)]
            self._rng.shuffle(sent)
            for n, sent_at in enumerate(sent):
                author = assignee if (assignee and assignee_replies and sent_at == min(sent)) else self._agent()
                reply = SeededReply(next(self._ids["r"]), author, f"Reply {n + 1} on ticket {ticket.id}", sent_at)
                ticket.replies.append(reply)
            for agent in {a for a in [assignee, *(r.author for r in ticket.replies)] if a is not None}:
                rows[Agent].append({"id": agent.id, "name": agent.name, "email": f"agent{agent.id}@desk.example"})
            rows[Ticket].append(
                {
                    "id": ticket.id,
                    "customer_id": owner.id,
                    "assignee_id": assignee.id if assignee else None,
                    "subject": ticket.subject,
                    "description": ticket.description,
                    "status": ticket.status,
                    "opened_at": ticket.opened_at,
                }
            )
            rows[Reply] += [
                {"id": r.id, "ticket_id": ticket.id, "author_id": r.author.id, "body": r.body, "sent_at": r.sent_at}
                for r in ticket.replies
            ]
            self.tickets[ticket.id] = ticket
            made.append(ticket)
        async with self.sessions() as session:
            for model, values in rows.items():  # parents first: one executemany per table
                if values:
                    await session.execute(insert(model), values)
            await session.commit()
        return made

    async def add_customer(self, tickets: int) -> SeededCustomer:
        """A customer with ``tickets`` tickets: open, pending and solved in turn, one reply each."""
        customer = self._customer()
        async with self.sessions() as session:
            await session.execute(insert(Customer), [{"id": customer.id, "name": customer.name, "plan": customer.plan}])
            await session.commit()
        await self.add_tickets(tickets, statuses=("open", "pending", "solved"), customer=customer, replies=1)
        return customer

    def queue(self, status: str = "open") -> list[dict]:
        """GET /api/tickets?status=...: the tickets in that status, longest waiting first."""
        found = [t for t in self.tickets.values() if t.status == status]
        return [t.summary() for t in sorted(found, key=lambda t: (t.opened_at, t.id))]

    def customer_page(self, customer_id: int) -> list[dict]:
        """GET /api/customers/{id}/tickets: the customer's tickets, newest first."""
        found = [t for t in self.tickets.values() if t.customer.id == customer_id]
        return [t.summary() for t in sorted(found, key=lambda t: (t.opened_at, t.id), reverse=True)]


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


@pytest.fixture
def loaded():
    """What a request made of rows, per class: every ORM object it loaded (a Counter of class names)."""
    seen: Counter[str] = Counter()
    listeners = []
    for mapper in Base.registry.mappers:

        def on_load(target, context, name=mapper.class_.__name__):
            seen[name] += 1

        event.listen(mapper.class_, "load", on_load)
        listeners.append((mapper.class_, on_load))
    yield seen
    for cls, listener in listeners:
        event.remove(cls, "load", listener)
