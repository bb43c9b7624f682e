"""A task command's read of its instance and task (on PostgreSQL with its row locks), and a start's read of the
newest published version, go straight to the driver, and the row becomes loaded objects without the ORM's
per-query set-up (engine/driver_rows.py, engine/locks.py, engine/deployment.py): on SQLite and PostgreSQL they
must be what the ORM query gives — the same values, the columns left out loaded on demand, changes written on
commit — and the ORM query must still be used where the session already holds objects."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, defer

from engine.clock import ManualClock
from engine.db import Database
from engine.deployment import published_model
from engine.driver_rows import driver_execute
from engine.errors import NotFound
from engine.locks import (
    _DRIVER_READS,
    _INSTANCE_TASK_OPEN,
    _LOCKED_INSTANCE_TASK_OPEN,
    lock_task,
    lock_task_open,
)
from engine.models import PUBLISHED, HumanTask, Instance, ProcessModel
from engine.service import Actor, WorkflowService
from tests.test_lock_read_pg import PARALLEL, tasks_by_bpmn_id, two_replies

OFFICE = Actor("office", frozenset({"office"}))
DONE_AT = datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock
            ) -> Iterator[tuple[Database, WorkflowService]]:
    url = f"sqlite:///{tmp_path}/lock.db" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    yield from two_replies(url, clock)


def _columns(obj: Any) -> dict[str, Any]:
    return {attr.key: getattr(obj, attr.key) for attr in inspect(type(obj)).column_attrs}


def _orm_read(s: Session, task_id: str) -> tuple[Any, ...]:
    inst, ht, ids = s.execute(_INSTANCE_TASK_OPEN, {"task_id": task_id}).one()
    return inst, ht, ids


def test_the_driver_read_gives_what_the_orm_query_gives(backend: tuple[Database, WorkflowService]) -> None:
    db, service = backend
    postgres = db.is_postgres
    started = service.start("two_replies", OFFICE, business_key="BK-1")
    tasks = tasks_by_bpmn_id(service, started.instance_id)
    with db.transaction() as s:  # values of every kind in the task row: JSON, dates, None, Chinese text
        ht = s.get(HumanTask, tasks["a"])
        assert ht is not None
        ht.assignee, ht.claimed_at, ht.due_at = "office", DONE_AT, DONE_AT + timedelta(days=3)
        ht.context, ht.documentation = {"topic_id": 7, "说明": "“引号”"}, None
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: sent.append(sql))
    with db.transaction() as s:
        ht, inst, open_ids = lock_task_open(s, tasks["a"], postgres)
        assert sent == [_driver_sql(db)]  # the driver's read, not the ORM query
        assert not inspect(inst).expired_attributes and inspect(inst).persistent
        assert inspect(ht).persistent and not s.dirty
        model_light = {k: getattr(inst.model, k) for k in ("id", "key", "version", "name", "spec_sha", "called")}
        assert "xml" in inspect(inst.model).unloaded  # the diagram loads only when read...
        assert inst.model.xml.startswith("<?xml")  # ...and then it does
        driver = (_columns(inst), _columns(ht), open_ids, model_light)
    with db.sessions() as s:
        inst, ht, ids = _orm_read(s, tasks["a"])
        orm = (_columns(inst), _columns(ht), set(ids.split(",")),
               {k: getattr(inst.model, k) for k in ("id", "key", "version", "name", "spec_sha", "called")})
    assert driver == orm
    assert driver[1]["claimed_at"] == DONE_AT and driver[1]["context"] == {"topic_id": 7, "说明": "“引号”"}
    assert driver[2] == set(tasks.values())


def test_a_change_to_a_task_read_by_the_driver_is_written_on_commit(backend: tuple[Database, WorkflowService]) -> None:
    db, service = backend
    task_id = tasks_by_bpmn_id(service, service.start("two_replies", OFFICE).instance_id)["a"]
    service.claim(task_id, OFFICE)  # claim changes the loaded task object and lets the commit write it
    with db.sessions() as s:
        assert s.scalar(select(HumanTask.assignee).where(HumanTask.id == task_id)) == "office"


def test_the_read_is_one_statement_and_nothing_is_loaded_later(backend: tuple[Database, WorkflowService]) -> None:
    db, service = backend
    postgres = db.is_postgres
    first, second = (tasks_by_bpmn_id(service, service.start("two_replies", OFFICE).instance_id) for _ in "12")
    service.complete(first["a"], OFFICE, {})  # the batch view for this shape of writes exists now
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: sent.append(sql))
    service.complete(second["a"], OFFICE, {})
    assert len(sent) == 2 and sent[0] == _driver_sql(db), sent  # the driver's read, not the ORM query
    assert sent[1].split()[0] == ("WITH" if postgres else "INSERT")  # then the save's one statement


def _driver_sql(db: Database) -> str:
    """The driver's read a completion sends: on PostgreSQL the one with the row locks."""
    read = _LOCKED_INSTANCE_TASK_OPEN if db.is_postgres else _INSTANCE_TASK_OPEN
    sql = _DRIVER_READS[read].sql(db.engine.dialect.name)
    assert sql is not None
    return sql


