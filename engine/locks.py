"""Row locks that serialize commands on one instance: PostgreSQL ``SELECT … FOR UPDATE``; on SQLite the
transaction's ``BEGIN IMMEDIATE`` already excludes other writers."""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from engine.errors import NotFound
from engine.models import HumanTask, Instance, ProcessModel

# An instance's process model comes with it, without the diagram text and the start-event lists.
MODEL_LIGHT = joinedload(Instance.model).load_only(
    ProcessModel.id, ProcessModel.key, ProcessModel.version, ProcessModel.name, ProcessModel.spec_sha,
    ProcessModel.called)
_INSTANCE_OF_TASK_FOR_UPDATE = (
    select(Instance).options(MODEL_LIGHT)
    .where(Instance.id == select(HumanTask.instance_id).where(HumanTask.id == bindparam("task_id"))
           .scalar_subquery())
    .execution_options(populate_existing=True).with_for_update(of=Instance))
# SQLite: the instance and the task in one statement.
_INSTANCE_AND_TASK = (select(Instance, HumanTask).options(MODEL_LIGHT)
                      .join(HumanTask, HumanTask.instance_id == Instance.id)
                      .where(HumanTask.id == bindparam("task_id")).execution_options(populate_existing=True))


def lock_instance(s: Session, instance_id: str, postgres: bool, skip_locked: bool = False) -> Instance | None:
    """The instance row, locked for this transaction; None when there is none (or, with ``skip_locked``,
    when another transaction holds it)."""
    stmt = (select(Instance).options(MODEL_LIGHT).where(Instance.id == instance_id)
            .execution_options(populate_existing=True))
    if postgres:
        stmt = stmt.with_for_update(of=Instance, skip_locked=skip_locked)
    return s.scalars(stmt).first()


def existing_instance(s: Session, instance_id: str, postgres: bool) -> Instance:
    inst = lock_instance(s, instance_id, postgres)
    if inst is None:
        raise NotFound("流程实例不存在")
    return inst


def lock_task(s: Session, task_id: str, postgres: bool) -> tuple[HumanTask, Instance]:
    """A task row and its instance, the instance locked first (PostgreSQL) so commands queue per instance;
    the task is then read as the previous lock holder left it."""
    if postgres:
        inst = s.scalars(_INSTANCE_OF_TASK_FOR_UPDATE, {"task_id": task_id}).first()
        ht = s.get(HumanTask, task_id, populate_existing=True) if inst is not None else None
    else:
        row = s.execute(_INSTANCE_AND_TASK, {"task_id": task_id}).first()
        inst, ht = row if row is not None else (None, None)
    if inst is None or ht is None:
        raise NotFound("任务不存在")
    return ht, inst
