"""Row locks that serialize commands on one instance: PostgreSQL ``SELECT … FOR UPDATE``; on SQLite the
transaction's ``BEGIN IMMEDIATE`` already excludes other writers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, literal_column, select
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from engine.driver_rows import DriverQuery
from engine.errors import NotFound
from engine.models import HumanTask, Instance, ProcessModel

# An instance's process model comes with it, without the diagram text and the start-event lists.
_MODEL_LIGHT_COLUMNS = ("id", "key", "version", "name", "spec_sha", "called")
MODEL_LIGHT = joinedload(Instance.model).load_only(*(getattr(ProcessModel, c) for c in _MODEL_LIGHT_COLUMNS))
# The instance and the task in one statement.
_INSTANCE_AND_TASK = (select(Instance, HumanTask).options(MODEL_LIGHT)
                      .join(HumanTask, HumanTask.instance_id == Instance.id)
                      .where(HumanTask.id == bindparam("task_id")).execution_options(populate_existing=True))
# The ids of the instance's open task rows, as one comma-separated string: a completion needs them to write its
# projection as a diff, and reading them with the task saves a statement (a round trip on PostgreSQL).
_OPEN = cast(Table, HumanTask.__table__).alias("open_task")
_OPEN_IDS = (select(func.aggregate_strings(_OPEN.c.id, ","))
             .where(_OPEN.c.instance_id == HumanTask.instance_id, _OPEN.c.state == "READY").scalar_subquery())
_INSTANCE_TASK_OPEN = _INSTANCE_AND_TASK.add_columns(_OPEN_IDS)
# PostgreSQL: the lock and the read in one statement. The instance row is locked first (PostgreSQL locks in the
# order the clauses name them; every command locks an instance before its task rows, so none can hold a task row
# while it waits for the instance), then the task row. Under READ COMMITTED a row locked after a wait is
# returned as the last holder committed it; a claim changes only the task row, so the task row is locked too (a
# KEY SHARE lock would not do: it does not follow an update that kept the key). Everything else is read as the
# statement's snapshot, taken before any wait, saw it: the open ids, and the process model joined to the instance
# (a migration changes the instance's model). Only a save changes either, and every save bumps the instance's
# revision: the revision as that snapshot saw it comes along, and when it differs from the locked row's, a second
# statement reads again, now that the lock is held (tests/test_lock_read_pg.py).
_SEEN = cast(Table, Instance.__table__).alias("seen_instance")
_SEEN_REVISION = select(_SEEN.c.revision).where(_SEEN.c.id == Instance.id).scalar_subquery()
_ROW_LOCKS = "FOR UPDATE OF wf_instance FOR NO KEY UPDATE OF wf_task"
_LOCKED_INSTANCE_AND_TASK = _INSTANCE_AND_TASK.add_columns(_SEEN_REVISION).suffix_with(_ROW_LOCKS,
                                                                                        dialect="postgresql")
_LOCKED_INSTANCE_TASK_OPEN = _INSTANCE_TASK_OPEN.add_columns(_SEEN_REVISION).suffix_with(_ROW_LOCKS,
                                                                                          dialect="postgresql")


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


def _locked_read(s: Session, task_id: str, postgres: bool, read: Any, locked: Any) -> Any:
    """``read``'s row on SQLite (its ``BEGIN IMMEDIATE`` already excludes other writers); on PostgreSQL
    ``locked``'s, and ``read``'s again when a save committed while it waited (its last column: the revision as
    its snapshot saw it)."""
    statement = locked if postgres else read
    row = _driver_read(s, task_id, statement)
    if row is None:
        row = s.execute(statement, {"task_id": task_id}).first()
    if postgres and row is not None and row[0].revision != row[-1]:
        row = s.execute(read, {"task_id": task_id}).first()  # the objects are the session's now: refreshed
    if row is None:
        raise NotFound("任务不存在")
    return row


def lock_task(s: Session, task_id: str, postgres: bool) -> tuple[HumanTask, Instance]:
    """A task row and its instance, the instance locked first (PostgreSQL) so commands queue per instance;
    both are read as the previous lock holder left them."""
    inst, ht = _locked_read(s, task_id, postgres, _INSTANCE_AND_TASK, _LOCKED_INSTANCE_AND_TASK)[:2]
    return ht, inst


def lock_task_open(s: Session, task_id: str, postgres: bool) -> tuple[HumanTask, Instance, set[str]]:
    """``lock_task`` plus the ids of the instance's open tasks (READY rows), read in the same statement."""
    inst, ht, ids = _locked_read(s, task_id, postgres, _INSTANCE_TASK_OPEN, _LOCKED_INSTANCE_TASK_OPEN)[:3]
    return ht, inst, set(ids.split(",")) if ids else set()


