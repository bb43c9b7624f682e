"""WorkflowService end to end on a real SQLite file and the real PostgreSQL server: commands, queries,
permissions, timers, lifecycle, audit, versions, messages, actions and concurrency."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import func, select

from bench.world import T0  # where the ``clock`` fixture starts: Monday 09:00 in Beijing
from engine.actions import ActionContext, ActionRegistry
from engine.clock import ManualClock
from engine.db import Database
from engine.errors import (
    ActionError,
    Conflict,
    Forbidden,
    FormError,
    InstanceNotActive,
    NotFound,
    TaskAlreadyDone,
)
from engine.loader import SourceFile
from engine.models import AuditEvent, HumanTask, Instance, TaskCandidate
from engine.service import Actor, WorkflowService

DIAGRAMS = Path(__file__).parent / "diagrams"

UNITS = ["xuanchuan", "minzheng", "fagai", "fupin", "weijian", "yibao", "zhujian", "jiaoti", "caizheng",
         "renshe", "jingmao", "xinfang", "shenji", "tongji", "gongan", "zonggonghui", "canlian"]


def unit_actor(code: str, username: str | None = None) -> Actor:
    return Actor(username or code, frozenset({f"unit:{code}"}), code)


CAIZHENG = unit_actor("caizheng")
CAIZHENG_2 = unit_actor("caizheng", "caizheng_li")  # a colleague in the same unit
MINZHENG = unit_actor("minzheng")
OFFICE = Actor("office", frozenset({"office"}))
DISTRICT = Actor("district", frozenset({"district"}))
ADMIN = Actor("admin", frozenset({"admin"}))
DESIGNER = Actor("designer", frozenset({"designer"}))


class Actions:
    """The test's action registry, recording every call."""

    def __init__(self) -> None:
        self.registry = ActionRegistry()
        self.calls: list[tuple[str, ActionContext]] = []
        reg = self.registry

        @reg.action("test.note", title="记录超时")
        def note(ctx: ActionContext) -> dict[str, Any]:
            self.calls.append(("test.note", ctx))
            return {"noted": True}

        @reg.action("test.register", title="登记")
        def register(ctx: ActionContext) -> dict[str, Any]:
            self.calls.append(("test.register", ctx))
            if ctx.data.get("opinion") == "boom":
                raise ActionError("登记失败：系统繁忙")
            ctx.set_business_key("X-1")
            return {"registered_id": 7}

        @reg.action("test.check", title="核实")
        def check(ctx: ActionContext) -> dict[str, Any]:
            self.calls.append(("test.check", ctx))
            # write through the command's own transaction first: a refusal must roll this back too
            ctx.session.add(AuditEvent(at=ctx.now, actor="test.check", action="side-effect", data={}))
            ctx.session.flush()
            if ctx.data.get("verdict") == "reject":
                raise FormError({"verdict": "退回前须先与牵头单位沟通"})
            return {"verified_by": ctx.actor}

    def named(self, name: str) -> list[ActionContext]:
        return [ctx for n, ctx in self.calls if n == name]


@pytest.fixture
def actions() -> Actions:
    return Actions()


@pytest.fixture
def svc(database: Database, actions: Actions, clock: ManualClock) -> WorkflowService:
    service = WorkflowService(database, actions.registry, clock)
    deploy(service, "two_step", "assign", "message_start", "parallel_units", "waits")
    return service


def deploy(svc: WorkflowService, *names: str, data: dict[str, bytes] | None = None) -> None:
    files = [SourceFile(f"{n}.bpmn", (data or {}).get(n) or (DIAGRAMS / f"{n}.bpmn").read_bytes()) for n in names]
    svc.deploy(files, DESIGNER)


def only(tasks: list[HumanTask], bpmn_id: str | None = None) -> HumanTask:
    hits = [t for t in tasks if bpmn_id is None or t.bpmn_id == bpmn_id]
    assert len(hits) == 1, [(t.bpmn_id, t.state) for t in tasks]
    return hits[0]


def ready(svc: WorkflowService, instance_id: str, bpmn_id: str) -> HumanTask:
    return only([t for t in svc.instance_tasks(instance_id) if t.state == "READY"], bpmn_id)


