"""On PostgreSQL a task command locks its instance and reads the instance, the task and the instance's open
task ids in one statement (engine/locks.py). A statement that waited for the lock still has to return what the
last holder committed: the task row as a claim left it, the open ids as a completion left them. Each test holds
the instance's lock in one transaction, starts the locking read in a second one, waits until PostgreSQL reports
that second one waiting for the lock, and only then lets the first commit."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from engine.actions import ActionRegistry
from engine.clock import ManualClock
from engine.db import Base, Database
from engine.errors import TaskAlreadyDone
from engine.loader import SourceFile
from engine.locks import lock_task, lock_task_open
from engine.service import Actor, WorkflowService

OFFICE = Actor("office", frozenset({"office"}))
OTHER = Actor("office2", frozenset({"office"}))
PARALLEL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="two_replies" name="two_replies" isExecutable="true" camunda:candidateStarterGroups="office">
    <bpmn:startEvent id="start" />
    <bpmn:parallelGateway id="split" />
    <bpmn:userTask id="a" name="甲单位答复" camunda:candidateGroups="office" />
    <bpmn:userTask id="b" name="乙单位答复" camunda:candidateGroups="office" />
    <bpmn:parallelGateway id="join" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="split" />
    <bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="a" />
    <bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="b" />
    <bpmn:sequenceFlow id="f4" sourceRef="a" targetRef="join" />
    <bpmn:sequenceFlow id="f5" sourceRef="b" targetRef="join" />
    <bpmn:sequenceFlow id="f6" sourceRef="join" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
""".encode()


@pytest.fixture
def pg(pg_schema_url: str, clock: ManualClock) -> Iterator[tuple[Database, WorkflowService]]:
    yield from two_replies(pg_schema_url, clock)


def two_replies(url: str, clock: ManualClock) -> Iterator[tuple[Database, WorkflowService]]:
    """A fresh database at ``url`` with the two-replies process deployed, and its service (disposed after)."""
    db = Database(url)
    Base.metadata.drop_all(db.engine)
    db.create_all()
    service = WorkflowService(db, ActionRegistry(), clock)
    service.deploy([SourceFile("two.bpmn", PARALLEL)])
    try:
        yield db, service
    finally:
        db.dispose()


def tasks_by_bpmn_id(service: WorkflowService, instance_id: str) -> dict[str, str]:
    return {t.bpmn_id: t.id for t in service.instance_tasks(instance_id) if t.state == "READY"}


def waiting_for_a_lock(db: Database, table: str = "wf_instance") -> None:
    """Returns once a transaction waits for a row lock on ``table`` in this schema (a waiter for a row lock
    holds the row's tuple lock while it waits for the holder's transaction)."""
    with db.engine.connect() as probe:
        for _ in range(1000):
            waiting = probe.execute(text(
                "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'tuple'"
                " AND l.relation = CAST(:t AS regclass) AND a.wait_event_type = 'Lock'"), {"t": table}).scalar_one()
            probe.rollback()
            if waiting:
                return
            threading.Event().wait(0.01)
    raise AssertionError("the locking read never waited for the lock")


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Runs ``work`` in a thread; returns the thread and, once it has ended, its value or its error."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except Exception as exc:  # noqa: BLE001 - handed to the test, which asserts on it
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def read_in_transaction(db: Database, read: Callable[[Session], Any]) -> Callable[[], Any]:
    def work() -> Any:
        with db.transaction() as s:
            return read(s)
    return work


def test_without_a_wait_the_lock_and_the_read_are_one_statement(pg: tuple[Database, WorkflowService]) -> None:
    db, service = pg
    started = service.start("two_replies", OFFICE)
    ids = tasks_by_bpmn_id(service, started.instance_id)
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with db.transaction() as s:
        ht, inst, open_ids = lock_task_open(s, ids["a"], True)
    assert len(statements) == 1 and "FOR UPDATE OF wf_instance" in statements[0]
    assert (ht.bpmn_id, inst.id, open_ids) == ("a", started.instance_id, set(ids.values()))


@pytest.mark.parametrize("read", ["lock_task", "lock_task_open"])
def test_a_claim_committed_while_waiting_is_what_the_read_returns(pg: tuple[Database, WorkflowService],
                                                                   read: str) -> None:
    """A claim changes the task row only (not the instance's revision): the read must still see it."""
    db, service = pg
    started = service.start("two_replies", OFFICE)
    task_a = tasks_by_bpmn_id(service, started.instance_id)["a"]
    with db.engine.connect() as holder:
        holder.execute(text("SELECT id FROM wf_instance WHERE id = :i FOR UPDATE"), {"i": started.instance_id})
        holder.execute(text("UPDATE wf_task SET assignee = 'office2' WHERE id = :t"), {"t": task_a})
        locking = lock_task if read == "lock_task" else lock_task_open
        thread, outcome = in_thread(read_in_transaction(db, lambda s: locking(s, task_a, True)[0].assignee))
        waiting_for_a_lock(db)
        holder.commit()
    thread.join(10)
    assert outcome == {"value": "office2"}


