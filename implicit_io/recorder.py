"""Watch SQLAlchemy while tests run: the facts an explanation needs, recorded as they happen.

Everything here hangs off public SQLAlchemy events, registered once for every
Session, mapper, engine and pool:

* ``do_orm_execute`` fires before the ORM sends a statement, on 2.0 and 2.1. A
  lazy load (``is_relationship_load``) or an expired/deferred column load
  (``is_column_load``) outside an awaited call, on an async driver, is about to
  fail with ``MissingGreenlet``: record the instance, the attribute, its state
  and your frames *now*, before a rollback or a close changes them. The same
  for any ORM statement a sync ``Session`` sends through an async driver.
* ``load`` (every mapper) remembers which of your lines ran the query that
  loaded each instance, so a fix can name the query to change.
* ``after_commit``, ``after_flush``, ``after_soft_rollback`` and ``expire``
  (partial expiry, as an UPDATE's flush does) say what expired what, and where.
* ``before_cursor_execute`` counts statements, per test and per call into your
  code (``implicit_io.frames.EntryFinder`` says which call, and which line of
  yours sent it); ``after_cursor_execute`` counts each SELECT the database
  answered, per line that sent it and with how many different values (the
  review's "query per row"); ``handle_error`` keeps the SQL a recorded attempt
  wanted to run.
* ``pending_to_persistent`` and ``persistent_to_detached`` note the flush that
  inserted an object and the session marks it left with.

The listeners never raise: whatever goes wrong in here, your code sees the
same SQLAlchemy it would see without the recorder.
"""

from __future__ import annotations

import itertools
import linecache
import re
import sys
import typing
import weakref
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapper, Session

from implicit_io.frames import EntryFinder, Scope, own_stack, stack

try:
    from sqlalchemy.util.concurrency import in_greenlet
except ImportError:  # pragma: no cover - very old 2.0 releases

    def in_greenlet() -> bool:
        return False


ATTRIBUTES_FILE = "sqlalchemy/orm/attributes.py"
# Notes kept on an InstanceState (which has a __dict__): set per loaded or inserted
# object, so they cost a dict store, not a weak reference each. SQLAlchemy never
# reads them; they go when the state goes.
ORIGIN, INSERTED, DETACHED = "_implicit_io_origin", "_implicit_io_inserted", "_implicit_io_detached"
# The last whole-object event: {"what": commit | rollback | expire | expire_all | refresh | close, "seq", "where"}.
EVENT = "_implicit_io_event"
# Which Session method a whole-object expiry (Mapper "expire", attrs None) or a detach ran under, by the name of
# SQLAlchemy's frame that calls it; "refresh" also names refresh(obj, [names]) (attrs given).
EXPIRED_BY = {
    "_remove_snapshot": "commit",
    "_restore_snapshot": "rollback",
    "refresh": "refresh",
    "expire_all": "expire_all",
    "expire": "expire",
}
# close() runs expunge_all() inside _close_impl(): the outer name wins (see _note_event)
CLOSED_BY = {"expunge": "expunge", "expunge_all": "expunge", "_close_impl": "close"}
_SEQ = itertools.count(1)  # orders the notes above: the last event before the read is the one that counts


def note(state, name: str):
    """A note the recorder kept on an instance's state, or None."""
    return getattr(state, "__dict__", {}).get(name)


@dataclass
class Incident:
    """One implicit IO that cannot work, seen just before it ran."""

    what: str  # "relationship", "column" (an attribute load), or "query" (a sync Session's statement)
    frames: list[dict]  # your frames, outermost first
    facts: dict = field(default_factory=dict)  # the instance and attribute, as they were then
    state: object = None  # the InstanceState, for matching an exception to the incident
    route: dict | None = None  # the FastAPI endpoint whose response was being serialised
    sql: str | None = None
    confirmed: bool = False  # handle_error saw it fail (not at connect time: the pool reports nothing there)


