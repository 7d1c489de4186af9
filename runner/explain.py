"""Read a failure the way a reviewer would: what touched the database, where, and why.

Runs inside the hidden checks' pytest process, on the live exception, and
returns plain data (dicts of strings and numbers) for the runner to render.
The reading itself is ``implicit_io`` (the same explainer a team enables in its
own suite with ``pytest -p implicit_io.plugin``); this module points it at the
learner's kata folder and at the checkout's rule pages and katas.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from implicit_io.explain import assertion_message, exception_chain, first_line  # noqa: F401 - the runner's API
from implicit_io.explain import explain as _explain
from implicit_io.frames import Scope
from implicit_io.rules import RuleIndex

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@cache
def scope_for(kata_dir: Path) -> Scope:
    """The learner's code is the kata folder, and nothing else: never the hidden checks."""
    return Scope([kata_dir], detect_tests=False)


@cache
def rules_for(home: Path | None) -> RuleIndex:
    """The checkout's rules (docs/rules pages, kata.toml files), pages shown relative to it."""
    return RuleIndex.discover(home)


@cache
def kata_rules(checks_dir: Path | None) -> tuple[str, ...]:
    """The rules the running kata trains (its kata.toml), best candidates for its failures."""
    if checks_dir is None:
        return ()
    try:
        meta = tomllib.loads((checks_dir / "kata.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ()
    return tuple(meta.get("rules", ()))


def explain(
    exc: BaseException,
    kata_dir: Path,
    record=None,
    recorder=None,
    home: Path | None = None,
    checks_dir: Path | None = None,
) -> dict:
    """Plain data describing one failure of the learner's code."""
    return _explain(
        exc,
        scope_for(Path(kata_dir).resolve()),
        record=record,
        rules=rules_for(home),
        kata_rules=kata_rules(checks_dir),
        recorder=recorder,
    )
