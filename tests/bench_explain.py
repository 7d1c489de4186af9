"""What the implicit-IO explainer costs on test suites that pass: figures, never a timed test.

``measure()`` returns rows of (label, seconds): medians of repeated runs of the
same suite in a pytest of its own, without and with the explainer, as wall
time and as CPU time (the CPU time of a child process is steadier on a busy
machine). Three suites:

* the sample project's passing tests (tests/sample_project), without and with
  ``-p implicit_io.plugin``, as a team runs it;
* a heavier suite written for the purpose: many objects loaded, flushed and
  committed per test, which is where the recorder's per-statement and
  per-object listeners show;
* kata 01's hidden checks on its solution, as the runner runs them, bare
  (pytest-asyncio only) and with ``runner.plugin`` (the report and the
  recorder): what the explainer adds to every ``python -m runner check``.

Run it alone: ``python -m tests.bench_explain [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "tests" / "sample_project"
KATA = "01-command-center"

HEAVY_MODELS = """
from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload


class Base(DeclarativeBase):
    pass


class Order(Base):
    __tablename__ = "orders"
    id: Mapped[int] = mapped_column(primary_key=True)
    customer: Mapped[str] = mapped_column(String(40))
    lines: Mapped[list["Line"]] = relationship(order_by="Line.id")


class Line(Base):
    __tablename__ = "lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    sku: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]


async def place(session, customers: int, lines: int) -> None:
    for n in range(customers):
        session.add(Order(customer=f"c{n}", lines=[Line(sku=f"s{k}", quantity=k) for k in range(lines)]))
    await session.commit()


async def totals(session) -> dict[str, int]:
    orders = (await session.scalars(select(Order).options(selectinload(Order.lines)))).all()
    return {order.customer: sum(line.quantity for line in order.lines) for order in orders}


async def one_by_one(session, ids) -> list[str]:
    return [(await session.get(Order, i)).customer for i in ids]
"""

HEAVY_TEST = """
import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from shop import Base, one_by_one, place, totals


@pytest.fixture
async def sessions(tmp_path):
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield async_sessionmaker(engine, expire_on_commit=False)
    await engine.dispose()


@pytest.mark.parametrize("run", range(12))
async def test_orders(sessions, run):
    async with sessions() as session:
        await place(session, 100, 5)
    async with sessions() as session:
        assert len(await totals(session)) == 100
    async with sessions() as session:
        assert len(await one_by_one(session, range(1, 41))) == 40
"""


def _timed(command: list[str], cwd: Path, env: dict) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def _pytest(python: str, *args: str) -> list[str]:
    return [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pytest_asyncio.plugin", *args]


def suites(python: str, scratch: Path) -> list[tuple[str, list[str], list[str], Path, dict]]:
    """(name, command without, command with, cwd, env) for each suite."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    env.pop("KATAS_DATABASE_URL", None)
    env.pop("IMPLICIT_IO_JSON", None)

    heavy = scratch / "heavy"
    heavy.mkdir()
    (heavy / "shop.py").write_text(HEAVY_MODELS)
    (heavy / "test_shop.py").write_text(HEAVY_TEST)
    (heavy / "pytest.ini").write_text("[pytest]\nasyncio_mode = auto\nasyncio_default_fixture_loop_scope = function\n")

    kata = scratch / "kata"
    shutil.copytree(REPO / "katas" / KATA, kata, ignore=shutil.ignore_patterns("__pycache__", "*.db"))
    shutil.copytree(REPO / "solutions" / KATA / "app", kata / "app", dirs_exist_ok=True)
    checks = REPO / "runner" / "checks"
    kata_env = {**env, "KATA_DIR": str(kata), "KATAS_REPORT": str(scratch / "report.json")}
    kata_args = ["-c", str(checks / "pytest.ini"), "--rootdir", str(checks), "--tb=no", "-p", "no:warnings"]
    sample_tests = ["tests/test_passing.py", "tests/test_sync_sessions.py::test_sync_review_counts"]
    plugin = ["-p", "implicit_io.plugin"]
    return [
        ("sample project, passing tests", _pytest(python, *sample_tests), _pytest(python, *plugin, *sample_tests),
         SAMPLE, env),
        ("orders suite, 12 tests x 700 objects", _pytest(python), _pytest(python, *plugin), heavy, env),
        (
            "kata 01 hidden checks on the solution",
            _pytest(python, *kata_args, str(checks / KATA)),
            _pytest(python, *kata_args, "-p", "runner.plugin", str(checks / KATA)),
            scratch,
            kata_env,
        ),
    ]  # fmt: skip


def measure(runs: int = 5, python: str = sys.executable) -> list[tuple[str, float]]:
    """Rows of (label, seconds): medians of ``runs`` runs each, interleaved, after one warm-up run."""
    rows: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="bench-explain-") as tmp:
        for name, without, with_plugin, cwd, env in suites(python, Path(tmp)):
            samples: dict[str, list[tuple[float, float]]] = {"without": [], "with": []}
            for command in (without, with_plugin):  # warm the OS and .pyc caches
                _timed(command, cwd, env)
            for _ in range(runs):
                for key, command in (("without", without), ("with", with_plugin)):
                    wall, cpu, _code = _timed(command, cwd, env)
                    samples[key].append((wall, cpu))
            for key in ("without", "with"):
                label = f"{name}, {key} the explainer"
                rows.append((f"{label} (wall)", statistics.median(w for w, _ in samples[key])))
                rows.append((f"{label} (cpu)", statistics.median(c for _, c in samples[key])))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    rows = measure(args.runs)
    print(f"median of {args.runs} runs, {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    width = max(len(label) for label, _ in rows)
    for label, seconds in rows:
        print(f"  {label:<{width}} {seconds * 1000:7.0f} ms")


if __name__ == "__main__":
    main()
