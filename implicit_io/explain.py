"""Read a failure the way a reviewer would: what touched the database, where, why, and what to change.

``explain()`` takes the live exception of a failed test and what the recorder saw
during it, and returns plain data (dicts of strings and numbers): the runner
writes it as JSON, ``implicit_io.text`` turns it into prose.

Nothing here assumes how the installed SQLAlchemy wraps the error: 2.0 raises
``MissingGreenlet``; 2.1 with aiosqlite a ``StatementError`` whose ``.orig`` is
the ``MissingGreenlet``; asyncpg a plain ``MissingGreenlet`` on both; FastAPI a
``ResponseValidationError`` (``get_attribute_error``) whose message carries it,
when the read happened while it serialised a response. All carry ``xd2s``.
"""

from __future__ import annotations

import ast
import linecache
import re
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


_EMBEDDED = re.compile(r"(?:\(sqlalchemy\.exc\.)?(MissingGreenlet|DetachedInstanceError)\)?:?\s*(.*)")


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
    return None


def _embedded_first_line(text: str, name: str) -> str:
    first = text.split("\n")[0]
    first = first.split("Error extracting attribute: ", 1)[-1]
    match = _EMBEDDED.search(first)
    return f"{name}: {match.group(2).strip()}" if match else f"{name}: {first}"


def attribute_in_traceback(tb: TracebackType | None) -> tuple[object, str] | None:
    """(state, key) of the attribute whose load failed, from SQLAlchemy's attribute frames."""
    found = None
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_code.co_filename.replace("\\", "/").endswith("sqlalchemy/orm/attributes.py"):
            impl, state = frame.f_locals.get("self"), frame.f_locals.get("state")
            key = getattr(impl, "key", None)
            if isinstance(key, str) and state is not None and hasattr(state, "class_"):
                found = (state, key)
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


def cause_of(facts: dict, frames: list[dict]) -> str:
    """The one name for what left the attribute unloaded, from the facts recorded before the IO."""
    if facts.get("detached"):
        return "detached"
    if facts.get("kind") == "relationship":
        if facts.get("expired_key") and facts.get("expired_all"):
            return _expiry_cause(facts)
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
    last = (facts.get("session_marks") or {}).get("last_expiry")
    return {"commit": "expired-after-commit", "rollback": "expired-after-rollback"}.get(last, "expired-after-commit")


# --- the fix -------------------------------------------------------------------------


def _variable(source: str, key: str, fallback: str) -> str:
    """The name your line reads the attribute through (``org`` in ``org.roles``)."""
    match = re.search(rf"\b([A-Za-z_][\w]*)\.{re.escape(key)}\b", source or "")
    return match.group(1) if match and match.group(1) not in ("self", "cls") else fallback


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
    var = _variable(location.get("source", ""), key, model.lower())
    marks = facts.get("session_marks") or {}
    aw = "await " if info.get("is_async", True) else ""
    if cause == "relationship-not-loaded":
        joined = (
            " (or joinedload: one JOIN instead of a second SELECT)" if facts.get("direction") == "MANYTOONE" else ""
        )
        by_get = re.search(r"\.get\(", (origin or {}).get("source", ""))
        if by_get and in_loop(origin):
            return {
                "text": (
                    f"This session.get() runs once per {model}: load them all in one query, with the option, "
                    "so the statements do not grow with the items:"
                ),
                "code": f"select({model}).where({model}.id.in_(ids)).options(selectinload({model}.{key}))",
                "at": origin,
            }
        return {
            "text": f"Load {model}.{key} in the query that loads the {model} objects{joined}:",
            "code": f"options=[selectinload({model}.{key})]   # an argument of session.get()"
            if by_get
            else f".options(selectinload({model}.{key}))",
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
            "code": f'await session.refresh({var}, ["{key}"])',
            "at": marks.get("inserted:" + target) or marks.get("flush"),
        }
    if cause == "expired-after-commit":
        return {
            "text": (
                "Load it again, awaited, in the session that owns it, after that commit (or build what you "
                "return before committing). expire_on_commit=False keeps loaded values, not the ones the "
                "database changes in an UPDATE:"
            ),
            "code": f"await session.refresh({var})",
            "at": marks.get("commit"),
        }
    if cause == "expired-after-rollback":
        return {
            "text": "Load it again after the rollback, awaited, or query it anew:",
            "code": f"await session.refresh({var})",
            "at": marks.get("rollback"),
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
            "code": f"await session.refresh({var}, [{quoted}])",
            "at": partial.get("where") or marks.get("flush"),
        }
    if cause == "deferred":
        return {
            "text": f"Load the column with the query that loads the {model} objects, or ask for it, awaited:",
            "code": f".options(undefer({model}.{key}))   # or: await {var}.awaitable_attrs.{key}",
            "at": origin,
        }
    if cause == "expired":
        return {
            "text": "Load it again, awaited, before the read (refresh instead of expire):",
            "code": f'await session.refresh({var}, ["{key}"])',
            "at": None,
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
                "or load it again in the session you have:"
            ),
            "code": f"{var} = {aw}session.get({model}, {var}.id)   # or: {aw}session.merge({var})",
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
    served = response_validation_error(chain) if greenlet is None and detached is None else None
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
    elif detached is not None or served:
        error_name = "DetachedInstanceError"
    # Every recorded attempt failed: it was outside an awaited call, on an async driver.
    incidents = list(getattr(record, "incidents", ()) or ())

    if error_name is None:
        if isinstance(exc, AssertionError):
            info.update(kind="assertion", message=assertion_message(exc))
        else:
            info.update(kind="error", error=type(origin_exc).__name__)
        if incidents:  # the check failed on a value: a failure your code caught is the likely reason
            info["behind"] = describe(incidents[0], scope, rules, kata_rules)
            info["hidden"] = hidden_groups(incidents, scope)
        return info

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
        key = key or (str(loc[-1]) if loc else None)
        state = state or _state_of(problem.get("input"))
    else:
        inner = greenlet if error_name == "MissingGreenlet" else detached
        info["exception"] = first_line(inner)
        info["wrapped_in"] = type(exc).__name__ if type(inner) is not type(exc) else None
    info["error"] = error_name

    incident = None
    if error_name == "MissingGreenlet":
        incident = _pick_incident(record, state, key, what=None if state is not None else "query")
        if incident is not None and state is not None and incident.what == "query":
            incident = None
    if incident is not None:
        info.update(describe(incident, scope, rules, kata_rules, info))
    else:
        facts: dict = {}
        if state is not None and key is not None:
            # SQLAlchemy is loaded anyway: we hold one of its states
            from implicit_io.recorder import DETACHED, INSERTED, ORIGIN, note, state_facts

            facts = state_facts(state, key)
            facts["origin"] = note(state, ORIGIN)
            facts["inserted_by"] = note(state, INSERTED)
            if recorder is not None:
                facts["partial_expiry"] = recorder.partial.get(state)
                session = getattr(state, "session", None)
                marks = note(state, DETACHED) or (recorder.sessions.get(session) if session else None)
                facts["session_marks"] = dict(marks or {})
        if error_name == "DetachedInstanceError" and facts:
            facts["detached"] = True
        cause = (
            cause_of(facts, frames)
            if facts.get("key")
            else ("detached" if error_name == "DetachedInstanceError" else "io-outside-greenlet")
        )
        info.update(_conclude(info, cause, facts, frames, None, scope, rules, kata_rules))
    others = [i for i in incidents if i is not incident]
    if others:
        info["hidden"] = hidden_groups(others, scope)
    return info