@dataclass
class Query:
    """One SELECT as one line of yours sent it during one call: how often, with how many different values."""

    sql: str  # whitespace collapsed, literals and placeholder lists as "?"
    sent_at: dict  # file, line, function: your frame that sent it
    count: int = 0
    values: set = field(default_factory=set)  # hashes of the parameters, at most MAX_VALUES of them

    @property
    def distinct(self) -> tuple[int, bool]:
        """(how many different parameter sets it was sent with, whether there may have been more)"""
        return len(self.values), len(self.values) >= MAX_VALUES


MAX_VALUES = 1000
# What varies between two sends of one query in a loop: literals, and the length of a list of placeholders
# (asyncpg's $1::INTEGER read as the ? it stands for).
TRANSACTION_CONTROL = re.compile(r"\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b", re.IGNORECASE)
_LITERAL = re.compile(r"'(?:[^']|'')*'|(?<![\w.])\d+(?:\.\d+)?\b")
_PLACEHOLDERS = re.compile(r"\(\s*\?(?:\s*,\s*\?)*\s*\)")
_CAST = re.compile(r"(\$\d+)::(?:TIMESTAMP WITH(?:OUT)? TIME ZONE|\w+(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])?)")  # asyncpg's
_STATEMENTS: dict[str, tuple[str, bool]] = {}


def statement_key(statement: str) -> tuple[str, bool]:
    """(the statement with what varies between rows as "?", whether it reads): the same for every send of
    one query in a loop. Kept per statement text: SQLAlchemy's compiled cache hands back the same strings."""
    known = _STATEMENTS.get(statement)
    if known is None:
        sql = _LITERAL.sub("?", _CAST.sub(r"\1", " ".join(statement.split()))).replace("$?", "?")
        sql = _PLACEHOLDERS.sub("(?)", sql)
        first = sql.split(" ", 1)[0].upper().lstrip("(")
        known = (sql, first in ("SELECT", "WITH"))
        if len(_STATEMENTS) > 4096:
            _STATEMENTS.clear()
        _STATEMENTS[statement] = known
    return known


@dataclass
class Segment:
    """Statements sent during one call into your code: one run of its entry function (see EntryFinder),
    however many connection checkouts, commits and refreshes it takes."""

    entry: dict
    statements: int = 0
    reads: int = 0  # SELECTs
    loaded: int = 0  # instances loaded
    written: int = 0  # instances a flush wrote
    queries: dict = field(default_factory=dict)  # (sql, file, line) -> Query, the SELECTs only


@dataclass
class TestRecord:
    incidents: list[Incident] = field(default_factory=list)
    statements: int = 0  # every statement the test sent, fixtures included
    segments: list[Segment] = field(default_factory=list)


def describe_instance(state) -> str:
    identity = state.identity
    name = state.class_.__name__
    if identity is None:
        return f"a new {name} (not flushed)"
    keys = (
        [prop.key for prop in state.mapper._identity_key_props] if hasattr(state.mapper, "_identity_key_props") else []
    )
    if len(keys) != len(identity):
        keys = [column.key for column in state.mapper.primary_key]
    pairs = ", ".join(f"{k}={v!r}" for k, v in zip(keys, identity, strict=False))
    return f"{name}({pairs})"


def attribute_frame(frames) -> tuple[object, str] | None:
    """(state, key) from SQLAlchemy's attribute-access frames: the outermost that names both, the
    attribute your code read (reading a relationship of an expired object loads its key first)."""
    found = None
    for frame in frames:
        filename = frame.f_code.co_filename.replace("\\", "/")
        if not filename.endswith(ATTRIBUTES_FILE):
            if found is not None and "/sqlalchemy/" not in filename:
                break  # out of SQLAlchemy: the access your code (or a library) made
            continue
        local = frame.f_locals
        impl, state = local.get("self"), local.get("state")
        key = getattr(impl, "key", None)
        if isinstance(key, str) and state is not None and hasattr(state, "class_") and hasattr(state, "mapper"):
            found = (state, key)
    return found


