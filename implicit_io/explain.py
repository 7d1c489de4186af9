"""Read a failure the way a reviewer would: what touched the database, where, why, and what to change.

``explain()`` takes the live exception of a failed test and what the recorder saw
during it, and returns plain data (dicts of strings and numbers): the runner
writes it as JSON, ``implicit_io.text`` turns it into prose.

Nothing here assumes how the installed SQLAlchemy wraps the error: 2.0 raises
``MissingGreenlet``; 2.1 with aiosqlite a ``StatementError`` whose ``.orig`` is
the ``MissingGreenlet``; asyncpg a plain ``MissingGreenlet`` on both; FastAPI a
``ResponseValidationError`` (``get_attribute_error``) whose message carries it,
when the read happened while it serialised a response. All carry ``xd2s``.

A raise loader (``raiseload()``, ``lazy="raise"``/``"raise_on_sql"``, a deferred
column's ``raiseload=True``) refuses the same load before any SQL, with an
``InvalidRequestError`` whose words name the attribute: the same failure, caught
earlier, explained the same way.
"""

from __future__ import annotations

import ast
import linecache
import re
import typing
from pathlib import Path
from types import TracebackType

from implicit_io.frames import Scope, own_traceback
from implicit_io.rules import RuleIndex

MISSING_GREENLET_CODE = "xd2s"
DETACHED_CODE = "bhk3"

# cause -> kind: the four kinds of implicit IO the runner and its tests know
KINDS = {
    "relationship-not-loaded": "lazy-load",
    "second-hop": "lazy-load",
    "identity-map": "lazy-load",
    "new-object-relationship": "lazy-load",
    "expired-after-commit": "unloaded-column",
    "expired-after-rollback": "unloaded-column",
    "expired-after-update": "unloaded-column",
    "server-default-not-fetched": "unloaded-column",
    "expired": "unloaded-column",
    "deferred": "unloaded-column",
    "sync-session": "io-outside-greenlet",
    "io-outside-greenlet": "io-outside-greenlet",
    "detached": "detached",
    "refreshed-without-names": "lazy-load",
    "concurrent-session": "concurrent-session",
    # errors your code raised (no implicit IO): the kind stays "error", the cause says why
    "not-in-session": "error",
    "loader-path": "error",
    "interrupted": "error",
    "exit": "error",
    "sync-driver": "error",
    "pending-rollback": "error",
}


# --- the exception -------------------------------------------------------------------


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
                *(getattr(current, "exceptions", None) or ()),  # an ExceptionGroup (asyncio.TaskGroup)
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


# What SQLAlchemy raises when a raise loader refuses a load, in the same words on 2.0 and 2.1 (strategies.py):
# a relationship's lazy='raise' or 'raise_on_sql' (its mapping, or raiseload() in the query's options), a deferred
# column's raiseload=True (its mapping, or defer(..., raiseload=True), load_only(..., raiseload=True)).
RAISELOAD = re.compile(r"'(\w+)\.(\w+)' is not available due to (?:lazy='(raise|raise_on_sql)'|raiseload=True)")


# A mapping's eager loading, which a raiseload() option overrides (the wildcard too): without the option,
# the query that loaded the object would have loaded the relationship.
EAGER = ("selectin", "joined", "subquery", "immediate")


def raiseload_facts(match: re.Match, facts: dict) -> dict:
    """Which raise loader refused the load: the setting it raised for (lazy='raise', 'raise_on_sql'; None for
    a deferred column's raiseload=True), whether the mapping or a query's option set it, and the mapping's
    eager loading it overrode, if any."""
    lazy = match.group(3)
    if lazy:
        mapped = facts.get("lazy")
        by = "mapping" if mapped == lazy else "option"
        return {
            "lazy": lazy,
            "set_by": by,
            "overrides": mapped if by == "option" and mapped in EAGER else None,
            # lazy='raise' refuses before it asks for the session: the object's session may have been closed
            # before the read, or after it (an async with the error passed through). Either way, it is now.
            "closed": lazy == "raise" and bool(facts.get("detached")),
        }
    # a column's raiseload=True (as raise_on_sql) raises DetachedInstanceError first: here the session was open
    by = "mapping" if facts.get("deferred_raiseload") else "option"
    return {"lazy": None, "set_by": by, "overrides": None, "closed": False}


def raiseload_error(chain: list[BaseException]) -> tuple[BaseException, re.Match] | None:
    """SQLAlchemy's InvalidRequestError of a raise loader, and the match naming the attribute and the setting."""
    for error in chain:
        if type(error).__name__ == "InvalidRequestError" and type(error).__module__.startswith("sqlalchemy"):
            match = RAISELOAD.match(str(error).strip())
            if match:
                return error, match
    return None


_EMBEDDED = re.compile(
    r"(?:\(sqlalchemy\.exc\.)?(MissingGreenlet|DetachedInstanceError|InvalidRequestError)\)?:?\s*(.*)"
)


def response_validation_error(chain: list[BaseException]) -> tuple[BaseException, dict, str] | None:
    """FastAPI's ResponseValidationError whose get_attribute_error carries an implicit-IO failure."""
    for error in chain:
        if type(error).__name__ != "ResponseValidationError":
            continue
        try:
            problems = error.errors()
        except Exception:
            continue
        for problem in problems:
            text = str(problem.get("msg", ""))
            if problem.get("type") != "get_attribute_error":
                continue
            if "MissingGreenlet" in text or MISSING_GREENLET_CODE in text:
                return error, problem, "MissingGreenlet"
            if "DetachedInstanceError" in text or "is not bound to a Session" in text:
                return error, problem, "DetachedInstanceError"
            if RAISELOAD.search(text):
                return error, problem, "InvalidRequestError"
    return None


def _embedded_first_line(text: str, name: str) -> str:
    first = text.split("\n")[0]
    first = first.split("Error extracting attribute: ", 1)[-1]
    match = _EMBEDDED.search(first)
    return f"{name}: {match.group(2).strip()}" if match else f"{name}: {first}"


def attribute_in_traceback(tb: TracebackType | None) -> tuple[object, str] | None:
    """(state, key) of the attribute your code read, from SQLAlchemy's attribute frames: the outermost
    of the innermost run of SQLAlchemy frames (a relationship of an expired object loads its key first)."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        filename = frame.f_code.co_filename.replace("\\", "/")
        if filename.endswith("sqlalchemy/orm/attributes.py"):
            impl, state = frame.f_locals.get("self"), frame.f_locals.get("state")
            key = getattr(impl, "key", None)
            if isinstance(key, str) and state is not None and hasattr(state, "class_"):
                found = found or (state, key)
        elif "/sqlalchemy/" not in filename and not filename.startswith("<"):  # (SQLAlchemy generates some code)
            found = None  # a new access, further in: the one that failed
        tb = tb.tb_next
    return found


# --- the cause -----------------------------------------------------------------------


def _function_source(path: str | None, function: str, line: int) -> list[tuple[int, str]]:
    """The lines of the function around ``line`` in ``path`` (by indentation), numbered."""
    if not path:
        return []
    lines = linecache.getlines(path)
    if not lines or line > len(lines):
        return []
    start = line
    while start > 1 and not re.match(rf"\s*(async\s+)?def\s+{re.escape(function)}\b", lines[start - 1]):
        start -= 1
    indent = len(lines[start - 1]) - len(lines[start - 1].lstrip())
    end = start
    while end < len(lines):
        text = lines[end]
        if text.strip() and len(text) - len(text.lstrip()) <= indent and not text.lstrip().startswith(")"):
            break
        end += 1
    return [(n, lines[n - 1].rstrip("\n")) for n in range(start, end + 1)]


def _get_call(frames: list[dict], model: str) -> dict | None:
    """Your line that fetched a ``model`` with ``session.get()`` in one of the frames of the call path."""
    pattern = re.compile(rf"\.get\(\s*{re.escape(model)}\b")
    for frame in reversed(frames):
        for number, text in _function_source(frame.get("path"), frame["function"], frame["line"]):
            if pattern.search(text):
                return dict(frame, line=number, source=text.strip())
    return None


def last_event(facts: dict) -> dict | None:
    """The last whole-object event on the instance after the query that loaded it, if any."""
    event = facts.get("last_event") or {}
    origin = facts.get("origin") or {}
    if event and event.get("seq", 0) > origin.get("seq", 0):
        return event
    return None


def cause_of(facts: dict, frames: list[dict]) -> str:
    """The one name for what left the attribute unloaded, from the facts recorded before the IO."""
    if facts.get("detached"):
        return "detached"
    event = last_event(facts) or {}
    if facts.get("kind") == "relationship":
        if facts.get("expired_key") and facts.get("expired_all"):
            return _expiry_cause(facts)
        if event.get("what") == "refresh":  # refresh(obj) after the load: it reloads columns, not lazy relationships
            return "refreshed-without-names"
        if facts.get("persistent") and not facts.get("loaded_by_query"):
            return "new-object-relationship"
        got = _get_call(frames, facts["model"])
        origin = facts.get("origin") or {}
        if got and origin and (origin.get("path"), origin.get("line")) != (got.get("path"), got.get("line")):
            return "identity-map"  # loaded by another query first; get() then handed back that object
        if facts.get("load_path"):
            return "second-hop"
        return "relationship-not-loaded"
    partial = facts.get("partial_expiry") or {}
    if facts.get("expired_key"):
        if facts.get("expired_all"):
            return _expiry_cause(facts)
        if facts["key"] in partial.get("attributes", ()):
            return "expired-after-update" if partial.get("by") == "flush" else "expired"
        return "expired-after-update" if facts.get("onupdate") or facts.get("computed") else "expired"
    if facts.get("deferred") or facts.get("loaded_by_query"):
        return "deferred"
    if facts.get("server_default") or facts.get("computed"):
        return "server-default-not-fetched"
    return "expired"


def _expiry_cause(facts: dict) -> str:
    """What expired the whole object: the event noted on it, else the session's last commit or rollback."""
    last = (last_event(facts) or facts.get("last_event") or {}).get("what")
    if last in ("expire", "expire_all"):
        return "expired"
    last = last if last in ("commit", "rollback") else (facts.get("session_marks") or {}).get("last_expiry")
    return {"commit": "expired-after-commit", "rollback": "expired-after-rollback"}.get(last, "expired-after-commit")


