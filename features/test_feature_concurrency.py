"""并发与持久: steps of 并发与持久.feature (parallel attendance replies, stale submissions, restarts)."""

from __future__ import annotations

import threading
from typing import Any

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select
from steps.world import World

from engine.models import HumanTask
from meeting.models import Attendance

scenarios("并发与持久.feature")

LEAVE_UNIT = "区统计局"


@when(parsers.parse("{n:d}个成员单位在同一时刻提交参会回执"))
def replies_at_once(world: World, n: int) -> None:
    names = world.member_names()
    assert len(names) == n
    work = []
    for name in names:
        code = world.unit_code(name)
        task = world.find(name, "确认参会", attendee=code)
        values: dict[str, Any] = ({"attendance": "leave", "leave_reason": "参加市级培训。"} if name == LEAVE_UNIT
                                  else {"attendance": "attend", "attendee_name": f"{name}分管负责人"})
        work.append((world.actor(code), task.id, values))
    barrier = threading.Barrier(n)
    results: dict[str, BaseException | None] = {}

    def reply(actor: Any, task_id: str, values: dict[str, Any]) -> None:
        try:
            barrier.wait(timeout=30)
            world.service.claim(task_id, actor)
            world.service.complete(task_id, actor, values)
            results[actor.username] = None
        except BaseException as exc:  # noqa: BLE001 - every failure is reported by the next step
            results[actor.username] = exc

    threads = [threading.Thread(target=reply, args=job) for job in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "有回执提交未在120秒内完成"
    world.concurrent_results = results


@then(parsers.parse("{n:d}份回执全部提交成功"))
def all_succeeded(world: World, n: int) -> None:
    results = world.concurrent_results
    failures = {who: repr(exc) for who, exc in results.items() if exc is not None}
    assert len(results) == n and not failures, failures


@then('每个成员单位的"确认参会"都已由本单位办理')
def each_done_by_own_unit(world: World) -> None:
    with world.db.sessions() as s:
        done = list(s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "confirm_attendance")))
    assert len(done) == len(world.member_names())
    assert all(t.state == "COMPLETED" and t.completed_by == t.context["attendee"] for t in done)


@then(parsers.parse('会议"{title}"的流程中只产生了{n:d}件"{task}"'))
def tasks_created(world: World, title: str, n: int, task: str) -> None:
    instance_id = world.meeting(title).instance_id
    assert world.count(HumanTask, HumanTask.instance_id == instance_id, HumanTask.name == task) == n


@when(parsers.parse('"{unit}"再次提交刚才办理的"{task}"，改为请假'))
def resubmit(world: World, unit: str, task: str) -> None:
    done = world.last_task
    assert done is not None and done.name == task
    actor = world.actor(world.user(unit))
    world.attempt(lambda: world.service.complete(done.id, actor, {"attendance": "leave", "leave_reason": "临时有事"}))


@then(parsers.parse('"{unit}"的回执仍为参会'))
def still_attends(world: World, unit: str) -> None:
    with world.db.sessions() as s:
        row = s.get(Attendance, (world.meeting().id, world.unit_code(unit)))
    assert row is not None and row.reply == "attend" and row.leave_reason is None
