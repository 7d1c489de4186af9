"""Where things live: one object, so tests can point the runner at fixture katas."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePath

HOME_VARIABLE = "KATAS_HOME"
# A kata's code: its Python files, outside caches. What watch mode watches, and what a pass is made of.
CODE_SUFFIXES = (".py",)
IGNORED_PARTS = ("__pycache__", ".git", ".mypy_cache", ".pytest_cache", ".ruff_cache")


class WorkspaceError(Exception):
    """KATAS_HOME names no katas checkout: one line, exit 2."""


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def locate(cls) -> Workspace:
        """The repository this runner belongs to, unless KATAS_HOME names another."""
        home = os.environ.get(HOME_VARIABLE)
        if not home:
            return cls(Path(__file__).resolve().parent.parent)
        root = Path(home).resolve()
        if not (root / "katas").is_dir():
            what = "no such folder" if not root.is_dir() else "it holds no katas/ folder"
            raise WorkspaceError(
                f"{HOME_VARIABLE}={home} names no checkout of the katas ({what}): point it at one, or unset it"
            )
        return cls(root)

    @property
    def katas_dir(self) -> Path:
        return self.root / "katas"

    @property
    def solutions_dir(self) -> Path:
        return self.root / "solutions"

    @property
    def checks_dir(self) -> Path:
        return self.root / "runner" / "checks"

    @property
    def docs_dir(self) -> Path:
        return self.root / "docs"

    @property
    def state_dir(self) -> Path:
        # Ignored by git: progress and backups are the learner's, not the repo's.
        return self.root / ".katas"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "state.json"

    @property
    def backups_dir(self) -> Path:
        return self.state_dir / "backups"

    def display(self, path: Path) -> str:
        """A path as the learner would type it: relative to where they stand, if it can be."""
        for base in (Path.cwd(), self.root):
            if _is_within(path, base):
                return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix()
        return str(path)


def is_code(path: PurePath, kata_dir: PurePath) -> bool:
    """A file of the kata's code: a Python file inside the kata, outside caches."""
    try:
        rel = path.relative_to(kata_dir)
    except ValueError:
        return False
    return path.suffix in CODE_SUFFIXES and not any(part in IGNORED_PARTS for part in rel.parts)


def code_digest(kata_dir: Path) -> str | None:
    """A digest of the kata's code as it is on disk: what a pass was made of. None if there is no such folder."""
    if not kata_dir.is_dir():
        return None
    digest = hashlib.sha256()
    for path in sorted(p for p in kata_dir.rglob("*") if is_code(p, kata_dir)):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        name = path.relative_to(kata_dir).as_posix().encode()
        digest.update(b"%d:%s%d:" % (len(name), name, len(data)) + data)
    return digest.hexdigest()


def _is_within(path: Path, base: Path) -> bool:
    try:
        path.resolve().relative_to(base.resolve())
        return True
    except ValueError:
        return False
