"""Reading tasks, instances and history, with the access rules applied."""

from __future__ import annotations

import copy
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import Select, and_, false, or_, select, union_all
from sqlalchemy.orm import Session

from engine.access import Access, Actor
from engine.db import Database
from engine.errors import Forbidden, NotFound
from engine.models import AuditEvent, HumanTask, Instance, TaskCandidate
from engine.paging import Key, Page, page
from engine.projection import READY
from engine.runner import Runner

TASK_VIEWS = ("mine", "claimable", "open", "done")
# The orders of task lists (keyset paging, engine/paging.py): open work by due date (none last), then by age;
# newest first; done work by when it was done. Each ends in the task id, so the order is total.
TASK_ORDERS: dict[str, list[Key]] = {
    "due": [Key(HumanTask.due_at), Key(HumanTask.created_at), Key(HumanTask.id)],
    "created": [Key(HumanTask.created_at, desc=True), Key(HumanTask.id, desc=True)],
    "done": [Key(HumanTask.completed_at, desc=True), Key(HumanTask.id, desc=True)],
}


def existing(s: Session, instance_id: str) -> Instance:
    inst = s.get(Instance, instance_id)
    if inst is None:
        raise NotFound("流程实例不存在")
    return inst


def task_query(actor: Actor, view: str = "mine", excluded: bool = False) -> Select[HumanTask]:
    """A SELECT over the projection: mine | claimable | open (mine + claimable) | done.

    Each view starts from the actor's own rows (their candidate rows, the tasks assigned to them), found
    through indexes, so its cost follows the actor's work and not the number of tasks. An ``excluded`` actor
    (engine/access.py: designs processes) has no open work, whatever the diagrams name."""
    if excluded and view != "done":
        return select(HumanTask).where(false())
    candidate_ids = select(TaskCandidate.task_id).where(
        TaskCandidate.state == READY,
        or_(and_(TaskCandidate.kind == "g", TaskCandidate.ref.in_(sorted(actor.groups))),
            and_(TaskCandidate.kind == "u", TaskCandidate.ref == actor.username)))
    stmt = select(HumanTask)
    if view == "mine":
        return stmt.where(HumanTask.state == READY, HumanTask.assignee == actor.username)
    if view == "claimable":
        return stmt.where(HumanTask.state == READY, HumanTask.assignee.is_(None), HumanTask.id.in_(candidate_ids))
    if view == "open":
        mine_ids = (select(HumanTask.id).where(HumanTask.state == READY, HumanTask.assignee == actor.username)
                    .correlate(None))
        return stmt.where(HumanTask.state == READY,
                          or_(HumanTask.assignee == actor.username, HumanTask.assignee.is_(None)),
                          HumanTask.id.in_(union_all(mine_ids, candidate_ids)))
    if view == "done":
        return stmt.where(HumanTask.completed_by == actor.username)
    raise ValueError(view)


class Queries:
    def __init__(self, db: Database, runner: Runner, access: Access) -> None:
        self.db = db
        self.runner = runner
        self.access = access

    def tasks_for(self, actor: Actor, view: str = "open", limit: int = 200) -> list[HumanTask]:
        with self.db.sessions() as s:
            order = HumanTask.completed_at.desc() if view == "done" else HumanTask.due_at.asc().nulls_last()
            return list(s.scalars(task_query(actor, view, self.access.excluded(actor)).order_by(order, HumanTask.created_at).limit(limit)))

    def tasks_page(self, actor: Actor, view: str, limit: int, after: str | None = None, before: str | None = None,
                   sort: str = "due") -> Page[HumanTask]:
        """One page of a task list (``sort``: a key of TASK_ORDERS; done tasks always by when they were done)."""
        with self.db.sessions() as s:
            stmt = task_query(actor, view, self.access.excluded(actor))
            return page(s, stmt, TASK_ORDERS["done" if view == "done" else sort], limit, after, before)

    def readable_task(self, s: Session, task_id: str, actor: Actor) -> HumanTask:
        ht = s.get(HumanTask, task_id)
        if ht is None:
            raise NotFound("任务不存在")
        if not self.access.may_read(ht, actor):
            raise Forbidden("您无权查看此任务")
        return ht

    def get_task(self, task_id: str, actor: Actor) -> HumanTask:
        with self.db.sessions() as s:
            return self.readable_task(s, task_id, actor)

    def task_data(self, task_id: str, actor: Actor) -> dict[str, Any]:
        """The data a task currently sees (for prefilling a returned form); deserializes one instance."""
        with self.db.sessions() as s:
            ht = self.readable_task(s, task_id, actor)
            task = self.runner.restore(s, existing(s, ht.instance_id)).get_task_from_id(UUID(task_id))
            return copy.deepcopy(task.data) if task is not None else {}

    def history(self, instance_id: str) -> list[AuditEvent]:
        with self.db.sessions() as s:
            return list(s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                  .order_by(AuditEvent.id)))

    def instance(self, instance_id: str) -> Instance:
        with self.db.sessions() as s:
            return existing(s, instance_id)

    def instance_tasks(self, instance_id: str) -> list[HumanTask]:
        with self.db.sessions() as s:
            return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                  .order_by(HumanTask.created_at)))

    def workflow(self, instance_id: str) -> BpmnWorkflow:
        """The live workflow of an instance, read-only use (monitoring, tests)."""
        with self.db.sessions() as s:
            return self.runner.restore(s, existing(s, instance_id))
