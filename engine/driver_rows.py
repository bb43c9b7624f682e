"""Rows read straight through the driver, made into loaded ORM objects: the hot path's reads.

SQLAlchemy's ORM sets up its loaders again on every execution of a query for entities (the result's row
processors), which took longer than SQLite took to run the query. A ``DriverQuery`` is compiled once per
dialect and its row is turned into the objects the ORM query would have put in the session: the columns read
are loaded, every other attribute is expired (the first one touched loads all of them in one query, where
``load_only`` would load just that one: read the columns a hot path needs). Like the ORM query, it first
flushes what the session has pending (unless autoflush is off)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Select, inspect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import instance_dict


def driver_execute(conn: Connection, sql: str, params: tuple[Any, ...] | dict[str, Any]) -> Any:
    """Run one statement on ``conn``'s driver cursor and return the cursor, through SQLAlchemy's own path for
    statements that set up no result (``Connection._cursor_execute``: the cursor events, echo, and the
    driver's errors raised as SQLAlchemy's). ``exec_driver_sql`` builds the result's column metadata from the
    cursor's description on every execution: 40 µs for the lock read's 40 columns, where SQLite runs it in 4.
    An error that is not the driver's (a value the driver cannot bind, say) comes out as it was raised, as it
    does from ``exec_driver_sql``; that path would wrap it in a StatementError."""
    cursor = conn.connection.cursor()
    try:
        conn._cursor_execute(cursor, sql, params)
    except StatementError as exc:
        if isinstance(exc, DBAPIError) or exc.orig is None:
            raise
        raise exc.orig from None
    return cursor


@dataclass(frozen=True)
class Entity:
    """A mapped class's columns in a driver row, with their result processors."""

    cls: type
    attrs: tuple[str, ...]
    processors: tuple[Callable[[Any], Any] | None, ...]

    def identity(self, values: Sequence[Any]) -> Any:
        mapper: Any = inspect(self.cls)
        return mapper.identity_key_from_primary_key(tuple(values[self.attrs.index(p.key)]
                                                          for p in mapper.primary_key))

    def load(self, s: Session, values: Sequence[Any]) -> Any:
        """The object of ``values``, in ``s`` as a loaded row (the session must not hold it yet)."""
        obj: Any = inspect(self.cls).class_manager.new_instance()
        instance_dict(obj).update(
            (attr, value if process is None or value is None else process(value))
            for attr, process, value in zip(self.attrs, self.processors, values, strict=True))
        make_transient_to_detached(obj)
        s.add(obj)
        return obj

    def held_or_load(self, s: Session, values: Sequence[Any]) -> Any:
        """The session's own object for this row when it holds one (as the ORM query returns it), else
        ``load``."""
        held = s.identity_map.get(self.identity(values))
        return held if held is not None else self.load(s, values)


@dataclass
class DriverQuery:
    """``statement(dialect name)`` selects the columns of ``entities``, each class's in table order, then any
    plain columns; compiled once per dialect (its parameters positional, as SQLite's driver takes them, or
    named, as psycopg's)."""

    statement: Callable[[str], Select[Any]]
    entities: tuple[tuple[type, tuple[str, ...] | None], ...]  # (class, column names or None for all)
    _compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any], tuple[Entity, ...]]] = field(
        default_factory=dict)

    def first(self, s: Session, params: dict[str, Any]
              ) -> tuple[tuple[Entity, ...], list[Sequence[Any]], Sequence[Any]] | None:
        """For the first row (None when there is none): the entities, each one's values and the plain columns
        after them."""
        if s.autoflush:
            s.flush()
        conn = s.connection()
        compiled = self._compiled.get(conn.dialect.name)
        if compiled is None:
            compiled = self._compiled[conn.dialect.name] = self._compile(conn.dialect)
        sql, names, defaults, entities = compiled
        values = {**defaults, **params} if names is None else tuple(
            params[n] if n in params else defaults[n] for n in names)
        cursor = driver_execute(conn, sql, values)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        parts: list[Sequence[Any]] = []
        start = 0
        for entity in entities:
            parts.append(row[start:start + len(entity.attrs)])
            start += len(entity.attrs)
        return entities, parts, row[start:]

    def sql(self, dialect_name: str) -> str | None:
        """The SQL text sent to ``dialect_name``'s driver, once compiled."""
        compiled = self._compiled.get(dialect_name)
        return None if compiled is None else compiled[0]

    def _compile(self, dialect: Any) -> tuple[str, tuple[str, ...] | None, dict[str, Any], tuple[Entity, ...]]:
        entities = []
        for cls, names in self.entities:
            mapper: Any = inspect(cls)
            columns = [c for c in mapper.local_table.c if names is None or c.name in names]
            # Processors chosen without the cursor's column type: enough for the text, number, date and JSON
            # columns these tables have; psycopg's Numeric or Float would need it (and fails here, so the
            # first driver-read test on PostgreSQL would say so).
            entities.append(Entity(cls, tuple(mapper.get_property_by_column(c).key for c in columns),
                                   tuple(c.type.dialect_impl(dialect).result_processor(dialect, None)
                                         for c in columns)))
        compiled = self.statement(dialect.name).compile(dialect=dialect)
        sql = str(compiled)
        if "__[POSTCOMPILE_" in sql:  # a value SQLAlchemy renders into the text per execution: not for the driver
            raise ValueError(f"a driver query cannot hold a value rendered per execution: {sql}")
        names = tuple(compiled.positiontup or ()) if dialect.positional else None
        return sql, names, dict(compiled.params), tuple(entities)


def transient(cls: type, values: dict[str, Any]) -> Any:
    """A new object of a mapped class holding ``values``, without the instrumented constructor's work per
    attribute (a fifteenth of the time): for objects that carry a row's values and are never added to a session
    (a save's new task rows are written as rows, engine/projection.py)."""
    obj: Any = inspect(cls).class_manager.new_instance()
    instance_dict(obj).update(values)
    return obj

