"""What people do with their tasks: claim, give back, hand over, complete."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow import TaskState
from sqlalchemy.orm import Session

from engine.access import Access, Actor
from engine.db import Database
from engine.errors import Conflict, Forbidden, HeldByOther, InstanceNotActive, TaskAlreadyDone
from engine.forms import FieldTypes, FormSpec, validate
from engine.locks import lock_task, lock_task_open
from engine.models import HumanTask, Instance
from engine.projection import COMPLETED, READY, CommandResult, Projector
from engine.runner import Runner
from engine.sensitive import masked, scrub
from engine.values import json_safe

Prepare = Callable[[Session, HumanTask], dict[str, Any]]


class TaskCommands:
    def __init__(self, db: Database, runner: Runner, projector: Projector, access: Access,
                 field_types: FieldTypes, lookups: Callable[[Session], Any] | None,
                 now: Callable[[], datetime]) -> None:
        self.db = db
        self.runner = runner
        self.projector = projector
        self.access = access
        self.field_types = field_types
        self.lookups = lookups
        self.now = now

    def locked(self, s: Session, task_id: str, actor: Actor) -> tuple[HumanTask, Instance]:
        """The open task and its instance, locked; someone who may not do the task learns nothing about it."""
        ht, inst = lock_task(s, task_id, self.db.is_postgres)
        self.check_open(ht, inst, actor)
        return ht, inst

    def check_open(self, ht: HumanTask, inst: Instance, actor: Actor) -> None:
        if (ht.state != READY or inst.status != "running") and not self.access.is_party(ht, actor):
            raise Forbidden("您无权办理此任务")
        if ht.state != READY:
            raise TaskAlreadyDone(ht.name, ht.completed_by, ht.completed_at, ht.state)
        if inst.status != "running":
            raise InstanceNotActive("流程已挂起或已结束，暂不能办理")

    def claim(self, task_id: str, actor: Actor) -> None:
        with self.db.transaction() as s:
            ht, _ = self.locked(s, task_id, actor)
            if ht.assignee == actor.username:
                return
            # Candidacy first: someone who may not do the task learns nothing about who holds it.
            if not self.access.is_candidate(ht, actor):
                raise Forbidden("您不是此任务的候选办理人，不能签收")
            if ht.assignee:
                raise Conflict(f"任务已由{ht.assignee}签收")
            ht.assignee, ht.claimed_at = actor.username, self.now()
            self.projector.audit(s, "claim", actor=actor, task=ht)

    def unclaim(self, task_id: str, actor: Actor) -> None:
        with self.db.transaction() as s:
            ht, _ = self.locked(s, task_id, actor)
            if ht.assignee is None:
                return
            if ht.assignee != actor.username and not actor.is_admin:
                raise Forbidden("只有签收人可以退回签收")
            if not ht.candidate_groups and not ht.candidate_users:
                raise Conflict("此任务指定了办理人，不能退回签收")
            ht.assignee, ht.claimed_at = None, None
            self.projector.audit(s, "unclaim", actor=actor, task=ht)

    def delegate(self, task_id: str, actor: Actor, to: Actor) -> None:
        """Hand a claimed task to a colleague who is also a candidate."""
        with self.db.transaction() as s:
            ht, _ = self.locked(s, task_id, actor)
            if ht.assignee != actor.username and not actor.is_admin:
                raise Forbidden("只有签收人可以转交任务")
            if not self.access.is_candidate(ht, to):
                raise Forbidden(f"{to.username}不是此任务的候选办理人")
            ht.assignee, ht.claimed_at = to.username, self.now()
            self.projector.audit(s, "delegate", actor=actor, task=ht, data={"to": to.username})

    def complete(self, task_id: str, actor: Actor, values: dict[str, Any], comment: str | None = None,
                 prepare: Prepare | None = None) -> CommandResult:
        """Complete a task. ``prepare`` runs inside the same transaction once the task is locked and allowed
        (e.g. storing uploaded files) and returns values to add: a refused submission keeps nothing."""
        with self.db.transaction() as s:
            ht, inst, open_ids = lock_task_open(s, task_id, self.db.is_postgres)
            self.check_open(ht, inst, actor)
            if ht.assignee and ht.assignee != actor.username and not actor.is_admin:
                if not self.access.is_candidate(ht, actor):
                    raise Forbidden("您无权办理此任务")  # not one's own work at all: who holds it is not said
                raise HeldByOther(ht.assignee)
            if not self.access.may_work(ht, actor):
                raise Forbidden("您无权办理此任务")
            if prepare is not None:
                values = {**values, **prepare(s, ht)}
            form = FormSpec([FormSpec.field_from_dict(f) for f in ht.form])
            clean = validate(form, values, self.lookups(s) if self.lookups else None, self.field_types)
            wf = self.projector.restore(s, inst)
            task = wf.get_task_from_id(UUID(task_id))
            if task is None or task.state != TaskState.READY:
                raise Conflict("任务状态已变化，请刷新页面")
            now = self.now()

            def act() -> None:
                updates = self.runner.on_complete(s, inst, task, actor.username, clean)
                task.data.update(clean)
                if updates:
                    task.data.update(updates)
                task.run()

            self.runner.run(s, inst, wf, act)
            sensitive = form.sensitive_ids()  # for this command's actions only (engine/sensitive.py)
            scrub(wf, sensitive)
            audit = self.projector.audit_row("complete", actor=actor, instance=inst, task=ht, comment=comment,
                                             data=json_safe(masked(clean, sensitive)))
            closing = {"state": COMPLETED, "completed_by": actor.username, "completed_at": now,
                       "assignee": ht.assignee or actor.username}
            return self.projector.save(s, inst, wf, open_ids=open_ids, closing=[(ht, closing)], audit=audit)
