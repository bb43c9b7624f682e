"""Steps every feature shares: the directory, starting processes, filling in forms, inboxes, notifications,
refusals, time and instance status. People and units are named as in the rules (“区财政局”, “召集人”)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytest_bdd import given, parsers, then, when
from sqlalchemy import select
from steps.world import NOTIFICATION_KINDS, World

from engine.errors import Forbidden, FormError, TaskAlreadyDone
from meeting import directory
from meeting.models import Unit
from meeting.statuses import InstanceStatus


def checks_refusal(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Marks a step that checks the refusal the previous step left behind."""
    fn.checks_refusal = True  # type: ignore[attr-defined]
    return fn


def table(datatable: list[list[str]]) -> dict[str, str]:
    """A two-column table: label | value."""
    return {row[0].strip(): row[1] for row in datatable}


def rows(datatable: list[list[str]]) -> list[dict[str, str]]:
    """A table with a header row."""
    header = [h.strip() for h in datatable[0]]
    return [dict(zip(header, (c.strip() for c in row), strict=True)) for row in datatable[1:]]


# ---------------------------------------------------------------------- given
@given(parsers.parse("联席会议由{n:d}个成员单位组成，{lead}为牵头单位"))
def given_directory(world: World, n: int, lead: str) -> None:
    with world.db.sessions() as s:
        assert len(directory.member_unit_codes(s)) == n
        lead_code = directory.lead_unit_code(s)
        assert lead_code is not None and directory.unit_name(s, lead_code) == lead


@given(parsers.parse('"{unit}"提出的议题"{title}"已受理，在议题库中等待上会'))
def given_topic_accepted(world: World, unit: str, title: str) -> None:
    world.accepted_topic(unit, title)


# ---------------------------------------------------------------------- when
@when(parsers.parse('"{who}"发起"{process}"'))
def when_start(world: World, who: str, process: str) -> None:
    key = world.process_key(process)
    instance_id = world.attempt(lambda: world.start(world.user(who), key))
    if instance_id:
        world.remember_instance(key, instance_id)


@when(parsers.parse('"{who}"填写"{task}"：'))
def when_fill(world: World, who: str, task: str, datatable: list[list[str]]) -> None:
    world.fill(who, task, table(datatable))


def _owned_task(world: World, owner: str, task: str) -> Any:
    """The task in ``owner``'s inbox that someone else is about to try."""
    return world.find(owner, task)


@when(parsers.parse('"{who}"试图签收"{owner}"的"{task}"'))
def when_try_claim(world: World, who: str, owner: str, task: str) -> None:
    ht = _owned_task(world, owner, task)
    world.attempt(lambda: world.service.claim(ht.id, world.actor(world.user(who))))


@when(parsers.parse('"{who}"试图办理"{owner}"的"{task}"：'))
def when_try_complete(world: World, who: str, owner: str, task: str, datatable: list[list[str]]) -> None:
    ht = _owned_task(world, owner, task)
    values = world.form_values(ht, table(datatable))
    world.attempt(lambda: world.service.complete(ht.id, world.actor(world.user(who)), values))


@when(parsers.parse('"{who}"试图查看"{owner}"的"{task}"'))
def when_try_read(world: World, who: str, owner: str, task: str) -> None:
    ht = _owned_task(world, owner, task)
    world.attempt(lambda: world.service.get_task(ht.id, world.actor(world.user(who))))


@when(parsers.parse("时间过去{days:g}天"))
def when_time_passes(world: World, days: float) -> None:
    world.advance(days)


@when("系统重启")
def when_restart(world: World) -> None:
    world.restart()


# ---------------------------------------------------------------------- then: inboxes
@then(parsers.parse('"{who}"的待办中有"{task}"'))
def then_has_task(world: World, who: str, task: str) -> None:
    assert world.tasks_named(who, task), f"{who}的待办：{sorted(t.name for t in world.open_tasks(who))}"


@then(parsers.parse('"{who}"的待办中没有"{task}"'))
def then_has_no_task(world: World, who: str, task: str) -> None:
    assert not world.tasks_named(who, task), f"{who}的待办中不应有“{task}”"