def test_a_session_already_holding_the_instance_gets_the_same_object_through_the_orm_query(
        backend: tuple[Database, WorkflowService]) -> None:
    db, service = backend
    postgres = db.is_postgres
    tasks = tasks_by_bpmn_id(service, service.start("two_replies", OFFICE).instance_id)
    with db.transaction() as s:
        first, inst = lock_task(s, tasks["a"], postgres)
        inst.title = "changed in this session, not flushed"
        sent: list[str] = []
        event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: sent.append(sql))
        second, same = lock_task(s, tasks["b"], postgres)  # the same instance: no second object for it
        reads = [sql for sql in sent if sql.startswith("SELECT")]  # (the autoflush writes the title first)
        assert len(reads) == 1 and "wf_model_1" in reads[0], sent  # the ORM query only, not the driver's first
        assert same is inst and second is not first
        assert s.get(Instance, inst.id) is inst and isinstance(inst.model, ProcessModel)
        s.rollback()


def test_the_newest_published_version_read_by_the_driver_is_the_orm_querys(
        backend: tuple[Database, WorkflowService]) -> None:
    from engine.loader import SourceFile

    db, service = backend
    newer = PARALLEL.replace(b'name="two_replies"', b'name="two_replies v2"')
    service.deploy([SourceFile("two.bpmn", newer)])  # version 2, published
    service.deploy([SourceFile("two.bpmn", newer.replace(b" v2", b" v3"))], pending=True)  # 3 waits: not run
    with db.sessions() as s:
        model = published_model(s, "two_replies")
        assert model is not None and model.version == 2 and model.status == PUBLISHED
        assert "xml" in inspect(model).unloaded and b"v2" in model.xml.encode()
        assert published_model(s, "two_replies") is model  # the session's own object, not a second one
        assert published_model(s, "no_such_process") is None
        driver = _columns(model)
    with db.sessions() as s:
        orm = (select(ProcessModel).options(defer(ProcessModel.xml))
               .where(ProcessModel.key == "two_replies", ProcessModel.status == PUBLISHED)
               .order_by(ProcessModel.version.desc()).limit(1))
        assert driver == _columns(s.scalars(orm).one())


def test_a_driver_read_first_flushes_what_the_session_has_pending(backend: tuple[Database, WorkflowService]) -> None:
    db, _ = backend
    with db.transaction() as s:
        current = published_model(s, "two_replies")
        assert current is not None
        s.add(ProcessModel(key="two_replies", version=current.version + 1, name="v2", file_name="two.bpmn",
                           xml=current.xml, source_sha="x", spec_sha=current.spec_sha, deployed_at=DONE_AT))
        newest = published_model(s, "two_replies")  # the ORM query would see the pending row: so must this
        assert newest is not None and newest.version == current.version + 1
        s.rollback()


def test_an_unknown_task_is_not_found_after_the_one_read(backend: tuple[Database, WorkflowService]) -> None:
    db, service = backend
    service.start("two_replies", OFFICE)
    sent: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: sent.append(sql))
    with pytest.raises(NotFound, match="任务不存在"):
        service.complete("00000000-0000-0000-0000-000000000000", OFFICE, {})
    assert sent == [_driver_sql(db)]  # nothing written, and the ORM query is not sent after it


def test_a_driver_statement_fires_the_cursor_events_and_raises_sqlalchemy_errors(tmp_path: Path) -> None:
    """``driver_execute`` skips SQLAlchemy's result set-up, not what watches and guards a statement: the
    statement counters and the tests that count statements see it, and a failing statement raises the
    SQLAlchemy error the callers catch (the batch's retry looks for ``OperationalError``)."""
    db = Database(f"sqlite:///{tmp_path}/events.db")
    seen: list[tuple[str, str, Any]] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, params, *_a: seen.append(("before", sql, params)))
    event.listen(db.engine, "after_cursor_execute", lambda _c, _cur, sql, params, *_a: seen.append(("after", sql, params)))
    try:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL)")
            seen.clear()
            driver_execute(conn, "INSERT INTO t (id, name) VALUES (?, ?)", (1, "区民政局")).close()
            cursor = driver_execute(conn, "SELECT name FROM t WHERE id = ?", (1,))
            assert cursor.fetchone() == ("区民政局",)
            cursor.close()
            assert seen == [("before", "INSERT INTO t (id, name) VALUES (?, ?)", (1, "区民政局")),
                            ("after", "INSERT INTO t (id, name) VALUES (?, ?)", (1, "区民政局")),
                            ("before", "SELECT name FROM t WHERE id = ?", (1,)),
                            ("after", "SELECT name FROM t WHERE id = ?", (1,))]
            with pytest.raises(IntegrityError):
                driver_execute(conn, "INSERT INTO t (id, name) VALUES (?, ?)", (2, None))
            with pytest.raises(OperationalError, match="no such table: missing"):
                driver_execute(conn, "SELECT * FROM missing", ())
            # not the driver's error: raised as it was, as exec_driver_sql raises it
            with pytest.raises(OverflowError):
                conn.exec_driver_sql("SELECT ?", (2**70,))
            with pytest.raises(OverflowError):
                driver_execute(conn, "SELECT ?", (2**70,))
    finally:
        db.dispose()