# --- errors your code raised: no implicit IO, but a reason all the same ---------------------

# What SQLAlchemy and the drivers say when two tasks use one session at once (measured on 2.0 and 2.1,
# aiosqlite and asyncpg): a flush inside a flush, a state change inside another, a connection mid-query.
CONCURRENT = (
    "Session is already flushing",
    "concurrent operations are not permitted",
    "another operation is in progress",
    "is already in progress and this would cause an unexpected state change",
)


def error_cause(chain: list[BaseException]) -> tuple[str, BaseException] | None:
    """(cause, the error that shows it) for an error we can explain without a recorded IO attempt."""
    for error in chain:
        text = str(error)
        if type(error).__name__ == "IllegalStateChangeError" or any(marker in text for marker in CONCURRENT):
            return "concurrent-session", error
    for error in chain:
        text = str(error)
        name = type(error).__name__
        if name == "InvalidRequestError" and (
            "is not persistent within this Session" in text or "is already attached to session" in text
        ):
            return "not-in-session", error
        if name == "ArgumentError" and "does not apply to any of the root entities" in text:
            return "loader-path", error
        if name == "PendingRollbackError":
            return "pending-rollback", error
    for error in chain:
        if isinstance(error, ModuleNotFoundError) and error.name in SYNC_DRIVERS and _through_create_engine(error):
            return "sync-driver", error
    for error in chain:
        # Raised by a line of code (raise KeyboardInterrupt, sys.exit()), not by Ctrl-C or a signal.
        if isinstance(error, (KeyboardInterrupt, SystemExit)) and _raised_by_a_line(error):
            return ("interrupted" if isinstance(error, KeyboardInterrupt) else "exit"), error
    return None


# The DB-API modules a sync engine loads for a URL without an async driver (postgresql://, mysql://, ...).
SYNC_DRIVERS = {"psycopg2", "psycopg", "pymysql", "MySQLdb", "mysqlclient", "pyodbc", "oracledb", "cx_Oracle"}


def _through_create_engine(error: BaseException) -> bool:
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.replace("\\", "/").endswith("sqlalchemy/engine/create.py"):
            return True
        tb = tb.tb_next
    return False


def _raised_by_a_line(error: BaseException) -> bool:
    tb = error.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return False
    line = linecache.getline(tb.tb_frame.f_code.co_filename, tb.tb_lineno)
    return bool(re.search(r"\braise\b|exit\(", line)) or tb.tb_frame.f_code.co_name == "exit"


def _instance_in_traceback(tb: TracebackType | None):
    """The mapped instance SQLAlchemy's session frames were handed (refresh(job): the job), if any."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        if "sqlalchemy/orm/" in frame.f_code.co_filename.replace("\\", "/"):
            for name in ("instance", "state"):
                value = frame.f_locals.get(name)
                state = getattr(value, "_sa_instance_state", value)
                if hasattr(state, "class_") and hasattr(state, "mapper"):
                    found = found or state
        tb = tb.tb_next
    return found


def _spawned_at(frames: list[dict]) -> dict | None:
    """Your line that started the tasks sharing the session: asyncio.gather(), a TaskGroup, create_task()."""
    pattern = re.compile(r"\bgather\(|TaskGroup\(|create_task\(")
    for frame in reversed(frames):
        if pattern.search(frame.get("source", "")):
            return frame
        for number, text in _function_source(frame.get("path"), frame.get("function", ""), frame["line"]):
            if pattern.search(text):
                return dict(frame, line=number, source=text.strip())
    return None


def _states_in_traceback(tb: TracebackType | None) -> list:
    """The mapped instances SQLAlchemy's session frames were handed, outermost first."""
    found: list = []
    while tb is not None:
        frame = tb.tb_frame
        if "sqlalchemy/orm/" in frame.f_code.co_filename.replace("\\", "/"):
            for name in ("instance", "state", "st_"):
                value = frame.f_locals.get(name)
                state = getattr(value, "_sa_instance_state", value)
                if hasattr(state, "class_") and hasattr(state, "mapper") and not any(state is f for f in found):
                    found.append(state)
        tb = tb.tb_next
    return found


def _cascaded(error: BaseException, frames: list[dict]) -> dict | None:
    """session.add(obj) refused an object of another session that obj points to: add() cascades along
    obj's relationships (save-update), and that object is still held by the session that loaded it."""
    if "is already attached to session" not in str(error):
        return None
    states = _states_in_traceback(error.__traceback__)
    if len(states) < 2 or states[0] is states[-1]:
        return None
    added, refused = states[0], states[-1]
    target = refused.obj()
    relationship = None
    for rel in added.mapper.relationships:
        value = added.dict.get(rel.key)
        held = value is target or (isinstance(value, (list, set, tuple)) and any(v is target for v in value))
        if held and "save-update" in rel.cascade:
            relationship = rel
            break
    if relationship is None or target is None:
        return None
    from implicit_io.recorder import ORIGIN, describe_instance, note

    model, other, key = added.class_.__name__, refused.class_.__name__, relationship.key
    inner = frames[-1] if frames else {}
    call = re.search(r"\b((?:self\.)?\w+)\.(add|add_all|merge)\(\s*(\w+)", inner.get("source", ""))
    session, method, added_var = call.groups() if call else ("session", "add", _snake(model))
    # Where your code pointed it there: Model(key=var), or obj.key = var
    var, at, code = None, None, None
    pairs = []
    if relationship.direction.name == "MANYTOONE":
        try:
            pairs = [
                (added.mapper.get_property_by_column(local).key, refused.mapper.get_property_by_column(remote).key)
                for local, remote in relationship.local_remote_pairs
            ]
        except Exception:
            pairs = []
    for number, text in _function_source(inner.get("path"), inner.get("function", ""), inner.get("line", 0)):
        attribute = re.search(rf"\b([A-Za-z_]\w*)\.{re.escape(key)}\s*=\s*([A-Za-z_]\w*)\s*(?:#.*)?$", text)
        keyword = re.search(rf"(?:^|[(,\s]){re.escape(key)}\s*=\s*([A-Za-z_]\w*)\s*(?:[,)]|$)", text)
        if attribute or keyword:
            var = (attribute or keyword).group(2 if attribute else 1)
            at = dict(inner, line=number, source=text.strip())
            if pairs and attribute:
                owner = attribute.group(1)
                sets = "; ".join(f"{owner}.{fk} = {var}.{pk}" for fk, pk in pairs)
                code = f"{sets}   # in place of {owner}.{key} = {var}"
            elif pairs:
                sets = ", ".join(f"{fk}={var}.{pk}" for fk, pk in pairs)
                code = f"{sets}   # in place of {key}={var}, in {model}(...)"
            break
    var = var or _snake(other)
    origin = note(refused, ORIGIN)
    text = (
        f"Give this session the key, not the {other}: set the foreign key in place of {model}.{key}. The {other} "
        f"stays with the session that loaded it (which writes what you change on it when it commits). Or "
        f"give this session its own {other}: {var} = await {session}.get({other}, {var}.id) (a SELECT each time), "
        f"or {var} = await {session}.merge({var})"
    )
    return {
        "cascade": {"model": model, "key": key, "target": other, "var": var, "added": added_var},
        "instance": describe_instance(refused),
        "session_call": {"session": session, "method": method, "var": added_var, "model": model},
        "owner": {
            "open": refused.session_id is not None,
            "from": _public(origin) if origin else None,
            "how": "loaded",
        },
        "fix": {"text": text + (":" if code else "."), "code": code, "at": at or inner or None},
    }


