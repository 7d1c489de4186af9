"""The katas on disk: discovered, never listed by hand.

A kata is a folder ``katas/NN-slug/`` (the learner's code, with the story in
its README.md) beside ``runner/checks/NN-slug/`` (the hidden checks and
``kata.toml``: rules, hints, what the starting code must fail on).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from runner.workspace import Workspace

KATA_DIR_PATTERN = re.compile(r"^(?P<number>\d{2})-(?P<slug>[a-z0-9][a-z0-9-]*)$")
TITLE_PATTERN = re.compile(r"^#\s*Kata\s+\d+\s*[:.-]\s*(?P<title>.+?)\s*$", re.IGNORECASE)
DEFAULT_TIMEOUT = 60.0


class CatalogueError(Exception):
    """A kata name that names nothing, or a kata whose files are damaged."""


@dataclass(frozen=True)
class Kata:
    id: str  # the folder name, e.g. "01-command-center"
    number: str  # "01"
    slug: str  # "command-center"
    title: str
    rules: tuple[str, ...] = ()
    hints: tuple[str, ...] = ()
    # [[hints_for]]: ladders for the failures met on the way, keyed by "causes" (the explainer's cause of a
    # failing check), "checks" (part of its scenario line) or "caught" (a failure the code caught); runner/hints.py
    hints_for: tuple[dict, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    expect: dict = field(default_factory=dict)
    # [[failures]]: a kata that hides several failures names each, with the checks that pass once it is
    # fixed; reports carry which a learner fixed, the facilitator's summary counts them (runner/workshop.py)
    failures: tuple[dict, ...] = ()

    @property
    def session(self) -> str:
        """The nox session that checks this kata."""
        return f"kata-{self.number}"


def title_from_readme(text: str, fallback: str) -> str:
    """The story's first heading, ``# Kata 01: The title``, gives the title."""
    for line in text.splitlines():
        match = TITLE_PATTERN.match(line)
        if match:
            return match.group("title")
        if line.strip():
            break
    return fallback


def parse_kata(folder_name: str, readme: str, meta: dict) -> Kata:
    match = KATA_DIR_PATTERN.match(folder_name)
    if not match:
        raise CatalogueError(f"{folder_name!r} is not a kata folder name (NN-slug)")
    slug = match.group("slug")
    return Kata(
        id=folder_name,
        number=match.group("number"),
        slug=slug,
        title=title_from_readme(readme, slug.replace("-", " ")),
        rules=tuple(meta.get("rules", ())),
        hints=tuple(meta.get("hints", ())),
        hints_for=tuple(_hints_for(folder_name, meta.get("hints_for", ()))),
        timeout=float(meta.get("timeout", DEFAULT_TIMEOUT)),
        expect=dict(meta.get("expect", {})),
        failures=tuple(_failures(folder_name, meta.get("failures", ()))),
    )


HINT_KEYS = {"causes", "checks", "caught", "hints"}


def _hints_for(folder_name: str, entries) -> list[dict]:
    """The keyed ladders, checked: each has hints and at least one key; a typo is an error, not a silence."""
    checked: list[dict] = []
    for index, entry in enumerate(entries if isinstance(entries, (list, tuple)) else [entries]):
        where = f"{folder_name}/kata.toml [[hints_for]] #{index + 1}"
        if not isinstance(entry, dict) or not entry.get("hints"):
            raise CatalogueError(f"{where}: needs hints = [...]")
        unknown = set(entry) - HINT_KEYS
        if unknown:
            raise CatalogueError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(HINT_KEYS)})")
        if not (entry.get("causes") or entry.get("checks") or entry.get("caught")):
            raise CatalogueError(f"{where}: needs causes, checks or caught = true: which failure it is for")
        entry = dict(entry)
        for key in ("causes", "checks", "hints"):  # one string is a list of one, not of its letters
            if isinstance(entry.get(key), str):
                entry[key] = [entry[key]]
        checked.append(entry)
    return checked


def _failures(folder_name: str, entries) -> list[dict]:
    """The named failures, checked: a name, and the parts of the scenario lines of the checks that cover it."""
    checked: list[dict] = []
    for index, entry in enumerate(entries if isinstance(entries, (list, tuple)) else [entries]):
        where = f"{folder_name}/kata.toml [[failures]] #{index + 1}"
        if not isinstance(entry, dict) or set(entry) != {"name", "checks"}:
            raise CatalogueError(f'{where}: needs exactly name = "..." and checks = [...]')
        checks = [entry["checks"]] if isinstance(entry["checks"], str) else entry["checks"]
        if not isinstance(entry["name"], str) or not entry["name"].strip() or len(entry["name"]) > 80:
            raise CatalogueError(f"{where}: name must be a short text (at most 80 characters)")
        if not checks or not all(isinstance(c, str) and c.strip() for c in checks):
            raise CatalogueError(f"{where}: checks must name at least one scenario line (part of it)")
        if entry["name"] in (f["name"] for f in checked):
            raise CatalogueError(f"{where}: {entry['name']!r} is named twice")
        checked.append({"name": entry["name"], "checks": tuple(checks)})
    return checked


def kata_folders(katas_dir: Path) -> list[Path]:
    if not katas_dir.is_dir():
        return []
    return sorted(p for p in katas_dir.iterdir() if p.is_dir() and KATA_DIR_PATTERN.match(p.name))


def load_catalogue(ws: Workspace) -> list[Kata]:
    katas = []
    for folder in kata_folders(ws.katas_dir):
        readme = folder / "README.md"
        meta_file = ws.checks_dir / folder.name / "kata.toml"
        try:
            meta = tomllib.loads(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{meta_file}: {exc}") from None
        text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
        katas.append(parse_kata(folder.name, text, meta))
    return katas


def resolve(katas: Sequence[Kata], name: str) -> Kata:
    """Find a kata by any name a person would type: 1, 01, kata-01, command-center, 01-command-center."""
    wanted = name.strip().lower()
    wanted = re.sub(r"^kata[-_ ]?", "", wanted) if re.match(r"^kata[-_ ]?\d", wanted) else wanted
    for kata in katas:
        if wanted in (kata.id, kata.slug, kata.number) or (wanted.isdigit() and int(wanted) == int(kata.number)):
            return kata
    choices = ", ".join(k.number for k in katas) or "none: the katas/ folder is empty"
    raise CatalogueError(f"unknown kata {name!r}: choose one of {choices} (python -m runner list)")


def next_after(katas: Sequence[Kata], kata: Kata) -> Kata | None:
    ids = [k.id for k in katas]
    index = ids.index(kata.id)
    return katas[index + 1] if index + 1 < len(katas) else None
