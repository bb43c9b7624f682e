"""Timers as the engine runs them (engine/timers.py), scheduled starts (engine/schedule.py) and the worker
(engine/worker.py), on SQLite and PostgreSQL; time moves only through the clock."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from sqlalchemy import func, select
from test_engine_service import ADMIN, DESIGNER, DIAGRAMS, OFFICE, Actions, deploy

from engine import schedule
from engine.actions import ActionContext, ActionRegistry
from engine.clock import SHANGHAI, Clock, ManualClock, set_clock
from engine.db import Database
from engine.errors import DeployError, FormError, NotFound
from engine.loader import SourceFile
from engine.models import AuditEvent, HumanTask, Instance, Schedule
from engine.service import WorkflowService
from engine.timers import add_duration, parse_cycle, parse_instant
from engine.worker import LagStats, Worker

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Beijing


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)  # type: ignore[misc]


@pytest.fixture
def svc(database: Database, actions: Actions, clock: ManualClock) -> WorkflowService:
    service = WorkflowService(database, actions.registry, clock)
    deploy(service, "wait_date", "wait_duration", "monthly_ping", "fail_later", "waits")
    return service


@pytest.fixture
def actions() -> Actions:
    return Actions()


def tasks_named(svc: WorkflowService, name: str) -> list[HumanTask]:
    with svc.db.sessions() as s:
        return list(s.scalars(select(HumanTask).where(HumanTask.name == name)))


def audit_count(svc: WorkflowService, action: str, instance_id: str | None = None) -> int:
    with svc.db.sessions() as s:
        stmt = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        if instance_id:
            stmt = stmt.where(AuditEvent.instance_id == instance_id)
        return s.scalar(stmt) or 0


# ---------------------------------------------------------------- calendar arithmetic
def test_months_keep_the_day_of_the_month_and_clamp_to_its_end() -> None:
    jan31 = bj(2026, 1, 31, 9)
    assert add_duration(jan31, "P1M") == bj(2026, 2, 28, 9)
    assert add_duration(jan31, "P1M", 2) == bj(2026, 3, 31, 9)  # from the anchor, not from 28 February
    assert add_duration(bj(2028, 2, 29, 9), "P1Y") == bj(2029, 2, 28, 9)
    assert add_duration(bj(2026, 3, 2, 9), "P1W") == bj(2026, 3, 9, 9)
    assert add_duration(bj(2026, 3, 2, 9), "PT36H") == bj(2026, 3, 3, 21)
    # Months are counted on the Beijing calendar: 07:00 on 1 April is 23:00 on 31 March in UTC.
    assert add_duration(bj(2026, 4, 1, 7), "P1M") == bj(2026, 5, 1, 7)


def test_half_yearly_cycles_do_not_drift_unlike_the_stock_engine() -> None:
    cycle = parse_cycle("R/2025-09-01T09:00:00+08:00/P6M", T0)
    assert [cycle.occurrence(k) for k in range(4)] == [
        bj(2025, 9, 1, 9), bj(2026, 3, 1, 9), bj(2026, 9, 1, 9), bj(2027, 3, 1, 9)]
    # SpiffWorkflow's own arithmetic: P6M is turned into 181 days once and then repeated.
    _, start, step = TimerEventDefinition.parse_iso_recurring_interval("R/2025-09-01T09:00:00+08:00/P6M")
    assert (start + 2 * step).astimezone(SHANGHAI).date().isoformat() != "2026-09-01"
    assert cycle.first_at_or_after(bj(2031, 5, 1)) == 12
    assert cycle.occurrence(12) == bj(2031, 9, 1, 9)


def test_dates_without_an_offset_are_beijing_time() -> None:
    assert parse_instant("2026-06-01T09:00:00") == datetime(2026, 6, 1, 1, 0, tzinfo=UTC)
    assert parse_instant("2026-06-01") == datetime(2026, 5, 31, 16, 0, tzinfo=UTC)
    assert parse_instant("2026-06-01T09:00:00Z") == datetime(2026, 6, 1, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------- timers in the engine
def test_a_naive_timer_date_is_read_as_beijing_time(svc: WorkflowService, clock: ManualClock) -> None:
    iid = svc.start("wait_date", OFFICE, {"when": "2026-03-03T09:00:00"}).instance_id
    assert svc.instance(iid).next_timer_at == datetime(2026, 3, 3, 1, 0, tzinfo=UTC)
    clock.set(datetime(2026, 3, 3, 0, 59, tzinfo=UTC))
    assert svc.fire_due_timers() == 0
    clock.set(datetime(2026, 3, 3, 1, 0, 1, tzinfo=UTC))
    assert svc.fire_due_timers() == 1
    assert [t.instance_id for t in tasks_named(svc, "到时处理")] == [iid]


def test_a_one_month_duration_ends_on_the_same_beijing_day(svc: WorkflowService, clock: ManualClock) -> None:
    clock.set(bj(2026, 3, 31, 7))  # still 30 March in UTC
    iid = svc.start("wait_duration", OFFICE, {"wait": "P1M"}).instance_id
    assert svc.instance(iid).next_timer_at == bj(2026, 4, 30, 7)
    clock.set(bj(2026, 4, 30, 7, 0, 1))
    assert svc.fire_due_timers() == 1 and len(tasks_named(svc, "到时处理")) == 1


def test_a_monthly_cycle_boundary_fires_on_month_ends_and_once_for_missed_months(
        svc: WorkflowService, clock: ManualClock) -> None:
    iid = svc.start("monthly_ping", OFFICE, {"start_at": "2026-01-31T09:00:00"}).instance_id
    # 31 January and 28 February are past when the task starts: one reminder now, not two.
    assert len(tasks_named(svc, "提醒")) == 1
    assert svc.instance(iid).next_timer_at == bj(2026, 3, 31, 9)
    clock.set(bj(2026, 3, 31, 9, 0, 1))
    assert svc.fire_due_timers() == 1 and len(tasks_named(svc, "提醒")) == 2
    assert svc.instance(iid).next_timer_at == bj(2026, 4, 30, 9)
    clock.set(bj(2026, 7, 15, 12))  # no worker from April to mid-July: one catch-up reminder
    assert svc.fire_due_timers() == 1 and len(tasks_named(svc, "提醒")) == 3
    assert svc.instance(iid).next_timer_at == bj(2026, 7, 31, 9)
    review = [t for t in svc.instance_tasks(iid) if t.bpmn_id == "review"][0]
    svc.complete(review.id, OFFICE, {})
    assert svc.instance(iid).next_timer_at is None
    clock.set(bj(2026, 12, 1))
    assert svc.fire_due_timers() == 0 and len(tasks_named(svc, "提醒")) == 3


class Ticking(Clock):
    """Real time passes while the engine works: every reading is 50 ms later."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def now(self) -> datetime:
        self.t += timedelta(milliseconds=50)
        return self.t


