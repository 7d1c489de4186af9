"""Where things live: one object, so tests can point the runner at fixture katas."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_VARIABLE = "KATAS_HOME"


@dataclass(frozen=True)
class Workspace:
    root: Path

    @classmethod
    def locate(cls) -> Workspace:
        """The repository this runner belongs to, unless KATAS_HOME names another."""
        home = os.environ.get(HOME_VARIABLE)
        return cls(Path(home).resolve() if home else Path(__file__).resolve().parent.parent)

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


def _is_within(path: Path, base: Path) -> bool:
    try:
        path.resolve().relative_to(base.resolve())
        return True
    except ValueError:
        return False