def ids(tasks: list[HumanTask]) -> list[str]:
    return [t.bpmn_id for t in tasks]


def audit(svc: WorkflowService, instance_id: str) -> list[AuditEvent]:
    return svc.history(instance_id)


def snapshot(svc: WorkflowService, instance_id: str) -> tuple[Any, ...]:
    """Everything a refused command must leave as it was."""
    inst = svc.instance(instance_id)
    tasks = sorted((t.id, t.state, t.assignee, t.completed_by) for t in svc.instance_tasks(instance_id))
    with svc.db.sessions() as s:
        audit_rows = s.scalar(select(func.count()).select_from(AuditEvent))
    return inst.revision, inst.state, inst.status, inst.business_key, inst.updated_at, tasks, audit_rows


def start_two_step(svc: WorkflowService) -> str:
    return svc.start("two_step", CAIZHENG).instance_id


def to_review(svc: WorkflowService) -> tuple[str, HumanTask]:
    """two_step started by caizheng, form filled: the office review is open, its 1-day timer armed."""
    iid = start_two_step(svc)
    svc.complete(ready(svc, iid, "fill").id, CAIZHENG, {"title": "临时救助申请", "amount": "5"})
    return iid, ready(svc, iid, "review")


def start_assign(svc: WorkflowService, **data: Any) -> str:
    return svc.start("assign", OFFICE, {"lead": "caizheng", "deadline": "2026-03-10", **data}).instance_id


# ---------------------------------------------------------------- start and the inbox

def test_start_puts_the_first_task_in_the_initiators_inbox(svc: WorkflowService) -> None:
    result = svc.start("two_step", CAIZHENG)
    assert result.status == "running" and len(result.ready_tasks) == 1
    fill = only(svc.tasks_for(CAIZHENG, "mine"), "fill")
    assert fill.id == result.ready_tasks[0]
    assert (fill.name, fill.assignee, fill.state, fill.process_key) == ("填写申请", "caizheng", "READY", "two_step")
    assert [f["id"] for f in fill.form] == ["title", "amount"]
    assert fill.created_at == T0
    assert ids(svc.tasks_for(CAIZHENG, "open")) == ["fill"]
    assert svc.tasks_for(CAIZHENG, "claimable") == []
    assert svc.tasks_for(CAIZHENG, "done") == []
    for view in ("mine", "claimable", "open", "done"):
        assert svc.tasks_for(MINZHENG, view) == [], view
        assert svc.tasks_for(OFFICE, view) == [], view
    data = svc.task_data(fill.id, CAIZHENG)
    assert (data["initiator"], data["initiator_unit"]) == ("caizheng", "caizheng")
    inst = svc.instance(result.instance_id)
    assert (inst.started_by, inst.started_at, inst.model.version) == ("caizheng", T0, 1)


def test_completing_moves_the_task_to_the_next_group(svc: WorkflowService, clock: ManualClock) -> None:
    iid = start_two_step(svc)
    fill = ready(svc, iid, "fill")
    clock.advance(timedelta(hours=1))
    svc.complete(fill.id, CAIZHENG, {"title": "临时救助申请", "amount": "5"})
    done = only(svc.tasks_for(CAIZHENG, "done"))
    assert (done.id, done.state, done.completed_by, done.completed_at) == (fill.id, "COMPLETED", "caizheng",
                                                                          T0 + timedelta(hours=1))
    assert svc.tasks_for(CAIZHENG, "open") == []
    review = only(svc.tasks_for(OFFICE, "claimable"), "review")
    assert ids(svc.tasks_for(OFFICE, "open")) == ["review"]
    assert svc.tasks_for(OFFICE, "mine") == []
    assert review.candidate_groups == ["office"] and review.assignee is None
    # camunda:dueDate="P2D" counts from the task's creation
    assert review.due_at == T0 + timedelta(hours=1, days=2)
    assert review.due_at.utcoffset() == timedelta(0)


def test_unknown_process_and_forbidden_start(svc: WorkflowService) -> None:
    with pytest.raises(NotFound):
        svc.start("no_such_process", ADMIN)
    with pytest.raises(Forbidden) as info:
        svc.start("assign", CAIZHENG)  # only the office may start it
    assert info.value.status == 403 and "交办事项" in info.value.message
    with svc.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 0