def test_a_timer_falling_due_during_a_command_is_run_not_lost(database: Database, actions: Actions) -> None:
    """do_engine_steps() ends with refresh_timers(): a timer due right then becomes READY, leaves
    waiting_events() and would never fire. Every command runs the engine until nothing automatic is READY."""
    ticking = Ticking(T0)
    service = WorkflowService(database, actions.registry, ticking)
    try:
        deploy(service, "waits")
        for ms in range(0, 1500, 50):
            due = ticking.t + timedelta(milliseconds=ms)
            iid = service.start("waits", OFFICE, {"deadline": (due + timedelta(days=3)).isoformat()}).instance_id
            wf = service.workflow(iid)
            stuck = [t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY) if not t.task_spec.manual]
            assert stuck == [], (ms, stuck)
            waiting = [t for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == "before_deadline"]
            assert bool(waiting) == (service.instance(iid).next_timer_at is not None), ms
    finally:
        set_clock(ManualClock(T0))


# ---------------------------------------------------------------- the worker
def test_a_failing_instance_is_retried_later_and_does_not_stop_the_batch(
        svc: WorkflowService, clock: ManualClock, actions: Actions) -> None:
    when = (T0 + timedelta(hours=1)).isoformat()
    bad = svc.start("fail_later", OFFICE, {"when": when, "opinion": "boom"}).instance_id
    good = svc.start("fail_later", OFFICE, {"when": when, "opinion": "fine"}).instance_id
    clock.advance(timedelta(hours=2))
    worker = Worker(svc, batch_size=10, retry_after=timedelta(minutes=10))
    result = worker.run_pass()
    assert (result.fired, result.failed) == (1, 1)
    assert svc.instance(good).status == "completed"
    inst = svc.instance(bad)
    assert inst.status == "running" and inst.error is not None and "登记失败" in inst.error
    assert inst.next_timer_at == clock.now() + timedelta(minutes=10)
    assert worker.run_pass().moved == 0  # no hot loop
    clock.advance(timedelta(minutes=11))
    assert worker.run_pass().failed == 1
    assert audit_count(svc, "timer_error", bad) == 2 and audit_count(svc, "timer", bad) == 0
    assert audit_count(svc, "timer", good) == 1


