"""Sources, what they publish, who follows them, and the digest each reader gets every day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Column, Date, DateTime, ForeignKey, String, Table, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


# Which sources a reader follows. The follow button writes these rows; the ORM only reads them.
follows = Table(
    "follows",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("source_id", ForeignKey("sources.id", ondelete="CASCADE"), primary_key=True),
)


class Source(Base):
    """A publication, newsletter or podcast the app ingests."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    theme: Mapped[str] = mapped_column(String(40))  # "tech", "climate", ...: shown as a tag on each item
    feed_url: Mapped[str] = mapped_column(String(300))

    contents: Mapped[list[Content]] = relationship(back_populates="source")


class Content(Base):
    """One article, episode or video, as ingested from its source's feed."""

    __tablename__ = "contents"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(500))
    published_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # naive UTC

    source: Mapped[Source] = relationship(back_populates="contents")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    display_name: Mapped[str] = mapped_column(String(80))
    digest_size: Mapped[int] = mapped_column(default=10)  # items per digest, a reader's setting

    followed_sources: Mapped[list[Source]] = relationship(secondary=follows)


class DailyDigest(Base):
    """The digest a reader got on one day, stored so that every visit that day shows the same one."""

    __tablename__ = "daily_digests"
    __table_args__ = (UniqueConstraint("user_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    # [{"content_id": 12, "rank": 1}, ...]: ids, not foreign keys, so purging a
    # source's old contents never has to rewrite past digests.
    items: Mapped[list[dict]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