def _loader_name(load_options, path_keys: list[str]) -> str | None:
    """The loader strategy the query used for the path that loaded an instance (selectin, joined...)."""
    for option in load_options or ():
        for element in getattr(option, "context", ()) or ():
            try:
                keys = [str(p).split(".")[-1] for p in element.path.path[1::2]]
            except Exception:
                continue
            if keys == path_keys:
                strategy = dict(getattr(element, "strategy", None) or ()).get("lazy")
                if strategy in ("selectin", "joined", "subquery", "immediate"):
                    return {"selectin": "selectinload", "joined": "joinedload"}.get(strategy, f"{strategy}load")
    return None


def _named_defer(load_options, mapper, key: str) -> bool:
    """Whether a defer() among the options an instance was loaded with names this very column: an
    undefer() beside it conflicts with it (SQLAlchemy refuses the query), so a fix replaces it."""
    for option in load_options or ():
        for element in getattr(option, "context", ()) or ():
            try:
                path = element.path.path
                strategy = dict(getattr(element, "strategy", None) or ())
                if getattr(path[-1], "key", None) == key and strategy.get("deferred") is True and mapper.isa(path[-2]):
                    return True
            except Exception:  # a wildcard (load_only's "column:*"), an alias: not a defer() naming it
                continue
    return False


def _column_facts(prop) -> dict:
    columns = getattr(prop, "columns", ()) or ()
    column = columns[0] if columns else None
    if column is None:
        return {}
    computed = getattr(column, "computed", None) is not None
    return {
        "deferred": bool(getattr(prop, "deferred", False)),
        # deferred(..., raiseload=True), mapped_column(deferred_raiseload=True): no load on access, ever
        "deferred_raiseload": bool(getattr(prop, "deferred", False) and getattr(prop, "raiseload", False)),
        "computed": computed,
        "onupdate": column.onupdate is not None or column.server_onupdate is not None,
        "server_default": column.server_default is not None,
    }


def state_facts(state, key: str) -> dict:
    """What an explanation needs to know about one instance and one of its attributes, now."""
    mapper = state.mapper
    prop = mapper.attrs[key] if key in mapper.attrs else None
    is_relationship = key in mapper.relationships
    path = list(getattr(state.load_path, "path", ()) or ())
    hops = [
        (path[i].class_.__name__, path[i + 1].key) for i in range(0, len(path) - 1, 2) if hasattr(path[i], "class_")
    ]
    facts = {
        "model": state.class_.__name__,
        "key": key,
        "kind": "relationship" if is_relationship else "column",
        "instance": describe_instance(state),
        "expired_all": bool(state.expired),
        "expired_key": key in state.expired_attributes,
        "expired_attributes": sorted(state.expired_attributes),
        "unloaded": sorted(state.unloaded),
        "detached": state.session_id is None,
        "persistent": state.key is not None,
        "loaded_by_query": bool(path),
        "load_path": hops,  # [(model, relationship), ...]: the loader options' hops that reached it
        "root": path[0].class_.__name__ if path and hasattr(path[0], "class_") else None,
        "loaders": [_loader_name(state.load_options, [k for _, k in hops[: i + 1]]) for i in range(len(hops))],
        "mapper_eager_defaults": getattr(mapper, "eager_defaults", None),
    }
    if is_relationship:
        facts.update(
            target=prop.mapper.class_.__name__,
            collection=bool(prop.uselist),
            direction=prop.direction.name,
            lazy=prop.lazy,
        )
    elif prop is not None:
        facts.update(_column_facts(prop))
        facts["named_defer"] = _named_defer(state.load_options, mapper, key)
    return facts


LIBRARIES = (("/logging/", "logging"), ("/pydantic", "Pydantic"), ("/fastapi/", "FastAPI"), ("/json/", "json"))


