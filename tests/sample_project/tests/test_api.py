"""The HTTP API, through FastAPI's own serialisation of the response."""

import httpx
from bookshop import api


async def test_read_book_shows_its_author(engine, seed):
    await seed()
    api.sessions.configure(bind=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://shop") as client:
        response = await client.get("/books/1")
    assert response.json()["author"]["name"] == "Ursula"
