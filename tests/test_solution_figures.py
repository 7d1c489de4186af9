"""Every statement count a SOLUTION.md quotes, measured on the kata's own code.

Each SOLUTION.md compares the reference fix with other fixes, with figures:
how many SQL statements each sends. Here each figure is measured. The kata's
code (the reference solution, or a fix from runner/checks/NN-*/variants.toml
applied the way tests/test_katas.py applies it) is imported and run against
a fresh database: SQLite, or a schema of its own on the PostgreSQL that
KATAS_DATABASE_URL names. An engine event counts the statements. Then the
figure is read where SOLUTION.md quotes it (a table cell, a sentence) and
compared. A table row that quotes a figure no test measures fails too.
"""

from __future__ import annotations

import asyncio
import importlib
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.databases import Statements, database, is_missing_greenlet
from tests.katas import KATAS, WS, apply_edits, copy_kata, variants

KATA = {kata.number: kata for kata in KATAS}
# 2.1 with aiosqlite leaves a never-awaited coroutine behind per MissingGreenlet (docs/mechanism.md),
# and the wrong fixes measured here raise some.
pytestmark = pytest.mark.filterwarnings("ignore:coroutine .* was never awaited:RuntimeWarning")
SOLUTION = "solution"  # the reference fix, as a row's "variant"


# --- What SOLUTION.md says -------------------------------------------------------------------


def notes(number: str) -> str:
    return (WS.solutions_dir / KATA[number].id / "SOLUTION.md").read_text(encoding="utf-8")


def said(number: str) -> str:
    """SOLUTION.md as one line of prose: sentences wrap anywhere."""
    return " ".join(notes(number).split())


