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
  code; ``handle_error`` keeps the SQL a recorded attempt wanted to run.
* ``pending_to_persistent`` and ``persistent_to_detached`` note the flush that
  inserted an object and the session marks it left with.

The listeners never raise: whatever goes wrong in here, your code sees the
same SQLAlchemy it would see without the recorder.
"""

from __future__ import annotations

import itertools
import sys
import weakref
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapper, Session
from sqlalchemy.pool import Pool

from implicit_io.frames import EntryFinder, Scope, own_stack, stack

try:
    from sqlalchemy.util.concurrency import in_greenlet
except ImportError:  # pragma: no cover - very old 2.0 releases

    def in_greenlet() -> bool:
        return False


ATTRIBUTES_FILE = "sqlalchemy/orm/attributes.py"
CHECKOUT_KEY = "implicit_io.checkout"
# Notes kept on an InstanceState (which has a __dict__): set per loaded or inserted
# object, so they cost a dict store, not a weak reference each. SQLAlchemy never
# reads them; they go when the state goes.
ORIGIN, INSERTED, DETACHED = "_implicit_io_origin", "_implicit_io_inserted", "_implicit_io_detached"


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
class Segment:
    """Statements sent during one call into your code (one entry frame, one connection checkout)."""

    entry: dict
    statements: int = 0
    loaded: int = 0  # rows: instances loaded, and instances written by a flush


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
    """(state, key) from SQLAlchemy's attribute-access frames: the innermost that names both."""
    for frame in frames:
        if not frame.f_code.co_filename.replace("\\", "/").endswith(ATTRIBUTES_FILE):
            continue
        local = frame.f_locals
        impl, state = local.get("self"), local.get("state")
        key = getattr(impl, "key", None)
        if isinstance(key, str) and state is not None and hasattr(state, "class_") and hasattr(state, "mapper"):
            return state, key
    return None


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


def _column_facts(prop) -> dict:
    columns = getattr(prop, "columns", ()) or ()
    column = columns[0] if columns else None
    if column is None:
        return {}
    computed = getattr(column, "computed", None) is not None
    return {
        "deferred": bool(getattr(prop, "deferred", False)),
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
    return facts


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
        route["response_model"] = getattr(model, "__name__", None) or (str(model) if model is not None else None)
        return route
    return None


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
        self._segment_key: tuple | None = None
        self._segment: Segment | None = None
        self._checkouts = itertools.count(1)
        self._entries = EntryFinder(scope)
        self._listeners: list[tuple] = []

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
            wanted += [(Engine, "before_cursor_execute", self._on_cursor), (Pool, "checkout", self._on_checkout)]
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
        self._segment_key, self._segment = None, None

    def finish(self) -> TestRecord:
        record, self.record = self.record, TestRecord()
        self._segment_key, self._segment = None, None
        return record

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
            incident.facts = facts
        incident.route = fastapi_route(frames)
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
                self._origin = dict(frames[-1], how=self._origin_pending, stack=frames) if frames else None
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
                self._segment.loaded += len(getattr(flush_context, "states", ()) or ())
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
        except Exception:
            pass

    def _on_inserted(self, session, instance) -> None:
        try:  # the flush that inserted it: after_flush has just marked it, no stack walk here
            marks = self.sessions.get(session)
            if marks is not None:
                instance._sa_instance_state.__dict__[INSERTED] = marks.get("flush")
                marks["inserted:" + type(instance).__name__] = marks.get("flush")
        except Exception:
            pass

    def _on_expire(self, target, attrs) -> None:
        if attrs is None:  # a whole object: a commit, a rollback, expire(obj); the session's marks say which
            return
        try:
            caller = sys._getframe(1)
            names = set()
            for _ in range(4):
                if caller is None:
                    break
                names.add(caller.f_code.co_name)
                caller = caller.f_back
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
                if incident.sql is None and context.statement:
                    incident.sql = context.statement
        except Exception:
            pass

    def _on_checkout(self, dbapi_connection, connection_record, connection_proxy) -> None:
        try:
            connection_record.info[CHECKOUT_KEY] = next(self._checkouts)
        except Exception:
            pass

    def _on_cursor(self, conn, cursor, statement, parameters, context, executemany) -> None:
        try:
            self.record.statements += 1
            entry = self._entries.find(sys._getframe(1))
            if entry is None:
                self._segment_key, self._segment = None, None
                return
            code = entry[0]
            key = (code, entry[1], conn.info.get(CHECKOUT_KEY))
            if key != self._segment_key:
                self._segment_key = key
                self._segment = Segment(
                    entry={
                        "file": self.scope.relative(code.co_filename),
                        "line": code.co_firstlineno,
                        "function": code.co_name,
                    }
                )
                self.record.segments.append(self._segment)
            self._segment.statements += 1
        except Exception:
            pass