# ---------------------------------------------------------------- who may do what

def test_claim_unclaim_delegate_and_complete_rules(svc: WorkflowService) -> None:
    iid = start_assign(svc)
    task = ready(svc, iid, "handle")
    assert task.candidate_groups == ["unit:caizheng"]

    # another unit neither sees, reads, claims nor completes it
    assert svc.tasks_for(MINZHENG, "open") == []
    for command in (lambda: svc.claim(task.id, MINZHENG),
                    lambda: svc.complete(task.id, MINZHENG, {"opinion": "越权"}),
                    lambda: svc.get_task(task.id, MINZHENG),
                    lambda: svc.task_data(task.id, MINZHENG)):
        with pytest.raises(Forbidden) as info:
            command()
        assert info.value.status == 403
    assert ids(svc.tasks_for(CAIZHENG, "claimable")) == ["handle"]
    assert ids(svc.tasks_for(CAIZHENG_2, "claimable")) == ["handle"]

    svc.claim(task.id, CAIZHENG)
    svc.claim(task.id, CAIZHENG)  # claiming again is harmless
    assert ids(svc.tasks_for(CAIZHENG, "mine")) == ["handle"]
    assert svc.tasks_for(CAIZHENG_2, "claimable") == [] and svc.tasks_for(CAIZHENG_2, "open") == []
    with pytest.raises(Conflict) as conflict:
        svc.claim(task.id, CAIZHENG_2)
    assert conflict.value.status == 409 and "caizheng" in conflict.value.message
    with pytest.raises(Forbidden):
        svc.complete(task.id, CAIZHENG_2, {"opinion": "抢先办理"})
    with pytest.raises(Forbidden):
        svc.unclaim(task.id, CAIZHENG_2)
    with pytest.raises(Forbidden):
        svc.delegate(task.id, CAIZHENG_2, CAIZHENG_2)
    with pytest.raises(Forbidden):
        svc.delegate(task.id, CAIZHENG, MINZHENG)  # not a candidate

    svc.delegate(task.id, CAIZHENG, CAIZHENG_2)
    assert ids(svc.tasks_for(CAIZHENG_2, "mine")) == ["handle"]
    assert svc.tasks_for(CAIZHENG, "mine") == []
    with pytest.raises(Forbidden):
        svc.complete(task.id, CAIZHENG, {"opinion": "已不是我的"})

    svc.unclaim(task.id, CAIZHENG_2)
    assert svc.get_task(task.id, CAIZHENG).assignee is None
    assert ids(svc.tasks_for(CAIZHENG, "claimable")) == ["handle"]

    svc.claim(task.id, CAIZHENG)
    svc.complete(task.id, ADMIN, {"opinion": "管理员代办"})  # an administrator may
    done = svc.get_task(task.id, ADMIN)
    assert (done.state, done.completed_by, done.assignee) == ("COMPLETED", "admin", "caizheng")

    trail = [(a.action, a.actor, a.data) for a in audit(svc, iid) if a.task_id == task.id]
    assert trail == [("claim", "caizheng", {}), ("delegate", "caizheng", {"to": "caizheng_li"}),
                     ("unclaim", "caizheng_li", {}), ("claim", "caizheng", {}),
                     ("complete", "admin", {"opinion": "管理员代办", "count": None})]


def test_a_candidate_completes_an_unclaimed_task_directly(svc: WorkflowService) -> None:
    iid = start_assign(svc)
    task = ready(svc, iid, "handle")
    svc.complete(task.id, CAIZHENG_2, {"opinion": "已办", "count": "2"})
    done = svc.get_task(task.id, CAIZHENG)
    assert (done.completed_by, done.assignee) == ("caizheng_li", "caizheng_li")
    assert ids(svc.tasks_for(CAIZHENG_2, "done")) == ["handle"]


def test_an_assigned_task_cannot_be_unclaimed(svc: WorkflowService) -> None:
    fill = ready(svc, start_two_step(svc), "fill")
    with pytest.raises(Conflict):
        svc.unclaim(fill.id, CAIZHENG)


# ---------------------------------------------------------------- completing

