"""Row locks that serialize commands on one instance: PostgreSQL ``SELECT … FOR UPDATE``; on SQLite the
transaction's ``BEGIN IMMEDIATE`` already excludes other writers."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table, bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from engine.errors import NotFound
from engine.models import HumanTask, Instance, ProcessModel

# An instance's process model comes with it, without the diagram text and the start-event lists.
MODEL_LIGHT = joinedload(Instance.model).load_only(
    ProcessModel.id, ProcessModel.key, ProcessModel.version, ProcessModel.name, ProcessModel.spec_sha,
    ProcessModel.called)
# The instance and the task in one statement (on PostgreSQL once the instance's lock is held).
_INSTANCE_AND_TASK = (select(Instance, HumanTask).options(MODEL_LIGHT)
                      .join(HumanTask, HumanTask.instance_id == Instance.id)
                      .where(HumanTask.id == bindparam("task_id")).execution_options(populate_existing=True))
# The ids of the instance's open task rows, as one comma-separated string: a completion needs them to write its
# projection as a diff, and reading them with the task saves a statement (a round trip on PostgreSQL).
_OPEN = cast(Table, HumanTask.__table__).alias("open_task")
_OPEN_IDS = (select(func.aggregate_strings(_OPEN.c.id, ","))
             .where(_OPEN.c.instance_id == HumanTask.instance_id, _OPEN.c.state == "READY").scalar_subquery())
_INSTANCE_TASK_OPEN = _INSTANCE_AND_TASK.add_columns(_OPEN_IDS)
# PostgreSQL: the lock as a bare id (no objects to build), then the instance, the task and its siblings read in
# one statement once it is held, so they are as the last holder left them (a locking statement's own snapshot
# may predate that holder's commit).
_LOCK_INSTANCE_OF_TASK = (select(Instance.id)
                          .where(Instance.id == select(HumanTask.instance_id)
                                 .where(HumanTask.id == bindparam("task_id")).scalar_subquery())
                          .with_for_update())


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
    both are then read as the previous lock holder left them."""
    locked = s.execute(_LOCK_INSTANCE_OF_TASK, {"task_id": task_id}).first() if postgres else True
    row = s.execute(_INSTANCE_AND_TASK, {"task_id": task_id}).first() if locked else None
    inst, ht = row if row is not None else (None, None)
    if inst is None or ht is None:
        raise NotFound("任务不存在")
    return ht, inst


def lock_task_open(s: Session, task_id: str, postgres: bool) -> tuple[HumanTask, Instance, set[str]]:
    """``lock_task`` plus the ids of the instance's open tasks (READY rows), read in the same statement as the
    task: one statement on SQLite, the lock and one read on PostgreSQL."""
    locked = s.execute(_LOCK_INSTANCE_OF_TASK, {"task_id": task_id}).first() if postgres else True
    row = s.execute(_INSTANCE_TASK_OPEN, {"task_id": task_id}).first() if locked else None
    inst, ht, ids = row if row is not None else (None, None, None)
    if inst is None or ht is None:
        raise NotFound("任务不存在")
    return ht, inst, set(ids.split(",")) if ids else set()