def _enclosing_try(path: str | None, line: int, in_handler: bool) -> ast.Try | None:
    """The innermost try whose body (or, ``in_handler``, one of whose except blocks) holds ``line``."""
    if not path:
        return None
    try:
        tree = _parse(path)
    except (OSError, SyntaxError, ValueError):
        return None
    best = None
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try) or not node.body:
            continue
        blocks = node.handlers if in_handler else [node]
        for block in blocks:
            body = block.body
            if body and body[0].lineno <= line <= max(getattr(n, "end_lineno", n.lineno) for n in body):
                if best is None or node.lineno > best.lineno:
                    best = node
    return best


def _is_savepoint(node: ast.AST) -> bool:
    return isinstance(node, (ast.With, ast.AsyncWith)) and any(
        "begin_nested(" in ast.unparse(item.context_expr) for item in node.items
    )


def _savepoint_fix(frame: dict | None, in_handler: bool) -> dict | None:
    """Roll back only the statement that failed: the try's body in a SAVEPOINT, the object it flushes
    added inside it. ``frame``: the rollback in the except (``in_handler``), or the statement that failed."""
    if not frame or not frame.get("path"):
        return None
    path = frame["path"]
    node = _enclosing_try(path, frame["line"], in_handler)
    if node is None:
        return None
    session = session_name(frame)
    body = node.body
    nested = len(body) == 1 and _is_savepoint(body[0])
    rollback = re.compile(rf"^\s*await\s+{re.escape(session)}\.rollback\(\)")
    if in_handler and nested:
        return {
            "text": (
                f"Remove this {session}.rollback(): the SAVEPOINT around the statement that failed has already "
                "rolled back to itself, and this rolls back the whole transaction, the SAVEPOINT with it, "
                "expiring every object the session loaded."
            ),
            "code": None,
            "at": frame,
        }
    inner = body[0].body if nested else body
    statements = [ast.unparse(n) for n in inner]
    flush = re.compile(rf"^await\s+{re.escape(session)}\.flush\(\)$")
    # An object added before the try is flushed by begin_nested() itself, outside the SAVEPOINT: add it inside.
    added = None
    function = frame.get("function", "")
    for number, text in _function_source(path, function, frame["line"]):
        match = re.match(rf"^\s*{re.escape(session)}\.add\(\s*([A-Za-z_]\w*)\s*\)\s*(?:#.*)?$", text)
        if match and number < node.lineno:
            added = (number, match.group(1))
    if added:
        statements = [f"{session}.add({added[1]})"] + [t for t in statements if not flush.match(t)]
    lines = [f"async with {session}.begin_nested():  # a SAVEPOINT: a failure rolls back to it, and no further"]
    lines += ["    " + line for text in statements for line in text.splitlines()]
    first = body[0]
    at = dict(frame, line=first.lineno, source=linecache.getline(path, first.lineno).strip())
    handler_rollback = any(
        rollback.match(linecache.getline(path, n))
        for handler in node.handlers
        for n in range(handler.lineno, (handler.end_lineno or handler.lineno) + 1)
    )
    moved = (
        f" Move the {session}.add({added[1]}) above the try into it: begin_nested() first flushes what is "
        "already added, outside the SAVEPOINT."
        if added
        else ""
    )
    dropped = f" Call no {session}.rollback() in the except." if handler_rollback else ""
    return {
        "text": (
            "Roll back only the statement that failed: run the try's body in a SAVEPOINT, in place of what it runs "
            "now. A failure then rolls back to the SAVEPOINT only: nothing this session loaded is expired, and the "
            f"rest of the transaction stays.{moved}{dropped} (If the whole transaction must go instead, "
            + (
                "read what you need before the rollback.)"
                if in_handler
                else f"await {session}.rollback() in the except, and read what you need before it.)"
            )
        ),
        "code": "\n".join(lines),
        "at": at,
    }


def _pending_rollback(error: BaseException, chain, scope: Scope | None, frames: list[dict]) -> dict:
    """A statement failed in a flush; the session rolled its transaction back and refuses every statement,
    an attribute's load too, until session.rollback(): the read raised PendingRollbackError."""
    from implicit_io.recorder import describe_instance

    shown: dict = {}
    found = attribute_in_traceback(error.__traceback__)
    if found:
        state, key = found
        shown["read"] = {"model": state.class_.__name__, "key": key, "instance": describe_instance(state)}
    original = re.search(r"Original exception was: ([^\n]*)", str(error))
    shown["original"] = original.group(1).strip() if original else None
    failed = None
    for other in chain:
        if other is error or scope is None or not type(other).__module__.startswith("sqlalchemy"):
            continue
        if type(other).__name__ in ("PendingRollbackError", "MissingGreenlet"):
            continue
        own = own_traceback(scope, other.__traceback__)
        if own:
            failed = own[-1]
            shown["original"] = shown["original"] or first_line(other)
            break
    shown["failed_at"] = _public(failed)
    shown["in_savepoint_call"] = bool(failed and "begin_nested(" in failed.get("source", ""))
    shown["fix"] = _savepoint_fix(failed, in_handler=False) or {
        "text": (
            "Run the statement that can fail in a SAVEPOINT (async with session.begin_nested():, the objects it "
            "writes added inside it), so a failure rolls back to it only; or, once it failed, await "
            "session.rollback() before the session runs anything else (that discards the whole transaction, and "
            "expires every object the session loaded)."
        ),
        "code": None,
        "at": failed or (frames[-1] if frames else None),
    }
    return shown