def test_invalid_values_are_refused_and_change_nothing(svc: WorkflowService) -> None:
    iid = start_two_step(svc)
    fill = ready(svc, iid, "fill")
    before = snapshot(svc, iid)
    with pytest.raises(FormError) as info:
        svc.complete(fill.id, CAIZHENG, {"title": "", "amount": "-1"})
    assert info.value.status == 422
    assert info.value.errors == {"title": "请填写“标题”", "amount": "“金额”不能小于 0"}
    with pytest.raises(FormError) as info:
        svc.complete(fill.id, CAIZHENG, {"title": "标" * 21, "amount": "12a"})
    assert set(info.value.errors) == {"title", "amount"}
    assert snapshot(svc, iid) == before
    assert svc.get_task(fill.id, CAIZHENG).state == "READY"
    assert [a.action for a in audit(svc, iid)] == ["start"]


def test_completing_twice_is_a_clear_409(svc: WorkflowService) -> None:
    iid = start_two_step(svc)
    fill = ready(svc, iid, "fill")
    svc.complete(fill.id, CAIZHENG, {"title": "申请", "amount": 1})
    before = snapshot(svc, iid)
    with pytest.raises(TaskAlreadyDone) as info:
        svc.complete(fill.id, CAIZHENG, {"title": "重复提交", "amount": 2})
    err = info.value
    assert err.status == 409
    assert (err.by, err.at, err.state) == ("caizheng", T0, "COMPLETED")
    assert err.message == "任务“填写申请”已由caizheng于2026-03-02 09:00办理，无需重复提交。"
    with pytest.raises(TaskAlreadyDone):
        svc.claim(fill.id, CAIZHENG)
    assert snapshot(svc, iid) == before


def test_undeclared_form_keys_never_reach_the_workflow(svc: WorkflowService) -> None:
    iid = start_two_step(svc)
    svc.complete(ready(svc, iid, "fill").id, CAIZHENG,
                 {"title": "申请", "amount": "5", "hack": "<script>", "initiator": "mallory", "noted": True})
    wf = svc.workflow(iid)
    for task in wf.get_tasks():
        assert "hack" not in task.data and "noted" not in task.data
    review = wf.get_task_from_id(UUID(ready(svc, iid, "review").id))
    assert review.data["initiator"] == "caizheng"
    assert (review.data["title"], review.data["amount"]) == ("申请", 5)
    complete = [a for a in audit(svc, iid) if a.action == "complete"][0]
    assert complete.data == {"title": "申请", "amount": 5}


def test_a_readonly_field_never_overwrites_process_data(svc: WorkflowService) -> None:
    iid = start_assign(svc)
    svc.complete(ready(svc, iid, "handle").id, CAIZHENG, {"opinion": "已拨付救助资金"})
    verify = ready(svc, iid, "verify")
    assert [f["id"] for f in verify.form] == ["opinion", "verdict"]
    assert svc.task_data(verify.id, OFFICE)["opinion"] == "已拨付救助资金"
    svc.complete(verify.id, OFFICE, {"verdict": "accept", "opinion": "篡改后的意见"})
    end = [t for t in svc.workflow(iid).get_tasks() if t.task_spec.bpmn_id == "end"][0]
    assert end.data["opinion"] == "已拨付救助资金"


# ---------------------------------------------------------------- timers

def test_a_boundary_timer_fires_only_when_due(svc: WorkflowService, clock: ManualClock,
                                              actions: Actions) -> None:
    iid, review = to_review(svc)
    assert svc.instance(iid).next_timer_at == T0 + timedelta(days=1)
    assert svc.due_instances() == [] and svc.fire_due_timers() == 0
    clock.advance(timedelta(days=1) - timedelta(seconds=1))
    assert svc.fire_due_timers() == 0
    assert actions.named("test.note") == []
    clock.advance(timedelta(seconds=2))
    assert svc.due_instances() == [iid]
    assert svc.fire_due_timers() == 1
    [ctx] = actions.named("test.note")
    assert (ctx.data["title"], ctx.task_bpmn_id, ctx.actor) == ("临时救助申请", "note", None)
    inst = svc.instance(iid)
    assert inst.next_timer_at is None and inst.status == "running"
    assert svc.get_task(review.id, OFFICE).state == "READY"  # non-interrupting: the review stays
    clock.advance(timedelta(days=5))
    assert svc.fire_due_timers() == 0
    timer = [a for a in audit(svc, iid) if a.action == "timer"]
    assert [(a.actor, a.data["fired"]) for a in timer] == [("system", 1)]


