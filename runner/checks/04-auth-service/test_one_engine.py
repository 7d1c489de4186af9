"""The fix the story asks for: async routes, awaited queries, on the app's one async engine."""

from __future__ import annotations

import inspect

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import async_session
from sqlalchemy.orm import Session

ROUTES = ("/auth/login", "/auth/refresh")


async def test_routes_stay_async(app, client):
    """The login and refresh routes are still async def"""
    # Requests that stop before any query (a missing form, a missing token): only the routing matters.
    await client.post("/auth/login")
    await client.post("/auth/refresh")

    assert set(app.endpoints) == set(ROUTES), (
        f"the app should still serve {' and '.join(ROUTES)}; it served {sorted(app.endpoints)}"
    )
    for path, endpoint in app.endpoints.items():
        assert inspect.iscoroutinefunction(endpoint), (
            f"{path} is served by a plain def, which FastAPI runs in a thread pool: that hides the sync "
            "Session instead of replacing it, and every login holds a thread while it waits on the "
            "database. Keep the route async def and await its queries."
        )


class DatabaseUse:
    """Which engines opened connections, and which ORM sessions began transactions, while recording."""

    def __init__(self) -> None:
        self.engines: list[Engine] = []
        self.sync_sessions = 0
        self.async_sessions = 0

    def on_connect(self, conn) -> None:
        self.engines.append(conn.engine)

    def on_begin(self, session, transaction, connection) -> None:
        # An AsyncSession runs its work in a sync Session it owns: async_session() finds the owner.
        if async_session(session) is None:
            self.sync_sessions += 1
        else:
            self.async_sessions += 1

    def __enter__(self):
        event.listen(Engine, "engine_connect", self.on_connect)
        event.listen(Session, "after_begin", self.on_begin)
        return self

    def __exit__(self, *exc) -> None:
        event.remove(Engine, "engine_connect", self.on_connect)
        event.remove(Session, "after_begin", self.on_begin)


async def test_one_async_engine(engine, client, seed):
    """Login and refresh query through an AsyncSession on the app's own engine"""
    org = await seed()

    with DatabaseUse() as used:
        login = await client.post("/auth/login", data={"username": org.user.email, "password": org.user.password})
        refresh = await client.post("/auth/refresh", json={"refresh_token": org.tokens["valid"]})

    assert (login.status_code, refresh.status_code) == (200, 200), (
        f"login and refresh should both succeed; they answered {login.status_code} and {refresh.status_code}"
    )
    others = {e.url.render_as_string() for e in used.engines if e is not engine.sync_engine}
    assert not others, (
        f"login and refresh connected to an engine other than the app's own: {sorted(others)}. A second, "
        "sync engine beside the async one blocks the event loop on every query and doubles the pools "
        "to size. Use the app's engine (app.state.engine) through an AsyncSession."
    )
    assert used.sync_sessions == 0, (
        f"login and refresh ran {used.sync_sessions} transaction(s) in a plain, sync Session. An async def "
        "route takes an AsyncSession and awaits every query."
    )
    assert used.async_sessions, "login and refresh should run their queries in an AsyncSession"


async def test_statements_do_not_grow(client, seed, sql):
    """Login and refresh run as many SQL statements for a busy account as for a quiet one"""
    quiet = await seed("quiet", members=2, sessions=1)
    busy = await seed("busy", members=40, sessions=30)

    async def statements_for(org) -> tuple[int, int]:
        sql.clear()
        login = await client.post("/auth/login", data={"username": org.user.email, "password": org.user.password})
        logged_in = len(sql)
        sql.clear()
        refresh = await client.post("/auth/refresh", json={"refresh_token": org.tokens["valid"]})
        assert (login.status_code, refresh.status_code) == (200, 200), (
            f"login and refresh should both succeed; they answered {login.status_code} and {refresh.status_code}"
        )
        return logged_in, len(sql)

    (quiet_login, quiet_refresh), (busy_login, busy_refresh) = await statements_for(quiet), await statements_for(busy)

    assert (quiet_login, quiet_refresh) == (busy_login, busy_refresh), (
        f"login and refresh ran {quiet_login} and {quiet_refresh} SQL statements for a user with 1 session in "
        f"an organisation of 2, but {busy_login} and {busy_refresh} for one with 30 sessions in an organisation "
        "of 40: something loads per member or per session. Load the user and the organisation in the query."
    )