def table(number: str) -> dict[str, dict[str, str]]:
    """The rows of SOLUTION.md's table of alternatives: first cell -> {column: cell}."""
    lines = [line for line in notes(number).splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        rows[cells[0]] = dict(zip(header, cells, strict=True))
    return rows


def row(rows: dict[str, dict[str, str]], starts: str) -> dict[str, str]:
    found = [cells for first, cells in rows.items() if first.startswith(starts)]
    assert len(found) == 1, f"SOLUTION.md's table has {len(found)} rows starting with {starts!r}"
    return found[0]


# --- The kata's code, with a fix applied, imported ---------------------------------------------


def variant_named(number: str, name: str) -> dict:
    if name in DERIVED:
        return DERIVED[name]()
    found = [v for v in variants(KATA[number]) if v["name"] == name]
    assert found, f"runner/checks/{KATA[number].id}/variants.toml has no variant {name!r}"
    return found[0]


def prepare(number: str, variant: str, folder: Path) -> Path:
    """A copy of the kata with the reference fix, or with the variant named (from variants.toml)."""
    kata = KATA[number]
    if variant == SOLUTION:
        return copy_kata(kata, folder, base="solution")
    found = variant_named(number, variant)
    copy_kata(kata, folder, base=found.get("base", "start"))
    apply_edits(folder, found.get("edit", []))
    return folder


def awaitable_attrs_each_performer() -> dict:
    """Kata 01's per-performer refresh, with ``await performer.awaitable_attrs.dancer`` instead (not a variant)."""
    refresh = variant_named("01", "refresh-each-performer")
    edits = [
        {
            **edit,
            "replace": edit["replace"].replace(
                'await self.session.refresh(performer, ["dancer"])', "await performer.awaitable_attrs.dancer"
            ),
        }
        for edit in refresh["edit"]
    ]
    edits += [
        {
            "file": "app/models.py",
            "find": "class Base(DeclarativeBase):",
            "replace": "class Base(AsyncAttrs, DeclarativeBase):",
        },
        {
            "file": "app/models.py",
            "find": "from sqlalchemy.orm import",
            "replace": "from sqlalchemy.ext.asyncio import AsyncAttrs\nfrom sqlalchemy.orm import",
        },
    ]
    return {**refresh, "name": "awaitable-attrs-each-performer", "edit": edits}


DERIVED = {"awaitable-attrs-each-performer": awaitable_attrs_each_performer}


def _forget_app() -> None:
    for name in [name for name in sys.modules if name == "app" or name.startswith("app.")]:
        del sys.modules[name]


@contextmanager
def kata_code(number: str, variant: str, tmp_path: Path) -> Iterator[Callable[[str], object]]:
    """``import_module`` for the prepared copy's ``app`` package (every kata's package is ``app``)."""
    folder = prepare(number, variant, tmp_path / f"{number}-{variant}")
    path = list(sys.path)
    _forget_app()
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module
    finally:
        _forget_app()
        sys.path[:] = path


# --- Kata 01: the command center, 3 and 30 battles ---------------------------------------------

BATTLES = (3, 30)


async def seed_tournament(engine: AsyncEngine, app, battles: int) -> int:
    """The hidden checks' shape: battle 1 done, battle 2 on stage, the rest queued; two dancers each."""
    models = app("app.models")
    categories = [{"id": n, "tournament_id": 1, "name": f"Category {n}"} for n in (1, 2, 3)]
    rows = {"battles": [], "performers": [], "dancers": [], "links": []}
    for sequence in range(1, battles + 1):
        status = {1: models.BattleStatus.COMPLETED, 2: models.BattleStatus.ACTIVE}.get(sequence)
        rows["battles"].append(
            {
                "id": sequence,
                "category_id": 1 + sequence % 3,
                "phase": models.BattlePhase.PRESELECTION,
                "status": status or models.BattleStatus.PENDING,
                "sequence_order": sequence,
            }
        )
        for slot in (1, 2):
            number = 2 * sequence + slot
            rows["dancers"].append({"id": number, "blaze": f"Dancer {number}", "legal_name": None})
            rows["performers"].append({"id": number, "category_id": 1 + sequence % 3, "dancer_id": number})
            rows["links"].append({"battle_id": sequence, "performer_id": number, "slot": slot})
    async with engine.begin() as conn:
        await conn.execute(
            insert(models.Tournament), [{"id": 1, "name": "Cup", "phase": models.TournamentPhase.PRESELECTION}]
        )
        await conn.execute(insert(models.Category), categories)
        await conn.execute(insert(models.Dancer), rows["dancers"])
        await conn.execute(insert(models.Performer), rows["performers"])
        await conn.execute(insert(models.Battle), rows["battles"])
        await conn.execute(insert(models.battle_performers), rows["links"])
    return 1


def command_center(number: str, variant: str, tmp_path: Path) -> list[int]:
    """Statements the command center sends, for each size in BATTLES, in a fresh session."""
    counts = []
    with kata_code(number, variant, tmp_path) as app:
        from sqlalchemy.ext.asyncio import async_sessionmaker

        async def measure(battles: int) -> int:
            async with database(app("app.models").Base.metadata, tmp_path) as (engine, statements):
                tournament_id = await seed_tournament(engine, app, battles)
                statements.clear()
                async with async_sessionmaker(engine, expire_on_commit=False)() as session:
                    context = (
                        await app("app.services.event_service")
                        .EventService(session)
                        .get_command_center_context(tournament_id)
                    )
                assert context.current_battle.performer1_name.startswith("Dancer"), context
                return len(statements)

        for battles in BATTLES:
            counts.append(asyncio.run(measure(battles)))
    return counts


KATA_01_ROWS = {
    "`selectinload(...).selectinload(Performer.dancer)` written out": "chained-selectinload-inline",
    "`selectinload(Battle.performers).joinedload(Performer.dancer)`": "selectinload-then-joinedload",
    "`joinedload(Battle.performers).joinedload(Performer.dancer)`": "chained-joinedload-unique",
    '`relationship(lazy="selectin")`': "lazy-selectin-on-model",
    '`await session.refresh(performer, ["dancer"])`': "refresh-each-performer",
    "`await performer.awaitable_attrs.dancer`": "awaitable-attrs-each-performer",
}


@pytest.mark.parametrize(("starts", "variant"), list(KATA_01_ROWS.items()), ids=list(KATA_01_ROWS.values()))
def test_kata_01_table(starts: str, variant: str, tmp_path: Path) -> None:
    cells = row(table("01"), starts)
    counts = command_center("01", variant, tmp_path)
    assert cells["statements"] == " / ".join(map(str, counts)), (
        f"{variant}: the command center sends {counts} statements for {BATTLES} battles; SOLUTION.md says "
        f"{cells['statements']!r}"
    )
    verdict = {v["name"]: v["verdict"] for v in variants(KATA["01"])}.get(variant, "not a variant")
    assert cells["checks"] == verdict, f"{variant}: the checks say {verdict}, SOLUTION.md {cells['checks']!r}"


def test_kata_01_prose(tmp_path: Path) -> None:
    solution = command_center("01", SOLUTION, tmp_path)
    refresh = command_center("01", "refresh-each-performer", tmp_path)
    # The performers the command center reads: the one on stage and the queue, two each.
    performers = [2 * (battles - 1) for battles in BATTLES]
    per_performer = (refresh[1] - refresh[0]) / (performers[1] - performers[0])
    # 2 fixed queries (tournament, categories) + 3 battle queries of 3 statements each.
    assert solution == [11, 11]
    text = said("01")
    assert "The whole command center takes 11 statements for 3 battles and for 30" in text
    assert "three statements per method (battles, performers, dancers)" in text
    assert per_performer == 2 and "each performer costs 2 statements (its row, then the dancer)" in text
    awaited = command_center("01", "awaitable-attrs-each-performer", tmp_path)
    assert (awaited[1] - awaited[0]) / (performers[1] - performers[0]) == 1
    assert "One statement per performer whose dancer the session does not hold yet" in text

    async def performers_query(variant: str) -> int:
        with kata_code("01", variant, tmp_path / "performers") as app:
            from sqlalchemy import select
            from sqlalchemy.ext.asyncio import async_sessionmaker

            async with database(app("app.models").Base.metadata, tmp_path) as (engine, statements):
                await seed_tournament(engine, app, 3)
                statements.clear()
                async with async_sessionmaker(engine)() as session:
                    await session.scalars(select(app("app.models").Performer))
                return len(statements)

    counts = [asyncio.run(performers_query(v)) for v in (SOLUTION, "lazy-selectin-on-model")]
    assert counts == [1, 2] and "(`select(Performer)` goes from 1 statement to 2)" in text


# --- Kata 02: POST /api/sync/all ----------------------------------------------------------------

KATA_02_ROWS = {
    "the reference": SOLUTION,
    "`refresh()` in the service's own session": "refresh-in-the-services-own-session",
    "the write-up's `await db.refresh(job)` in each route, once": "seed-refresh-once-the-session-is-shared",
    "the service returns a frozen dataclass": "return-a-snapshot",
    "the service returns the id": "return-the-id-and-load-it-in-the-route",
    "`job = await db.merge(job)`": "merge-into-the-routes-session",
    "`expire_on_commit=False` and": "no-expiry-and-eager-defaults",
}


def sync_all(variant: str, tmp_path: Path) -> Statements:
    """The statements POST /api/sync/all sends."""
    import httpx

    with kata_code("02", variant, tmp_path) as app:

        async def measure() -> Statements:
            async with database(app("app.models").Base.metadata, tmp_path) as (engine, statements):
                app("app.db").init_db(engine)
                transport = httpx.ASGITransport(app=app("app.main").create_app())
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                    response = await client.post("/api/sync/all")
                assert response.status_code == 202, response.text
                return statements

        return asyncio.run(measure())


@pytest.mark.parametrize(("starts", "variant"), list(KATA_02_ROWS.items()), ids=list(KATA_02_ROWS.values()))
def test_kata_02_table(starts: str, variant: str, tmp_path: Path) -> None:
    cells = row(table("02"), starts)
    statements = sync_all(variant, tmp_path)
    kinds = statements.kinds()
    assert cells["statements"] == ", ".join(kinds), (
        f"{variant}: POST /api/sync/all sends {kinds}; SOLUTION.md says {cells['statements']!r}"
    )


def test_kata_02_prose(tmp_path: Path) -> None:
    insert_, reload, update, refresh = sync_all(SOLUTION, tmp_path)
    assert reload.startswith("SELECT") and "FROM jobs" in reload and update.startswith("UPDATE jobs")
    assert "The SELECT before the UPDATE is SQLAlchemy loading the expired job's row to write the task id" in said("02")


# --- Kata 03: what each refresh costs, 3 roles and 12 ------------------------------------------


def onboarding(variant: str, tmp_path: Path) -> dict:
    """For a rescue squad (3 roles) and a fire department (12): each refresh's statements, and the total."""
    with kata_code("03", variant, tmp_path) as app:
        models, schemas = app("app.models"), app("app.schemas")
        service = app("app.services.onboarding")
        steps = app("app.defaults").ONBOARDING_STEPS

        async def measure(kind) -> dict:
            async with database(models.Base.metadata, tmp_path) as (engine, statements):
                async with app("app.db").make_sessionmaker(engine)() as session:
                    refreshes = []
                    plain_refresh = session.refresh

                    async def counted_refresh(instance, attribute_names=None, **options):
                        before = len(statements)
                        await plain_refresh(instance, attribute_names, **options)
                        refreshes.append((attribute_names, statements[before:]))

                    session.refresh = counted_refresh
                    statements.clear()
                    data = schemas.OrganizationIn(name="Lakeside", slug="lakeside", organization_type=kind)
                    org, _ = await service.OnboardingService(session).create_organization(data)
                    created, org_id = len(statements), org.id
                    await session.commit()
                    statements.clear()
                    await service.OnboardingService(session).complete_step(org_id, steps[1])
                    return {"refreshes": refreshes, "create": created, "step": len(statements)}

        return {
            kind.name: asyncio.run(measure(kind))
            for kind in (models.OrganizationType.RESCUE_SQUAD, models.OrganizationType.FIRE_DEPARTMENT)
        }


def test_kata_03_prose(tmp_path: Path) -> None:
    text = said("03")
    seen = onboarding(SOLUTION, tmp_path)
    for kind, found in seen.items():
        named = [(names, len(sql)) for names, sql in found["refreshes"]]
        assert named == [(["identifier_type", "updated_at"], 1), (["roles"], 2), (None, 1)], (kind, named)
        [[columns]] = [sql for names, sql in found["refreshes"] if names == ["identifier_type", "updated_at"]]
        assert columns.split(" FROM ")[0].count(",") == 1, columns  # one SELECT of two columns
    assert "one SELECT of two columns" in text
    assert "in two statements however many roles there are (the row, then the roles)" in text
    assert "one SELECT after the department-ID UPDATE, two for the roles, one after the commit" in text
    totals = [(found["create"], found["step"]) for found in seen.values()]
    assert totals[0] == totals[1], totals  # "The same for 3 roles as for 12"
    assert "The same for 3 roles as for 12" in text

    per_role = onboarding("flush-and-refresh-each-role", tmp_path)
    grown = per_role["FIRE_DEPARTMENT"]["create"] - per_role["RESCUE_SQUAD"]["create"]
    assert grown == 2 * (12 - 3) and "A flush and a refresh per role: correct values, two statements per role" in text


# --- Kata 05: GET /api/digest, 10 items and 50, first visit and stored --------------------------

DAY = date(2026, 3, 2)
ITEMS = (10, 50)
KATA_05_ROWS = {
    "one query, `selectinload(Content.source)`": SOLUTION,
    "one query, `joinedload(Content.source)`": "batched-joinedload",
    "one query, `.execution_options(populate_existing=True)`": "batched-populate-existing",
    "`select(Content, Source).join(Content.source)`": "select-content-and-source-rows",
    '`lazy="selectin"` on `Content.source`': "lazy-selectin-on-model-and-batched-query",
    "`get(..., options=[selectinload(...)])`": "options-on-get",
    "`get(..., populate_existing=True, options=[...])`": "populate-existing-per-item",
    "a `select(...).options(selectinload(...))` per item": "select-per-item",
    '`await session.refresh(content, ["source"])` per item': "refresh-each-item",
    "`session.expunge_all()`, then `get()` with options": "expunge-all-then-options-on-get",
    "`session.expire_all()`, then `get()` with options": "expire-all-then-options-on-get",
    "`joinedload(Content.source)` in the selector only": "joinedload-in-the-selector-only",
    "catch the error": "catch-and-show-unknown",
}


async def seed_reader(engine: AsyncEngine, models, items: int) -> int:
    """A reader who follows enough sources for ``items`` picks (three per source), and asks for ``items``."""
    sources = -(-items // 3)
    published = datetime.combine(DAY, datetime.min.time()) - timedelta(hours=1)
    async with engine.begin() as conn:
        await conn.execute(
            insert(models.Source),
            [
                {"id": n, "name": f"Source {n}", "theme": f"theme {n}", "feed_url": f"https://x/{n}"}
                for n in range(1, sources + 1)
            ],
        )
        await conn.execute(
            insert(models.Content),
            [
                {"id": n, "source_id": 1 + n % sources, "title": f"Story {n}", "url": f"https://x/s/{n}",
                 "published_at": published - timedelta(minutes=n)}
                for n in range(1, 3 * sources + 1)
            ],
        )  # fmt: skip
        await conn.execute(insert(models.User), [{"id": 1, "display_name": "Reader", "digest_size": items}])
        await conn.execute(insert(models.follows), [{"user_id": 1, "source_id": n} for n in range(1, sources + 1)])
    return 1


def digest(variant: str, tmp_path: Path) -> dict[str, list[tuple[str, int]]]:
    """Per visit (first, stored): what it gave (works, MissingGreenlet, wrong tags) and its statements, per size."""
    seen: dict[str, list[tuple[str, int]]] = {"first visit": [], "stored digest": []}
    with kata_code("05", variant, tmp_path) as app:
        models = app("app.models")
        service = app("app.services.digest_service")

        async def visit(engine, statements, user_id, items: int) -> tuple[str, int]:
            statements.clear()
            async with app("app.db").make_sessionmaker(engine)() as session:
                try:
                    answer = await service.DigestService(session).get_digest(user_id, DAY)
                except Exception as error:
                    if not is_missing_greenlet(error):
                        raise
                    return "MissingGreenlet", len(statements)
            count = len(statements)
            assert len(answer.items) == items, f"{variant}: {len(answer.items)} items, the reader asked for {items}"
            tags = {(item.content_id, item.source.name) for item in answer.items}
            return ("works" if tags == await stored_tags(engine, answer) else "wrong tags"), count

        async def measure(items: int) -> None:
            async with database(models.Base.metadata, tmp_path) as (engine, statements):
                user_id = await seed_reader(engine, models, items)
                for name in seen:
                    seen[name].append(await visit(engine, statements, user_id, items))

        for items in ITEMS:
            asyncio.run(measure(items))
    return seen


async def stored_tags(engine: AsyncEngine, answer) -> set[tuple[int, str]]:
    """(content id, source name) as the database holds them, for the items the answer lists."""
    ids = {item.content_id for item in answer.items}
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT contents.id, sources.name FROM contents JOIN sources ON sources.id = contents.source_id")
        )
        return {(content_id, name) for content_id, name in rows if content_id in ids}


@pytest.mark.parametrize(("starts", "variant"), list(KATA_05_ROWS.items()), ids=list(KATA_05_ROWS.values()))
def test_kata_05_table(starts: str, variant: str, tmp_path: Path) -> None:
    cells = row(table("05"), starts)
    seen = digest(variant, tmp_path)
    for visit, runs in seen.items():
        outcomes = {outcome for outcome, _ in runs}
        assert len(outcomes) == 1, f"{variant}, {visit}: {runs}"
        assert cells[visit].startswith(outcomes.pop()), f"{variant}, {visit}: {runs}; SOLUTION.md: {cells[visit]!r}"
    figures = cells["statements, 10 vs 50 items"]
    working = {visit: [n for _, n in runs] for visit, runs in seen.items() if runs[0][0] != "MissingGreenlet"}
    exact = re.fullmatch(r"(\d+) vs (\d+) \(first visit\), (\d+) vs (\d+) \(stored\)(;.*)?", figures)
    per_item = re.match(r"(\d+) per item", figures)
    if exact:
        quoted = [int(n) for n in exact.groups()[:4]]
        assert working["first visit"] + working["stored digest"] == quoted, f"{variant}: {seen}; says {figures!r}"
    elif per_item:
        for visit, counts in working.items():
            assert counts[1] - counts[0] == int(per_item[1]) * (ITEMS[1] - ITEMS[0]), f"{variant}, {visit}: {counts}"
    elif figures.startswith("constant"):
        assert all(counts[0] == counts[1] for counts in working.values()), f"{variant}: {seen}"
    elif figures.startswith("grows"):
        assert all(counts[1] > counts[0] for counts in working.values()), f"{variant}: {seen}"
    else:
        assert not re.search(r"\d", figures), f"{variant}: {figures!r} quotes a figure this test does not read"


# --- No table quotes a figure nothing measures ---------------------------------------------------

MEASURED = {  # kata -> (the rows measured above, the column of figures)
    "01": (KATA_01_ROWS, "statements"),
    "02": (KATA_02_ROWS, "statements"),
    "05": (KATA_05_ROWS, "statements, 10 vs 50 items"),
}
FIGURE_RE = re.compile(r"\d|\b(INSERT|SELECT|UPDATE|constant|grows|fewer|more)\b")


@pytest.mark.parametrize("number", sorted(MEASURED))
def test_every_figure_in_a_table_is_measured(number: str) -> None:
    measured, column = MEASURED[number]
    for first, cells in table(number).items():
        if FIGURE_RE.search(cells[column]):
            assert any(first.startswith(starts) for starts in measured), (
                f"kata {number}'s SOLUTION.md quotes {cells[column]!r} for {first!r}: measure it here, or drop it"
            )


def test_kata_05_prose(tmp_path: Path) -> None:
    text = said("05")
    seen = digest(SOLUTION, tmp_path)
    # A stored digest: the reader, the digest, then the builder's own two.
    assert [n - 2 for _, n in seen["stored digest"]] == [2, 2]
    assert (
        "It costs two statements (contents, then every source they need), whether the digest has 10 items or 50" in text
    )
    per_item = digest("populate-existing-per-item", tmp_path)
    for runs in per_item.values():
        assert runs[1][1] - runs[0][1] == 2 * (ITEMS[1] - ITEMS[0]), per_item
    assert "Per item it still costs two statements per item" in text