def test_completing_the_task_disarms_its_boundary_timer(svc: WorkflowService, clock: ManualClock,
                                                        actions: Actions) -> None:
    iid, review = to_review(svc)
    svc.complete(review.id, OFFICE, {"ok": "yes"})
    inst = svc.instance(iid)
    assert (inst.status, inst.next_timer_at, inst.ended_at) == ("completed", None, T0)
    clock.advance(timedelta(days=3))
    assert svc.fire_due_timers() == 0 and actions.named("test.note") == []


def test_a_timer_date_expression_fires_after_its_moment_not_at_it(svc: WorkflowService,
                                                                  clock: ManualClock) -> None:
    iid = svc.start("waits", OFFICE, {"deadline": "2026-03-10T17:00:00+08:00"}, business_key="W-1").instance_id
    due = datetime(2026, 3, 7, 9, 0, tzinfo=UTC)  # three days before, in UTC
    assert svc.instance(iid).next_timer_at == due
    clock.set(due)  # SpiffWorkflow fires strictly after the moment: nothing is due yet, nothing is written
    before = snapshot(svc, iid)
    assert svc.due_instances() == [] and svc.fire_due_timers() == 0
    assert snapshot(svc, iid) == before
    clock.advance(timedelta(seconds=1))
    assert svc.fire_due_timers() == 1
    inst = svc.instance(iid)
    assert inst.next_timer_at is None and inst.status == "running"
    assert [a.data["fired"] for a in audit(svc, iid) if a.action == "timer"] == [1]
    assert svc.instance_tasks(iid) == []  # now waiting for the message


def test_a_message_reaches_the_instance_waiting_for_it(svc: WorkflowService, clock: ManualClock) -> None:
    first = svc.start("waits", OFFICE, {"deadline": "2026-03-06T09:00:00+08:00"}, business_key="W-1").instance_id
    second = svc.start("waits", OFFICE, {"deadline": "2026-03-06T09:00:00+08:00"}, business_key="W-2").instance_id
    with pytest.raises(NotFound):  # nobody waits for it yet: both are still on their timer
        svc.send_message("more_info", OFFICE, {"note": "太早"})
    clock.advance(timedelta(days=1, minutes=1))
    assert svc.fire_due_timers() == 2
    with pytest.raises(Conflict):  # two instances wait: the business key must say which
        svc.send_message("more_info", OFFICE, {"note": "?"})
    result = svc.send_message("more_info", OFFICE, {"note": "已补充"}, business_key="W-2")
    assert result.instance_id == second
    remind = only(svc.instance_tasks(second), "remind")
    assert svc.task_data(remind.id, OFFICE)["message_more_info"] == {"note": "已补充"}
    assert svc.instance_tasks(first) == []
    [message] = [a for a in audit(svc, second) if a.action == "message"]
    assert (message.actor, message.data) == ("office", {"message": "more_info", "variables": {"note": "已补充"}})
    svc.send_message("more_info", OFFICE, {"note": "另一件"})  # only one waits now
    assert ids(svc.instance_tasks(first)) == ["remind"]


# ---------------------------------------------------------------- lifecycle

def test_suspend_blocks_work_and_timers_until_resumed(svc: WorkflowService, clock: ManualClock) -> None:
    iid, review = to_review(svc)
    for reason in ("", "   "):
        with pytest.raises(FormError) as info:
            svc.suspend(iid, ADMIN, reason)
        assert info.value.errors == {"reason": "请填写原因"}
    assert svc.instance(iid).status == "running"

    svc.suspend(iid, ADMIN, "等待区政府意见")
    assert svc.instance(iid).status == "suspended"
    with pytest.raises(InstanceNotActive) as info:
        svc.complete(review.id, OFFICE, {"ok": "yes"})
    assert info.value.status == 409
    with pytest.raises(InstanceNotActive):
        svc.claim(review.id, OFFICE)
    with pytest.raises(InstanceNotActive):
        svc.suspend(iid, ADMIN, "再次挂起")
    clock.advance(timedelta(days=2))
    assert svc.due_instances() == [] and svc.fire_due_timers() == 0

    svc.resume(iid, ADMIN, "已收到意见")
    with pytest.raises(InstanceNotActive):
        svc.resume(iid, ADMIN, "再次恢复")
    assert svc.fire_due_timers() == 1
    svc.complete(review.id, OFFICE, {"ok": "yes"})
    assert svc.instance(iid).status == "completed"
    trail = [(a.action, a.actor, a.comment) for a in audit(svc, iid) if a.action in ("suspend", "resume")]
    assert trail == [("suspend", "admin", "等待区政府意见"), ("resume", "admin", "已收到意见")]


