"""The pinned requirements in requirements/, read without pip: pure functions.

The doctor compares them with what is installed; the wheelhouse downloads
them for other platforms and Python versions. Only the marker forms the
files use are understood (``python_version``, ``sys_platform``,
``platform_system``, ``os_name`` and ``platform_machine`` compared with a
quoted value, joined by ``and``/``or``); anything else is an error, never a
silent guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

LINE = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[(?P<extras>[^\]]*)\])?\s*(?:==\s*(?P<version>[^\s;]+))?\s*"
    r"(?:;\s*(?P<marker>.+))?$"
)
COMPARISON = re.compile(r"^\s*(?P<var>\w+)\s*(?P<op>==|!=|<=|>=|<|>)\s*[\"'](?P<value>[^\"']*)[\"']\s*$")
VARIABLES = {"python_version", "sys_platform", "platform_system", "os_name", "platform_machine"}


class PinError(ValueError):
    """A requirements line this reader does not understand."""


@dataclass(frozen=True)
class Requirement:
    name: str  # normalized: lowercase, runs of -_. as one -
    version: str | None
    extras: tuple[str, ...] = ()
    marker: str | None = None

    @property
    def spec(self) -> str:
        """name==version, as pip reads it (no marker: it was evaluated already)."""
        return f"{self.name}=={self.version}" if self.version else self.name


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse(text: str) -> list[Requirement]:
    """Requirement lines, without comments, options (-r, -c) and blank lines."""
    found = []
    for raw in text.splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#") or line.startswith("-"):
            continue
        match = LINE.match(line)
        if not match:
            raise PinError(f"cannot read requirement {raw!r}")
        extras = tuple(e.strip() for e in (match["extras"] or "").split(",") if e.strip())
        found.append(Requirement(normalize(match["name"]), match["version"], extras, match["marker"]))
    return found


def _version_tuple(value: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", value))


def _compare(left: str, op: str, right: str, numeric: bool) -> bool:
    if numeric:
        a, b = _version_tuple(left), _version_tuple(right)
    else:
        a, b = left, right
    return {
        "==": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]


def evaluate(marker: str | None, env: dict[str, str]) -> bool:
    """Whether a marker holds in ``env`` (e.g. {"python_version": "3.10", "sys_platform": "linux"})."""
    if not marker:
        return True
    for alternative in re.split(r"\s+or\s+", marker.strip()):
        if all(_term(term, env) for term in re.split(r"\s+and\s+", alternative)):
            return True
    return False


def _term(term: str, env: dict[str, str]) -> bool:
    match = COMPARISON.match(term.strip().strip("()"))
    if not match or match["var"] not in VARIABLES:
        raise PinError(f"cannot evaluate the marker {term.strip()!r}")
    if match["var"] not in env:
        raise PinError(f"the marker {term.strip()!r} needs {match['var']}")
    return _compare(env[match["var"]], match["op"], match["value"], numeric=match["var"] == "python_version")


def pins(text: str, env: dict[str, str]) -> dict[str, str]:
    """name -> version for the lines of a constraints file whose markers hold in ``env``."""
    return {r.name: r.version for r in parse(text) if r.version and evaluate(r.marker, env)}


def names(text: str, env: dict[str, str]) -> list[str]:
    """The requirement names of a requirements file whose markers hold in ``env``."""
    return [r.name for r in parse(text) if evaluate(r.marker, env)]


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")
