"""The kata stories quote tracebacks; every frame they quote is where it says.

A story (katas/NN-*/README.md) shows the traceback the incident left in the
log: ``File "app/services/event_service.py", line 72, in ...`` and the line
of code under it. A learner opens that file at that line, so each frame must
point at the quoted line, inside the function it names, in the kata's code as
it ships. Frames in SQLAlchemy (``.../sqlalchemy/...``) are checked against the
installed SQLAlchemy when it is the line the story names ("(SQLAlchemy 2.0)").
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy

from tests.test_docs import fenced_blocks

ROOT = Path(__file__).resolve().parent.parent
KATAS = ROOT / "katas"
INSTALLED = Path(sqlalchemy.__file__).parent
FRAME_RE = re.compile(r'^\s*File "(?P<path>[^"]+)",(?: line (?P<line>\d+),)? in (?P<function>\w+)\s*$')
VERSION_RE = re.compile(r"\(SQLAlchemy (\d+\.\d+)\)")
# FastAPI ends a ResponseValidationError with the route it was serialising: a frame whose line is the
# first line of the decorated endpoint (its first decorator), then the method and path under it.
ENDPOINT_RE = re.compile(r"^\s+(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /\S*\s*$")


@dataclass(frozen=True)
class Frame:
    story: Path
    story_line: int  # where the story quotes it
    path: str
    line: int | None
    function: str
    source: str | None  # the quoted line of code under it, if any
    endpoint: bool = False  # FastAPI's route of a response it could not serialise (ENDPOINT_RE)

    @property
    def id(self) -> str:
        return f"{self.story.parent.name}:{self.story_line}:{self.path}:{self.line or self.function}"


def quoted_frames(story: Path) -> list[Frame]:
    frames = []
    for block in fenced_blocks(story.read_text(encoding="utf-8")):
        lines = block.code.splitlines()
        for offset, line in enumerate(lines):
            match = FRAME_RE.match(line)
            if not match:
                continue
            following = lines[offset + 1] if offset + 1 < len(lines) else ""
            endpoint = bool(ENDPOINT_RE.match(following))
            code = following.startswith("    ") and not FRAME_RE.match(following) and not endpoint
            number = int(match["line"]) if match["line"] else None
            source = following.strip() if code else None
            frames.append(Frame(story, block.line + offset, match["path"], number, match["function"], source, endpoint))
    return frames


def story_version(story: Path) -> str | None:
    match = VERSION_RE.search(story.read_text(encoding="utf-8"))
    return match[1] if match else None


def checkable(frame: Frame) -> bool:
    """App frames always; SQLAlchemy's when the installed line is the one the story names."""
    if not frame.path.startswith(".../"):
        return True
    return frame.path.startswith(".../sqlalchemy/") and sqlalchemy.__version__.startswith(
        f"{story_version(frame.story)}."
    )


def resolve(frame: Frame) -> Path:
    if frame.path.startswith(".../sqlalchemy/"):
        return INSTALLED / frame.path[len(".../sqlalchemy/") :]
    return frame.story.parent / frame.path


def enclosing_function(tree: ast.AST, line: int) -> str | None:
    """The innermost function whose body holds ``line``."""
    found = None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.lineno <= line <= node.end_lineno:
            if found is None or node.lineno >= found.lineno:
                found = node
    return found.name if found else None


STORIES = sorted(KATAS.glob("*/README.md"))
FRAMES = [frame for story in STORIES for frame in quoted_frames(story)]


def test_the_stories_quote_tracebacks() -> None:
    """The parser below finds the frames (a story that quotes none would pass vacuously)."""
    assert {frame.story.parent.name for frame in FRAMES} >= {"01-command-center", "02-job-from-another-session"}


@pytest.mark.parametrize("frame", [f for f in FRAMES if checkable(f)], ids=lambda f: f.id)
def test_a_quoted_frame_points_at_the_quoted_line(frame: Frame) -> None:
    where = f"{frame.story.relative_to(ROOT)}:{frame.story_line}"
    path = resolve(frame)
    assert path.is_file(), f"{where}: {frame.path} does not exist"
    code = path.read_text(encoding="utf-8")
    if frame.endpoint:
        starts = [
            min([node.lineno, *(d.lineno for d in node.decorator_list)])
            for node in ast.walk(ast.parse(code))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == frame.function
        ]
        assert frame.line in starts, (
            f"{where}: FastAPI names the first line of {frame.function}() (its first decorator), at {starts} in "
            f"{frame.path}; the story says line {frame.line}"
        )
        return
    if frame.line is None:
        assert re.search(rf"^\s*(async )?def {frame.function}\(", code, re.M), (
            f"{where}: no {frame.function}() in {frame.path}"
        )
        return
    lines = code.splitlines()
    assert frame.line <= len(lines), f"{where}: {frame.path} has {len(lines)} lines, the story says line {frame.line}"
    if frame.source is not None:
        at = lines[frame.line - 1].strip()
        near = [n for n, text in enumerate(lines, 1) if text.strip() == frame.source]
        assert at == frame.source, (
            f"{where}: {frame.path} line {frame.line} is {at!r}; the story quotes {frame.source!r}"
            + (f", which is at line {near}" if near else ", which is nowhere in the file")
        )
    assert enclosing_function(ast.parse(code), frame.line) == frame.function, (
        f"{where}: line {frame.line} of {frame.path} is not in {frame.function}()"
    )