def test_stop_finishes_the_instance_in_hand_and_leaves_the_rest_due(
        database: Database, clock: ManualClock) -> None:
    stop = threading.Event()
    registry = ActionRegistry()

    @registry.action("test.register", title="登记")
    def register(ctx: ActionContext) -> dict[str, Any]:
        stop.set()  # SIGTERM arrives while this instance fires
        return {}

    svc = WorkflowService(database, registry, clock)
    deploy(svc, "fail_later")
    ids = [svc.start("fail_later", OFFICE, {"when": (T0 + timedelta(minutes=i)).isoformat()}).instance_id
           for i in range(5)]
    clock.advance(timedelta(hours=1))
    result = Worker(svc, batch_size=5).run_pass(stop=stop)
    assert result.stopped and result.fired == 1
    assert [svc.instance(i).status for i in ids] == ["completed"] + ["running"] * 4
    stop.clear()
    assert Worker(svc, batch_size=5).run_pass(stop=stop).fired == 1  # one per pass while it keeps asking
    assert Worker(svc).run_pass().fired == 3


def test_the_worker_logs_the_lag_of_every_firing(svc: WorkflowService, clock: ManualClock,
                                                 caplog: pytest.LogCaptureFixture) -> None:
    for minutes in (10, 20, 30):
        svc.start("wait_date", OFFICE, {"when": (T0 + timedelta(minutes=minutes)).isoformat()})
    clock.set(T0 + timedelta(minutes=40))
    worker = Worker(svc, name="w1")
    with caplog.at_level("INFO", logger="engine.worker"):
        assert worker.run_pass().fired == 3
    lines = [r.getMessage() for r in caplog.records]
    assert any("lag=1800.000s" in line for line in lines), lines
    assert any(line.startswith("w1 pass: fired=3") and "p50=1200.000s max=1800.000s" in line for line in lines)
    assert worker.stats.summary() == "n=3 p50=1200.000s p95=1800.000s max=1800.000s"
    assert LagStats().summary() == "n=0"


# ---------------------------------------------------------------- scheduled starts
def test_a_timer_start_event_starts_new_instances_not_branches(svc: WorkflowService, clock: ManualClock) -> None:
    deploy(svc, "monthly_visit")
    with svc.db.sessions() as s:
        row = s.scalar(select(Schedule).where(Schedule.name == "monthly_visit:month_end"))
    assert row is not None and row.next_run_at == bj(2026, 3, 31, 9) and row.active
    assert [e["process_key"] for e in svc.startable(ADMIN)].count("monthly_visit") == 0
    for day in (bj(2026, 3, 31, 9), bj(2026, 4, 30, 9), bj(2026, 5, 31, 9)):
        clock.set(day - timedelta(minutes=1))
        assert svc.fire_due_timers() == 0
        clock.set(day + timedelta(minutes=1))
        assert svc.fire_due_timers() == 1
    with svc.db.sessions() as s:
        instances = list(s.scalars(select(Instance).where(Instance.process_key == "monthly_visit")))
        row = s.scalar(select(Schedule).where(Schedule.name == "monthly_visit:month_end"))
    assert len(instances) == 3 and all(i.next_timer_at is None and i.started_by == "system" for i in instances)
    assert len(tasks_named(svc, "走访记录")) == 3
    assert row is not None and (row.runs, row.next_run_at) == (3, bj(2026, 6, 30, 9))