def complete_while(db: Database, service: WorkflowService, task_id: str, work: Callable[[], Any]) -> dict[str, Any]:
    """Completes ``task_id``; while that command holds the instance's lock, starts ``work`` in a thread and lets
    the command commit once ``work`` waits for the lock. Returns ``work``'s outcome."""
    seen: dict[str, Any] = {}

    def hold_then_finish(s: Session, ht: Any) -> dict[str, Any]:
        seen["thread"], seen["outcome"] = in_thread(work)
        waiting_for_a_lock(db)
        return {}

    service.complete(task_id, OFFICE, {}, prepare=hold_then_finish)
    seen["thread"].join(10)
    return cast(dict[str, Any], seen["outcome"])


def test_open_tasks_a_completion_changed_while_waiting_are_read_again(pg: tuple[Database, WorkflowService]) -> None:
    """Completing b while a's command waits: a's command sees b closed and the instance's new revision."""
    db, service = pg
    started = service.start("two_replies", OFFICE)
    ids = tasks_by_bpmn_id(service, started.instance_id)

    def revision_and_open_ids(s: Session) -> tuple[int, set[str]]:
        _, inst, open_ids = lock_task_open(s, ids["a"], True)
        return inst.revision, open_ids

    outcome = complete_while(db, service, ids["b"], read_in_transaction(db, revision_and_open_ids))
    revision, open_ids = outcome["value"]
    with db.sessions() as s:
        assert revision == s.execute(text("SELECT revision FROM wf_instance")).scalar_one()
    assert open_ids == {ids["a"]}


def test_a_second_submission_that_waited_finds_the_task_done(pg: tuple[Database, WorkflowService]) -> None:
    db, service = pg
    started = service.start("two_replies", OFFICE)
    task_a = tasks_by_bpmn_id(service, started.instance_id)["a"]
    outcome = complete_while(db, service, task_a, lambda: service.complete(task_a, OTHER, {}))
    assert isinstance(outcome.get("error"), TaskAlreadyDone), outcome
    assert tasks_by_bpmn_id(service, started.instance_id).keys() == {"b"}


def test_the_instance_is_locked_before_the_task(pg: tuple[Database, WorkflowService]) -> None:
    """Every command locks an instance before its task rows; the one statement does too, so it cannot hold a
    task row while it waits for its instance (a deadlock with a command that holds the instance)."""
    db, service = pg
    started = service.start("two_replies", OFFICE)
    task_a = tasks_by_bpmn_id(service, started.instance_id)["a"]
    with db.engine.connect() as holder, db.engine.connect() as probe:
        holder.execute(text("UPDATE wf_task SET priority = 60 WHERE id = :t"), {"t": task_a})  # the task row only
        thread, outcome = in_thread(read_in_transaction(db, lambda s: lock_task_open(s, task_a, True)[0].priority))
        waiting_for_a_lock(db, "wf_task")
        with pytest.raises(OperationalError, match="could not obtain lock"):
            probe.execute(text("SELECT id FROM wf_instance WHERE id = :i FOR UPDATE NOWAIT"),
                          {"i": started.instance_id})
        probe.rollback()
        holder.commit()
    thread.join(10)
    assert outcome == {"value": 60}


def test_a_migration_committed_while_waiting_gives_the_new_model(pg: tuple[Database, WorkflowService]) -> None:
    """The process model comes joined to the instance, read as the snapshot saw it: a migration to another
    version (which bumps the revision) while a claim waits must not leave the claim without its model."""
    db, service = pg
    started = service.start("two_replies", OFFICE)
    task_a = tasks_by_bpmn_id(service, started.instance_id)["a"]
    service.deploy([SourceFile("two.bpmn", PARALLEL.replace("甲单位答复".encode(), "甲单位书面答复".encode()))])
    with db.engine.connect() as probe:
        newer = probe.execute(text("SELECT max(id) FROM wf_model")).scalar_one()
    with db.engine.connect() as holder:
        holder.execute(text("SELECT id FROM wf_instance WHERE id = :i FOR UPDATE"), {"i": started.instance_id})
        holder.execute(text("UPDATE wf_instance SET model_id = :m, revision = revision + 1 WHERE id = :i"),
                       {"m": newer, "i": started.instance_id})
        def model_ids(s: Session) -> tuple[int, int | None]:
            _, inst = lock_task(s, task_a, True)
            return inst.model_id, inst.model.id if inst.model is not None else None

        thread, outcome = in_thread(read_in_transaction(db, model_ids))
        waiting_for_a_lock(db)
        holder.commit()
    thread.join(10)
    assert outcome == {"value": (newer, newer)}