def describe(incident, scope: Scope, rules: RuleIndex | None, kata_rules=(), info: dict | None = None) -> dict:
    """What a recorded incident says: the same fields an explanation of its exception has."""
    info = dict(info or {})
    info.setdefault("error", "MissingGreenlet")
    info.setdefault("exception", "MissingGreenlet: greenlet_spawn has not been called")
    facts = dict(incident.facts)
    if incident.sql:
        info["sql"] = incident.sql
    if incident.route:  # FastAPI read it while serialising: your frames above are its callers, not the read
        info["location"], info["call_path"] = None, []
    elif incident.frames:  # the stack when the IO was attempted: the read itself, in your code
        info["location"] = _public(incident.frames[-1])
        info["call_path"] = [_public(f) for f in incident.frames]
    if incident.what == "query":
        cause = "sync-session" if facts.get("session_class") else "io-outside-greenlet"
        info["session"] = {k: facts.get(k) for k in ("session_class", "url", "driver")}
    elif facts.get("key"):
        cause = cause_of(facts, incident.frames)
    else:
        cause = "io-outside-greenlet"
    return _conclude(info, cause, facts, incident.frames, incident.route, scope, rules, kata_rules)


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
    marks = facts.get("session_marks") or {}
    partial = facts.get("partial_expiry") or {}
    where = {
        "expired-after-commit": ("commit", marks.get("commit")),
        "expired-after-rollback": ("rollback", marks.get("rollback")),
        "expired-after-update": ("flush", partial.get("where") or marks.get("flush")),
        "new-object-relationship": ("flush", facts.get("inserted_by")),
    }.get(cause)
    if cause == "detached" and facts.get("expired_key"):
        where = (
            "commit" if marks.get("last_expiry") != "rollback" else "rollback",
            marks.get(marks.get("last_expiry") or "commit"),
        )
    if not where or not where[1]:
        return None
    return dict(_public(where[1]), what=where[0])


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
    )
    return {k: facts[k] for k in keep if k in facts}


def summary(incident, scope: Scope) -> dict:
    """A failed implicit load your code caught: what, where, and the except that caught it."""
    facts = incident.facts or {}
    frames = incident.frames or []
    shown = {
        "what": incident.what,
        "attribute": {k: facts[k] for k in ("model", "key", "kind", "instance") if k in facts} or None,
        "location": _public(frames[-1]) if frames else None,
        "caught_at": _public(catching_handler(frames)),
    }
    if incident.what == "query":
        shown["session"] = {k: facts.get(k) for k in ("session_class", "driver")}
    return shown


def catching_handler(frames: list[dict]) -> dict | None:
    """The ``except`` (or ``contextlib.suppress``) around the failing line, innermost frame first."""
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
                if start <= line <= end and (best is None or start >= best[0]):
                    handler = node.handlers[0]
                    best = (start, handler.lineno)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                names = [ast.unparse(item.context_expr) for item in node.items]
                if any("suppress(" in name for name in names) and node.body:
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