def _concurrent_fix(spawned: dict | None, frames: list[dict]) -> dict | None:
    """Gather only the awaited call of the task that needs no session; the session's work in one task."""
    if not spawned or not spawned.get("path"):
        return None
    try:
        tree = _parse(spawned["path"])
    except (OSError, SyntaxError, ValueError):
        return None
    call = next(
        (
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and n.lineno == spawned["line"] and ast.unparse(n.func).endswith("gather")
        ),
        None,
    )
    starred = next((a for a in (call.args if call else []) if isinstance(a, ast.Starred)), None)
    comp = starred.value if starred is not None else None
    if not isinstance(comp, (ast.GeneratorExp, ast.ListComp)) or len(comp.generators) != 1 or comp.generators[0].ifs:
        return None
    element, loop = comp.elt, comp.generators[0]
    if not isinstance(element, ast.Call):
        return None
    task = ast.unparse(element.func).split(".")[-1]
    frame = next((f for f in reversed(frames) if f.get("function") == task and f.get("path")), None)
    try:
        task_tree = _parse(frame["path"]) if frame else tree
    except (OSError, SyntaxError, ValueError):
        return None
    definitions = [n for n in ast.walk(task_tree) if isinstance(n, ast.AsyncFunctionDef) and n.name == task]
    # the def the failing frame runs in, else the nearest one above the gather()
    line = frame["line"] if frame else spawned["line"]
    holding = [d for d in definitions if d.lineno <= line <= (d.end_lineno or d.lineno)]
    above = [d for d in definitions if d.lineno <= line]
    definition = (holding or above or definitions or [None])[-1]
    if definition is None:
        return None
    session = session_name(frame) if frame else "session"
    params = [a.arg for a in definition.args.args]
    mapping: dict[str, ast.AST] = {}
    if params and params[0] in ("self", "cls") and isinstance(element.func, ast.Attribute):
        mapping[params[0]] = element.func.value
        params = params[1:]
    mapping.update(zip(params, element.args, strict=False))
    mapping.update({k.arg: k.value for k in element.keywords if k.arg})
    awaits = sorted(
        (n.value for n in ast.walk(definition) if isinstance(n, ast.Await) and isinstance(n.value, ast.Call)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    short = session.split(".")[-1]
    free = next((n for n in awaits if not re.search(rf"\b{re.escape(short)}\b|session", ast.unparse(n))), None)
    if free is None:
        return None

    class Substitute(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            return mapping.get(node.id, node) if isinstance(node.ctx, ast.Load) else node

    import copy

    needs_no_session = ast.unparse(Substitute().visit(copy.deepcopy(free)))
    target, items = ast.unparse(loop.target), ast.unparse(loop.iter)
    keywords = "".join(f", {ast.unparse(k)}" for k in call.keywords)
    code = "\n".join(
        [
            f"answers = await {ast.unparse(call.func)}(*({needs_no_session} for {target} in {items}){keywords})",
            f"for {target}, answer in zip({items}, answers):",
            f"    ...  # the rest of {task}(), given answer: the session's work, one {target} after another",
        ]
    )
    return {
        "text": (
            f"Gather only the work that needs no session ({ast.unparse(free.func)}()), then do the session's work of "
            f"{task}() in this task, one {target} after another, with one flush for them all. Or give each task a "
            "session of its own (async with session_factory() as session: inside the task), and hand it ids, not "
            "objects this session loaded:"
        ),
        "code": code,
        "at": spawned,
    }


def explain_error(
    cause: str, error: BaseException, info: dict, frames: list[dict], chain=(), scope: Scope | None = None
) -> dict:
    """What, why and the fix for an error of a known cause your code raised."""
    location = info.get("location") or {}
    source = location.get("source", "")
    shown: dict = {"cause": cause, "kind": KINDS.get(cause, "error"), "exception": first_line(error)}
    cascade = _cascaded(error, frames) if cause == "not-in-session" else None
    if cascade:
        shown.update(cascade)
    elif cause == "pending-rollback":
        shown.update(_pending_rollback(error, chain, scope, frames))
    elif cause == "not-in-session":
        call = re.search(r"\b((?:self\.)?\w+)\.(refresh|expire|add|delete|merge|expunge)\(\s*(\w+)", source)
        session, method, var = call.groups() if call else ("session", "refresh", "obj")
        model = re.search(r"<(\w+) at 0x", str(error))
        model = model.group(1) if model else "the object"
        state = _instance_in_traceback(error.__traceback__)
        owner = {}
        if state is not None:
            from implicit_io.recorder import EVENT, INSERTED, ORIGIN, describe_instance, note

            model = state.class_.__name__
            shown["instance"] = describe_instance(state)
            origin = note(state, INSERTED) or note(state, ORIGIN)
            owner = {
                "open": state.session_id is not None,
                "from": _public(origin) if origin else None,
                "how": "inserted" if note(state, INSERTED) else "loaded",
                "last_event": _public_event(note(state, EVENT)),
            }
        shown["session_call"] = {"session": session, "method": method, "var": var, "model": model}
        shown["owner"] = owner
        shown["fix"] = {
            "text": (
                f"Load this session's own {model}, by the key the object keeps (reading {var}.id could need "
                f"its session too); or refresh it in the session that holds it, before it is handed over:"
            ),
            "code": f"{var} = await {session}.get({model}, inspect({var}).identity)   # inspect: from sqlalchemy",
            "at": info.get("location"),
        }
    elif cause == "loader-path":
        # 2.1 names the option ("... in option selectinload(Performer.dancer) ..."); 2.0 names the mappers
        # ("Mapped class Mapper[Performer(x_performer)] ... e.g. Mapper[Battle(x_battle)]"): the code has both.
        message = str(error)
        target = re.search(r"Mapped class (?:Mapper\[)?(\w+)", message)
        root = re.search(r"e\.g\. (?:Mapper\[)?(\w+)", message)
        inner = frames[-1] if frames else {}  # with its path, which the public location leaves out
        body = " ".join(
            text for _, text in _function_source(inner.get("path"), inner.get("function", ""), inner.get("line", 0))
        )
        option = re.search(r"option (\w+\(\w+\.\w+\))", message)
        if option is None and target:
            option = re.search(rf"(\w+load\({target.group(1)}\.\w+\))", body)
        shown["option"] = option.group(1) if option else None
        shown["root"] = root.group(1) if root else None
        # the option this query already has from the root: the hop to chain onto
        hop = re.search(rf"\w+load\({root.group(1)}\.\w+\)", body) if root else None
        shown["fix"] = {
            "text": "Chain the option onto the one that reaches its class from the query's root entity:",
            "code": f".options({hop.group(0)}.{shown['option']})" if hop and shown["option"] else None,
            "at": info.get("location"),
        }
    elif cause == "concurrent-session":
        spawned = _spawned_at(frames)
        shown["spawned_at"] = _public(spawned)
        shown["fix"] = _concurrent_fix(spawned, frames) or {
            "text": (
                "Use the session from one task at a time: gather only the work that needs no session (an HTTP "
                "call, a computation), then do the session's work in this task, one item after another. Or give "
                "each task a session of its own (async with session_factory() as session: inside the task), and "
                "hand it ids, not objects this session loaded."
            ),
            "code": None,
            "at": spawned or info.get("location"),
        }
    elif cause == "sync-driver":
        shown["driver"] = getattr(error, "name", None)
        shown["fix"] = {
            "text": (
                "Use the app's engine, through an AsyncSession, awaited, instead of a second engine: one engine, "
                "one pool, one async driver."
            ),
            "code": None,
            "at": info.get("location"),
        }
    elif cause == "interrupted":
        shown["fix"] = {
            "text": "Remove it; to fail one request, raise an Exception (in a route, an HTTPException).",
            "code": None,
            "at": info.get("location"),
        }
    elif cause == "exit":
        shown["at_import"] = location.get("function") == "<module>"
        shown["fix"] = {
            "text": "Remove it: code the app imports or calls never ends the process; raise an Exception instead.",
            "code": None,
            "at": info.get("location"),
        }
    return shown


# --- the fix -------------------------------------------------------------------------


def _variable(source: str, key: str, fallback: str) -> str:
    """The name your line reads the attribute through (``org`` in ``org.roles``)."""
    match = re.search(rf"\b([A-Za-z_][\w]*)\.{re.escape(key)}\b", source or "")
    return match.group(1) if match and match.group(1) not in ("self", "cls") else fallback


SESSION_CALL = re.compile(
    r"\b((?:self\.)?[A-Za-z_]\w*)\.(?:commit|flush|rollback|execute|scalars?|get|refresh|close|add|add_all|"
    r"delete|merge|expire|expire_all|stream|run_sync)\("
)


def session_name(frame: dict | None, fallback: str = "session") -> str:
    """What the code at ``frame`` calls its session (``db``, ``self.session``): its line, then its function."""
    if not frame:
        return fallback
    lines = [frame.get("source") or ""]
    lines += [text for _, text in _function_source(frame.get("path"), frame.get("function", ""), frame["line"])]
    for text in lines:
        match = SESSION_CALL.search(text)
        if match and match.group(1) not in ("self", "cls", "result", "asyncio", "os", "json", "re"):
            return match.group(1)
    return fallback


def name_in(frame: dict | None, names: list[str]) -> str:
    """The first of ``names`` the function at ``frame`` uses (the variable a fix there must name)."""
    if frame:
        body = "\n".join(
            text for _, text in _function_source(frame.get("path"), frame.get("function", ""), frame["line"])
        )
        for name in names:
            if name and re.search(rf"\b{re.escape(name)}\b", body):
                return name
    return names[0]


def _snake(model: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model).lower()


def _chain(facts: dict) -> str:
    """The loader option that reaches the attribute: the path that loaded the instance, plus one hop."""
    hops = facts.get("load_path") or []
    loaders = facts.get("loaders") or []
    parts = []
    for index, (model, key) in enumerate(hops):
        loader = (loaders[index] if index < len(loaders) else None) or facts.get("loader") or "selectinload"
        parts.append(f"{loader}({model}.{key})")
    parts.append(f"selectinload({facts['model']}.{facts['key']})")
    return ".".join(parts)


def fix_for(cause: str, facts: dict, info: dict) -> dict:
    """What to change, and where: the sentence, the code, and the line it goes to."""
    model, key = facts.get("model", "?"), facts.get("key", "?")
    origin = facts.get("origin")
    location = info.get("location") or {}
    # the name that holds the very object read (recorded), else the first that reads this key on the line
    read_var = facts.get("read_through") or _variable(location.get("source", ""), key, _snake(model))
    marks = facts.get("session_marks") or {}
    aw = "await " if info.get("is_async", True) else ""
    event = last_event(facts) or {}
    fix = _fix_text(cause, facts, info, model, key, origin, marks, aw, event)
    # The names the code where the fix goes uses: its session, and its variable for the object.
    at = fix.get("at")
    if fix.get("code") and at:
        var = name_in(at, [read_var, _snake(model), model.lower()])
        fix["code"] = fix["code"].replace("{var}", var).replace("{session}", session_name(at))
    elif fix.get("code"):
        fix["code"] = fix["code"].replace("{var}", read_var).replace("{session}", session_name(location))
    return fix


def _fix_text(cause: str, facts: dict, info: dict, model: str, key: str, origin, marks, aw: str, event) -> dict:
    """The fix for a cause; ``{var}`` and ``{session}`` in its code stand for the names used where it goes."""
    var, session = "{var}", "{session}"
    # refresh(obj) reloads columns (and what the loading query's options name), never a lazy relationship
    named = f', ["{key}"]' if facts.get("kind") == "relationship" else ""
    location = info.get("location") or {}
    if cause == "relationship-not-loaded":
        joined = (
            " (or joinedload: one JOIN instead of a second SELECT)" if facts.get("direction") == "MANYTOONE" else ""
        )
        # Every relationship the reader (a response model, Pydantic) reads and the query left unloaded, not only
        # the first one that failed: each is the next failure otherwise.
        paths = [p for p in facts.get("reads") or [] if p and p[0][1] in set(facts.get("unloaded") or ()) | {key}]
        paths = paths or [[(model, key)]]
        options = ", ".join(".".join(f"selectinload({m}.{k})" for m, k in path) for path in paths)
        hops = list(dict.fromkeys(f"{m}.{k}" for path in paths for m, k in path))
        names = (", ".join(hops[:-1]) + f" and {hops[-1]}") if len(hops) > 1 else hops[0]
        reads = " (what the response reads)" if len(hops) > 1 else ""
        by_get = re.search(r"\.get\(", (origin or {}).get("source", ""))
        if by_get and in_loop(origin):
            return {
                "text": (
                    f"This session.get() runs once per {model}: load them all in one query, with the options, "
                    "so the statements do not grow with the items:"
                ),
                "code": f"select({model}).where({model}.id.in_(ids)).options({options})",
                "at": origin,
            }
        if by_get:
            # This get() loaded the object (the session did not hold it): it sent its SELECT, and would have
            # applied options. (For an object the session already holds, the cause is identity-map.)
            return {
                "text": f"Load {names}{reads} with the object, as options of the session.get() that loads it:",
                "code": f"options=[{options}]   # arguments of {session}.get()",
                "at": origin,
            }
        return {
            "text": f"Load {names}{reads} in the query that loads the {model} objects{joined if not reads else ''}:",
            "code": f".options({options})",
            "at": origin,
        }
    if cause == "second-hop":
        return {
            "text": "Chain the next hop onto the option that loaded it; every query whose callers read it needs it:",
            "code": f".options({_chain(facts)})",
            "at": origin,
        }
    if cause == "identity-map":
        return {
            "text": (
                f"Load the {model} objects you read in one query, not with session.get(): a query applies its "
                "options to objects the session already holds, and costs the same for 10 objects or 50:"
            ),
            "code": f"select({model}).where({model}.id.in_(ids)).options(selectinload({model}.{key}))",
            "at": info.get("get_call"),
        }
    if cause == "new-object-relationship":
        what = "collection" if facts.get("collection") else "relationship"
        target = facts.get("target", "")
        return {
            "text": (
                f"Load it, awaited, after the flush that wrote the {target} rows, in the session that owns it; "
                f"or build the {what} through {model}.{key} before the first flush (an empty list you "
                "assign stays empty):"
            ),
            "code": f'await {session}.refresh({var}, ["{key}"])',
            "at": marks.get("inserted:" + target) or marks.get("flush"),
        }
    if cause == "expired-after-commit":
        return {
            "text": (
                "Load it again, awaited, in the session that owns it, after that commit (or build what you "
                "return before committing). expire_on_commit=False keeps loaded values, not the ones the "
                "database changes in an UPDATE:"
            ),
            "code": f"await {session}.refresh({var}{named})",
            "at": (event.get("where") if event.get("what") == "commit" else None) or marks.get("commit"),
        }
    if cause == "expired-after-rollback":
        # A rollback in an except after a statement that failed (or the one SQLAlchemy ran at the failure):
        # roll back only that statement, in a SAVEPOINT.
        failed = event.get("where") if event.get("what") == "rollback" else None
        savepoint = _savepoint_fix(marks.get("rollback"), in_handler=True) or _savepoint_fix(failed, in_handler=False)
        if savepoint:
            return savepoint
        return {
            "text": "Load it again after the rollback, awaited, or query it anew:",
            "code": f"await {session}.refresh({var}{named})",
            "at": (event.get("where") if event.get("what") == "rollback" else None) or marks.get("rollback"),
        }
    if cause in ("expired-after-update", "server-default-not-fetched"):
        partial = facts.get("partial_expiry") or {}
        names = [n for n in partial.get("attributes") or facts.get("expired_attributes") or [key]]
        if key not in names:
            names = [key, *names]
        quoted = ", ".join(f'"{n}"' for n in names)
        statement = "UPDATE" if cause == "expired-after-update" else "INSERT"
        return {
            "text": (
                f"Read back what the database generated, awaited, after that flush; or set "
                f'__mapper_args__ = {{"eager_defaults": True}} on {model}, so the {statement} returns it:'
            ),
            "code": f"await {session}.refresh({var}, [{quoted}])",
            "at": partial.get("where") or marks.get("flush"),
        }
    if cause == "deferred":
        # A raise loader refuses an awaited load too (awaitable_attrs); beside a defer() naming the column,
        # undefer() conflicts with it: SQLAlchemy refuses the query.
        named = facts.get("named_defer")
        instead = f", in place of the defer() that names {model}.{key} there" if named else ""
        awaited = not facts.get("raiseload")
        return {
            "text": (
                f"Load the column with the query that loads the {model} objects{instead}"
                + (", or ask for it, awaited:" if awaited else ":")
            ),
            "code": f".options(undefer({model}.{key}))"
            + (f"   # or: await {var}.awaitable_attrs.{key}" if awaited else ""),
            "at": origin,
        }
    if cause == "expired":
        partial = facts.get("partial_expiry") or {}
        where = event.get("where") if event.get("what") in ("expire", "expire_all") else partial.get("where")
        return {
            "text": "Load it again, awaited, after that expire() (or call refresh() instead of expire()):",
            "code": f'await {session}.refresh({var}, ["{key}"])',
            "at": where,
        }
    if cause == "refreshed-without-names":
        return {
            "text": f"Name the relationship: refresh() without names reloads the columns, not a lazy {key}:",
            "code": f'await {session}.refresh({var}, ["{key}"])',
            "at": event.get("where"),
        }
    if cause == "sync-session":
        query = re.search(r"\b([A-Za-z_]\w*)\.query\(\s*([A-Za-z_][\w.]*)", location.get("source", ""))
        session_var, entity = (query.group(1), query.group(2)) if query else ("session", "...")
        return {
            "text": (
                f"Give this code the app's AsyncSession (an async_sessionmaker on the async engine; in a route, "
                f"its dependency) instead of {session_var}, and await every query; code that must stay sync runs "
                f"inside await session.run_sync(fn):"
            ),
            "code": f"result = await {session_var}.execute(select({entity}).where(...))",
            "at": info.get("location"),
        }
    if cause == "detached":
        return {
            "text": (
                "Read what you need while its session is open (load it with the query, or refresh it before "
                "the session closes); or pass the session on, so the code that reads it uses the same one; "
                "or load it again in the session you have, by the key it keeps (or the id you kept before "
                "the session closed):"
            ),
            # Not {var}.id: on a detached, expired object that read raises DetachedInstanceError too.
            "code": (
                f"{var} = {aw}{session}.get({model}, inspect({var}).identity)   "
                f"# inspect: from sqlalchemy; or: {var} = {aw}{session}.merge({var})"
            ),
            "at": None,
        }
    return {
        "text": (
            "Every database call in async code is awaited (await session.execute(...)); sync code runs "
            "inside await session.run_sync(fn)."
        ),
        "code": None,
        "at": info.get("location"),
    }


# --- putting it together -------------------------------------------------------------


def _location_of_route(route: dict, scope: Scope) -> dict | None:
    """The route's ``return`` line (its only one), else its ``def`` line."""
    path, line = route.get("path"), route.get("line")
    if not path or not line:
        return None
    if not scope.classify_path(path):
        return None
    lines = linecache.getlines(path)
    while line <= len(lines) and not re.match(r"\s*(async\s+)?def\s", lines[line - 1]):
        line += 1  # past the decorators
    body = _function_source(path, route.get("function", ""), line)
    returns = [n for n, text in body if text.strip().startswith("return ")]
    line = returns[0] if len(returns) == 1 else line
    return {
        "file": scope.relative(path),
        "path": path,
        "line": line,
        "function": route.get("function", "?"),
        "source": linecache.getline(path, line).strip(),
    }


def _route_info(route: dict | None, scope: Scope) -> dict | None:
    if not route:
        return None
    shown = {"function": route.get("function"), "response_model": route.get("response_model")}
    location = _location_of_route(route, scope)
    if location:
        shown.update(file=location["file"], line=location["line"])
    return shown


def _public(frame: dict | None) -> dict | None:
    if not frame:
        return None
    return {k: frame[k] for k in ("file", "line", "function", "source") if k in frame}


def _pick_incident(record, state, key, what: str | None = None):
    incidents = list(getattr(record, "incidents", ()) or ())
    if state is not None and key is not None:
        for incident in reversed(incidents):
            if incident.state is state and incident.facts.get("key") == key:
                return incident
    if what is not None:
        for incident in reversed(incidents):
            if incident.what == what:
                return incident
    return incidents[-1] if incidents else None


def _traceback_frames(exc: BaseException, chain: list[BaseException]) -> list:
    """The frames of the traceback that reaches SQLAlchemy's attribute code, innermost first."""
    for error in [exc, *chain]:
        frames, tb = [], error.__traceback__
        while tb is not None:
            frames.append(tb.tb_frame)
            tb = tb.tb_next
        if any(f.f_code.co_filename.replace("\\", "/").endswith("sqlalchemy/orm/attributes.py") for f in frames):
            return frames[::-1]
    return []


def _served_route(error: BaseException, state) -> dict | None:
    """The endpoint whose response FastAPI was serialising when it raised ``error``, with the relationship
    paths its response model reads on ``state`` (``reads``), as an incident's route has them."""
    from implicit_io.recorder import fastapi_route

    frames, tb = [], error.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    route = fastapi_route(frames[::-1])  # innermost first, as a stack walk
    if route is None:
        return None
    try:
        schema = _schema_of(route.get("response_type"))
        route["reads"] = _schema_paths(schema, state.mapper) if schema is not None else []
    except Exception:
        route["reads"] = []
    return route


def _state_of(instance):
    try:
        return instance._sa_instance_state
    except AttributeError:
        return None


def explain(
    exc: BaseException,
    scope: Scope,
    record=None,
    rules: RuleIndex | None = None,
    kata_rules: tuple[str, ...] | list[str] = (),
    recorder=None,
) -> dict:
    """Plain data describing one failure."""
    chain = exception_chain(exc)
    greenlet = _find(chain, "MissingGreenlet", MISSING_GREENLET_CODE)
    detached = _find(chain, "DetachedInstanceError", DETACHED_CODE)
    raised = raiseload_error(chain) if greenlet is None and detached is None else None
    served = response_validation_error(chain) if greenlet is None and detached is None and raised is None else None
    # pytest wraps an import error in CollectError: report the error that ran through your code.
    origin_exc = next((e for e in chain if own_traceback(scope, e.__traceback__)), exc)
    frames = own_traceback(scope, origin_exc.__traceback__)
    info: dict = {
        "exception": first_line(origin_exc),
        "location": _public(frames[-1]) if frames else None,
        "call_path": [_public(f) for f in frames],
    }
    error_name = None
    if greenlet is not None or (served and served[2] == "MissingGreenlet"):
        error_name = "MissingGreenlet"
    elif detached is not None or (served and served[2] == "DetachedInstanceError"):
        error_name = "DetachedInstanceError"
    elif raised is not None or served:
        error_name = "InvalidRequestError"  # a raise loader refused the load
    raise_match = raised[1] if raised else RAISELOAD.search(str(served[1].get("msg", ""))) if served else None
    # Every recorded attempt failed: it was outside an awaited call, on an async driver.
    incidents = list(getattr(record, "incidents", ()) or ())

    if error_name is None:
        known = None if isinstance(exc, AssertionError) else error_cause(chain)
        if isinstance(exc, AssertionError):
            info.update(kind="assertion", message=assertion_message(exc))
        elif known:
            cause, error = known
            info.update(error=type(error).__name__)
            info.update(explain_error(cause, error, info, frames, chain, scope))
            info["fix"]["at"] = _public(info["fix"].get("at"))
            # No rule is about sys.exit() or KeyboardInterrupt: no rule line, rather than "none covers it"
            known_rules = rules is not None and rules.rules and cause not in ("exit", "interrupted")
            info["rules"] = rules.for_cause(cause, kata_rules) if known_rules else None
        else:
            info.update(kind="error", error=type(origin_exc).__name__)
        if known and known[0] == "pending-rollback":  # the read that raised it is this error, not a hidden one
            read = attribute_in_traceback(known[1].__traceback__)
            if read:
                incidents = [i for i in incidents if not (i.state is read[0] and i.facts.get("key") == read[1])]
        if incidents:  # the check failed on a value: a failure your code caught is the likely reason
            info["behind"] = describe(incidents[0], scope, rules, kata_rules, siblings=incidents)
            info["hidden"] = hidden_groups(incidents, scope)
        return _validation_reported(info, chain)

    # Which attribute, on which instance: the traceback's attribute frames, or FastAPI's report.
    state = key = None
    found = attribute_in_traceback(exc.__traceback__)
    for error in chain:
        found = found or attribute_in_traceback(error.__traceback__)
    if found:
        state, key = found
    if served:
        rve, problem, _ = served
        info["exception"] = _embedded_first_line(str(problem.get("msg", "")), error_name)
        info["wrapped_in"] = f"{type(rve).__name__} (get_attribute_error)"
        loc = problem.get("loc") or ()
        info["response_loc"] = repr(tuple(loc)) if loc else None
        key = key or (str(loc[-1]) if loc else None)
        state = state or _state_of(problem.get("input"))
    else:
        inner = {"MissingGreenlet": greenlet, "DetachedInstanceError": detached}.get(error_name) or raised[0]
        info["exception"] = first_line(inner)
        info["wrapped_in"] = type(exc).__name__ if type(inner) is not type(exc) else None
    info["error"] = error_name

    incident = None
    if error_name == "MissingGreenlet":
        incident = _pick_incident(record, state, key, what=None if state is not None else "query")
        if incident is not None and state is not None and incident.what == "query":
            incident = None
    if incident is not None:
        info.update(describe(incident, scope, rules, kata_rules, info, siblings=incidents))
    else:
        facts: dict = {}
        if state is not None and key is not None:
            # SQLAlchemy is loaded anyway: we hold one of its states
            from implicit_io.recorder import DETACHED, EVENT, INSERTED, ORIGIN, note, reached_by, state_facts

            facts = state_facts(state, key)
            facts["origin"] = note(state, ORIGIN)
            facts["inserted_by"] = note(state, INSERTED)
            facts["last_event"] = note(state, EVENT)
            facts["reached_by"] = reached_by(_traceback_frames(exc, chain), scope)
            if recorder is not None:
                facts["partial_expiry"] = recorder.partial.get(state)
                session = getattr(state, "session", None)
                marks = note(state, DETACHED) or (recorder.sessions.get(session) if session else None)
                facts["session_marks"] = dict(marks or {})
        if error_name == "DetachedInstanceError" and facts:
            facts["detached"] = True
        route = None
        if raise_match and facts.get("key") == raise_match.group(2):
            facts["raiseload"] = raiseload_facts(raise_match, facts)
            facts["detached"] = False  # what the load lacked is the attribute, not a session (see "closed")
            if served:  # no incident (no SQL was tried): the route, from the frames that serialised
                route = _served_route(served[0], state)
                if route is not None:
                    info["location"], info["call_path"] = None, []
                    facts["reached_by"] = facts.get("reached_by") or {"library": "FastAPI"}
                    facts["reads"] = route.pop("reads")
        elif raise_match:  # the attribute's object is out of reach: nothing to say beyond pytest's report
            info.update(kind="error", error=error_name)
            return info
        cause = (
            cause_of(facts, frames)
            if facts.get("key")
            else ("detached" if error_name == "DetachedInstanceError" else "io-outside-greenlet")
        )
        info.update(_conclude(info, cause, facts, frames, route, scope, rules, kata_rules))
    others = [i for i in incidents if i is not incident]
    if served:  # the other fields FastAPI could not read are errors of this same ResponseValidationError: not hidden
        same = _same_response(served[0], others)
        others = [i for i in others if not any(i is s for s in same)]
        if same:
            info["also"] = hidden_groups(same, scope)
    if others:
        info["hidden"] = hidden_groups(others, scope)
    return _validation_reported(info, chain)


def _validation_reported(info: dict, chain: list[BaseException]) -> dict:
    """A ValidationError that is the failure itself was caught by nobody: Pydantic reported the read."""
    if any(type(e).__name__ == "ValidationError" for e in chain):
        for item in [info.get("behind"), *(info.get("hidden") or [])]:
            if item and (item.get("reached_by") or {}).get("library") == "Pydantic":
                item["caught_at"] = None
    return info


def _same_response(error: BaseException, incidents: list) -> list:
    """The incidents FastAPI reports in this ResponseValidationError: an attribute it could not read."""
    try:
        problems = error.errors()
    except Exception:
        return []
    reported = {
        (id(problem.get("input")), str((problem.get("loc") or ("",))[-1]))
        for problem in problems
        if problem.get("type") == "get_attribute_error"
    }
    found = []
    for incident in incidents:
        try:
            instance = incident.state.obj() if incident.state is not None else None
        except Exception:
            instance = None
        if instance is not None and (id(instance), incident.facts.get("key")) in reported:
            found.append(incident)
    return found


def describe(
    incident, scope: Scope, rules: RuleIndex | None, kata_rules=(), info: dict | None = None, siblings=()
) -> dict:
    """What a recorded incident says: the same fields an explanation of its exception has."""
    info = dict(info or {})
    info.setdefault("error", "MissingGreenlet")
    info.setdefault("exception", "MissingGreenlet: greenlet_spawn has not been called")
    facts = dict(incident.facts)
    facts["reads"] = _reads(incident, siblings)
    if incident.sql:
        info["sql"] = incident.sql
    if incident.route:  # FastAPI read it while serialising: your frames above are its callers, not the read
        info["location"], info["call_path"] = None, []
    elif incident.frames:  # the stack when the IO was attempted: the read itself, in your code
        info["location"] = _public(incident.frames[-1])
        info["call_path"] = [_public(f) for f in incident.frames]
    if incident.frames:
        info["caught_at"] = _caught_at(facts, incident.frames)
    if incident.what == "query":
        cause = "sync-session" if facts.get("session_class") else "io-outside-greenlet"
        info["session"] = {k: facts.get(k) for k in ("session_class", "url", "driver")}
    elif facts.get("key"):
        cause = cause_of(facts, incident.frames)
    else:
        cause = "io-outside-greenlet"
    return _conclude(info, cause, facts, incident.frames, incident.route, scope, rules, kata_rules)


def _schema_of(annotation):
    """The Pydantic model in a response model's annotation (``list[TicketSummary]``: TicketSummary)."""
    if annotation is None:
        return None
    if isinstance(annotation, type) and hasattr(annotation, "model_fields"):
        return annotation
    for arg in typing.get_args(annotation):
        found = _schema_of(arg)
        if found is not None:
            return found
    return None


def _schema_paths(schema, mapper, seen: tuple = ()) -> list[list[tuple[str, str]]]:
    """The relationship paths a schema read from the attributes reads on an instance of ``mapper``."""
    paths: list[list[tuple[str, str]]] = []
    for name, field in (getattr(schema, "model_fields", None) or {}).items():
        if name not in mapper.relationships:
            continue
        relationship = mapper.relationships[name]
        hop = (mapper.class_.__name__, name)
        inner = _schema_of(field.annotation)
        deeper = _schema_paths(inner, relationship.mapper, (*seen, schema)) if inner and inner not in seen else []
        paths += [[hop, *rest] for rest in deeper] or [[hop]]
    return paths


def _reads(incident, siblings=()) -> list[list[tuple[str, str]]]:
    """The relationships the code that read this attribute reads on the object: the response model's fields
    (FastAPI), else the relationships Pydantic was seen reading on the same object."""
    state, facts = incident.state, incident.facts or {}
    if state is None or facts.get("kind") != "relationship":
        return []
    try:
        schema = _schema_of((incident.route or {}).get("response_type") or facts.get("schema"))
        if schema is not None:
            return _schema_paths(schema, state.mapper)
    except Exception:
        return []
    if (facts.get("reached_by") or {}).get("library") not in ("Pydantic", "FastAPI"):
        return []
    keys: list[str] = []
    for other in siblings or ():
        key = (other.facts or {}).get("key")
        if other.state is state and other.facts.get("kind") == "relationship" and key not in keys:
            keys.append(key)
    return [[(facts["model"], key)] for key in keys]


def _conclude(info: dict, cause: str, facts: dict, frames: list, route, scope: Scope, rules, kata_rules) -> dict:
    """Kind, attribute, why, fix and rule, once the cause is known."""
    info = dict(info)
    route_info = _route_info(route, scope)
    if route_info:
        info["route"] = route_info
        if not info.get("location"):  # the route that returned the object
            info["location"] = _public(_location_of_route(route, scope))
    info["kind"] = KINDS.get(cause, "io-outside-greenlet")
    info["cause"] = cause
    if facts.get("key"):
        info["attribute"] = {k: facts[k] for k in ("model", "key", "kind", "instance")}
        info["facts"] = _public_facts(facts)
    if cause == "identity-map":
        info["get_call"] = _public(_get_call(frames, facts["model"]))
    origin = facts.get("origin")
    if origin:
        info["origin"] = dict(_public(origin), how=origin.get("how", "query"))
    info["is_async"] = any(f.get("is_async") for f in frames) if frames else True
    fix = fix_for(cause, facts, info)
    fix["at"] = _public(fix.get("at"))
    info["fix"] = fix
    expired_by = _expired_by(cause, facts)
    if expired_by:
        info["expired_by"] = expired_by
    if facts.get("reached_by"):
        info["reached_by"] = facts["reached_by"]
    if facts.get("raiseload"):
        info["raiseload"] = facts["raiseload"]
    event = facts.get("last_event") or {}
    if cause == "detached" and event.get("what") in ("close", "expunge") and event.get("where"):
        info["closed_at"] = _public(event["where"])
    # No checkout at hand (an installed wheel carries no pages): no rule line, rather than a wrong "none".
    info["rules"] = rules.for_cause(cause, kata_rules) if rules is not None and rules.rules else None
    return info


def hidden_groups(incidents: list, scope: Scope) -> list[dict]:
    """Caught failures, one entry per line and model: the attributes that failed there, and how often."""
    groups: dict[tuple, dict] = {}
    for incident in incidents:
        shown = summary(incident, scope)
        location = shown.get("location") or {}
        attribute = shown.get("attribute") or {}
        key = (location.get("file"), location.get("line"), attribute.get("model"), incident.what)
        group = groups.get(key)
        if group is None:
            group = groups[key] = dict(shown, count=0, keys=[], instances=[])
        group["count"] += 1
        if attribute.get("key") and attribute["key"] not in group["keys"]:
            group["keys"].append(attribute["key"])
        if attribute.get("instance") and attribute["instance"] not in group["instances"]:
            group["instances"].append(attribute["instance"])
    return list(groups.values())


def _expired_by(cause: str, facts: dict) -> dict | None:
    """The event that left the attribute unloaded, where your code caused it: the last one noted on the
    object (a commit, rollback, expire() or refresh() it went through), else the session's marks."""
    marks = facts.get("session_marks") or {}
    partial = facts.get("partial_expiry") or {}
    event = last_event(facts) or {}
    own = event.get("where")
    where = {
        "expired-after-commit": ("commit", (own if event.get("what") == "commit" else None) or marks.get("commit")),
        "expired-after-rollback": (
            "rollback",
            (own if event.get("what") == "rollback" else None) or marks.get("rollback"),
        ),
        "expired-after-update": ("flush", partial.get("where") or marks.get("flush")),
        "new-object-relationship": ("flush", facts.get("inserted_by")),
        "refreshed-without-names": ("refresh", own if event.get("what") == "refresh" else None),
        "expired": (
            event.get("what") if event.get("what") in ("expire", "expire_all") else "expire",
            own if event.get("what") in ("expire", "expire_all") else partial.get("where"),
        ),
    }.get(cause)
    if cause == "detached" and facts.get("expired_key"):
        where = (
            "commit" if marks.get("last_expiry") != "rollback" else "rollback",
            marks.get(marks.get("last_expiry") or "commit"),
        )
    if not where or not where[1]:
        return None
    return dict(_public(where[1]), what=where[0])


def _public_event(event: dict | None) -> dict | None:
    if not event:
        return None
    return {"what": event.get("what"), "where": _public(event.get("where"))}


def _public_facts(facts: dict) -> dict:
    keep = (
        "target",
        "collection",
        "direction",
        "load_path",
        "loaders",
        "lazy",
        "expired_attributes",
        "computed",
        "onupdate",
        "deferred",
        "session_open",
        "detached",
        "last_event",
    )
    shown = {k: facts[k] for k in keep if k in facts}
    if "last_event" in shown:  # only an event after the load that brought the object: the one that counts
        shown["last_event"] = _public_event(last_event(facts))
    return shown


def summary(incident, scope: Scope) -> dict:
    """A failed implicit load your code caught: what, where, and the except that caught it."""
    facts = incident.facts or {}
    frames = incident.frames or []
    shown = {
        "what": incident.what,
        "attribute": {k: facts[k] for k in ("model", "key", "kind", "instance") if k in facts} or None,
        "location": _public(frames[-1]) if frames else None,
        "caught_at": _caught_at(facts, frames),
        "reached_by": facts.get("reached_by"),
        # a load in a session whose transaction a failed flush rolled back is refused before any IO
        "error": "PendingRollbackError" if facts.get("pending_rollback") else "MissingGreenlet",
    }
    if incident.what == "query":
        shown["session"] = {k: facts.get(k) for k in ("session_class", "driver")}
    return shown


# Libraries that catch an error raised while they read an attribute: logging's handleError prints it
# and carries on, Pydantic turns it into a validation error. They catch it before any except of yours.
LIBRARY_CATCHERS = ("logging", "Pydantic")


# What an except must name to catch the failure that reached your code (any of a class's bases catch it):
# MissingGreenlet (2.0), the StatementError or DBAPIError that wraps it (2.1), PendingRollbackError (both),
# the ValidationError Pydantic turns it into.
GREENLET_CATCHERS = {
    "MissingGreenlet",
    "InvalidRequestError",
    "StatementError",
    "DBAPIError",
    "PendingRollbackError",
    "SQLAlchemyError",
    "Exception",
    "BaseException",
}
VALIDATION_CATCHERS = {"ValidationError", "ValueError", "Exception", "BaseException"}


def _caught_at(facts: dict, frames: list[dict]) -> dict | None:
    """Your except that caught the failure, unless a library between the read and your code caught it first:
    logging swallows it; Pydantic raises a ValidationError instead, which an except of yours may catch."""
    library = (facts.get("reached_by") or {}).get("library")
    if library == "logging":
        return None
    catches = VALIDATION_CATCHERS if library == "Pydantic" else GREENLET_CATCHERS
    return _public(catching_handler(frames, catches))


def _handler_catches(names: list[str], catches: set[str] | None) -> bool:
    """Whether an except naming ``names`` (none: a bare except) catches one of the classes ``catches``."""
    return catches is None or not names or any(name.split(".")[-1] in catches for name in names)


def _names(node: ast.AST | None) -> list[str]:
    if node is None:
        return []
    if isinstance(node, ast.Tuple):
        return [ast.unparse(e) for e in node.elts]
    return [ast.unparse(node)]


def catching_handler(frames: list[dict], catches: set[str] | None = None) -> dict | None:
    """The ``except`` (or ``contextlib.suppress``) around the failing line, innermost frame first; with
    ``catches``, the first one naming one of those classes (or a bare except)."""
    for frame in reversed(frames):
        path = frame.get("path")
        if not path:
            continue
        try:
            tree = _parse(path)
        except (OSError, SyntaxError, ValueError):
            continue
        line = frame["line"]
        best = None
        for node in ast.walk(tree):
            if isinstance(node, ast.Try) and node.handlers and node.body:
                start, end = node.body[0].lineno, max(getattr(n, "end_lineno", n.lineno) for n in node.body)
                handler = next((h for h in node.handlers if _handler_catches(_names(h.type), catches)), None)
                if handler and start <= line <= end and (best is None or start >= best[0]):
                    best = (start, handler.lineno)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                calls = [item.context_expr for item in node.items]
                suppress = [c for c in calls if isinstance(c, ast.Call) and ast.unparse(c.func).endswith("suppress")]
                named = [ast.unparse(a) for c in suppress for a in c.args]
                if suppress and node.body and _handler_catches(named or ["Exception"], catches):
                    start, end = node.body[0].lineno, max(getattr(n, "end_lineno", n.lineno) for n in node.body)
                    if start <= line <= end and (best is None or start >= best[0]):
                        best = (start, node.lineno)
        if best:
            handler_line = best[1]
            return dict(frame, line=handler_line, source=linecache.getline(path, handler_line).strip())
    return None


def in_loop(frame: dict | None) -> bool:
    """Whether the frame's line runs inside a loop (for, while, a comprehension) of its function."""
    if not frame or not frame.get("path"):
        return False
    try:
        tree = _parse(frame["path"])
    except (OSError, SyntaxError, ValueError):
        return False
    line = frame["line"]
    loops = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == frame.get("function"):
            for inner in ast.walk(node):
                if isinstance(inner, loops) and inner.lineno <= line <= (inner.end_lineno or inner.lineno):
                    return inner.lineno < line or isinstance(inner, loops[3:])
    return False


_trees: dict[str, ast.AST] = {}


def _parse(path: str) -> ast.AST:
    tree = _trees.get(path)
    if tree is None:
        tree = _trees[path] = ast.parse(Path(path).read_text(encoding="utf-8"))
    return tree
