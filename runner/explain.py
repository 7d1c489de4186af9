"""Read a failure the way a reviewer would: what touched the database, where, and why.

Runs inside the hidden checks' pytest process, on the live exception, and
returns plain data (dicts of strings and numbers) for the runner to render.
Nothing here assumes how the installed SQLAlchemy wraps the error: 2.0 raises
MissingGreenlet, 2.1 with aiosqlite raises StatementError whose ``.orig`` is
MissingGreenlet; both carry ``code == "xd2s"``.
"""

from __future__ import annotations

import linecache
import traceback
from pathlib import Path
from types import TracebackType

MISSING_GREENLET_CODE = "xd2s"
DETACHED_CODE = "bhk3"


def exception_chain(exc: BaseException) -> list[BaseException]:
    """The exception, then what it wraps: ``.orig``, ``__cause__``, ``__context__``."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend(
            e
            for e in (
                getattr(current, "orig", None),
                getattr(current, "cause", None),  # pytest's ConftestImportFailure
                current.__cause__,
                current.__context__,
            )
            if isinstance(e, BaseException)
        )
    return seen


def _find(chain: list[BaseException], name: str, code: str) -> BaseException | None:
    """The innermost error of that class, else any carrying its code (a wrapper on 2.1)."""
    named = [e for e in chain if type(e).__name__ == name]
    return named[-1] if named else next((e for e in chain if getattr(e, "code", None) == code), None)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def assertion_message(exc: BaseException) -> str:
    """The plain-words message a check gave its assert, without pytest's rewrite of the expression."""
    lines = []
    for line in str(exc).splitlines():
        if line.startswith("assert ") or line.startswith("  +") or line.startswith("+"):
            break
        lines.append(line)
    return "\n".join(lines).strip()


def _within(filename: str, folder: Path) -> bool:
    try:
        Path(filename).resolve().relative_to(folder)
        return True
    except (ValueError, OSError):
        return False


def learner_frames(tb: TracebackType | None, kata_dir: Path) -> list[dict]:
    """The frames of the traceback that run the learner's own code, outermost first."""
    frames = []
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if _within(filename, kata_dir):
            frames.append(
                {
                    "file": Path(filename).resolve().relative_to(kata_dir).as_posix(),
                    "line": lineno,
                    "function": frame.f_code.co_name,
                    "source": linecache.getline(filename, lineno).strip(),
                }
            )
    return frames


def describe_instance(state) -> str:
    identity = state.identity
    if identity is None:
        return f"a new {state.class_.__name__} (not flushed)"
    keys = [c.key for c in state.mapper.primary_key]
    pairs = ", ".join(f"{k}={v!r}" for k, v in zip(keys, identity, strict=False))
    return f"{state.class_.__name__}({pairs})"


def touched_attribute(tb: TracebackType | None) -> dict | None:
    """Which mapped attribute's load needed IO: found on SQLAlchemy's attribute frames.

    The instrumented ``__get__``/``get`` frames hold the attribute (``self.key``)
    and the instance state (``state``) on 2.0 and 2.1 alike.
    """
    found = None
    for frame, _ in traceback.walk_tb(tb):
        if not frame.f_code.co_filename.replace("\\", "/").endswith("sqlalchemy/orm/attributes.py"):
            continue
        impl, state = frame.f_locals.get("self"), frame.f_locals.get("state")
        key = getattr(impl, "key", None)
        if key is None or state is None or not hasattr(state, "class_"):
            continue
        relationship = key in state.mapper.relationships
        found = {
            "model": state.class_.__name__,
            "key": key,
            "kind": "relationship" if relationship else "column",
            "instance": describe_instance(state),
        }
    return found


def explain(exc: BaseException, kata_dir: Path) -> dict:
    """Plain data describing one failure."""
    chain = exception_chain(exc)
    greenlet = _find(chain, "MissingGreenlet", MISSING_GREENLET_CODE)
    detached = _find(chain, "DetachedInstanceError", DETACHED_CODE)
    # pytest wraps an import error in CollectError: report the error that ran through the learner's code.
    origin = next((e for e in chain if learner_frames(e.__traceback__, kata_dir)), exc)
    frames = learner_frames(origin.__traceback__, kata_dir)
    info: dict = {
        "exception": first_line(origin),
        "location": frames[-1] if frames else None,
        "call_path": frames,
    }
    if greenlet is not None:
        attribute = touched_attribute(exc.__traceback__) or touched_attribute(greenlet.__traceback__)
        info.update(
            kind=("lazy-load" if attribute["kind"] == "relationship" else "unloaded-column")
            if attribute
            else "io-outside-greenlet",
            error="MissingGreenlet",
            exception=first_line(greenlet),
            wrapped_in=type(exc).__name__ if greenlet is not exc else None,
            attribute=attribute,
        )
    elif detached is not None:
        info.update(kind="detached", error="DetachedInstanceError", exception=first_line(detached))
    elif isinstance(exc, AssertionError):
        info.update(kind="assertion", message=assertion_message(exc))
    else:
        info.update(kind="error", error=type(origin).__name__)
    return info
