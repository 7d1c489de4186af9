"""`pytest -p implicit_io.plugin` on a team's own suite: tests/sample_project, a small bookshop
with one bug of each kind (async and sync sessions, a FastAPI route).

The sample's suite runs in a pytest of its own, as a team runs it: once without
the plugin and once with it. The outcomes must be the same test for test (the
plugin changes nothing); with it, every implicit-IO failure is explained (read
here from the plugin's JSON, shown in the failure report as a section), and the
review names the failure a passing test's fallback hid and the calls that query
once per row (the statement, and the line that sent it), and nothing else: a
commit then a refresh is one call, pages behind one shared decorator are calls
of their own, an eager load's extra SELECTs are no growth. On PostgreSQL too,
when KATAS_DATABASE_URL names one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import database_params

REPO = Path(__file__).resolve().parent.parent
SAMPLE = Path(__file__).resolve().parent / "sample_project"
DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("KATAS_DATABASE_URL", "").startswith("postgresql") else [])

# test -> (kind, cause, attribute key, file and function of the line shown, rule)
EXPECTED = {
    "test_api.py::test_read_book_shows_its_author": (
        "lazy-load", "relationship-not-loaded", "author", ("bookshop/api.py", "read_book"), "eager-load-what-you-read"
    ),
    "test_async_bugs.py::test_catalogue_names_every_author": (
        "lazy-load", "relationship-not-loaded", "author", ("bookshop/services.py", "line"), "eager-load-what-you-read"
    ),
    "test_async_bugs.py::test_review_counts_per_author": (
        "lazy-load", "second-hop", "reviews", ("bookshop/services.py", "review_counts"), "chain-loader-options"
    ),
    "test_async_bugs.py::test_rename_returns_the_new_title": (
        "unloaded-column", "expired-after-commit", "title",
        ("tests/test_async_bugs.py", "test_rename_returns_the_new_title"), "expire-on-commit",
    ),
    "test_async_bugs.py::test_reprice_returns_the_update_time": (
        "unloaded-column", "expired-after-update", "updated_at", ("bookshop/services.py", "reprice"),
        "refresh-what-the-database-generated",
    ),
    "test_async_bugs.py::test_blurb": (
        "unloaded-column", "deferred", "blurb", ("bookshop/services.py", "blurb"), "eager-load-what-you-read"
    ),
    "test_async_bugs.py::test_legacy_count": (
        "io-outside-greenlet", "sync-session", None, ("bookshop/services.py", "legacy_book_count"),
        "async-endpoints-use-asyncsession",
    ),
    "test_async_bugs.py::test_book_reviews_after_fetch": (
        "detached", "detached", "reviews", ("tests/test_async_bugs.py", "test_book_reviews_after_fetch"),
        "an-object-does-not-cross-a-session-boundary",
    ),
    "test_sync_sessions.py::test_sync_summary": (
        "detached", "detached", "reviews", ("bookshop/services.py", "sync_summary"),
        "an-object-does-not-cross-a-session-boundary",
    ),
}  # fmt: skip


@cache
def run_sample(database: str, plugin: bool, tmp: str) -> tuple[dict[str, str], str, list[dict]]:
    """(test -> outcome, terminal output, the plugin's JSON documents) for one run of the sample's suite."""
    junit = Path(tmp) / f"{database}-{plugin}.xml"
    dump = Path(tmp) / f"{database}-{plugin}.jsonl"
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", "IMPLICIT_IO_JSON": str(dump)}
    if database == "sqlite":
        env.pop("KATAS_DATABASE_URL", None)
    command = [sys.executable, "-m", "pytest", "-p", "pytest_asyncio.plugin", f"--junitxml={junit}", "-rA"]
    command += ["-p", "implicit_io.plugin"] if plugin else []
    proc = subprocess.run(command, cwd=SAMPLE, env=env, capture_output=True, text=True, timeout=300)
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        name = f"{case.get('classname').rsplit('.', 1)[-1]}.py::{case.get('name')}"
        failed = case.find("failure") is not None or case.find("error") is not None
        outcomes[name] = "skipped" if case.find("skipped") is not None else "failed" if failed else "passed"
    documents = [json.loads(line) for line in dump.read_text().splitlines()] if dump.exists() else []
    return outcomes, proc.stdout, documents


@pytest.fixture(scope="module")
def tmp(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("sample"))


@pytest.mark.parametrize("database", database_params(DATABASES))
def test_the_plugin_changes_no_outcome(database, tmp):
    without, _, nothing = run_sample(database, False, tmp)
    with_plugin, _, _ = run_sample(database, True, tmp)
    assert with_plugin == without
    assert nothing == []  # not loaded, not recording
    assert {name for name, outcome in without.items() if outcome == "failed"} == set(EXPECTED) | {
        "test_async_bugs.py::test_plain_assertion_failure",
        "test_calls.py::test_shelf_within_its_query_budget",
    }
    assert {name for name, outcome in without.items() if outcome == "passed"} == {
        "test_passing.py::test_title_with_author_falls_back",
        "test_passing.py::test_review_totals",
        "test_passing.py::test_catalogue_fixed",
        "test_sync_sessions.py::test_sync_review_counts",
        "test_calls.py::test_retitle_reads_the_row_back",
        "test_calls.py::test_staff_pages",
        "test_calls.py::test_shelf",
    }


@pytest.mark.parametrize("database", database_params(DATABASES))
def test_every_kind_is_explained(database, tmp):
    _, output, documents = run_sample(database, True, tmp)
    failures = {d["test"].split("/", 1)[-1]: d["failure"] for d in documents if "failure" in d}
    assert set(failures) == set(EXPECTED), "explained: the implicit-IO failures, and nothing else"
    for name, (kind, cause, key, (file, function), rule) in EXPECTED.items():
        failure = failures[name]
        assert (failure["kind"], failure["cause"]) == (kind, cause), name
        assert (failure.get("attribute") or {}).get("key") == key, name
        assert (failure["location"]["file"], failure["location"]["function"]) == (file, function), name
        slugs = [r["slug"] for r in failure["rules"]]
        if rule is None:
            assert slugs == [], name
        elif (REPO / "docs" / "rules" / f"{rule}.md").is_file():
            assert rule in slugs, (name, slugs)
        assert failure["fix"]["text"], name
    # the same explanations, in the failure reports a team reads
    assert output.count("implicit IO explained") == len(EXPECTED)
    assert "Fix:   Chain the next hop onto the option that loaded it" in output
    assert ".options(selectinload(Author.books).selectinload(Book.reviews))" in output
    assert "While: FastAPI serialised the response of read_book() to BookOut" in output


def line_of(path: str, text: str, within: str = "") -> int:
    """The line of the sample's file that holds ``text``, the first after the line holding ``within``."""
    lines = (SAMPLE / path).read_text().splitlines()
    start = next(n for n, source in enumerate(lines) if within in source)
    return next(n for n, source in enumerate(lines[start:], start + 1) if text in source)


@pytest.mark.parametrize("database", database_params(DATABASES))
def test_the_review_of_passing_tests(database, tmp):
    _, output, documents = run_sample(database, True, tmp)
    reviews = {d["test"].split("/", 1)[-1]: d["review"] for d in documents if "review" in d}
    hidden = reviews["test_passing.py::test_title_with_author_falls_back"]["swallowed"]
    assert [(h["attribute"]["key"], h["caught_at"]["source"]) for h in hidden] == [("author", "except Exception:")]
    assert not any(
        r["swallowed"] for n, r in reviews.items() if n != "test_passing.py::test_title_with_author_falls_back"
    )
    review = output.split("= implicit IO review =", 1)[1].split("short test summary info")[0]
    assert "Hidden: reading Book.author on Book(id=1) failed" in review
    assert "test_sync_summary" not in review and "test_shelf_within_its_query_budget" not in review  # they fail
    assert " 1 statements" not in output and " 1 queries" not in output and " 1 rows" not in output


def grows(review: dict) -> dict[str, list[tuple]]:
    """function -> (SQL, file, line, counts) of each SELECT it repeated once per row."""
    return {
        o["function"]: [(f["sql"], f["file"], f["line"], [c[:2] for c in f["counts"]]) for f in o["per_row"]]
        for o in review["operations"]
        if o["grows"]
    }


@pytest.mark.parametrize("database", database_params(DATABASES))
def test_a_query_per_row_is_named_with_its_statement_and_line(database, tmp):
    _, output, documents = run_sample(database, True, tmp)
    reviews = {d["test"].split("/", 1)[-1]: d["review"] for d in documents if "review" in d}
    # An awaited lazy load per book, 2 books then 8: a statement per book, each with its own key.
    [(sql, file, line, counts)] = grows(reviews["test_passing.py::test_review_totals"])["review_totals"]
    assert sql.startswith("SELECT ") and sql.endswith("FROM reviews WHERE ? = reviews.book_id ORDER BY reviews.id")
    assert (file, line, counts) == ("bookshop/services.py", line_of(file, "awaitable_attrs.reviews"), [[8, 8]])
    # The same in sync code, where a lazy load works: still a query per book.
    [(_, file, line, counts)] = grows(reviews["test_sync_sessions.py::test_sync_review_counts"])["sync_review_counts"]
    sync_line = line_of(file, "sum(len(book.reviews)", within="def sync_review_counts")
    assert (file, line, counts) == ("bookshop/services.py", sync_line, [[3, 3]])
    # One count per book, each in a session (a connection checkout) of its own: one call, ten times the same SELECT.
    [(sql, file, line, counts)] = grows(reviews["test_calls.py::test_shelf"])["shelf"]
    assert sql.startswith("SELECT count(*)") and sql.endswith("FROM reviews WHERE reviews.book_id = ?")
    assert (file, line, counts) == (
        "bookshop/services.py",
        line_of(file, "return await session.scalar(select(func.count"),
        [[10, 10]],
    )

    review = output.split("= implicit IO review =", 1)[1].split("short test summary info")[0]
    shelf = f"bookshop/services.py:{line_of(file, 'return await session.scalar(select(func.count')} in review_count()"
    assert "Grows:  shelf() (bookshop/services.py:" in review and f"{shelf}: 10 times in one call" in review
    assert "SELECT … FROM reviews WHERE reviews.book_id = ?" in review
    assert "Grows:  review_totals() (bookshop/services.py:" in review
    assert "Grows:  sync_review_counts() (bookshop/services.py:" in review
    # The failing query budget is not in the review, but its own report names the query it repeated.
    budget = output.split("test_shelf_within_its_query_budget ___", 1)[1].split("= implicit IO review =")[0]
    assert "- implicit IO review -" in budget and "Per row: shelf() (bookshop/services.py:" in budget
    assert f"{shelf}: 10 times in one call" in budget


@pytest.mark.parametrize("database", database_params(DATABASES))
def test_no_growth_where_the_work_is_the_same_for_every_row(database, tmp):
    _, output, documents = run_sample(database, True, tmp)
    reviews = {d["test"].split("/", 1)[-1]: d["review"] for d in documents if "review" in d}
    # A commit then a refresh (the connection goes back to the pool between them): one call, not two.
    [retitle] = reviews["test_calls.py::test_retitle_reads_the_row_back"]["operations"]
    assert (retitle["function"], len(retitle["calls"]), retitle["grows"]) == ("retitle", 1, False)
    # Two pages behind one shared decorator: each page is a call of its own, not the decorator's wrapper;
    # the list's two eager loads are the same two SELECTs for 2 books as for 14: flat, not growth.
    pages = {o["function"]: o for o in reviews["test_calls.py::test_staff_pages"]["operations"]}
    assert set(pages) == {"author_count", "author_list"}
    assert [queries for _, queries in pages["author_count"]["calls"]] == [1, 1]
    assert [queries for _, queries in pages["author_list"]["calls"]] == [3, 3]
    assert pages["author_list"]["flat"] and not any(o["grows"] for o in pages.values())
    assert not grows(reviews["test_passing.py::test_catalogue_fixed"])
    review = output.split("= implicit IO review =", 1)[1]
    for name in ("retitle", "author_count", "author_list", "wrapper", "catalogue_lines_fixed"):
        assert f"{name}()" not in review, name
