"""A save's writes on SQLite go to the driver as compiled SQL with the columns' own bind processors, several
parts as one INSERT into a TEMP view whose trigger writes them (engine/writes.py): what they store is byte for
byte what SQLAlchemy's own INSERT / UPDATE stores."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, cast

import pytest
from chaos.harness import private_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, Table, event, func, insert, select
from sqlalchemy.exc import IntegrityError

from bench.world import pg_unreachable, postgres_url
from engine import writes as writes_module
from engine.db import Base, Database
from engine.models import ActivityTokens, AuditEvent, HumanTask, Instance, ProcessModel, ProcessSpec
from engine.writes import BATCH_VIEWS, Writes, _driver, _insert, update_by_id
from meeting.models import Notification

AUDIT = cast(Table, AuditEvent.__table__)
NOTIFICATIONS = cast(Table, Notification.__table__)
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


def _statements(db: Database) -> list[str]:
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: sent.append(sql))
    return sent


def _note(group: str) -> dict[str, Any]:
    # email_attempts (a constant default) left out, as meeting/notify.py leaves it out
    return {"recipient_group": group, "kind": "task", "title": "新任务：审核议题", "body": "", "link": "/tasks/t1",
            "created_at": AT, "emailed_at": None}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(audit_rows, min_size=1, max_size=3), state=st.text(max_size=40), ended=st.none() | instants,
       groups=st.lists(st.sampled_from(["unit:mz", "unit:cz", "office"]), min_size=1, max_size=3))
def test_a_save_of_several_parts_is_one_statement_storing_what_sqlalchemy_stores(
        tmp_path_factory: Any, rows: list[dict[str, Any]], state: str, ended: datetime | None,
        groups: list[str]) -> None:
    dbs = _databases(tmp_path_factory.mktemp("w"))
    changes = {"state": state, "ended_at": ended, "revision": 2, "updated_at": AT}
    activity = [{"instance_id": "i1", "process_key": "p", "bpmn_id": b, "model_id": 1, "active": 1, "completed": 0,
                 "failed": 0} for b in ("a", "b")]
    conflict = (("instance_id", "process_key", "bpmn_id"), ("active", "completed"))
    notes = [_note(g) for g in groups]
    sent = _statements(dbs[0])

    def driver(conn: Connection) -> None:
        writes = Writes()
        writes.update(INSTANCES, "i1", changes)
        writes.insert(ACTIVITY, activity, conflict)
        writes.insert(AUDIT, rows)
        writes.insert(NOTIFICATIONS, notes)
        sent.clear()
        writes.execute(conn)

    def sqlalchemy(conn: Connection) -> None:
        conn.execute(update_by_id(INSTANCES, tuple(sorted(changes))), {**changes, "pk_": "i1"})
        conn.execute(_insert(ACTIVITY, "sqlite", conflict), activity)
        conn.execute(insert(AUDIT), rows)
        conn.execute(insert(NOTIFICATIONS), notes)

    _both(dbs, driver, sqlalchemy)
    assert [sql.split(" (")[0] for sql in sent if not sql.startswith("CREATE")] == [sent[-1].split(" (")[0]]
    assert sent[-1].startswith("INSERT INTO temp.wf_batch_")
    for table in ("wf_instance", "wf_activity", "wf_audit", "notifications"):
        assert _stored(dbs[0], table) == _stored(dbs[1], table), table
    assert len(_stored(dbs[0], "notifications")) == len(groups)
    assert {row[8] for row in _stored(dbs[0], "notifications")} == {0}  # email_attempts: the default


def _two_audit_rows(conn: Connection, actor: str) -> None:
    writes = Writes()
    writes.insert(AUDIT, [{"at": AT, "actor": actor, "action": "start", "instance_id": None, "task_id": None,
                           "task_name": None, "process_key": "p", "data": {}, "comment": None}])
    writes.update(INSTANCES, "i1", {"revision": 7})
    writes.execute(conn)


def test_a_rolled_back_transaction_takes_the_view_along_and_the_next_save_makes_it_again(tmp_path: Path) -> None:
    db, _ = _databases(tmp_path)
    with db.engine.connect() as conn:
        _two_audit_rows(conn, "first")
        assert conn.connection.info[BATCH_VIEWS]  # made in this transaction...
        conn.rollback()  # ...and gone with it
        _two_audit_rows(conn, "second")
        conn.commit()
    assert [row[2] for row in _stored(db, "wf_audit")] == ["second"]
    assert _stored(db, "wf_instance")[0][12] == 7


def test_a_part_that_fails_undoes_the_whole_statement(tmp_path: Path) -> None:
    db, _ = _databases(tmp_path)
    with db.engine.connect() as conn:
        _two_audit_rows(conn, "made the view")
        conn.commit()
        writes = Writes()
        writes.insert(AUDIT, [{"at": AT, "actor": "lost", "action": "start", "instance_id": None, "task_id": None,
                               "task_name": None, "process_key": "p", "data": {}, "comment": None}])
        writes.insert(ACTIVITY, [{"instance_id": "no such instance", "process_key": "p", "bpmn_id": "a",
                                  "model_id": 1, "active": 1, "completed": 0, "failed": 0}])
        with pytest.raises(IntegrityError):
            writes.execute(conn)
        conn.commit()  # what the statement wrote before the failing part is not there
    assert [row[2] for row in _stored(db, "wf_audit")] == ["made the view"]


def test_a_completion_on_sqlite_is_its_read_and_one_write(tmp_path: Path) -> None:
    from bench.run import prepare, run_three_task
    from bench.world import PASSWORD
    from meeting.passwords import hash_password
    from meeting.runtime import build_service

    db = prepare(f"sqlite:///{tmp_path}/three.db", hash_password(PASSWORD))
    service = build_service(db)
    run_three_task(db, 0, 2, service)  # the views exist on the connection now

    def counts() -> tuple[int, ...]:
        with db.sessions() as s:
            return tuple(s.scalar(select(func.count()).select_from(table).where(*where)) or 0 for table, where in (
                (AUDIT, ()), (NOTIFICATIONS, ()), (HumanTask.__table__, (HumanTask.state == "COMPLETED",))))

    before = counts()
    sent = _statements(db)
    run_three_task(db, 1, 0, service)
    writes = [sql for sql in sent if not sql.startswith("SELECT")]
    assert len(writes) == 4 and all(sql.startswith("INSERT INTO temp.wf_batch_") for sql in writes), writes
    # start + three completions audited, a notice for each of the three tasks, the three tasks done
    assert [after - b for after, b in zip(counts(), before, strict=True)] == [4, 3, 3]


def _views(conn: Connection) -> set[str]:
    return {name for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_temp_master WHERE type = 'view'")}


def test_past_the_views_a_connection_keeps_the_least_recently_used_goes(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    db, _ = _databases(tmp_path)
    monkeypatch.setattr(writes_module, "MAX_VIEWS_PER_CONNECTION", 2)

    def save(conn: Connection, groups: int) -> None:  # a shape per number of notifications
        writes = Writes()
        writes.insert(NOTIFICATIONS, [_note(f"unit:{i}") for i in range(groups)])
        writes.update(INSTANCES, "i1", {"revision": groups})
        writes.execute(conn)

    with db.engine.begin() as conn:
        made = {}
        for groups in (1, 2, 1, 3):  # 1 used again after 2: 2 is the least recently used when 3 comes
            save(conn, groups)
            made[groups] = next(reversed(conn.connection.info[BATCH_VIEWS]))
        assert list(conn.connection.info[BATCH_VIEWS]) == [made[1], made[3]] and _views(conn) == {made[1], made[3]}
        save(conn, 2)  # made again, in place of 1 now
        assert _views(conn) == {made[3], made[2]}
    assert len(_stored(db, "notifications")) == 1 + 2 + 1 + 3 + 2
    assert _stored(db, "wf_instance")[0][12] == 2
