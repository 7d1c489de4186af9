"""Kata 05 fixtures: the learner's schema on the shared engine, seeded readers, and the real app.

Seeding runs in its own session and commits, so every request under test
starts with an empty identity map, as a production request does: whatever the
request finds in its session, it loaded itself.

Between a digest's storing and its showing, a reader goes on using the app:
``change_follows`` unfollows a source of the digest, follows another, and a
followed source publishes a newer story, so a digest shown as stored differs
from any digest chosen again.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import count

import httpx
import pytest
import pytest_asyncio
from sqlalchemy import delete, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.models import Base, Content, DailyDigest, Source, User, follows

DAY = date(2026, 3, 2)  # the day every check asks for (GET /api/digest?day=...)
WINDOW = (datetime.combine(DAY - timedelta(days=1), time.min), datetime.combine(DAY + timedelta(days=1), time.min))
MAX_PER_SOURCE = 3  # the product rule: at most three items from one source
STORED_AT = datetime.combine(DAY, time(6))  # a stored digest was chosen at 06:00

THEMES = ("tech", "climate", "science", "culture", "economy", "health", "design", "sport")
WORDS = (
    "Morning",
    "Circuit",
    "Harbor",
    "Ledger",
    "Signal",
    "Field",
    "Orbit",
    "Atlas",
    "Compass",
    "Lantern",
    "Meridian",
    "Canopy",
    "Tide",
    "Quarry",
    "Relay",
    "Summit",
)


@dataclass(frozen=True)
class SeededSource:
    id: int
    name: str
    theme: str


@dataclass(frozen=True)
class SeededContent:
    id: int
    source_id: int
    title: str
    published_at: datetime


@dataclass
class SeededReader:
    """A reader, every source and content seeded for them, and what their digest must hold."""

    id: int
    digest_size: int
    sources: dict[int, SeededSource]
    contents: dict[int, SeededContent]
    followed: set[int]
    stored: list[int] | None = None  # content ids of a digest stored earlier today, in rank order
    purged: set[int] = field(default_factory=set)

    def picks(self, before: datetime | None = None) -> list[int]:
        """The digest rule: newest first among followed sources in the window, three per source at most."""
        start, end = WINDOW
        if before is not None:
            end = min(end, before)
        candidates = sorted(
            (c for c in self.contents.values() if c.source_id in self.followed and start <= c.published_at < end),
            key=lambda c: (c.published_at, c.id),
            reverse=True,
        )
        picked: list[int] = []
        per_source: dict[int, int] = {}
        for content in candidates:
            if per_source.get(content.source_id, 0) == MAX_PER_SOURCE:
                continue
            per_source[content.source_id] = per_source.get(content.source_id, 0) + 1
            picked.append(content.id)
            if len(picked) == self.digest_size:
                break
        return picked

    def source_of(self, content_id: int) -> SeededSource:
        return self.sources[self.contents[content_id].source_id]


@dataclass(frozen=True)
class FollowChange:
    """What a reader changed after their digest was stored."""

    unfollowed: SeededSource
    followed: SeededSource
    published: SeededContent

    def __str__(self) -> str:
        return (
            f"after the reader unfollowed {self.unfollowed.name!r}, followed {self.followed.name!r}, "
            "and a newer story came out"
        )


@pytest_asyncio.fixture
async def session_factory(engine: AsyncEngine, create_schema) -> async_sessionmaker[AsyncSession]:
    await create_schema(Base.metadata)
    return async_sessionmaker(engine, expire_on_commit=False)


@pytest_asyncio.fixture
async def client(engine: AsyncEngine, session_factory, app_client) -> httpx.AsyncClient:
    """The learner's FastAPI app, its sessions bound to this test's engine with the app's own settings."""
    from app.db import get_db, make_sessionmaker
    from app.main import create_app

    async with app_client(create_app(), get_db, make_sessionmaker(engine), "digest.test") as client:
        yield client