def test_redeploying_keeps_changes_or_retires_a_diagram_schedule(svc: WorkflowService, clock: ManualClock) -> None:
    deploy(svc, "monthly_visit")
    text = (DIAGRAMS / "monthly_visit.bpmn").read_text(encoding="utf-8")
    clock.advance(timedelta(days=3))
    deploy(svc, "monthly_visit", data={"monthly_visit": text.replace(' name="结束"', ' name="完成"').encode()})

    def row() -> Schedule:
        with svc.db.sessions() as s:
            found = s.scalar(select(Schedule).where(Schedule.name == "monthly_visit:month_end"))
        assert found is not None
        return found

    assert row().next_run_at == bj(2026, 3, 31, 9)  # same expression: the schedule keeps its next run
    changed = text.replace("R/2026-01-31T09:00:00/P1M", "R/2026-01-15T10:00:00+08:00/P1M")
    deploy(svc, "monthly_visit", data={"monthly_visit": changed.encode()})
    assert row().next_run_at == bj(2026, 3, 15, 10) and row().expression == "R/2026-01-15T10:00:00+08:00/P1M"
    plain = changed.replace('<bpmn:timerEventDefinition>\n        <bpmn:timeCycle xsi:type="bpmn:tFormalExpression">'
                            'R/2026-01-15T10:00:00+08:00/P1M</bpmn:timeCycle>\n      </bpmn:timerEventDefinition>\n',
                            "")
    assert "timeCycle" not in plain
    deploy(svc, "monthly_visit", data={"monthly_visit": plain.encode()})
    assert (row().active, row().next_run_at) == (False, None)
    bad = text.replace("R/2026-01-31T09:00:00/P1M", "${start_month}")
    with pytest.raises(DeployError) as refused:
        svc.deploy([SourceFile("monthly_visit.bpmn", bad.encode())], DESIGNER)
    assert "month_end" in refused.value.problems[0].compiler_line()


def test_configured_regular_starts_are_validated(svc: WorkflowService, clock: ManualClock) -> None:
    with svc.db.transaction() as s:
        with pytest.raises(NotFound):
            schedule.add_schedule(s, "x", "nowhere", "R/P6M", clock.now())
        with pytest.raises(FormError) as bad:
            schedule.add_schedule(s, "x", "wait_date", "every June", clock.now())
        assert "ISO 8601" in bad.value.errors["expression"]
        with pytest.raises(FormError) as past:
            schedule.add_schedule(s, "x", "wait_date", "2026-01-01T09:00:00", clock.now())
        assert "没有将来" in past.value.errors["expression"]
        with pytest.raises(FormError):
            schedule.add_schedule(s, "x", "wait_date", "R/P1M", clock.now(), start_event="until")
        row = schedule.add_schedule(s, "半年", "wait_date", "R2/2026-01-01T09:00:00/P6M", clock.now(),
                                    run_as="office", data={"when": "2030-01-01"})
        assert (row.next_run_at, row.remaining) == (bj(2026, 7, 1, 9), 1)  # January was the first of two
        with pytest.raises(FormError):
            schedule.add_schedule(s, "半年", "wait_date", "R/P1M", clock.now())
    clock.set(bj(2026, 7, 1, 9))
    assert svc.fire_due_timers() == 1
    with svc.db.sessions() as s:
        [inst] = s.scalars(select(Instance).where(Instance.process_key == "wait_date"))
        done = s.scalar(select(Schedule).where(Schedule.name == "半年"))
    assert inst.started_by == "office" and done is not None and (done.active, done.runs) == (False, 1)
    with svc.db.transaction() as s:
        schedule.remove_schedule(s, "半年")
        with pytest.raises(NotFound):
            schedule.remove_schedule(s, "半年")