def reached_by(frames, scope: Scope) -> dict | None:
    """The code between your call and the attribute read: a ``__repr__``, a property or hybrid, a library.

    ``frames``: the whole stack, innermost first. A library that reads an attribute (Pydantic's
    ``from_attributes``, FastAPI's response, logging formatting a message) runs between SQLAlchemy's
    frames and your own; a ``__repr__`` or property of your model is your code, called by something else.
    """
    index = 0
    while index < len(frames) and "/sqlalchemy/" in frames[index].f_code.co_filename.replace("\\", "/"):
        index += 1
    if index == len(frames):
        return None
    found: dict = {}
    first = frames[index]
    if scope.classify(first.f_code):
        name = first.f_code.co_name
        owner = first.f_locals.get("self")
        cls = type(owner) if owner is not None else None
        if name in ("__repr__", "__str__", "__format__"):
            found.update(kind="repr", via=f"{getattr(cls, '__name__', '?')}.{name}")
        elif cls is not None:
            import inspect as _inspect

            try:
                static = _inspect.getattr_static(cls, name)
            except AttributeError:
                static = None
            kind = "property" if isinstance(static, property) else None
            if type(static).__name__ == "hybrid_property":
                kind = "hybrid"
            if kind:
                found.update(kind=kind, via=f"{cls.__name__}.{name}")
        index += 1
    for frame in frames[index:]:
        if scope.classify(frame.f_code):
            break
        path = frame.f_code.co_filename.replace("\\", "/")
        library = next((label for marker, label in LIBRARIES if marker in path), None)
        if library:
            found["library"] = library  # the outermost library frame before your code: the one you called
            found["library_call"] = frame.f_code.co_name
    return found or None


def type_name(annotation) -> str:
    """A response model as its route declares it: ``TicketSummary``, ``list[TicketSummary]``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is not None and args:
        names = [type_name(arg) for arg in args]
        if origin is typing.Union or type(annotation).__name__ == "UnionType":
            return " | ".join(names)
        name = getattr(origin, "__name__", None) or str(origin).replace("typing.", "")
        return f"{name}[{', '.join(names)}]"
    if annotation is type(None):
        return "None"
    return getattr(annotation, "__name__", None) or str(annotation).replace("typing.", "")


def read_through(frames, scope: Scope, state, key: str) -> str | None:
    """The name your line read ``key`` through, that holds this very instance (``audience`` in
    ``f(contact.name, audience.name)``), from the innermost frame of yours: its locals, or ``self``'s."""
    try:
        obj = state.obj()
    except Exception:
        return None
    if obj is None:
        return None
    for frame in frames:  # innermost first
        if not scope.classify(frame.f_code):
            continue
        source = linecache.getline(frame.f_code.co_filename, frame.f_lineno)
        for match in re.finditer(rf"\b((?:self\.)?[A-Za-z_]\w*)\.{re.escape(key)}\b", source):
            name = match.group(1)
            if name.startswith("self."):
                value = getattr(frame.f_locals.get("self"), "__dict__", {}).get(name[5:])
            else:
                value = frame.f_locals.get(name)
            if value is obj:
                return name
        return None
    return None


def validated_schema(frames):
    """The Pydantic model whose model_validate() (from the attributes) was reading, if any."""
    for frame in frames:
        if frame.f_code.co_name == "model_validate" and "/pydantic" in frame.f_code.co_filename.replace("\\", "/"):
            return frame.f_locals.get("cls")
    return None


def fastapi_route(frames) -> dict | None:
    """The endpoint whose response FastAPI was serialising, if that is where we are."""
    serializing = False
    for frame in frames:
        filename = frame.f_code.co_filename.replace("\\", "/")
        if "/fastapi/" not in filename:
            continue
        if frame.f_code.co_name == "serialize_response":
            serializing = True
            continue
        if not serializing:
            continue
        dependant = frame.f_locals.get("dependant")
        call = getattr(dependant, "call", None)
        if call is None:
            continue
        call = getattr(call, "__wrapped__", call)
        code = getattr(call, "__code__", None)
        route = {"function": getattr(call, "__name__", "?"), "path": getattr(code, "co_filename", None)}
        route["line"] = getattr(code, "co_firstlineno", None)
        response_field = frame.f_locals.get("response_field")
        model = getattr(getattr(response_field, "field_info", None), "annotation", None) or getattr(
            response_field, "type_", None
        )
        route["response_model"] = type_name(model) if model is not None else None
        route["response_type"] = model  # for the fields the response reads (implicit_io.explain)
        return route
    return None