@pytest.fixture
def change_follows(session_factory: async_sessionmaker[AsyncSession]):
    """The reader moves on, committed: unfollows the source of ``content_id`` (an item of their digest),
    follows a source they did not, and a source they still follow publishes the newest story of the day."""

    async def change(reader: SeededReader, content_id: int) -> FollowChange:
        gone = reader.contents[content_id].source_id
        new = min(sid for sid in reader.sources if sid not in reader.followed)
        still = min(sid for sid in reader.followed if sid != gone)
        published_at = STORED_AT + timedelta(hours=5)  # after every seeded content, inside the window
        async with session_factory() as s:
            await s.execute(delete(follows).where(follows.c.user_id == reader.id, follows.c.source_id == gone))
            await s.execute(insert(follows).values(user_id=reader.id, source_id=new))
            title = f"{reader.sources[still].name}: breaking"
            story = Content(
                source_id=still, title=title, url=f"https://example.org/{still}/new", published_at=published_at
            )
            s.add(story)
            await s.commit()
            published = SeededContent(story.id, still, story.title, published_at)
        reader.followed = (reader.followed - {gone}) | {new}
        reader.contents[published.id] = published
        return FollowChange(reader.sources[gone], reader.sources[new], published)

    return change


@pytest.fixture
def seed_reader(session_factory: async_sessionmaker[AsyncSession]):
    """Seed a reader whose digest holds ``digest_size`` items.

    They follow enough sources to fill it, each source with more contents in
    the window than the three a digest may take from it, plus one older
    content; two sources they do not follow publish too. Rows go in shuffled,
    so content ids say nothing about publication order or rank.

    ``stored``: a digest for DAY was already stored at 06:00, before the day's
    two newest contents were published, so it differs from a fresh choice.
    """
    numbers = count()
    rng = random.Random(5)

    async def seed(digest_size: int = 10, *, stored: bool = False) -> SeededReader:
        followed_count = -(-digest_size // MAX_PER_SOURCE) + 2
        async with session_factory() as s:
            sources = []
            for _ in range(followed_count + 2):  # the last two: published, not followed
                number = next(numbers)
                sources.append(
                    Source(
                        name=f"{WORDS[number % len(WORDS)]} {WORDS[(number * 7 + 3) % len(WORDS)]} #{number}",
                        theme=THEMES[number % len(THEMES)],
                        feed_url=f"https://feeds.example.org/{number}.xml",
                    )
                )
            followed = sources[:followed_count]
            user = User(display_name=f"Reader {next(numbers)}", digest_size=digest_size)
            s.add_all([user, *sources])
            await s.flush()

            contents = []
            span = int((STORED_AT - WINDOW[0]).total_seconds() // 60)
            minutes = rng.sample(range(1, span), 6 * len(sources))
            for source in sources:
                for _ in range(5):
                    contents.append((source, WINDOW[0] + timedelta(minutes=minutes.pop())))
                contents.append((source, WINDOW[0] - timedelta(hours=rng.randint(1, 48))))  # too old
            # Published after 06:00, from followed sources: a fresh digest has them, a stored one does not.
            contents += [(followed[0], STORED_AT + timedelta(hours=3)), (followed[1], STORED_AT + timedelta(hours=4))]
            rng.shuffle(contents)
            rows = [
                Content(
                    source_id=source.id,
                    title=f"{source.name}: story {i}",
                    url=f"https://example.org/{source.id}/{i}",
                    published_at=published_at,
                )
                for i, (source, published_at) in enumerate(contents)
            ]
            s.add_all(rows)
            await s.flush()
            await s.execute(insert(follows), [{"user_id": user.id, "source_id": src.id} for src in followed])

            reader = SeededReader(
                id=user.id,
                digest_size=digest_size,
                sources={src.id: SeededSource(src.id, src.name, src.theme) for src in sources},
                contents={c.id: SeededContent(c.id, c.source_id, c.title, c.published_at) for c in rows},
                followed={src.id for src in followed},
            )
            assert len(reader.picks()) == digest_size, "the seed must fill the digest"
            if stored:
                reader.stored = reader.picks(before=STORED_AT)
                assert len(reader.stored) == digest_size, "the seed must fill the stored digest"
                s.add(
                    DailyDigest(
                        user_id=user.id,
                        day=DAY,
                        items=[{"content_id": cid, "rank": rank} for rank, cid in enumerate(reader.stored, 1)],
                        created_at=STORED_AT,
                    )
                )
            await s.commit()
        return reader

    return seed
