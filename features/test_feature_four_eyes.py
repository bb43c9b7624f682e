"""发布审批 (four eyes): steps of 发布审批.feature."""

from __future__ import annotations

import re

from pytest_bdd import parsers, scenarios, then, when
from sqlalchemy import select
from steps.world import World

from engine.designer import Designer
from engine.models import AuditEvent, Instance, ProcessModel

scenarios("发布审批.feature")

PEOPLE = {"流程设计员": "designer", "流程发布审批人": "approver"}
ACTIONS = {"发布": "publish", "驳回": "reject"}


def person(world: World, name: str) -> str:
    return PEOPLE.get(name) or world.user(name)


def pending(world: World, process: str) -> list[ProcessModel]:
    key = world.process_key(process)
    return [m for m in world.service.pending_versions() if m.key == key]


@when(parsers.parse('"{who}"把"{process}"中"{task}"的候选组改为"{groups}"后部署'))
def redesign(world: World, who: str, process: str, task: str, groups: str) -> None:
    key = world.process_key(process)
    with world.db.sessions() as s:
        xml = world.service.latest_model(s, key).xml
    pattern = re.compile(rf'(<bpmn:userTask id="[^"]+" name="{re.escape(task)}"[^>]*camunda:candidateGroups=")[^"]*(")')
    changed, n = pattern.subn(rf"\g<1>{groups}\g<2>", xml)
    assert n == 1, f"“{process}”中没有用户任务“{task}”"
    Designer(world.service).deploy(changed.encode(), world.actor(person(world, who)), key=key)


@when(parsers.parse('"{who}"发布待审批的版本'))
def publish(world: World, who: str) -> None:
    [model] = world.service.pending_versions()
    world.attempt(lambda: world.service.publish(model.key, model.version, world.actor(person(world, who))))


@when(parsers.parse('"{who}"驳回待审批的版本，理由为"{reason}"'))
def reject(world: World, who: str, reason: str) -> None:
    [model] = world.service.pending_versions()
    world.attempt(lambda: world.service.reject(model.key, model.version, world.actor(person(world, who)), reason))


@then(parsers.parse('"{process}"有{n:d}个待审批的版本'))
def pending_count(world: World, process: str, n: int) -> None:
    assert len(pending(world, process)) == n


@then(parsers.parse('"{process}"没有待审批的版本'))
def no_pending(world: World, process: str) -> None:
    assert pending(world, process) == []


@then(parsers.parse('待审批版本的差异中突出显示"{text}"'))
def highlighted(world: World, text: str) -> None:
    [model] = world.service.pending_versions()
    designer = Designer(world.service)
    diff = designer.review_diff(designer.model(model.key, model.version))
    assert any(text in a for c in diff.changes for a in c.assignments), [c.assignments for c in diff.changes]


@then(parsers.parse('新发起的"{process}"按第{version:d}版办理'))
def started_on(world: World, process: str, version: int) -> None:
    instance_id = world.last_instance(process)
    with world.db.sessions() as s:
        inst = s.get(Instance, instance_id)
        assert inst is not None and s.get(ProcessModel, inst.model_id).version == version  # type: ignore[union-attr]


@then(parsers.parse('审计记录中有"{who}"的"{action}"，理由为"{reason}"'))
def audited_with_reason(world: World, who: str, action: str, reason: str) -> None:
    assert reason in audited(world, who, action)


@then(parsers.parse('审计记录中有"{who}"的"{action}"'))
def audited_step(world: World, who: str, action: str) -> None:
    audited(world, who, action)


def audited(world: World, who: str, action: str) -> list[str | None]:
    with world.db.sessions() as s:
        rows = list(s.scalars(select(AuditEvent).where(AuditEvent.action == ACTIONS[action],
                                                      AuditEvent.actor == person(world, who))))
    assert rows, f"没有“{who}”的“{action}”记录"
    return [r.comment for r in rows]


@then(parsers.parse('"{who}"没有可办理的待办'))
def no_work(world: World, who: str) -> None:
    """Whatever the diagrams name, a designer is never a candidate or an assignee."""
    assert world.service.tasks_for(world.actor(person(world, who)), "open") == []
