"""The rules the katas teach, found on disk: nothing here lists a rule or a kata by hand.

* A rule is a slug some kata names (``rules = [...]`` in ``runner/checks/*/kata.toml``)
  or a page ``docs/rules/<slug>.md``; its title and its one-paragraph statement
  (``**Rule:** ...``) come from the page when it exists.
* The katas that train a rule are the kata.toml files naming it.
* Which rule a failure breaks: every cause the explainer knows carries the words a
  rule about it uses (``CAUSE_TERMS``); the rules whose slug, title and statement
  use the most of them win, a word in the slug or title counting twice (a page
  *about* commits says so in its title; one that mentions a commit in passing
  does not). A new kata's rule page is found the day it is written.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

RULES_DIR = Path("docs") / "rules"
CHECKS_DIR = Path("runner") / "checks"
KATAS_DIR = Path("katas")

# What each cause is about, in the words a rule about it would use. Knowledge of
# the causes, not of the rules: a rule page is matched by its own text.
CAUSE_TERMS: dict[str, tuple[str, ...]] = {
    "relationship-not-loaded": ("eager", "loader option", "relationship", "lazy load"),
    "second-hop": ("chain", "hop", "path"),
    "identity-map": ("identity map", "session.get", "get()", "populate_existing"),
    "new-object-relationship": ("flush", "refresh", "generated", "collection", "sent back"),
    "expired-after-update": ("flush", "refresh", "generated", "eager_defaults", "update"),
    "server-default-not-fetched": ("flush", "refresh", "generated", "eager_defaults", "insert"),
    "expired-after-commit": ("commit", "expire_on_commit", "expire"),
    "expired-after-rollback": ("rollback", "roll back", "expire"),
    "expired": ("expire", "refresh"),
    "deferred": ("deferred", "undefer", "load_only"),
    "sync-session": ("asyncsession", "sync session", "async def", "await"),
    "io-outside-greenlet": ("await", "async def", "run_sync"),
    "detached": ("session boundary", "detached", "cross", "another session", "closed"),
    "refreshed-without-names": ("refresh(obj, [", "attr", "refresh", "a query"),
    "not-in-session": ("session boundary", "belongs to the session", "another session", "refresh"),
    "loader-path": ("chain", "path", "hop", "query's entity"),
    "concurrent-session": ("concurrent", "one session per task", "gather", "taskgroup", "at the same time"),
    "sync-driver": ("sync session", "asyncsession", "async driver", "event loop", "await"),
    "pending-rollback": ("rollback", "roll back", "savepoint", "begin_nested", "failed"),
    # Not about the database: no rule page covers them, and none should score.
    "interrupted": (),
    "exit": (),
}


@dataclass
class Rule:
    slug: str
    title: str
    page: str | None  # the page's path, as shown; None when it is not written yet
    statement: str = ""
    katas: list[dict] = field(default_factory=list)  # {"number", "title", "session"}
    missing_page: str | None = None  # where the page will be, while it is not written

    def as_dict(self) -> dict:
        shown = {"slug": self.slug, "title": self.title, "page": self.page, "katas": self.katas}
        if self.page is None:
            shown["missing_page"] = self.missing_page or f"docs/rules/{self.slug}.md"
        return shown


def _title_of(page: Path) -> str:
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip().replace("`", "")
    return page.stem.replace("-", " ").capitalize()


def _statement_of(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    match = re.search(r"^\*\*Rule:\*\*(.*?)(?:\n\s*\n)", text, re.S | re.M)
    return " ".join(match.group(1).split()) if match else ""


def _kata_title(home: Path, folder: str, meta: dict) -> str:
    readme = home / KATAS_DIR / folder / "README.md"
    if readme.is_file():
        first = readme.read_text(encoding="utf-8").partition("\n")[0]
        match = re.match(r"^#\s*Kata\s+\d+\s*[:.-]\s*(.+?)\s*$", first)
        if match:
            return match.group(1)
    return str(meta.get("title") or folder[3:].replace("-", " "))


class RuleIndex:
    """Every rule the checkout at ``home`` knows, with its page and its katas."""

    def __init__(self, rules: dict[str, Rule], home: Path | None = None) -> None:
        self.rules = rules
        self.home = home

    @classmethod
    def empty(cls) -> RuleIndex:
        return cls({})

    @classmethod
    def discover(cls, home: Path | None, show_relative_to: Path | None = None) -> RuleIndex:
        """Read ``home``'s docs/rules pages and kata.toml files; pages shown relative to ``show_relative_to``."""
        if home is None or not home.is_dir():
            return cls.empty()
        shown_from = show_relative_to or home
        rules: dict[str, Rule] = {}

        def shown(path: Path) -> str:
            try:
                return path.resolve().relative_to(shown_from.resolve()).as_posix()
            except ValueError:
                return path.resolve().as_posix()

        for page in sorted((home / RULES_DIR).glob("*.md")):
            try:
                rules[page.stem] = Rule(page.stem, _title_of(page), shown(page), _statement_of(page))
            except OSError:
                continue
        for toml in sorted((home / CHECKS_DIR).glob("*/kata.toml")):
            folder = toml.parent.name
            try:
                meta = tomllib.loads(toml.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                continue
            number = folder[:2]
            kata = {"number": number, "title": _kata_title(home, folder, meta), "session": f"kata-{number}"}
            for slug in meta.get("rules", ()):
                rule = rules.get(slug)
                if rule is None:
                    page = home / RULES_DIR / f"{slug}.md"
                    rule = rules[slug] = Rule(slug, slug.replace("-", " ").capitalize(), None, missing_page=shown(page))
                rule.katas.append(kata)
        return cls(rules, home)

    def score(self, rule: Rule, cause: str) -> int:
        terms = CAUSE_TERMS.get(cause, ())
        heading = f"{rule.slug.replace('-', ' ')} {rule.title}".lower()
        statement = rule.statement.lower()
        return sum(2 if term in heading else 1 if term in statement else 0 for term in terms)

    def for_cause(self, cause: str, among: list[str] | tuple[str, ...] | None = None) -> list[dict]:
        """The rules a failure of this cause breaks, best first: among ``among`` (a kata's rules) if any fit."""
        for pool in ([r for r in (among or ()) if r in self.rules], list(self.rules)):
            scored = [(self.score(self.rules[slug], cause), slug) for slug in pool]
            best = max((s for s, _ in scored), default=0)
            if best > 0:
                return [self.rules[slug].as_dict() for s, slug in scored if s == best]
        return []


def find_home(start: Path) -> Path | None:
    """The katas checkout holding ``start`` (a folder with docs/rules or runner/checks), if any."""
    for folder in [start, *start.parents]:
        if (folder / RULES_DIR).is_dir() or (folder / CHECKS_DIR).is_dir():
            return folder
    return None
