"""表单栏目: the steps of 表单栏目.feature (conditional form fields, declared with showWhen on the diagram)."""

from __future__ import annotations

from pytest_bdd import parsers, scenarios, then
from sqlalchemy import select
from steps.world import World

from engine.models import AuditEvent, HumanTask

scenarios("表单栏目.feature")


@then(parsers.parse('"{who}"最近一次提交的"{task}"中没有"{label}"'))
def submitted_without(world: World, who: str, task: str, label: str) -> None:
    """The field is not in what the task stored (empty, whatever was typed into it)."""
    with world.db.sessions() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "complete", AuditEvent.task_name == task,
                                                  AuditEvent.actor == world.user(who))
                         .order_by(AuditEvent.id.desc()))
        assert event is not None, f"{who}没有提交过“{task}”"
        done = s.get(HumanTask, event.task_id)
        form = {f["label"]: f["id"] for f in (done.form if done is not None else [])}
    assert label in form, f"“{task}”的表单没有“{label}”"
    assert event.data.get(form[label]) in (None, "", []), event.data


@then(parsers.parse('议题"{title}"的紧急程度为"{urgency}"'))
def topic_urgency(world: World, title: str, urgency: str) -> None:
    assert {"normal": "一般", "urgent": "紧急"}[world.topic(title).urgency] == urgency