def _needs_rollback(session) -> bool:
    """Whether the session's transaction was rolled back under it (a failed flush): it runs nothing
    until session.rollback(), and a load raises PendingRollbackError, not MissingGreenlet."""
    transaction = getattr(session, "_transaction", None) if session is not None else None
    try:
        return transaction is not None and not transaction.is_active
    except Exception:
        return False


class Recorder:
    """The event listeners, and what they saw during the current test."""

    def __init__(self, scope: Scope, count_statements: bool = True) -> None:
        self.scope = scope
        self.count_statements = count_statements
        self.sessions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # Session -> marks
        self.partial: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # InstanceState -> expiry
        self.record = TestRecord()
        self._origin_pending: str | None = None
        self._origin: dict | None = None
        self._call = None  # the entry frame of the current call, held so no later call can take its id
        self._segment: Segment | None = None
        self._query: Query | None = None  # the SELECT being sent now
        self._values: int | None = None  # the hash of its parameters, counted once the database answered
        self._entries = EntryFinder(scope)
        self._listeners: list[tuple] = []
        self._event_key: tuple | None = None  # (SQLAlchemy's frame, its instruction): one stack walk per call
        self._event_where: dict | None = None

    # --- installing -----------------------------------------------------------------

    def install(self) -> Recorder:
        if self._listeners:
            return self
        wanted = [
            (Session, "do_orm_execute", self._on_execute),
            (Session, "after_commit", self._on_commit),
            (Session, "after_flush", self._on_flush),
            (Session, "after_soft_rollback", self._on_rollback),
            (Session, "persistent_to_detached", self._on_detached),
            (Session, "pending_to_persistent", self._on_inserted),
            (Mapper, "load", self._on_load),
            (Mapper, "expire", self._on_expire),
            (Engine, "handle_error", self._on_error),
        ]
        if self.count_statements:
            wanted += [
                (Engine, "before_cursor_execute", self._on_cursor),
                (Engine, "after_cursor_execute", self._on_sent),
            ]
        for target, name, fn in wanted:
            event.listen(target, name, fn)
            self._listeners.append((target, name, fn))
        return self

    def uninstall(self) -> None:
        for target, name, fn in reversed(self._listeners):
            try:
                event.remove(target, name, fn)
            except Exception:  # pragma: no cover - already gone
                pass
        self._listeners.clear()

    # --- per test ---------------------------------------------------------------------

    def start(self) -> None:
        self.record = TestRecord()
        self._end_call()

    def finish(self) -> TestRecord:
        record, self.record = self.record, TestRecord()
        self._event_key = None
        self._end_call()
        return record

    def _end_call(self) -> None:
        self._call, self._segment, self._query, self._values = None, None, None, None
        self._entries.release()

    # --- helpers ----------------------------------------------------------------------

    def _here(self) -> list[dict]:
        return own_stack(self.scope, sys._getframe(2))

    def _mark(self, session, what: str) -> None:
        frames = self._here()
        marks = self.sessions.get(session)
        if marks is None:
            marks = self.sessions[session] = {}
        marks[what] = frames[-1] if frames else None
        marks["last_expiry"] = what if what in ("commit", "rollback") else marks.get("last_expiry")

    @staticmethod
    def _async_bind(orm_state) -> bool:
        try:
            bind = orm_state.session.get_bind(mapper=orm_state.bind_mapper)
        except Exception:
            return False
        return bool(getattr(getattr(bind, "dialect", None), "is_async", False))

    # --- the listeners ----------------------------------------------------------------

    def _on_execute(self, orm_state) -> None:
        try:
            relationship, column = orm_state.is_relationship_load, orm_state.is_column_load
            if relationship or column:
                if orm_state.lazy_loaded_from is not None:
                    self._origin_pending = "a lazy load"
                if not in_greenlet() and self._async_bind(orm_state):
                    self._attribute_incident(orm_state, "relationship" if relationship else "column")
                return
            self._origin_pending = "query"
            if not in_greenlet() and self._async_bind(orm_state):
                self._query_incident(orm_state)
        except Exception:  # never let the recorder change what your code sees
            pass

    def _attribute_incident(self, orm_state, what: str) -> None:
        frames = list(itertools.islice(stack(sys._getframe(2)), 400))
        found = attribute_frame(frames)
        state = found[0] if found else orm_state.lazy_loaded_from
        key = found[1] if found else None
        incident = Incident(what=what, frames=own_stack(self.scope, sys._getframe(2)), state=state)
        if state is not None and key is not None:
            facts = state_facts(state, key)
            facts["origin"] = note(state, ORIGIN)
            facts["partial_expiry"] = self.partial.get(state)
            facts["inserted_by"] = note(state, INSERTED)
            session = getattr(state, "session", None)
            facts["session_marks"] = dict(self.sessions.get(session) or {}) if session is not None else {}
            facts["session_open"] = session is not None
            facts["last_event"] = note(state, EVENT)
            facts["read_through"] = read_through(frames, self.scope, state, key)
            facts["pending_rollback"] = _needs_rollback(session)
            incident.facts = facts
        incident.route = fastapi_route(frames)
        incident.facts["reached_by"] = reached_by(frames, self.scope)
        incident.facts["schema"] = validated_schema(frames)
        self.record.incidents.append(incident)

    def _query_incident(self, orm_state) -> None:
        session = orm_state.session
        try:
            bind = session.get_bind(mapper=orm_state.bind_mapper)
            url = bind.engine.url.render_as_string(hide_password=True)
        except Exception:
            url = None
        facts = {
            "session_class": type(session).__name__,
            "url": url,
            "driver": url.split("://")[0] if url else None,
        }
        incident = Incident(what="query", frames=own_stack(self.scope, sys._getframe(2)), facts=facts)
        self.record.incidents.append(incident)

    def _on_load(self, target, context) -> None:
        try:
            if self._origin_pending is not None:
                frames = own_stack(self.scope, sys._getframe(1))
                self._origin = (
                    dict(frames[-1], how=self._origin_pending, stack=frames, seq=next(_SEQ)) if frames else None
                )
                self._origin_pending = None
            if self._origin is not None:
                target._sa_instance_state.__dict__[ORIGIN] = self._origin
            if self._segment is not None:
                self._segment.loaded += 1
        except Exception:
            pass

    def _on_commit(self, session) -> None:
        try:
            self._mark(session, "commit")
        except Exception:
            pass

    def _on_flush(self, session, flush_context) -> None:
        try:
            self._mark(session, "flush")
            if self._segment is not None:  # rows written count as data, as rows loaded do
                self._segment.written += len(getattr(flush_context, "states", ()) or ())
        except Exception:
            pass

    def _on_rollback(self, session, previous_transaction) -> None:
        try:
            if previous_transaction.parent is None:  # the session's own transaction, not a savepoint
                self._mark(session, "rollback")
        except Exception:
            pass

    def _on_detached(self, session, instance) -> None:
        try:
            marks = self.sessions.get(session)
            if marks is not None:
                instance._sa_instance_state.__dict__[DETACHED] = marks
            self._note_event(instance._sa_instance_state, CLOSED_BY)
        except Exception:
            pass

    def _note_event(self, state, names: dict) -> str | None:
        """Note on ``state`` the Session method that just acted on it as a whole, where your code called it."""
        frame, found = sys._getframe(2), None
        for _ in range(10):
            if frame is None:
                break
            name = frame.f_code.co_name
            if name in names and "/sqlalchemy/orm/" in frame.f_code.co_filename.replace("\\", "/"):
                found = (frame, names[name])
                if names[name] != "expunge":  # expunge_all() inside close(): keep looking for the close
                    break
            frame = frame.f_back
        if found is None:
            return None
        frame, what = found
        # A commit expires every object of the session: walk the stack once per call, not per object.
        # The frame is held until the next event, so no later frame can take its id.
        if self._event_key is None or self._event_key[0] is not frame or self._event_key[1] != frame.f_lasti:
            frames = own_stack(self.scope, frame)
            self._event_key, self._event_where = (frame, frame.f_lasti), frames[-1] if frames else None
        state.__dict__[EVENT] = {"what": what, "seq": next(_SEQ), "where": self._event_where}
        return what

    def _on_inserted(self, session, instance) -> None:
        try:  # the flush that inserted it: after_flush has just marked it, no stack walk here
            marks = self.sessions.get(session)
            if marks is not None:
                instance._sa_instance_state.__dict__[INSERTED] = marks.get("flush")
                marks["inserted:" + type(instance).__name__] = marks.get("flush")
        except Exception:
            pass

    def _on_expire(self, target, attrs) -> None:
        if attrs is None:  # a whole object: a commit, a rollback, expire(obj), refresh(obj): noted on its state
            try:
                self._note_event(target._sa_instance_state, EXPIRED_BY)
            except Exception:
                pass
            return
        try:
            caller = sys._getframe(1)
            names = set()
            for _ in range(6):
                if caller is None:
                    break
                names.add(caller.f_code.co_name)
                caller = caller.f_back
            if "refresh" in names:  # refresh(obj, [names]) expires them to load them at once
                return
            frames = own_stack(self.scope, sys._getframe(1))
            self.partial[target._sa_instance_state] = {
                "by": "flush" if "_postfetch" in names else "expire",
                "attributes": sorted(attrs),
                "where": frames[-1] if frames else None,
            }
        except Exception:
            pass

    def _on_error(self, context) -> None:
        try:
            error = context.original_exception
            if getattr(error, "code", None) == "xd2s" and self.record.incidents:
                incident = self.record.incidents[-1]
                incident.confirmed = True
                # Not a BEGIN the load's connection sent first (SQLite's transaction recipe): it is
                # not the query the read needed, and the SQL line would name the wrong statement.
                if incident.sql is None and context.statement and not TRANSACTION_CONTROL.match(context.statement):
                    incident.sql = context.statement
        except Exception:
            pass

    def _on_cursor(self, conn, cursor, statement, parameters, context, executemany) -> None:
        try:
            self.record.statements += 1
            self._query, self._values = None, None
            found = self._entries.find(sys._getframe(1))
            if found is None:
                self._call, self._segment = None, None
                return
            entry, sender = found
            if entry is not self._call:
                code = entry.f_code
                self._call = entry
                self._segment = Segment(
                    entry={
                        "file": self.scope.relative(code.co_filename),
                        "line": code.co_firstlineno,
                        "function": code.co_name,
                    }
                )
                self.record.segments.append(self._segment)
            segment = self._segment
            segment.statements += 1
            sql, read = statement_key(statement)
            if not read:
                return
            segment.reads += 1
            line = sender.f_lineno
            key = (sql, sender.f_code, line)
            query = segment.queries.get(key)
            if query is None:
                code = sender.f_code
                where = {"file": self.scope.relative(code.co_filename), "line": line, "function": code.co_name}
                query = segment.queries[key] = Query(sql=sql, sent_at=where)
            self._query, self._values = query, hash(repr(parameters))
        except Exception:
            pass

    def _on_sent(self, conn, cursor, statement, parameters, context, executemany) -> None:
        # Counted once the database answered: an attempt that failed (MissingGreenlet, on 2.0, after
        # before_cursor_execute) never ran, and is no query sent per row.
        try:
            query = self._query
            if query is not None and self._values is not None:
                query.count += 1
                if len(query.values) < MAX_VALUES:
                    query.values.add(self._values)
                self._values = None
        except Exception:
            pass
