"""What a reader gets from GET /api/digest, whether the digest is chosen now or was stored earlier today."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from app.models import Content, DailyDigest

DAY = "2026-03-02"  # conftest.DAY


async def open_digest(client, reader) -> list[dict]:
    response = await client.get("/api/digest", params={"day": DAY}, headers={"X-User-Id": str(reader.id)})
    assert response.status_code == 200, (
        f"GET /api/digest answered {response.status_code} for a reader with a digest to show: {response.text[:300]}"
    )
    return response.json()["items"]


def check_items(reader, items: list[dict], expected_ids: list[int], what: str) -> None:
    """The items are the expected contents in rank order, each with its own title, source name and theme."""
    shown = [item["content_id"] for item in items]
    assert shown == expected_ids, f"{what} should list contents {expected_ids} in that order, it lists {shown}"
    for item in items:
        content, source = reader.contents[item["content_id"]], reader.source_of(item["content_id"])
        assert item["title"] == content.title, (
            f"item {item['rank']} should be titled {content.title!r}, it reads {item['title']!r}"
        )
        got = (item["source"]["name"], item["source"]["theme"])
        assert got == (source.name, source.theme), (
            f"item {item['rank']} ({content.title!r}) comes from {source.name!r}, theme {source.theme!r}; "
            f"the digest shows {got[0]!r}, theme {got[1]!r}. The source is in the database: the response "
            "has to load it, not guess it"
        )


def check_kept(reader, items: list[dict], expected_ids: list[int], what: str, change) -> None:
    """No item of a source the reader unfollowed since the digest was stored went missing."""
    shown = {item["content_id"] for item in items}
    lost = [cid for cid in expected_ids if cid not in shown and reader.source_of(cid) == change.unfollowed]
    assert not lost, (
        f"{what} lost contents {lost} of {change.unfollowed.name!r}: the digest was stored with them, and "
        "a digest shows what was stored that morning, whatever the reader follows now. Load its items by "
        "their ids, not through what the reader follows"
    )


async def stored_digests(session_factory, reader) -> list[list[int]]:
    async with session_factory() as s:
        digests = (await s.scalars(select(DailyDigest).where(DailyDigest.user_id == reader.id))).all()
        return [[e["content_id"] for e in sorted(d.items, key=lambda e: e["rank"])] for d in digests]


async def test_first_visit_builds_the_digest(client, seed_reader, session_factory):
    """The first visit of the day chooses the digest, and every item shows its source's name and theme"""
    reader = await seed_reader(10)

    items = await open_digest(client, reader)

    check_items(reader, items, reader.picks(), "today's digest")
    assert [item["rank"] for item in items] == list(range(1, 11)), (
        f"a fresh digest is ranked 1 to 10, this one reads {[item['rank'] for item in items]}"
    )
    assert await stored_digests(session_factory, reader) == [reader.picks()], (
        "the digest chosen on the first visit should be stored, once, with the same items, "
        "so that the next visit shows the same digest"
    )


async def test_second_visit_shows_the_same_digest(client, seed_reader, session_factory, change_follows):
    """A second visit the same day shows the same digest, each item with its source, whatever the reader follows now"""
    reader = await seed_reader(10)
    chosen = reader.picks()

    first = await open_digest(client, reader)
    change = await change_follows(reader, chosen[0])
    second = await open_digest(client, reader)

    what = f"the second visit's digest, {change},"
    check_kept(reader, second, chosen, what, change)
    assert second == first, f"{what} should show exactly the digest of the first visit, stored then"
    check_items(reader, second, chosen, what)
    assert len(await stored_digests(session_factory, reader)) == 1, "two visits on one day should store one digest"


async def test_stored_digest_is_served(client, seed_reader, session_factory, change_follows):
    """A digest stored earlier today is served as stored, each item with its source, whatever the reader follows now"""
    reader = await seed_reader(10, stored=True)
    change = await change_follows(reader, reader.stored[0])

    items = await open_digest(client, reader)

    what = f"the digest stored at 06:00, {change},"
    check_kept(reader, items, reader.stored, what, change)
    check_items(reader, items, reader.stored, what)
    assert await stored_digests(session_factory, reader) == [reader.stored], (
        "serving a stored digest should not choose or store another one"
    )


async def test_purged_content_is_left_out(client, seed_reader, session_factory):
    """An item whose content was purged since the digest was stored is left out; the others keep their rank"""
    reader = await seed_reader(10, stored=True)
    gone = reader.stored[3]
    async with session_factory() as s:
        await s.execute(delete(Content).where(Content.id == gone))
        await s.commit()

    items = await open_digest(client, reader)

    remaining = [cid for cid in reader.stored if cid != gone]
    check_items(reader, items, remaining, f"with content {gone} (rank 4) purged, the stored digest")
    ranks = [item["rank"] for item in items]
    assert ranks == [1, 2, 3, 5, 6, 7, 8, 9, 10], f"the remaining items keep their stored ranks; they read {ranks}"


@pytest.mark.parametrize("path", ["chosen on this visit", "stored earlier today"])
async def test_statements_do_not_grow_with_the_digest(path, client, seed_reader, sql, session_factory):
    """The digest of 10 items and of 50 runs the same number of SQL statements ({path})"""
    stored = path == "stored earlier today"
    small = await seed_reader(10, stored=stored)
    large = await seed_reader(50, stored=stored)

    counts = []
    for reader in (small, large):
        sql.clear()
        items = await open_digest(client, reader)
        counts.append(len(sql))
        expected = reader.stored if stored else reader.picks()
        check_items(reader, items, expected, f"the {reader.digest_size}-item digest")

    assert counts[0] == counts[1], (
        f"a digest {path} ran {counts[0]} SQL statements for 10 items and {counts[1]} for 50: "
        "something queries once per item, so the digest gets slower with every item a reader adds. "
        "Load the items, with their sources, in queries whose number does not depend on the digest's size"
    )
    async with session_factory() as s:
        digests = await s.scalar(select(func.count()).select_from(DailyDigest))
    assert digests == 2, f"two readers, one digest each: {digests} digests are stored"
