"""A save's writes on SQLite go to the driver as compiled SQL with the columns' own bind processors
(engine/writes.py): what they store is byte for byte what SQLAlchemy's own INSERT / UPDATE stores."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from chaos.harness import private_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Table, insert, select

from bench.world import pg_unreachable, postgres_url
from engine.db import Base, Database
from engine.models import ActivityTokens, AuditEvent, Instance, ProcessModel, ProcessSpec
from engine.writes import Writes, _driver, _insert, update_by_id

AUDIT = cast(Table, AuditEvent.__table__)
ACTIVITY = cast(Table, ActivityTokens.__table__)
INSTANCES = cast(Table, Instance.__table__)
AT = datetime(2026, 12, 7, 8, 30, 15, 123456, tzinfo=UTC)

texts = st.one_of(st.none(), st.text(max_size=30), st.sampled_from(["落实情况", "a'b\"c", "x\x00y", "\u2028"]))
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**53, 2**53), st.text(max_size=10),
              st.sampled_from(["区民政局", "“引号”"])),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)
instants = st.builds(
    lambda minutes, hours: (AT + timedelta(minutes=minutes)).astimezone(timezone(timedelta(hours=hours))),
    st.integers(-10**6, 10**6), st.integers(-12, 14))
audit_rows = st.fixed_dictionaries({
    "at": instants, "actor": texts, "action": st.sampled_from(["start", "complete", "claim"]), "instance_id": texts,
    "task_id": texts, "task_name": texts, "process_key": texts,
    "data": st.dictionaries(st.text(max_size=5), json_values, max_size=4), "comment": texts})


def _databases(tmp: Path) -> tuple[Database, Database]:
    pair = []
    for name in ("driver", "sqlalchemy"):
        db = Database(f"sqlite:///{tmp}/{name}.db")
        Base.metadata.create_all(db.engine)
        with db.engine.begin() as conn:  # the rows the written ones refer to, the same in both
            conn.execute(insert(ProcessSpec.__table__), {"sha": "s", "spec": {}})
            conn.execute(insert(ProcessModel.__table__), {
                "id": 1, "key": "p", "version": 1, "name": "流程", "file_name": "p.bpmn", "xml": "", "source_sha": "x",
                "spec_sha": "s", "deployed_at": AT})
            conn.execute(insert(INSTANCES), {"id": "i1", "model_id": 1, "process_key": "p", "state": "{}",
                                             "started_at": AT, "updated_at": AT})
        pair.append(db)
    return pair[0], pair[1]


def _stored(db: Database, table: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db.url.removeprefix("sqlite:///")) as raw:
        return raw.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()


def _both(dbs: tuple[Database, Database], through_driver: Any, through_sqlalchemy: Any) -> None:
    with dbs[0].engine.begin() as conn:
        through_driver(conn)
    with dbs[1].engine.begin() as conn:
        through_sqlalchemy(conn)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(audit_rows, min_size=1, max_size=3))
def test_audit_rows_are_stored_as_sqlalchemy_stores_them(tmp_path_factory: Any, rows: list[dict[str, Any]]) -> None:
    dbs = _databases(tmp_path_factory.mktemp("w"))
    with dbs[0].engine.connect() as conn:
        assert _driver(conn, ("insert", AUDIT, tuple(rows[0]), None)) is not None  # the driver path is taken

    def driver(conn: Connection) -> None:
        writes = Writes()
        writes.insert(AUDIT, rows)
        writes.execute(conn)

    _both(dbs, driver, lambda conn: conn.execute(insert(AUDIT), rows))
    assert _stored(dbs[0], "wf_audit") == _stored(dbs[1], "wf_audit")
    assert len(_stored(dbs[0], "wf_audit")) == len(rows)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=st.integers(0, 5), second=st.integers(0, 5), state=st.text(max_size=40), ended=st.none() | instants)
def test_upserts_and_updates_are_stored_as_sqlalchemy_stores_them(tmp_path_factory: Any, first: int, second: int,
                                                                  state: str, ended: datetime | None) -> None:
    dbs = _databases(tmp_path_factory.mktemp("w"))
    conflict = (("instance_id", "process_key", "bpmn_id"), ("active", "completed"))
    rows = [{"instance_id": "i1", "process_key": "p", "bpmn_id": b, "model_id": 1, "active": first, "completed": 0,
             "failed": 0} for b in ("a", "b")]
    again = [{**rows[0], "active": second, "completed": first}]
    changes = {"state": state, "ended_at": ended, "revision": first, "updated_at": AT}

    def driver(conn: Connection) -> None:
        writes = Writes()
        writes.insert(ACTIVITY, rows, conflict)
        writes.insert(ACTIVITY, again, conflict)  # same table and columns: one part, the second row conflicts
        writes.update(INSTANCES, "i1", changes)
        writes.execute(conn)

    def sqlalchemy(conn: Connection) -> None:
        conn.execute(_insert(ACTIVITY, "sqlite", conflict), rows)
        conn.execute(_insert(ACTIVITY, "sqlite", conflict), again)
        conn.execute(update_by_id(INSTANCES, tuple(sorted(changes))), {**changes, "pk_": "i1"})

    _both(dbs, driver, sqlalchemy)
    assert _stored(dbs[0], "wf_activity") == _stored(dbs[1], "wf_activity")
    assert _stored(dbs[0], "wf_activity")[0][4:6] == (second, first)
    assert _stored(dbs[0], "wf_instance") == _stored(dbs[1], "wf_instance")


def test_a_part_that_leaves_out_a_defaulted_column_goes_through_sqlalchemy(tmp_path: Path) -> None:
    dbs = _databases(tmp_path)
    row = {"at": AT, "actor": "a", "action": "start"}  # data (default dict) left out
    with dbs[0].engine.begin() as conn:
        assert _driver(conn, ("insert", AUDIT, tuple(row), None)) is None
        writes = Writes()
        writes.insert(AUDIT, [row])
        writes.execute(conn)
    assert _stored(dbs[0], "wf_audit")[0][8] == "{}"


def test_a_process_serving_both_databases_keeps_their_statements_apart(tmp_path: Path) -> None:
    """The compiled SQLite statement is never sent to PostgreSQL (a single part goes there as it is)."""
    if reason := pg_unreachable(postgres_url()):
        pytest.skip(reason)
    sqlite_db, _ = _databases(tmp_path)
    row = {"at": AT, "actor": "a", "action": "start", "instance_id": None, "task_id": None, "task_name": None,
           "process_key": "p", "data": {"单位": "区民政局"}, "comment": None}
    with private_schema(postgres_url()) as url:
        pg = Database(url)
        Base.metadata.create_all(pg.engine)
        try:
            for db in (sqlite_db, pg):
                with db.engine.begin() as conn:
                    writes = Writes()
                    writes.insert(AUDIT, [row])
                    writes.execute(conn)
                with db.engine.connect() as conn:
                    assert conn.execute(select(AUDIT.c.data)).scalar_one() == {"单位": "区民政局"}
        finally:
            pg.dispose()