def test_cancel_with_a_reason_closes_everything(svc: WorkflowService, clock: ManualClock) -> None:
    iid, review = to_review(svc)
    with pytest.raises(FormError):
        svc.cancel(iid, ADMIN, " ")
    assert svc.instance(iid).status == "running"
    clock.advance(timedelta(hours=3))
    svc.cancel(iid, ADMIN, "重复发起")
    inst = svc.instance(iid)
    assert (inst.status, inst.next_timer_at, inst.ended_at) == ("cancelled", None, T0 + timedelta(hours=3))
    assert svc.get_task(review.id, ADMIN).state == "CANCELLED"
    with svc.db.sessions() as s:
        states = set(s.scalars(select(TaskCandidate.state).where(TaskCandidate.task_id == review.id)))
    assert states == {"CANCELLED"}
    assert svc.tasks_for(OFFICE, "open") == []
    with pytest.raises(TaskAlreadyDone) as info:
        svc.complete(review.id, OFFICE, {"ok": "yes"})
    assert info.value.state == "CANCELLED" and "取消" in info.value.message
    with pytest.raises(InstanceNotActive):
        svc.cancel(iid, ADMIN, "再次终止")
    clock.advance(timedelta(days=3))
    assert svc.fire_due_timers() == 0
    [event] = [a for a in audit(svc, iid) if a.action == "cancel"]
    assert (event.actor, event.comment) == ("admin", "重复发起")


def test_history_lists_who_did_what_with_the_data(svc: WorkflowService, clock: ManualClock) -> None:
    iid = svc.start("two_step", CAIZHENG, {"source": "窗口"}).instance_id
    clock.advance(timedelta(minutes=5))
    svc.complete(ready(svc, iid, "fill").id, CAIZHENG, {"title": "申请", "amount": "3", "extra": 1})
    clock.advance(timedelta(minutes=5))
    review = ready(svc, iid, "review")
    svc.claim(review.id, OFFICE)
    clock.advance(timedelta(days=1))
    assert svc.fire_due_timers() == 1
    svc.complete(review.id, OFFICE, {"ok": "no"}, comment="材料不全")
    events = audit(svc, iid)
    assert [(a.action, a.actor, a.task_name) for a in events] == [
        ("start", "caizheng", None), ("complete", "caizheng", "填写申请"), ("claim", "office", "审核"),
        ("timer", "system", None), ("complete", "office", "审核")]
    assert [a.at for a in events] == [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=10),
                                      T0 + timedelta(days=1, minutes=10), T0 + timedelta(days=1, minutes=10)]
    assert events[0].data == {"version": 1, "start_event": "start", "data": {"source": "窗口"}}
    assert events[1].data == {"title": "申请", "amount": 3}
    assert (events[4].data, events[4].comment) == ({"ok": "no"}, "材料不全")
    assert all(a.instance_id == iid and a.process_key == "two_step" for a in events)
    assert events[2].task_id == review.id


# ---------------------------------------------------------------- versions

def test_running_instances_stay_on_their_version(svc: WorkflowService) -> None:
    old = start_two_step(svc)
    v2 = (DIAGRAMS / "two_step.bpmn").read_text().replace('name="审核"', 'name="办公室审核"')
    deploy(svc, "two_step", data={"two_step": v2.encode()})
    new = start_two_step(svc)
    assert svc.instance(old).model.version == 1
    assert svc.instance(new).model.version == 2
    for iid in (old, new):
        svc.complete(ready(svc, iid, "fill").id, CAIZHENG, {"title": "申请"})
    assert ready(svc, old, "review").name == "审核"
    assert ready(svc, new, "review").name == "办公室审核"
    assert [e["version"] for e in svc.startable(CAIZHENG) if e["process_key"] == "two_step"] == [2]