@then(parsers.parse('"{who}"的待办中有{n:d}件"{task}"'))
def then_has_n_tasks(world: World, who: str, n: int, task: str) -> None:
    assert len(world.tasks_named(who, task)) == n


@then(parsers.parse('"{who}"的待办中仍有"{task}"'))
def then_task_still_open(world: World, who: str, task: str) -> None:
    """Still open, and nobody else has claimed it."""
    found = world.tasks_named(who, task)
    assert found, f"{who}的待办中应仍有“{task}”"
    username = world.user(who)
    assert all(t.assignee in (None, username) for t in found)


# ---------------------------------------------------------------------- then: notifications
@then(parsers.parse('"{who}"收到"{kind}"通知"{title}"'))
def then_notified(world: World, who: str, kind: str, title: str) -> None:
    notes = world.notifications(world.group(who), kind)
    assert any(title in n.title for n in notes), f"{who}的“{kind}”通知：{[n.title for n in notes]}"


@then(parsers.parse('{names}各收到{n:d}条"{kind}"通知'))
def then_each_notified(world: World, names: str, n: int, kind: str) -> None:
    for name in world.people(names):
        notes = world.notifications(world.group(name), kind)
        assert len(notes) == n, f"{name}收到{len(notes)}条“{kind}”通知：{[x.title for x in notes]}"


@then(parsers.parse('"{who}"收到{n:d}条"{kind}"通知'))
def then_notified_n(world: World, who: str, n: int, kind: str) -> None:
    notes = world.notifications(world.group(who), kind)
    assert len(notes) == n, f"{who}收到{len(notes)}条“{kind}”通知：{[x.title for x in notes]}"


@then(parsers.parse('"{who}"没有收到"{kind}"通知'))
def then_not_notified(world: World, who: str, kind: str) -> None:
    assert kind in NOTIFICATION_KINDS
    notes = world.notifications(world.group(who), kind)
    assert not notes, f"{who}不应收到“{kind}”通知：{[n.title for n in notes]}"


# ---------------------------------------------------------------------- then: refusals
@then(parsers.parse('提交被拒绝，"{label}"提示"{message}"'))
@checks_refusal
def then_form_refused(world: World, label: str, message: str) -> None:
    error = world.take_error(FormError)
    assert isinstance(error, FormError)
    form = world.last_task.form if world.last_task is not None else []
    ids = {f["label"]: f["id"] for f in form}
    field = ids.get(label, label)
    assert field in error.errors, f"应提示“{label}”（{field}），实际：{error.errors}"
    assert message in error.errors[field], f"“{label}”的提示为“{error.errors[field]}”"


@then(parsers.parse('操作因无权限被拒绝，提示"{message}"'))
@checks_refusal
def then_forbidden(world: World, message: str) -> None:
    error = world.take_error(Forbidden)
    assert message in error.message, error.message


@then(parsers.parse('提交因任务已办理被拒绝，提示"{message}"'))
@checks_refusal
def then_already_done(world: World, message: str) -> None:
    error = world.take_error(TaskAlreadyDone)
    assert message in error.message, error.message


UNCHANGED = "系统中的数据没有任何改变"


@then(UNCHANGED)
def then_unchanged(world: World) -> None:
    assert world.before is not None, "没有记录操作前的数据"
    after = world.snapshot()
    changed = [t for t in after if after[t] != world.before[t]]
    assert not changed, f"被拒绝的操作改变了：{changed}"


# ---------------------------------------------------------------------- then: instances
@then(parsers.parse('"{process}"流程的状态为"{status}"'))
def then_instance_status(world: World, process: str, status: str) -> None:
    wanted = InstanceStatus.from_label(status)
    row = world.instance_row(world.last_instance(process))
    assert row.status == wanted, f"流程状态为{InstanceStatus.label_of(row.status)}"


def unit_row(world: World, name: str) -> Unit:
    with world.db.sessions() as s:
        unit = s.scalar(select(Unit).where(Unit.code == world.unit_code(name)))
    assert unit is not None
    return unit
