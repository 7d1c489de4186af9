"""Every Fix the explainer suggests works: applied where it says, as it says, the failure is gone.

Each case is a small module of "learner code", written to a folder of its own (the
explainer's scope), run once to fail, explained, then run again with the Fix's
code put in at the line the Fix names (``after`` it, ``before`` it, ``replace`` it,
or, for a loader option, appended to the query at ``__FIX__``). On SQLite, and on
PostgreSQL when KATAS_DATABASE_URL names one; on whichever SQLAlchemy runs the suite.
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import sys
import textwrap

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker

from implicit_io.explain import explain
from implicit_io.frames import Scope
from implicit_io.recorder import Recorder
from implicit_io.rules import RuleIndex
from tests.conftest import database_params
from tests.katas import WS
from tests.test_explain import URLS, make_engine, quiet

HEADER = """\
import asyncio

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload, undefer

from tests.test_explain import Battle, Dancer, Performer
"""

# name: (cause, how the fix goes in, the module's code); ``scenario(sessions)`` returns what it read.
CASES = {
    "relationship-not-loaded": (
        "relationship-not-loaded",
        "expr",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = (await session.scalars(select(Battle)__FIX__)).one()
                return [performer.id for performer in battle.performers]
        """,
    ),
    "get-then-relationship": (
        "relationship-not-loaded",
        "get",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = await session.get(Battle, 1__FIX__)
                return [performer.id for performer in battle.performers]
        """,
    ),
    "get-in-the-identity-map": (
        "identity-map",
        "ids",
        """
        async def scenario(sessions):
            async with sessions() as session:
                held = (await session.scalars(select(Battle))).all()  # an earlier step loads the battle
                ids = [1]
                option = selectinload(Battle.performers)
                battles = [await session.get(Battle, battle_id, options=[option]) for battle_id in ids]
                return [performer.id for battle in battles for performer in battle.performers]
        """,
    ),
    "second-hop": (
        "second-hop",
        "expr",
        """
        async def scenario(sessions):
            async with sessions() as session:
                stmt = select(Battle).options(selectinload(Battle.performers))
                battle = (await session.scalars(stmt__FIX__)).one()
                return [performer.dancer.name for performer in battle.performers]
        """,
    ),
    "expired-after-commit": (
        "expired-after-commit",
        "after",
        """
        async def scenario(sessions):
            async with sessions() as db:
                final = (await db.scalars(select(Battle))).one()
                final.title = "Final (rerun)"
                await db.commit()
                return final.title
        """,
    ),
    "relationship-expired-after-commit": (
        "expired-after-commit",
        "after",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = (await session.scalars(select(Battle))).one()
                await session.commit()
                return [performer.id for performer in battle.performers]
        """,
    ),
    "expired-after-rollback": (
        "expired-after-rollback",
        "after",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = (await session.scalars(select(Battle))).one()
                await session.rollback()
                return battle.title
        """,
    ),
    "expired-after-update": (
        "expired-after-update",
        "after",
        """
        async def scenario(sessions):
            async with async_sessionmaker(sessions.kw["bind"], expire_on_commit=False)() as session:
                battle = (await session.scalars(select(Battle))).one()
                battle.title = "Final (rerun)"
                await session.flush()
                return battle.updated_at is not None
        """,
    ),
    "new-object-relationship": (
        "new-object-relationship",
        "after",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = Battle(title="Open")
                session.add(battle)
                await session.flush()
                session.add(Performer(battle_id=battle.id, dancer_id=1))
                await session.flush()
                return len(battle.performers)
        """,
    ),
    "deferred": (
        "deferred",
        "expr",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = (await session.scalars(select(Battle)__FIX__)).one()
                return battle.notes
        """,
    ),
    "expire": (
        "expired",
        "after",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = (await session.scalars(select(Battle).options(selectinload(Battle.performers)))).one()
                session.expire(battle)
                return [performer.id for performer in battle.performers]
        """,
    ),
    "refresh-without-names": (
        "refreshed-without-names",
        "after",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = (await session.scalars(select(Battle))).one()
                await session.refresh(battle)
                return [performer.id for performer in battle.performers]
        """,
    ),
    "detached": (
        "detached",
        "before",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = (await session.scalars(select(Battle))).one()
                await session.commit()
            async with sessions() as session:
                return battle.title
        """,
    ),
    "not-in-session": (
        "not-in-session",
        "replace",
        """
        async def scenario(sessions):
            async with sessions() as owner, sessions() as db:
                battle = (await owner.scalars(select(Battle))).one()
                await owner.commit()
                await db.refresh(battle)
                return battle.title
        """,
    ),
    "rollback-in-an-except": (
        "expired-after-rollback",
        "savepoint",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = (await session.scalars(select(Battle))).one()
                performer = Performer(id=1, battle_id=1, dancer_id=1)
                session.add(performer)
                try:
                    await session.flush()
                except IntegrityError:
                    await session.rollback()
                    return performer.id, battle.id
        """,
    ),
    "pending-rollback": (
        "pending-rollback",
        "savepoint",
        """
        async def scenario(sessions):
            async with sessions() as session:
                battle = (await session.scalars(select(Battle))).one()
                performer = Performer(id=1, battle_id=1, dancer_id=1)
                session.add(performer)
                try:
                    async with session.begin_nested():
                        await session.flush()
                except IntegrityError:
                    return battle.title
        """,
    ),
    "another-sessions-object-added-along": (
        "not-in-session",
        "in-place-of",
        """
        async def scenario(sessions):
            async with sessions() as owner:
                dancer = (await owner.scalars(select(Dancer).order_by(Dancer.id))).first()
                async with sessions() as session:
                    performer = Performer(
                        battle_id=1,
                        dancer=dancer,
                    )
                    session.add(performer)
                    await session.commit()
                return dancer.name
        """,
    ),
    "one-session-in-gathered-tasks": (
        "concurrent-session",
        "gather",
        """
        async def fetch(number):
            await asyncio.sleep(0.01)  # an HTTP call: no session
            return number


        async def scenario(sessions):
            async with sessions() as session:
                numbers = [1, 2, 1, 2]

                async def add(number):
                    dancer_id = await fetch(number)
                    session.add(Performer(battle_id=1, dancer_id=dancer_id))
                    await session.flush()

                await asyncio.gather(*(add(number) for number in numbers))
                return len(numbers)
        """,
    ),
    "loader-path": (
        "loader-path",
        "replace-option",
        """
        async def scenario(sessions):
            async with sessions() as session:
                stmt = select(Battle).options(selectinload(Battle.performers), selectinload(Performer.dancer))
                battle = (await session.scalars(stmt)).one()
                return [performer.dancer.name for performer in battle.performers]
        """,
    ),
}


def load(folder, name: str, source: str):
    path = folder / f"case_{name.replace('-', '_')}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    module.async_sessionmaker = async_sessionmaker
    spec.loader.exec_module(module)
    return module, path


def run(module, url: str):
    """The scenario's value, or the exception it raised."""

    async def main():
        engine = await make_engine(url)
        try:
            return await module.scenario(async_sessionmaker(engine))
        except Exception as error:  # noqa: BLE001 - the failure is the point
            return error
        finally:
            await engine.dispose()

    with quiet():
        return asyncio.run(main())


# What a learner writes for the Fix's "..." (the rest of the task, given its answer): "gather" cases.
REST = {
    "one-session-in-gathered-tasks": ["session.add(Performer(battle_id=1, dancer_id=answer))", "await session.flush()"]
}


def apply(source: str, fix: dict, how: str, name: str = "") -> str:
    """The source with the Fix's code put in where the Fix says."""
    if how in ("savepoint", "gather"):
        return apply_block(source, fix, how, name)
    code = re.sub(r"\s+#.*$", "", fix["code"])  # its comment names alternatives, not code
    if how == "in-place-of":  # "new   # in place of old, ...": the new code where the old is
        old = re.search(r"# in place of (.+?)(?:, in |$)", fix["code"]).group(1)
        return source.replace(old, code)
    if how == "expr":
        return source.replace("__FIX__", code)
    if how == "get":
        return source.replace("__FIX__", ", " + code)
    if how == "replace-option":
        chained = re.fullmatch(r"\.options\((.*)\)", code).group(1)
        return source.replace(
            "options(selectinload(Battle.performers), selectinload(Performer.dancer))", f"options({chained})"
        )
    lines = source.split("\n")
    at = fix["at"]["line"] - 1 if fix.get("at") else None
    if how == "ids":  # one query for every id, its options applied, instead of get() per id
        index = next(i for i, text in enumerate(lines) if "session.get(" in text)
        indent = lines[index][: len(lines[index]) - len(lines[index].lstrip())]
        lines[index] = f"{indent}battles = (await session.scalars({code})).all()"
        return "\n".join(lines)
    if at is None:  # no line named: just before the read that failed
        at = next(i for i, text in enumerate(lines) if text.strip().startswith("return "))
        how = "before"
    indent = lines[at][: len(lines[at]) - len(lines[at].lstrip())]
    if how == "replace":
        lines[at] = indent + code
    elif how == "before":
        lines.insert(at, indent + code)
    else:
        lines.insert(at + 1, indent + code)
    return "\n".join(lines)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def apply_block(source: str, fix: dict, how: str, name: str) -> str:
    """A Fix whose code is a block: in place of the try's body, as it says (the add it moves into the block
    taken from above the try, the rollback it drops taken from the except); or in place of the gather()."""
    lines = source.split("\n")
    at = fix["at"]["line"] - 1
    indent = _indent(lines[at])
    code = fix["code"].split("\n")
    if how == "gather":
        rest = [indent + "    " + text for text in REST[name]]
        block = [indent + text for text in code if not text.strip().startswith("...")]
        return "\n".join(lines[:at] + block + rest + lines[at + 1 :])
    start = max(i for i in range(at) if lines[i].strip() == "try:" and len(_indent(lines[i])) < len(indent))
    end = next(i for i in range(at, len(lines)) if lines[i].strip().startswith("except"))
    handler_end = next(
        (
            i
            for i in range(end + 1, len(lines))
            if lines[i].strip() and len(_indent(lines[i])) <= len(_indent(lines[end]))
        ),
        len(lines),
    )
    handler = [text for text in lines[end:handler_end] if not text.strip().endswith(".rollback()")]
    moved = {text.strip() for text in code}
    before = [text for text in lines[:start] if text.strip() not in moved]
    return "\n".join(before + [lines[start]] + [indent + text for text in code] + handler + lines[handler_end:])


@pytest.mark.parametrize("url", database_params(URLS), ids=lambda u: u.split("+")[1].split(":")[0])
@pytest.mark.parametrize("name", list(CASES))
def test_the_fix_it_suggests_makes_the_failure_go(name, url, tmp_path):
    cause, how, body = CASES[name]
    source = HEADER + textwrap.dedent(body)
    recorder = Recorder(Scope([tmp_path], detect_tests=False)).install()
    try:
        recorder.start()
        module, _ = load(tmp_path, name, source.replace("__FIX__", ""))
        error = run(module, url)
        assert isinstance(error, Exception), f"{name}: the case did not fail: {error!r}"
        failure = explain(
            error, recorder.scope, record=recorder.record, rules=RuleIndex.discover(WS.root), recorder=recorder
        )
    finally:
        recorder.uninstall()
        sys.modules.pop(f"case_{name.replace('-', '_')}", None)
    assert failure.get("cause") == cause, failure
    fix = failure["fix"]
    assert fix.get("code"), failure
    fixed_source = apply(source, fix, how, name)
    assert fixed_source != source.replace("__FIX__", ""), "the fix changed nothing"
    fixed, _ = load(tmp_path, name + "-fixed", fixed_source)
    outcome = run(fixed, url)
    assert not isinstance(outcome, BaseException), f"{name}: with the fix\n{fix['code']}\nit still fails: {outcome!r}"


def test_the_detached_fix_does_not_read_the_id_it_cannot_read(tmp_path):
    """The old template, session.get(Job, job.id), fails itself: job.id needs the closed session too."""
    _, _, body = CASES["detached"]
    source = HEADER + textwrap.dedent(body)
    lines = source.split("\n")
    index = next(i for i, text in enumerate(lines) if text.strip() == "return battle.title")
    lines.insert(index, "        battle = await session.get(Battle, battle.id)")
    module, _ = load(tmp_path, "old-detached", "\n".join(lines))
    assert type(run(module, URLS[0])).__name__ == "DetachedInstanceError"


def test_options_on_get_are_ignored_for_an_object_the_session_holds(tmp_path):
    """Why the get() fix adds populate_existing=True: without it the option never runs here."""
    _, _, body = CASES["get-then-relationship"]
    held = "held = (await session.scalars(select(Battle))).all()\n        "
    source = HEADER + textwrap.dedent(body).replace(
        "battle = await session.get(Battle, 1__FIX__)",
        held + "battle = await session.get(Battle, 1, options=[selectinload(Battle.performers)])",
    )
    module, _ = load(tmp_path, "get-held", source)
    error = run(module, URLS[0])
    assert "MissingGreenlet" in repr(error) + repr(getattr(error, "orig", None))
    fixed, _ = load(
        tmp_path,
        "get-held-fixed",
        source.replace("Battle.performers)])", "Battle.performers)], populate_existing=True)"),
    )
    assert run(fixed, URLS[0]) == [1, 2]