# ---------------------------------------------------------------- messages

def test_a_message_starts_a_new_instance_for_the_right_people(svc: WorkflowService) -> None:
    def adhoc(actor: Actor) -> list[tuple[str, str, str | None]]:
        return [(e["start_event"], e["kind"], e["message"]) for e in svc.startable(actor)
                if e["process_key"] == "adhoc"]

    assert adhoc(DISTRICT) == [("start_request", "message", "adhoc_request")]
    assert adhoc(OFFICE) == [("start_plain", "none", None)]
    assert adhoc(CAIZHENG) == []
    assert adhoc(ADMIN) == [("start_plain", "none", None), ("start_request", "message", "adhoc_request")]
    assert {e["process_key"] for e in svc.startable(CAIZHENG)} == {"two_step"}

    for actor in (CAIZHENG, OFFICE):
        with pytest.raises(Forbidden):
            svc.send_message("adhoc_request", actor, {"reason": "越权"})
    with svc.db.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Instance)) == 0

    result = svc.send_message("adhoc_request", DISTRICT, {"reason": "x"})
    task = only(svc.instance_tasks(result.instance_id))
    assert (task.bpmn_id, task.candidate_groups) == ("review_request", ["office"])
    data = svc.task_data(task.id, OFFICE)
    assert (data["reason"], data["initiator"]) == ("x", "district")
    assert svc.instance(result.instance_id).started_by == "district"

    plain = svc.start("adhoc", OFFICE)
    assert ids(svc.instance_tasks(plain.instance_id)) == ["draft"]
    with pytest.raises(Forbidden):
        svc.start("adhoc", DISTRICT)
    with pytest.raises(NotFound):
        svc.send_message("nobody_listens", DISTRICT, {})


# ---------------------------------------------------------------- actions

def test_service_action_result_lands_in_the_data_and_sets_the_business_key(
        svc: WorkflowService, actions: Actions) -> None:
    iid = start_assign(svc)
    result = svc.complete(ready(svc, iid, "handle").id, CAIZHENG, {"opinion": "已办结", "count": "2"})
    assert result.business_key == "X-1"
    [ctx] = actions.named("test.register")
    assert (ctx.process_key, ctx.task_bpmn_id, ctx.instance_id, ctx.actor) == ("assign", "register", iid, None)
    assert (ctx.data["opinion"], ctx.data["count"], ctx.data["lead"]) == ("已办结", 2, "caizheng")
    assert svc.instance(iid).business_key == "X-1"
    verify = ready(svc, iid, "verify")
    assert verify.business_key == "X-1"
    assert verify.context == {"registered_id": 7}
    assert svc.task_data(verify.id, OFFICE)["registered_id"] == 7


def test_a_failing_service_action_refuses_the_completion(svc: WorkflowService, actions: Actions) -> None:
    iid = start_assign(svc)
    handle = ready(svc, iid, "handle")
    before = snapshot(svc, iid)
    with pytest.raises(ActionError) as info:
        svc.complete(handle.id, CAIZHENG, {"opinion": "boom"})
    assert info.value.message == "登记失败：系统繁忙"
    assert snapshot(svc, iid) == before
    svc.complete(handle.id, CAIZHENG, {"opinion": "已办结"})
    assert svc.instance(iid).business_key == "X-1"


def test_an_on_complete_action_may_refuse_and_nothing_changes(svc: WorkflowService, actions: Actions) -> None:
    iid = start_assign(svc)
    svc.complete(ready(svc, iid, "handle").id, CAIZHENG, {"opinion": "已办结"})
    verify = ready(svc, iid, "verify")
    before = snapshot(svc, iid)
    with pytest.raises(FormError) as info:
        svc.complete(verify.id, OFFICE, {"verdict": "reject"})
    assert info.value.errors == {"verdict": "退回前须先与牵头单位沟通"}
    assert snapshot(svc, iid) == before  # also: the row the action wrote was rolled back
    assert svc.get_task(verify.id, OFFICE).state == "READY"
    [refusal] = actions.named("test.check")
    assert (refusal.data["verdict"], refusal.data["registered_id"], refusal.actor) == ("reject", 7, "office")

    result = svc.complete(verify.id, OFFICE, {"verdict": "accept"})
    assert result.status == "completed"
    end = [t for t in svc.workflow(iid).get_tasks() if t.task_spec.bpmn_id == "end"][0]
    assert (end.data["verdict"], end.data["verified_by"]) == ("accept", "office")
    with svc.db.sessions() as s:
        side = s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "side-effect"))
    assert side == 1  # only the accepted completion's write survived


