"""What the review calls one call: a service call that commits then refreshes; two pages behind one shared
decorator; a page that queries once per book, each query in a session of its own. They pass, and one test
of that page fails (a query budget): the review lists passing tests only."""

import httpx
from bookshop import api, services
from sqlalchemy import event


async def test_retitle_reads_the_row_back(sessions, seed):
    await seed()
    async with sessions() as session:
        book = await services.retitle(session, 1, "Book One")
        assert (book.title, book.updated_at is not None) == ("Book One", True)


async def test_staff_pages(engine, seed):
    api.sessions.configure(bind=engine)
    staff = {"x-staff": "yes"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://shop") as client:
        await seed(2)
        assert (await client.get("/admin/authors/count", headers=staff)).json() == {"authors": 2}
        small = (await client.get("/admin/authors", headers=staff)).json()
        await seed(12)
        assert (await client.get("/admin/authors/count", headers=staff)).json() == {"authors": 4}
        large = (await client.get("/admin/authors", headers=staff)).json()
    assert [a["books"] for a in small] == [1, 1] and sum(a["reviews"] for a in large) == 28


async def test_shelf(sessions, seed):
    await seed(10)
    assert set((await services.shelf(sessions)).values()) == {2}


async def test_shelf_within_its_query_budget(engine, sessions, seed):
    await seed(10)
    sent = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    await services.shelf(sessions)
    assert len(sent) <= 2, f"the shelf sent {len(sent)} statements for 10 books"
