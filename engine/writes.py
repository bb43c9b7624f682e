"""The rows one save writes, sent to the database together.

A command's save writes the instance row, its task and candidate rows, the activity rows that changed and the
audit entry. On SQLite each is one plain statement, built once (SQLite runs in-process: a statement costs no
round trip). On PostgreSQL every statement is a round trip through the driver, so the same writes go as one
statement: each becomes a data-modifying ``WITH`` part of the last, the rows of a table passed as one JSON
parameter (``json_populate_recordset``), so the statement's text depends only on which parts there are, is
built once per shape and prepared by the server. PostgreSQL runs the parts together and checks foreign keys
once the statement is done, so a new instance and its tasks may arrive in one statement; the parts never touch
the same row twice, which one statement may not do.

On SQLite several parts go as one statement as well, an INSERT into a view whose trigger writes them (see
``SqliteBatch`` below). A part on its own is compiled once per shape into its SQL text and the columns' own bind
processors (the same SQLAlchemy would apply), then sent to the driver's cursor (``driver_execute``; several
rows of one part through ``exec_driver_sql``'s executemany): SQLAlchemy's per-execution work for a compiled
statement took about three times as long as SQLite took to run it. A part whose table fills
a column the rows leave out with anything but a constant (a Python-side default) goes through SQLAlchemy.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, update
from sqlalchemy.exc import OperationalError

from engine.db import upsert
from engine.driver_rows import driver_execute

Conflict = tuple[tuple[str, ...], tuple[str, ...]]  # (key columns, columns a conflicting row updates)
_UPDATES: dict[tuple[str, tuple[str, ...]], Any] = {}  # (table, changed columns) -> UPDATE by primary key
_INSERTS: dict[tuple[str, Conflict | None], Any] = {}  # (table, conflict) -> INSERT (SQLite)
_COMBINED: dict[tuple[Any, ...], str] = {}  # shape of a save's writes -> its one statement (PostgreSQL)
_DRIVER: dict[tuple[Any, ...], DriverStatement | None] = {}  # (dialect, shape of a part) -> SQL, processors


def update_by_id(table: Table, names: tuple[str, ...]) -> Any:
    """``UPDATE table SET names… WHERE id = :pk_``, built once per table and column set."""
    stmt = _UPDATES.get((table.name, names))
    if stmt is None:
        stmt = _UPDATES[(table.name, names)] = (update(table).where(table.c.id == bindparam("pk_"))
                                                .values({k: bindparam(k) for k in names}))
    return stmt


def _json(value: Any) -> str:
    def default(o: Any) -> str:
        if isinstance(o, datetime | date):
            return o.isoformat()
        raise TypeError(f"{type(o).__name__} is not JSON")

    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=default)


@dataclass
class Writes:
    """Row writes in the order given: ``insert`` rows (an upsert with ``conflict``) and ``update`` of one row
    by its id."""

    parts: list[tuple[str, Table, Any, Conflict | None]] = field(default_factory=list)

    def insert(self, table: Table, rows: list[dict[str, Any]], conflict: Conflict | None = None) -> None:
        """Rows following rows of the same table and columns join them: one part, written in the order given
        (the parts of one PostgreSQL statement run in no fixed order)."""
        if not rows:
            return
        if self.parts:
            kind, last_table, last_rows, last_conflict = self.parts[-1]
            if (kind == "insert" and last_table is table and last_conflict == conflict
                    and last_rows[0].keys() == rows[0].keys()):
                self.parts[-1] = (kind, table, [*last_rows, *rows], conflict)
                return
        self.parts.append(("insert", table, rows, conflict))

    def update(self, table: Table, pk: Any, changes: dict[str, Any]) -> None:
        self.parts.append(("update", table, (pk, changes), None))

    def execute(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql" and len(self.parts) > 1:
            driver_execute(conn, *self._combined(conn)).close()
        elif not (conn.dialect.name == "sqlite" and len(self.parts) > 1 and _sqlite_batch(conn, self.parts)):
            for kind, table, args, conflict in self.parts:
                if kind == "insert":
                    stmt = _driver(conn, ("insert", table, tuple(args[0]), conflict))
                    if stmt is not None and all(row.keys() == args[0].keys() for row in args):
                        stmt.run(conn, args)
                    else:
                        conn.execute(_insert(table, conn.dialect.name, conflict), args)
                else:
                    pk, changes = args
                    names = tuple(sorted(changes))
                    stmt = _driver(conn, ("update", table, names, None))
                    if stmt is not None:
                        stmt.run(conn, [{**changes, "pk_": pk}])
                    else:
                        conn.execute(update_by_id(table, names), {**changes, "pk_": pk})
        self.parts.clear()

    def _combined(self, conn: Connection) -> tuple[str, dict[str, Any]]:
        shape = tuple((kind, table.name, tuple(args[0]) if kind == "insert" else tuple(sorted(args[1])), conflict)
                      for kind, table, args, conflict in self.parts)
        sql = _COMBINED.get(shape)
        if sql is None:
            sql = _COMBINED[shape] = _statement(shape, conn.dialect.identifier_preparer.quote)
        params: dict[str, Any] = {}
        for i, (kind, _table, args, _conflict) in enumerate(self.parts):
            if kind == "insert":
                params[f"w{i}"] = _json(args)
            else:
                pk, changes = args
                params[f"w{i}_pk"] = pk
                params.update({f"w{i}_{c}": v for c, v in changes.items()})
        return sql, params


@dataclass(frozen=True)
class DriverStatement:
    """A compiled statement's SQL text with, per positional parameter, its name and the bind processor of its
    column (None: the value goes to the driver as it is)."""

    sql: str
    params: tuple[tuple[str, Callable[[Any], Any] | None], ...]

    def run(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        values = [tuple(row[name] if process is None else process(row[name]) for name, process in self.params)
                  for row in rows]
        if len(values) == 1:
            driver_execute(conn, self.sql, values[0]).close()
        else:
            conn.exec_driver_sql(self.sql, values)


def _driver(conn: Connection, shape: tuple[str, Table, tuple[str, ...], Conflict | None]) -> DriverStatement | None:
    """The part's statement for the driver (SQLite's positional parameters), compiled once per shape;
    None where SQLAlchemy has to take part: a column left out that has a Python-side default or update, or
    another database."""
    dialect = conn.dialect
    key = (dialect.name, *shape)
    if key in _DRIVER:
        return _DRIVER[key]
    kind, table, names, conflict = shape
    fills = {c.name for c in table.c if (c.default if kind == "insert" else c.onupdate) is not None}
    if dialect.name != "sqlite" or not dialect.positional or fills - set(names):
        _DRIVER[key] = None
        return None
    if kind == "insert":
        stmt = _insert(table, dialect.name, conflict).values({name: bindparam(name) for name in names})
    else:
        stmt = update_by_id(table, names)
    compiled = stmt.compile(dialect=dialect)
    found = _DRIVER[key] = DriverStatement(str(compiled), tuple(
        (name, _bind_processor(table, "id" if name == "pk_" else name, dialect))
        for name in compiled.positiontup or ()))
    return found


def _insert(table: Table, dialect: str, conflict: Conflict | None) -> Any:
    key = (table.name, conflict)
    if key not in _INSERTS:
        _INSERTS[key] = insert(table) if conflict is None else upsert(table, dialect, *conflict)
    return _INSERTS[key]


def _on_conflict(conflict: Conflict | None, quote: Any) -> str:
    """`` ON CONFLICT (key) DO UPDATE SET c = EXCLUDED.c, …`` (both databases), or nothing."""
    if conflict is None:
        return ""
    key, updated = conflict
    return (f" ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET "
            + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updated))


def _bind_processor(table: Table, name: str, dialect: Any) -> Callable[[Any], Any] | None:
    """What SQLAlchemy does to a value of ``table.name`` before the driver gets it."""
    return cast(Callable[[Any], Any] | None, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))


def _statement(shape: tuple[Any, ...], quote: Any) -> str:
    parts = []
    for i, (kind, name, columns, conflict) in enumerate(shape):
        table = quote(name)
        if kind == "insert":
            cols = ", ".join(quote(c) for c in columns)
            sql = (f"INSERT INTO {table} ({cols}) SELECT {cols} "
                   f"FROM json_populate_recordset(NULL::{table}, %(w{i})s::json)")
            sql += _on_conflict(conflict, quote)
        else:
            sets = ", ".join(f"{quote(c)} = %(w{i}_{c})s" for c in columns)
            sql = f"UPDATE {table} SET {sets} WHERE id = %(w{i}_pk)s"
        parts.append(sql)
    *withs, last = parts
    if not withs:
        return last
    return "WITH " + ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(withs)) + " " + last


# SQLite: one statement for a save's writes too. SQLite has no data-modifying WITH; its equivalent is an INSERT
# into a view whose INSTEAD OF trigger runs the parts in order. Each shape of writes (tables, columns, number of
# rows) gets a TEMP view and trigger on each connection that sends it: TEMP objects belong to one connection and
# need no migration. Every value is a column of the view, already through its column's bind processor, so
# the rows reach the tables as the parts' own statements would store them. SQLite takes about as long to run
# the trigger as to run those statements; what goes is SQLAlchemy's work per statement.
_BATCHES: OrderedDict[tuple[Any, ...], SqliteBatch | None] = OrderedDict()  # shape -> batch, least recent first
_BATCHES_LOCK = threading.Lock()
BATCH_VIEWS = "wf_batch_views"  # connection info key: the batch views on that DBAPI connection, least recent first
# Bounds on what the shapes cost: the compiled batches this process keeps, the views (each with its trigger and
# the prepared statement that uses it) each writer connection keeps — past them the least recently used goes;
# a save with more values than this goes part by part.
MAX_BATCH_SHAPES = 256
MAX_VIEWS_PER_CONNECTION = 32
MAX_BATCH_VALUES = 1000
Part = tuple[str, Table, Any, Conflict | None]  # (kind, table, rows or (id, changes), conflict)
Shape = tuple[str, Table, tuple[str, ...], Conflict | None, int]  # (kind, table, columns, conflict, rows)


@dataclass(frozen=True)
class BatchPart:
    """A part's values in the view's order: per row, its columns through their bind processors and then
    the constant defaults of the columns the rows leave out (an update: its changed columns, then the id)."""

    kind: str
    columns: tuple[tuple[str, Callable[[Any], Any] | None], ...]
    defaults: tuple[Any, ...] = ()


@dataclass(frozen=True)
class SqliteBatch:
    view: str
    ddl: tuple[str, ...]
    sql: str
    parts: tuple[BatchPart, ...]

    def run(self, conn: Connection, parts: list[Part]) -> None:
        values: list[Any] = []
        for enc, (_kind, _table, args, _conflict) in zip(self.parts, parts, strict=True):
            for row in args if enc.kind == "insert" else [{**args[1], "id": args[0]}]:
                values += [row[name] if process is None else process(row[name]) for name, process in enc.columns]
                values += enc.defaults
        views: OrderedDict[str, None] = conn.connection.info.setdefault(BATCH_VIEWS, OrderedDict())
        if self.view in views:
            views.move_to_end(self.view)
        else:
            self.create(conn, views)
        try:
            driver_execute(conn, self.sql, tuple(values)).close()
        except OperationalError as exc:
            # A transaction that created the view and then rolled back took it along (TEMP objects are
            # transactional too); the failed statement changed nothing.
            if f"no such table: temp.{self.view}" not in str(exc.orig):
                raise
            self.create(conn, views)
            driver_execute(conn, self.sql, tuple(values)).close()

    def create(self, conn: Connection, views: OrderedDict[str, None]) -> None:
        while len(views) >= MAX_VIEWS_PER_CONNECTION:
            old, _ = views.popitem(last=False)
            conn.exec_driver_sql(f"DROP VIEW IF EXISTS temp.{old}")  # its trigger goes with it
        for ddl in self.ddl:
            conn.exec_driver_sql(ddl)
        views[self.view] = None


def _sqlite_batch(conn: Connection, parts: list[Part]) -> bool:
    """Send ``parts`` as one statement on SQLite; False when they have to go one by one."""
    shape: list[Shape] = []
    for kind, table, args, conflict in parts:
        if kind == "update":
            shape.append((kind, table, tuple(sorted(args[1])), conflict, 1))
        elif all(row.keys() == args[0].keys() for row in args):
            shape.append((kind, table, tuple(args[0]), conflict, len(args)))
        else:
            return False
    key = tuple((kind, table.name, names, conflict, rows) for kind, table, names, conflict, rows in shape)
    with _BATCHES_LOCK:  # the web server's threads share the shapes
        known = key in _BATCHES
        if known:
            _BATCHES.move_to_end(key)
            batch = _BATCHES[key]
    if not known:
        batch = _batch(conn.dialect, shape, key)
        with _BATCHES_LOCK:
            _BATCHES[key] = batch
            while len(_BATCHES) > MAX_BATCH_SHAPES:
                _BATCHES.popitem(last=False)
    if batch is None:
        return False
    batch.run(conn, parts)
    return True


def _batch(dialect: Any, shape: list[Shape], key: tuple[Any, ...]) -> SqliteBatch | None:
    """The view, its trigger and the INSERT for one shape of writes; None where it cannot go this way: a
    column left out whose default is not a constant, an update that leaves out a column with an ``onupdate``,
    too many values, a driver without positional parameters."""
    if dialect.name != "sqlite" or not dialect.positional:
        return None
    quote = dialect.identifier_preparer.quote
    view = "wf_batch_" + hashlib.sha1(repr(key).encode()).hexdigest()[:16]

    encodings: list[BatchPart] = []
    view_columns: list[str] = []
    body: list[str] = []
    for i, (kind, table, names, conflict, n_rows) in enumerate(shape):
        if kind == "update":
            if any(c.onupdate is not None and c.name not in names for c in table.c):
                return None
            encodings.append(BatchPart(kind, tuple((n, _bind_processor(table, n, dialect)) for n in (*names, "id"))))
            cols = [f"p{i}_{j}" for j in range(len(names) + 1)]
            view_columns += cols
            sets = ", ".join(f"{quote(n)} = NEW.{c}" for n, c in zip(names, cols[:-1], strict=True))
            body.append(f"UPDATE {quote(table.name)} SET {sets} WHERE id = NEW.{cols[-1]};")
            continue
        left_out = [c for c in table.c if c.name not in names and c.default is not None]
        defaults = []
        for c in left_out:
            if not getattr(c.default, "is_scalar", False):
                return None
            process = _bind_processor(table, c.name, dialect)
            value = getattr(c.default, "arg", None)
            defaults.append(value if process is None else process(value))
        encodings.append(BatchPart(kind, tuple((n, _bind_processor(table, n, dialect)) for n in names), tuple(defaults)))
        columns = ", ".join(quote(c) for c in (*names, *(c.name for c in left_out)))
        on_conflict = _on_conflict(conflict, quote)
        for r in range(n_rows):  # a statement per row, in the order given
            cols = [f"p{i}_{r}_{j}" for j in range(len(names) + len(left_out))]
            view_columns += cols
            body.append(f"INSERT INTO {quote(table.name)} ({columns}) "
                        f"VALUES ({', '.join(f'NEW.{c}' for c in cols)}){on_conflict};")
    if len(view_columns) > MAX_BATCH_VALUES:
        return None
    ddl = (f"CREATE TEMP VIEW IF NOT EXISTS {view} AS SELECT " + ", ".join(f"NULL AS {c}" for c in view_columns),
           f"CREATE TEMP TRIGGER IF NOT EXISTS {view}_write INSTEAD OF INSERT ON {view} BEGIN {' '.join(body)} END")
    sql = f"INSERT INTO temp.{view} ({', '.join(view_columns)}) VALUES ({', '.join('?' for _ in view_columns)})"
    return SqliteBatch(view, ddl, sql, tuple(encodings))