def test_assignment_templates_are_rendered_into_the_projection(svc: WorkflowService) -> None:
    iid = start_assign(svc, lead="minzheng", deadline="2026-03-10T17:30:00+08:00")
    handle = ready(svc, iid, "handle")
    assert handle.candidate_groups == ["unit:minzheng"]
    assert handle.due_at == datetime(2026, 3, 10, 9, 30, tzinfo=UTC)
    assert handle.due_at.utcoffset() == timedelta(0)
    assert ids(svc.tasks_for(MINZHENG, "claimable")) == ["handle"]
    assert svc.tasks_for(CAIZHENG, "claimable") == []

    other = ready(svc, start_assign(svc), "handle")  # a date alone: end of that day in Beijing
    assert other.due_at == datetime(2026, 3, 10, 15, 59, 59, tzinfo=UTC)
    assert other.candidate_groups == ["unit:caizheng"]
    # the inbox orders by due date
    assert ids(svc.tasks_for(ADMIN, "open")) == []
    assert [t.id for t in svc.tasks_for(Actor("both", frozenset({"unit:caizheng", "unit:minzheng"})),
                                         "claimable")] == [handle.id, other.id]


# ---------------------------------------------------------------- concurrency

def run_together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run work(i) in n threads released at the same moment; return each result or exception."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def runner(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the test
            results[i] = exc

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a command hung"
    return results


def test_seventeen_units_confirm_at_the_same_moment(svc: WorkflowService) -> None:
    iid = svc.start("parallel_units", OFFICE, {"units": UNITS}).instance_id
    tasks = {t.candidate_groups[0]: t for t in svc.instance_tasks(iid)}
    assert sorted(tasks) == sorted(f"unit:{u}" for u in UNITS)
    assert svc.instance(iid).revision == 1

    results = run_together(len(UNITS), lambda i: svc.complete(
        tasks[f"unit:{UNITS[i]}"].id, unit_actor(UNITS[i]), {"attend": i % 2 == 0}))

    assert [r for r in results if isinstance(r, BaseException)] == []
    after = svc.instance_tasks(iid)
    confirmed = [t for t in after if t.bpmn_id == "confirm"]
    assert len(confirmed) == 17 and {t.state for t in confirmed} == {"COMPLETED"}
    assert {t.completed_by for t in confirmed} == set(UNITS)
    assert all(t.completed_by == t.candidate_groups[0].removeprefix("unit:") for t in confirmed)
    summary = [t for t in after if t.bpmn_id == "summary"]
    assert len(summary) == 1 and summary[0].state == "READY"
    assert ids(svc.tasks_for(OFFICE, "claimable")) == ["summary"]
    assert svc.instance(iid).revision == 1 + 17
    assert len([a for a in audit(svc, iid) if a.action == "complete"]) == 17


def test_eight_people_completing_one_task_only_one_wins(svc: WorkflowService) -> None:
    iid, review = to_review(svc)
    staff = [Actor(f"office_{i}", frozenset({"office"})) for i in range(8)]
    results = run_together(8, lambda i: svc.complete(review.id, staff[i], {"ok": "yes"}))

    wins = [r for r in results if not isinstance(r, BaseException)]
    losses = [r for r in results if isinstance(r, BaseException)]
    assert len(wins) == 1, results
    assert len(losses) == 7 and all(isinstance(e, TaskAlreadyDone) for e in losses), losses
    winner = svc.get_task(review.id, ADMIN).completed_by
    assert winner in {a.username for a in staff}
    assert {e.by for e in losses} == {winner}
    assert svc.instance(iid).status == "completed"
    assert len([a for a in audit(svc, iid) if a.action == "complete" and a.task_id == review.id]) == 1
