"""Execution budgets (engine/budgets.py): nobody's diagram stalls or floods the office.

Refused at deploy, with element and line, where the diagram shows it: a literal multi-instance over the limit, a
process that calls itself (directly, in the batch, or through a deployed process), a timer faster than the floor.
Refused at run time, rolled back, fast, naming the element, where it depends on data: a collection or
cardinality over the limit, too many automatic steps, calls nested too deep; timer values computed from data are
raised to the floor, and timer starts per process and hour are capped. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text

from engine.actions import ActionContext, ActionRegistry
from engine.budgets import BudgetExceeded, Budgets
from engine.clock import ManualClock
from engine.db import Database
from engine.errors import DeployError
from engine.loader import SourceFile
from engine.models import AuditEvent, HumanTask, Instance
from engine.service import Actor, WorkflowService

OFFICE = Actor("office", frozenset({"office"}))
ATTACKS = int(os.environ.get("BUDGET_ATTACKS", "3"))
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">\n')


def process(key: str, *elements: str, start: str = '<bpmn:startEvent id="start" />', flows: str = "") -> str:
    """start → each element in order → end, unless ``flows`` are given."""
    ids = ["start", *(re.search(r'\bid="([^"]+)"', e).group(1) for e in elements), "end"]  # type: ignore[union-attr]
    chain = flows or "\n".join(f'<bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}" />'
                               for n, (a, b) in enumerate(zip(ids, ids[1:], strict=False), start=1))
    return (f'<bpmn:process id="{key}" name="{key}" isExecutable="true" camunda:candidateStarterGroups="office">\n'
            + start + "\n" + "\n".join(elements) + '\n<bpmn:endEvent id="end" />\n' + chain + "\n</bpmn:process>\n")


def diagram(*processes: str) -> bytes:
    return (HEAD + "".join(processes) + "</bpmn:definitions>\n").encode()


def user_task(tid: str = "work", extra: str = "") -> str:
    return f'<bpmn:userTask id="{tid}" name="办理" camunda:candidateGroups="office">{extra}</bpmn:userTask>'


def mi(attrs: str, inner: str = "", tid: str = "each") -> str:
    return user_task(tid, f"<bpmn:multiInstanceLoopCharacteristics {attrs}>{inner}"
                          "</bpmn:multiInstanceLoopCharacteristics>")


def timer(definition: str, eid: str = "wait") -> str:
    return (f'<bpmn:intermediateCatchEvent id="{eid}" name="等待"><bpmn:timerEventDefinition>{definition}'
            "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")


def call(cid: str, called: str) -> str:
    return f'<bpmn:callActivity id="{cid}" name="调用{called}" calledElement="{called}" />'


def line_of(data: bytes, needle: str) -> int:
    return data.decode()[: data.decode().index(needle)].count("\n") + 1


def registry() -> ActionRegistry:
    reg = ActionRegistry()

    @reg.action("test.count", title="计数")
    def count(ctx: ActionContext) -> dict[str, Any]:
        return {"n": int(ctx.data.get("n", 0)) + 1}

    return reg


@pytest.fixture
def service(database: Database, clock: ManualClock) -> WorkflowService:
    return WorkflowService(database, registry(), clock, budgets=Budgets(max_multi_instance=50, max_steps=200,
                                                                        max_call_depth=2, timer_starts_per_hour=3))


def problems(service: WorkflowService, data: bytes, name: str = "d.bpmn") -> list[Any]:
    with pytest.raises(DeployError) as exc:
        service.deploy([SourceFile(name, data)])
    return exc.value.problems


# ---------------------------------------------------------------------------------------------- at deploy
def test_a_literal_multi_instance_over_the_limit_is_refused_at_deploy(service: WorkflowService) -> None:
    data = diagram(process("huge", mi("", "<bpmn:loopCardinality>1000000</bpmn:loopCardinality>")))
    [p] = problems(service, data)
    assert p.message == "多实例循环次数 1000000 超过上限 50"
    assert p.element == "each" and p.line == line_of(data, "<bpmn:loopCardinality>")
    service.deploy([SourceFile("ok.bpmn", diagram(process(
        "fifty", mi("", "<bpmn:loopCardinality>50</bpmn:loopCardinality>"))))])


def test_a_process_that_calls_itself_is_refused_directly_in_a_batch_and_through_deployed_ones(
        service: WorkflowService) -> None:
    data = diagram(process("selfish", call("again", "selfish")))
    [p] = problems(service, data)
    assert p.element == "again" and p.line == line_of(data, '<bpmn:callActivity id="again"')
    assert "selfish → selfish" in p.message and "循环调用" in p.message
    # two processes of one batch calling each other
    with pytest.raises(DeployError) as exc:
        service.deploy([SourceFile("ping.bpmn", diagram(process("ping", call("to_pong", "pong")))),
                        SourceFile("pong.bpmn", diagram(process("pong", call("to_ping", "ping"))))])
    assert sorted(p.element for p in exc.value.problems) == ["to_ping", "to_pong"]
    # through what is deployed: b is deployed calling c, c calling nothing; then c is changed to call b
    service.deploy([SourceFile("c.bpmn", diagram(process("c", user_task())))])
    service.deploy([SourceFile("b.bpmn", diagram(process("b", call("to_c", "c"))))])
    [p] = problems(service, diagram(process("c", call("to_b", "b"))), "c.bpmn")
    assert p.message == "调用活动调用“b”会形成循环调用（c → b → c）：不允许递归调用"


@pytest.mark.parametrize(("definition", "label"), [
    ("<bpmn:timeDuration>PT1S</bpmn:timeDuration>", "定时时长“PT1S”"),
    ("<bpmn:timeCycle>R/PT0.001S</bpmn:timeCycle>", "循环定时“R/PT0.001S”"),
    ("<bpmn:timeCycle>R/2026-03-02T09:00:00/PT30S</bpmn:timeCycle>", "循环定时“R/2026-03-02T09:00:00/PT30S”"),
])
def test_a_timer_faster_than_the_floor_is_refused_at_deploy_with_element_and_line(
        sqlite_db: Database, clock: ManualClock, definition: str, label: str) -> None:
    service = WorkflowService(sqlite_db, registry(), clock)  # the default floor: one minute
    data = diagram(process("flood", timer(definition, "tick"), user_task()))
    [p] = problems(service, data)
    assert p.message == f"{label}短于最短间隔 60 秒：定时器不能比这更频繁"
    assert p.element == "tick" and p.line == line_of(data, "<bpmn:time")
    start = ('<bpmn:startEvent id="start"><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1S</bpmn:timeCycle>'
             "</bpmn:timerEventDefinition></bpmn:startEvent>")
    [p] = problems(service, diagram(process("flood_start", user_task(), start=start)))
    assert p.element == "start" and "R/PT1S" in p.message
    service.deploy([SourceFile("ok.bpmn", diagram(process("minute", timer("<bpmn:timeDuration>PT1M"
                                                                          "</bpmn:timeDuration>"), user_task())))])


# ---------------------------------------------------------------------------------------------- at run time
def test_a_collection_over_the_limit_fails_fast_changes_nothing_and_names_the_element(
        service: WorkflowService) -> None:
    service.deploy([SourceFile("units.bpmn", diagram(process(
        "per_unit", mi('camunda:collection="units" camunda:elementVariable="unit"'))))])
    began = time.monotonic()
    with pytest.raises(BudgetExceeded) as exc:
        service.start("per_unit", OFFICE, {"units": [f"u{i}" for i in range(100_000)]})
    assert time.monotonic() - began < 5
    assert exc.value.status == 422
    assert exc.value.message.startswith("多实例活动“办理”要创建 100000 个实例，超过上限 50 个")
    with service.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 0
        assert s.scalar(select(func.count()).select_from(HumanTask)) == 0
    result = service.start("per_unit", OFFICE, {"units": ["a", "b", "c"]})
    assert len(result.ready_tasks) == 3


def test_a_cardinality_from_data_over_the_limit_fails_on_completion_and_the_task_stays_open(
        service: WorkflowService) -> None:
    service.deploy([SourceFile("n.bpmn", diagram(process(
        "n_times", user_task("ask", '<bpmn:extensionElements><camunda:formData><camunda:formField id="n" '
                                    'label="份数" type="long" /></camunda:formData></bpmn:extensionElements>'),
        mi("", "<bpmn:loopCardinality>${n}</bpmn:loopCardinality>"))))])
    started = service.start("n_times", OFFICE)
    [task_id] = started.ready_tasks
    with pytest.raises(BudgetExceeded, match="要创建 10000000 个实例"):
        service.complete(task_id, OFFICE, {"n": "10000000"})
    assert service.get_task(task_id, OFFICE).state == "READY"
    assert len(service.complete(task_id, OFFICE, {"n": "2"}).ready_tasks) == 2


def test_a_loop_of_automatic_steps_stops_at_the_step_budget(service: WorkflowService) -> None:
    loop = ('<bpmn:serviceTask id="count" name="计数" camunda:type="external" camunda:topic="test.count" />'
            '<bpmn:exclusiveGateway id="again" default="back" />')
    flows = ('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count" />'
             '<bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="again" />'
             '<bpmn:sequenceFlow id="back" sourceRef="again" targetRef="count" />'
             '<bpmn:sequenceFlow id="out" sourceRef="again" targetRef="end">'
             '<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${n &gt; 1000000}'
             "</bpmn:conditionExpression></bpmn:sequenceFlow>")
    service.deploy([SourceFile("loop.bpmn", diagram(process("spin", loop, flows=flows)))])
    began = time.monotonic()
    with pytest.raises(BudgetExceeded, match=r"自动执行的步骤超过上限 200 步（停在“(计数|again)”）"):
        service.start("spin", OFFICE)
    assert time.monotonic() - began < 10
    with service.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 0


def test_calls_nested_deeper_than_the_budget_are_refused_at_run_time(service: WorkflowService) -> None:
    service.deploy([SourceFile("d3.bpmn", diagram(process("d3", user_task())))])
    service.deploy([SourceFile("d2.bpmn", diagram(process("d2", call("to_d3", "d3"))))])
    service.deploy([SourceFile("d1.bpmn", diagram(process("d1", call("to_d2", "d2"))))])
    service.start("d2", OFFICE)  # depth 1: within the budget of 2
    service.deploy([SourceFile("d0.bpmn", diagram(process("d0", call("to_d1", "d1"))))])
    with pytest.raises(BudgetExceeded, match="调用活动嵌套超过上限 2 层"):
        service.start("d0", OFFICE)


def test_timer_values_from_data_are_raised_to_the_floor(database: Database, clock: ManualClock) -> None:
    service = WorkflowService(database, registry(), clock)
    service.deploy([SourceFile("w.bpmn", diagram(process(
        "wait_data", timer("<bpmn:timeDuration>${wait}</bpmn:timeDuration>"), user_task())))])
    started = service.start("wait_data", OFFICE, {"wait": "PT0.001S"})
    inst = service.instance(started.instance_id)
    assert inst.next_timer_at is not None and inst.next_timer_at >= clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=30))
    assert service.fire_due_timers() == 0
    clock.advance(timedelta(seconds=31))
    assert service.fire_due_timers() == 1


def test_a_cycle_from_data_fires_no_faster_than_the_floor(database: Database, clock: ManualClock) -> None:
    service = WorkflowService(database, registry(), clock)
    boundary = ('<bpmn:boundaryEvent id="ping" attachedToRef="work" cancelActivity="false">'
                '<bpmn:timerEventDefinition><bpmn:timeCycle>${cycle}</bpmn:timeCycle></bpmn:timerEventDefinition>'
                '</bpmn:boundaryEvent><bpmn:serviceTask id="note" camunda:type="external" camunda:topic="test.count" />'
                '<bpmn:endEvent id="noted" />')
    flows = ('<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />'
             '<bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />'
             '<bpmn:sequenceFlow id="f3" sourceRef="ping" targetRef="note" />'
             '<bpmn:sequenceFlow id="f4" sourceRef="note" targetRef="noted" />')
    service.deploy([SourceFile("c.bpmn", diagram(process("cycling", user_task(), boundary, flows=flows)))])
    started = service.start("cycling", OFFICE, {"cycle": "R/PT0.001S"})
    fired = 0
    for _ in range(10):  # ten minutes, a pass every minute: at most one firing per minute
        clock.advance(timedelta(minutes=1))
        fired += service.fire_due_timers()
    assert 1 <= fired <= 10
    inst = service.instance(started.instance_id)
    assert inst.next_timer_at is not None and inst.next_timer_at >= clock.now()


def test_timer_starts_of_a_process_are_capped_per_hour(service: WorkflowService, clock: ManualClock) -> None:
    start = ('<bpmn:startEvent id="start"><bpmn:timerEventDefinition><bpmn:timeCycle>R/PT1M</bpmn:timeCycle>'
             "</bpmn:timerEventDefinition></bpmn:startEvent>")
    service.deploy([SourceFile("every.bpmn", diagram(process("every_minute", user_task(), start=start)))])
    for _ in range(30):
        clock.advance(timedelta(minutes=1))
        service.fire_due_timers()
    with service.db.sessions() as s:
        started = s.scalar(select(func.count()).select_from(Instance).where(Instance.process_key == "every_minute"))
        throttled = s.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "schedule_throttled"))
    assert started == 3 and throttled >= 1
    clock.advance(timedelta(hours=1))  # the hour has passed: starts again, at most three in this hour
    service.fire_due_timers()
    with service.db.sessions() as s:
        assert 4 <= s.scalar(select(func.count()).select_from(Instance)
                             .where(Instance.process_key == "every_minute")) <= 6


def test_others_keep_working_while_an_oversized_command_fails(database: Database, clock: ManualClock) -> None:
    """On SQLite one write lock serves everyone: the oversized start gives it back within its budget.
    BUDGET_ATTACKS (``make chaos``: 30) oversized starts run while five completions go through."""
    service = WorkflowService(database, registry(), clock, budgets=Budgets(max_multi_instance=1000))
    service.deploy([SourceFile("u.bpmn", diagram(process(
        "per_unit", mi('camunda:collection="units" camunda:elementVariable="unit"'))))])
    service.deploy([SourceFile("t.bpmn", diagram(process("plain", user_task())))])
    tasks = [service.start("plain", OFFICE).ready_tasks[0] for _ in range(5)]
    errors: list[BaseException] = []

    def attacker() -> None:
        for _ in range(ATTACKS):
            try:
                service.start("per_unit", OFFICE, {"units": list(range(300_000))})
            except BudgetExceeded as exc:
                errors.append(exc)

    thread = threading.Thread(target=attacker)
    began = time.monotonic()
    thread.start()
    for task_id in tasks:
        service.complete(task_id, OFFICE, {})
    thread.join(timeout=20 * ATTACKS)
    assert not thread.is_alive() and len(errors) == ATTACKS
    assert time.monotonic() - began < 20 * ATTACKS
    assert all(service.get_task(t, OFFICE).state == "COMPLETED" for t in tasks)


def test_postgresql_connections_get_statement_and_lock_timeouts(pg_schema_url: str) -> None:
    db = Database(pg_schema_url, pg_timeouts_ms=(1234, 567))
    try:
        with db.sessions() as s:
            assert s.scalar(text("SHOW statement_timeout")) == "1234ms"
            assert s.scalar(text("SHOW lock_timeout")) == "567ms"
    finally:
        db.dispose()


def test_budgets_come_from_the_environment() -> None:
    b = Budgets.from_env({"ENGINE_MAX_MULTI_INSTANCE": "20", "TIMER_FLOOR_SECONDS": "5",
                          "ENGINE_MAX_COMMAND_SECONDS": "2.5"})
    assert (b.max_multi_instance, b.min_timer_seconds, b.max_command_seconds) == (20, 5, 2.5)
    assert Budgets.from_env({}) == Budgets()
    with pytest.raises(ValueError):
        Budgets.from_env({"ENGINE_MAX_STEPS": "0"})


def test_on_postgresql_a_command_waits_for_a_lock_no_longer_than_the_lock_timeout(
        pg_schema_url: str, clock: ManualClock) -> None:
    from sqlalchemy.exc import OperationalError

    from engine.db import Base

    db = Database(pg_schema_url, pg_timeouts_ms=(5000, 300))
    try:
        Base.metadata.drop_all(db.engine)
        db.create_all()
        service = WorkflowService(db, registry(), clock)
        service.deploy([SourceFile("t.bpmn", diagram(process("plain", user_task())))])
        started = service.start("plain", OFFICE)
        with db.engine.connect() as holder:  # someone holding the instance's row lock (e.g. a stuck command)
            holder.execute(text("SELECT id FROM wf_instance WHERE id = :i FOR UPDATE"), {"i": started.instance_id})
            began = time.monotonic()
            with pytest.raises(OperationalError, match="lock timeout"):
                service.complete(started.ready_tasks[0], OFFICE, {})
            assert time.monotonic() - began < 3
            holder.rollback()
        service.complete(started.ready_tasks[0], OFFICE, {})
    finally:
        db.dispose()
