"""Kata 08's fixtures: the learner's app over HTTP, a geocoder played by the check, and pending addresses.

The geocoder is the one slow part of a run, and the check plays it (``FakeGeocoder``): every lookup is
answered ``LATENCY`` seconds after it was sent. Lookups sent together are answered together, in one
iteration of the event loop and in another order than they were sent, as a vendor's answers come
back. That is the timing that makes the starting code fail on every run, not on most: every task
resumes in the same loop iteration, the first starts its flush and waits on the database, and the
next one reaches the session while that flush is still running.

Seeding runs in a session of its own and commits, so the request under test starts with an empty
session, as a production request does. The check knows what it stored (``SeededAddress``) and
compares the database with that, never with what the learner's code read back.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from itertools import count

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import app.db
from app.db import get_sessionmaker, make_sessionmaker
from app.geocoder import GeocoderUnavailable, Match, get_geocoder
from app.models import Address, Base, Customer, Verification

LATENCY = 0.1  # seconds the geocoder takes to answer one lookup
# What the geocoder says of an address: sure of it, unsure of it, or no answer at all.
SURE, UNSURE, DOWN = "sure", "unsure", "down"
STREETS = ("Quay Street", "Mill Lane", "Harbour Road", "Orchard Way", "Station Square", "Canal Walk", "Elm Row")
CITIES = (("1011", "Northport"), ("2040", "Eastbury"), ("3150", "Westfield"), ("4420", "Southmere"))


@dataclass(frozen=True)
class SeededAddress:
    id: int
    line: str
    outcome: str  # SURE, UNSURE or DOWN
    match: Match | None  # what the geocoder answers for it (None: it does not answer)


class FakeGeocoder:
    """The vendor, played by the check: each answer LATENCY seconds after the lookup, those sent together
    answered together; every lookup counted, and how many were waiting at once."""

    def __init__(self) -> None:
        self.answers: dict[str, Match | None] = {}  # an address line -> its answer
        self.lookups: list[str] = []  # the address lines looked up, in the order they were sent
        self.waiting = 0
        self.most_waiting = 0
        self._sent: list[asyncio.Future] = []
        self._timer: asyncio.TimerHandle | None = None
        self.down = False  # set: the vendor answers nobody

    def knows(self, address: SeededAddress) -> None:
        self.answers[address.line] = address.match

    def recovers(self, address: SeededAddress) -> Match:
        """From now on the vendor answers for ``address``, and is sure of it."""
        match = Match(
            reference=f"gc-{address.id:06d}-again",
            formatted=f"{address.line}, NETHERLANDS",
            latitude=round(51 + address.id / 1000, 6),
            longitude=round(5 + address.id / 500, 6),
            confidence=0.99,
        )
        self.answers[address.line] = match
        return match

    def _line(self, query: str) -> str:
        found = [line for line in self.answers if query.startswith(f"{line},")]
        assert found, f"the geocoder was asked about {query!r}, which is no pending address of this check"
        return found[0]

    async def lookup(self, query: str) -> Match:
        line = self._line(query)
        self.lookups.append(line)
        loop = asyncio.get_running_loop()
        answered = loop.create_future()
        self._sent.append(answered)
        if self._timer is None:
            self._timer = loop.call_later(LATENCY, self._answer)
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        try:
            await answered
        finally:
            self.waiting -= 1
        match = None if self.down else self.answers[line]
        if match is None:
            raise GeocoderUnavailable("geocoder: 503 Service Unavailable")
        return match

    def _answer(self) -> None:
        sent, self._sent, self._timer = self._sent, [], None
        for answered in reversed(sent):  # the last one sent is answered first
            if not answered.done():
                answered.set_result(None)


@pytest.fixture
def geocoder() -> FakeGeocoder:
    return FakeGeocoder()


@pytest_asyncio.fixture
async def sessions(engine: AsyncEngine, create_schema) -> async_sessionmaker[AsyncSession]:
    """Sessions with the app's own settings (app/db.py), on this test's empty database."""
    await create_schema(Base.metadata)
    return make_sessionmaker(engine)


@pytest_asyncio.fixture
async def client(engine: AsyncEngine, sessions, geocoder, monkeypatch) -> httpx.AsyncClient:
    """The learner's FastAPI app, its sessions on this test's database, its geocoder the check's."""
    from app.main import create_app

    # Every session of the app comes from get_sessionmaker, as a dependency or called directly.
    forget = getattr(get_sessionmaker, "cache_clear", lambda: None)
    forget()
    monkeypatch.setattr(app.db, "get_engine", lambda: engine)
    web = create_app()
    web.dependency_overrides[get_sessionmaker] = lambda: make_sessionmaker(engine)
    web.dependency_overrides[get_geocoder] = lambda: geocoder
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://addresses.test") as http:
            yield http
    finally:
        forget()