# The read goes straight to the driver and its row becomes the objects the ORM query would have put in the
# session (engine/driver_rows.py): the instance with its model's light columns (the rest load when one of them
# is first touched, which no command does), the task. The same tables, joins, conditions and row locks as the
# ORM statements; the open ids are joined with the database's own aggregate and a literal separator (SQLAlchemy's
# aggregate_strings renders its separator per execution).


def _driver_statement(open_ids: bool, locked: bool) -> Callable[[str], Any]:
    def statement(dialect: str) -> Any:
        instances, tasks = cast(Table, Instance.__table__), cast(Table, HumanTask.__table__)
        models = cast(Table, ProcessModel.__table__)
        join = func.string_agg if dialect == "postgresql" else func.group_concat
        extra = [select(join(_OPEN.c.id, literal_column("','")))
                 .where(_OPEN.c.instance_id == tasks.c.instance_id, _OPEN.c.state == "READY")
                 .scalar_subquery()] if open_ids else []
        if locked:
            extra.append(select(_SEEN.c.revision).where(_SEEN.c.id == instances.c.id).scalar_subquery())
        stmt = (select(*instances.c, *tasks.c, *(models.c[name] for name in _MODEL_LIGHT_COLUMNS), *extra)
                .select_from(instances.join(tasks, tasks.c.instance_id == instances.c.id)
                             .outerjoin(models, models.c.id == instances.c.model_id))
                .where(tasks.c.id == bindparam("task_id")))
        return stmt.suffix_with(_ROW_LOCKS, dialect="postgresql") if locked else stmt
    return statement


_ENTITIES = ((Instance, None), (HumanTask, None), (ProcessModel, _MODEL_LIGHT_COLUMNS))
_DRIVER_READS = {_INSTANCE_AND_TASK: DriverQuery(_driver_statement(False, False), _ENTITIES),
                 _INSTANCE_TASK_OPEN: DriverQuery(_driver_statement(True, False), _ENTITIES),
                 _LOCKED_INSTANCE_AND_TASK: DriverQuery(_driver_statement(False, True), _ENTITIES),
                 _LOCKED_INSTANCE_TASK_OPEN: DriverQuery(_driver_statement(True, True), _ENTITIES)}


def _driver_read(s: Session, task_id: str, read: Any) -> tuple[Any, ...] | None:
    """``read``'s row as the ORM query gives it; None, with nothing sent, when the session holds or has pending
    objects (a command's session has none yet; a bulk reassignment's may hold this instance or task, which the
    ORM query refreshes in place, in the one statement)."""
    if s.identity_map or s.new:
        return None
    found = _DRIVER_READS[read].first(s, {"task_id": task_id})
    if found is None:
        raise NotFound("任务不存在")
    entities, (inst_values, task_values, model_values), extra = found
    instance_entity, task_entity, model_entity = entities
    inst, ht = instance_entity.load(s, inst_values), task_entity.load(s, task_values)
    model = model_entity.held_or_load(s, model_values) if model_values[0] is not None else None
    set_committed_value(inst, "model", model)
    return (inst, ht, *extra)
