"""The rows one save writes, sent to the database together.

A command's save writes the instance row, its task and candidate rows, the activity rows that changed and the
audit entry. On SQLite each is one plain statement, built once (SQLite runs in-process: a statement costs no
round trip). On PostgreSQL every statement is a round trip through the driver, so the same writes go as one
statement: each becomes a data-modifying ``WITH`` part of the last, the rows of a table passed as one JSON
parameter (``json_populate_recordset``), so the statement's text depends only on which parts there are, is
built once per shape and prepared by the server. PostgreSQL runs the parts together and checks foreign keys
once the statement is done, so a new instance and its tasks may arrive in one statement; the parts never touch
the same row twice, which one statement may not do.

On SQLite a part's statement is compiled once per shape into its SQL text and the columns' own bind processors
(the same SQLAlchemy would apply), then sent through ``exec_driver_sql``: SQLAlchemy's per-execution work for a
compiled statement took about three times as long as SQLite took to run it. A part whose table fills a column
the rows leave out (a Python-side default) goes through SQLAlchemy as before.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, update

from engine.db import upsert

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
            conn.exec_driver_sql(*self._combined(conn))
        else:
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
        conn.exec_driver_sql(self.sql, values[0] if len(values) == 1 else values)


def _driver(conn: Connection, shape: tuple[str, Table, tuple[str, ...], Conflict | None]) -> DriverStatement | None:
    """The part's statement for ``exec_driver_sql`` (SQLite's positional parameters), compiled once per shape;
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
    types = {name: table.c[name].type for name in names}
    if kind == "update":
        types["pk_"] = table.c.id.type
    found = _DRIVER[key] = DriverStatement(str(compiled), tuple(
        (name, types[name].dialect_impl(dialect).bind_processor(dialect)) for name in compiled.positiontup or ()))
    return found


def _insert(table: Table, dialect: str, conflict: Conflict | None) -> Any:
    key = (table.name, conflict)
    if key not in _INSERTS:
        _INSERTS[key] = insert(table) if conflict is None else upsert(table, dialect, *conflict)
    return _INSERTS[key]


def _statement(shape: tuple[Any, ...], quote: Any) -> str:
    parts = []
    for i, (kind, name, columns, conflict) in enumerate(shape):
        table = quote(name)
        if kind == "insert":
            cols = ", ".join(quote(c) for c in columns)
            sql = (f"INSERT INTO {table} ({cols}) SELECT {cols} "
                   f"FROM json_populate_recordset(NULL::{table}, %(w{i})s::json)")
            if conflict is not None:
                key, updated = conflict
                sql += (f" ON CONFLICT ({', '.join(quote(c) for c in key)}) DO UPDATE SET "
                        + ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in updated))
        else:
            sets = ", ".join(f"{quote(c)} = %(w{i}_{c})s" for c in columns)
            sql = f"UPDATE {table} SET {sets} WHERE id = %(w{i}_pk)s"
        parts.append(sql)
    *withs, last = parts
    if not withs:
        return last
    return "WITH " + ", ".join(f"w{i} AS ({sql})" for i, sql in enumerate(withs)) + " " + last