@pytest.fixture
def run_verification(client: httpx.AsyncClient):
    """``await run_verification()``: POST /api/addresses/verify; the answer's lines by address id, and
    the seconds it took."""

    async def run(limit: int = 50) -> tuple[dict[int, dict], float]:
        started = time.perf_counter()
        response = await client.post("/api/addresses/verify", params={"limit": limit})
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, (
            f"POST /api/addresses/verify answered {response.status_code}: {response.text[:300]}"
        )
        checked = response.json()["checked"]
        by_id = {line["address_id"]: line for line in checked}
        assert len(by_id) == len(checked), f"the run reports an address more than once: {checked}"
        return by_id, elapsed

    return run


@pytest.fixture
def seed_addresses(sessions: async_sessionmaker[AsyncSession], geocoder: FakeGeocoder):
    """``await seed_addresses([SURE, UNSURE, DOWN, ...])``: a customer's pending addresses, one per outcome,
    committed; the geocoder learns what it will answer for each (its own coordinates and reference)."""
    numbers = count(1)

    async def seed(outcomes: list[str]) -> list[SeededAddress]:
        async with sessions() as session:
            customer = Customer(name=f"Customer {next(numbers)}")
            session.add(customer)
            await session.flush()
            rows = []
            for _ in outcomes:
                number = next(numbers)
                postcode, city = CITIES[number % len(CITIES)]
                rows.append(
                    Address(
                        customer_id=customer.id,
                        line=f"{number} {STREETS[number % len(STREETS)]}",
                        postcode=postcode,
                        city=city,
                        country="NL",
                    )
                )
            session.add_all(rows)
            await session.flush()
            seeded = []
            for row, outcome in zip(rows, outcomes, strict=True):
                match = None
                if outcome != DOWN:
                    match = Match(
                        reference=f"gc-{row.id:06d}",
                        formatted=f"{row.line}, {row.postcode} {row.city.upper()}, NETHERLANDS",
                        latitude=round(52 + row.id / 1000, 6),
                        longitude=round(4 + row.id / 500, 6),
                        confidence=0.97 if outcome == SURE else 0.42,
                    )
                seeded.append(SeededAddress(row.id, row.line, outcome, match))
            await session.commit()
        for address in seeded:
            geocoder.knows(address)
        return seeded

    return seed


@dataclass(frozen=True)
class Stored:
    """What the database holds for one address after a run."""

    status: str
    latitude: float | None
    longitude: float | None
    failed_lookups: int
    last_error: str | None
    verifications: list[tuple[int, str, str, float]]  # (id, reference, formatted, confidence), by id


@pytest.fixture
def stored(sessions: async_sessionmaker[AsyncSession]):
    """``await stored()``: every address's row and its verifications, read in a session of the check's own."""

    async def read() -> dict[int, Stored]:
        async with sessions() as session:
            addresses = (await session.scalars(select(Address))).all()
            verifications = (await session.scalars(select(Verification).order_by(Verification.id))).all()
        found = {}
        for address in addresses:
            rows = [(v.id, v.reference, v.formatted, v.confidence) for v in verifications if v.address_id == address.id]
            found[address.id] = Stored(
                address.status,
                address.latitude,
                address.longitude,
                address.failed_lookups,
                address.last_error,
                rows,
            )
        return found

    return read
