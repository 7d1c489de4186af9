"""Kata 04 fixtures: the learner's app on the shared engine, a client for it, and seeded users.

The checks drive the real app through httpx's ASGI transport: the app gets
the test's engine through create_app(engine), the way a script or a test
hands the app its database, and nothing in it is replaced by a mock.
Seeding runs in a session of its own and commits before any request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.main import create_app
from app.models import Base, Organisation, RefreshToken, User
from app.security import hash_password, new_refresh_token, refresh_token_hash, utcnow

# Cheap hashes for seeded users: the stored hash carries its own iteration count.
ITERATIONS = 1_000
BASE_URL = "https://auth.test"  # https: the refresh cookie is Secure


@dataclass(frozen=True)
class SeededUser:
    id: int
    email: str
    password: str
    organisation: dict  # what the API must answer: {"id", "name", "slug"}


@dataclass
class SeededOrganisation:
    id: int
    name: str
    slug: str
    user: SeededUser  # the one who signs in
    inactive: SeededUser  # deactivated by an admin
    # Raw refresh tokens of the signing-in user, by state; "inactive" belongs to the deactivated user.
    tokens: dict[str, str] = field(default_factory=dict)


@pytest_asyncio.fixture
async def session_factory(engine: AsyncEngine, create_schema) -> async_sessionmaker[AsyncSession]:
    await create_schema(Base.metadata)
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest.fixture
def seed(session_factory: async_sessionmaker[AsyncSession]):
    """Seed an organisation: ``members`` users, one of whom signs in and holds ``sessions`` live tokens.

    Besides those, the signing-in user holds an expired and a revoked token,
    and a deactivated colleague holds a live one. Another organisation is
    seeded beside it, so a response cannot name the right one by luck.
    """

    async def seed(slug: str = "northwind", *, members: int = 2, sessions: int = 1) -> SeededOrganisation:
        now = utcnow()
        async with session_factory() as s:
            decoy = Organisation(name=f"Decoy of {slug}", slug=f"{slug}-decoy")
            organisation = Organisation(name=f"{slug.title()} Freight", slug=slug)
            s.add(decoy)
            await s.flush()  # the decoy gets the lower id
            s.add(
                User(
                    email=f"someone@{slug}-decoy.example",
                    full_name="Decoy User",
                    password_hash=hash_password("decoy-password", ITERATIONS),
                    organisation=decoy,
                )
            )
            password = f"correct horse {slug}"
            user = User(
                email=f"dana.reyes@{slug}.example",
                full_name="Dana Reyes",
                password_hash=hash_password(password, ITERATIONS),
                organisation=organisation,
            )
            inactive = User(
                email=f"former.admin@{slug}.example",
                full_name="Former Admin",
                password_hash=hash_password(password, ITERATIONS),
                organisation=organisation,
                is_active=False,
            )
            colleagues = [
                User(
                    email=f"colleague{n}@{slug}.example",
                    full_name=f"Colleague {n}",
                    password_hash="!",  # cannot sign in
                    organisation=organisation,
                )
                for n in range(max(members - 2, 0))
            ]
            s.add_all([organisation, user, inactive, *colleagues])
            await s.flush()

            tokens: dict[str, str] = {}
            day, hour = timedelta(days=1), timedelta(hours=1)
            # (owner, name the checks use, issued, expires, revoked)
            planned = [(user, None, now - (n + 2) * hour, now + 20 * day, None) for n in range(sessions - 1)]
            planned += [
                (user, "valid", now - hour, now + 20 * day, None),  # devices signed in: this one refreshes
                (user, "expired", now - 31 * day, now - day, None),
                (user, "revoked", now - 2 * day, now + 28 * day, now - day),
                (inactive, "inactive", now - hour, now + 29 * day, None),
            ]
            for owner, name, issued, expires, revoked in planned:
                raw = new_refresh_token()
                if name:
                    tokens[name] = raw
                s.add(
                    RefreshToken(
                        user_id=owner.id,
                        token_hash=refresh_token_hash(raw),
                        issued_at=issued,
                        expires_at=expires,
                        revoked_at=revoked,
                    )
                )
            await s.commit()

            org = {"id": organisation.id, "name": organisation.name, "slug": organisation.slug}
            return SeededOrganisation(
                id=organisation.id,
                name=organisation.name,
                slug=organisation.slug,
                user=SeededUser(user.id, user.email, password, org),
                inactive=SeededUser(inactive.id, inactive.email, password, org),
                tokens=tokens,
            )

    return seed


class LazyApp:
    """The learner's app, built on the first request, noting which endpoint served each path.

    Built late so a create_app() that fails is reported under the check that
    needed it, with its scenario line, instead of as a broken fixture. The
    endpoints come from the ASGI scope, where routing puts the one it chose.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.app = None
        self.endpoints: dict[str, object] = {}

    async def __call__(self, scope, receive, send) -> None:
        if self.app is None:
            self.app = create_app(self.engine)
        try:
            await self.app(scope, receive, send)
        finally:
            if scope.get("endpoint") is not None:
                self.endpoints[scope["path"]] = scope["endpoint"]


@pytest.fixture
def app(engine: AsyncEngine) -> LazyApp:
    return LazyApp(engine)


@pytest_asyncio.fixture
async def client(app: LazyApp, session_factory) -> httpx.AsyncClient:
    """An HTTP client for the real app on this test's database (tables created).

    ASGITransport re-raises what the app raised, so a MissingGreenlet reaches
    the check as itself rather than as a bare 500.
    """
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as client:
        yield client


@pytest.fixture
def stored_token(session_factory: async_sessionmaker[AsyncSession]):
    """The RefreshToken row the database holds for a raw token, read in a fresh session (or None)."""

    async def stored_token(raw: str) -> RefreshToken | None:
        async with session_factory() as s:
            return await s.scalar(select(RefreshToken).where(RefreshToken.token_hash == refresh_token_hash(raw)))

    return stored_token


@pytest.fixture
def read_user(session_factory: async_sessionmaker[AsyncSession]):
    async def read_user(user_id: int) -> User:
        async with session_factory() as s:
            return await s.get(User, user_id)

    return read_user


@pytest.fixture
def count_tokens(session_factory: async_sessionmaker[AsyncSession]):
    async def count_tokens() -> int:
        async with session_factory() as s:
            return len((await s.scalars(select(RefreshToken.id))).all())

    return count_tokens
