"""The engine's one entry point: a façade over the command and query modules, built once per application.

Each command is one short transaction that locks its instance row. Where things live:

* ``engine.access``        who may read, work on, start and manage (``Actor``, ``Access``)
* ``engine.deployment``    deploy and check diagrams, process versions
* ``engine.starting``      start instances, correlate messages
* ``engine.task_commands`` claim, give back, hand over, complete
* ``engine.lifecycle``     suspend, resume, cancel, fire due timers
* ``engine.queries``       tasks, instances, history
* ``engine.runner``        specs, restoring state, engine steps, named actions
* ``engine.projection``    saving state and the task/message/activity projections, the audit log
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import Select
from sqlalchemy.orm import Session

from engine.access import Access, Actor, may_start
from engine.actions import ActionRegistry
from engine.clock import Clock, SystemClock, set_clock
from engine.db import Database
from engine.deployment import Deployments, DeployResult, latest_model
from engine.forms import FieldTypes, generic_field_types
from engine.lifecycle import Lifecycle
from engine.loader import LoadedProcess, SourceFile
from engine.models import AuditEvent, HumanTask, Instance, ProcessModel
from engine.projection import CommandResult, Projector
from engine.queries import Queries, task_query
from engine.runner import Runner
from engine.starting import Starts
from engine.task_commands import Prepare, TaskCommands
from engine.worker import Worker

__all__ = ["Actor", "CommandResult", "DeployResult", "WorkflowService", "may_start"]


class WorkflowService:
    def __init__(
        self,
        db: Database,
        registry: ActionRegistry,
        clock: Clock | None = None,
        lookups: Callable[[Session], Any] | None = None,
        supervisor_groups: Iterable[str] = ("admin",),
        manager_groups: Iterable[str] = ("admin",),
        on_task_created: Callable[[Session, HumanTask], None] | None = None,
        field_types: FieldTypes | None = None,
        context_keys: Iterable[str] = (),
    ) -> None:
        """``lookups`` builds, per transaction, what field types ask about the domain; ``context_keys`` are
        task-data keys (besides ``*_id``) copied onto task rows for the pages' context cards."""
        self.db = db
        self.registry = registry
        self.clock = clock or SystemClock()
        set_clock(self.clock)
        self.field_types = field_types or generic_field_types()
        self.access = Access(supervisor_groups, manager_groups)
        self.runner = Runner(registry, self.now)
        self.projector = Projector(self.runner, self.now, context_keys, on_task_created)
        self.deployments = Deployments(db, registry, self.field_types, self.projector, self.now)
        self.starts = Starts(db, self.runner, self.projector, self.now)
        self.tasks = TaskCommands(db, self.runner, self.projector, self.access, self.field_types, lookups,
                                  self.now)
        self.lifecycle = Lifecycle(db, self.runner, self.projector, self.access, self.now)
        self.queries = Queries(db, self.runner, self.access)

    def now(self) -> datetime:
        return self.clock.now()

    # ------------------------------------------------------------------ deploy
    def deploy(self, sources: list[SourceFile], actor: Actor | None = None) -> list[DeployResult]:
        return self.deployments.deploy(sources, actor)

    def check(self, sources: list[SourceFile]) -> list[LoadedProcess]:
        return self.deployments.check(sources)

    @staticmethod
    def latest_model(s: Session, key: str) -> ProcessModel:
        return latest_model(s, key)

    # ------------------------------------------------------------------ start and messages
    def startable(self, actor: Actor) -> list[dict[str, Any]]:
        return self.starts.startable(actor)

    def start(self, key: str, actor: Actor, data: dict[str, Any] | None = None, start_event: str | None = None,
              business_key: str | None = None) -> CommandResult:
        return self.starts.start(key, actor, data, start_event, business_key)

    def send_message(self, name: str, actor: Actor, variables: dict[str, Any] | None = None,
                     business_key: str | None = None, instance_id: str | None = None) -> CommandResult:
        return self.starts.send_message(name, actor, variables, business_key, instance_id)

    # ------------------------------------------------------------------ tasks
    def claim(self, task_id: str, actor: Actor) -> None:
        self.tasks.claim(task_id, actor)

    def unclaim(self, task_id: str, actor: Actor) -> None:
        self.tasks.unclaim(task_id, actor)

    def delegate(self, task_id: str, actor: Actor, to: Actor) -> None:
        self.tasks.delegate(task_id, actor, to)

    def complete(self, task_id: str, actor: Actor, values: dict[str, Any], comment: str | None = None,
                 prepare: Prepare | None = None) -> CommandResult:
        return self.tasks.complete(task_id, actor, values, comment, prepare)

    # ------------------------------------------------------------------ timers and lifecycle
    def due_instances(self, limit: int = 100) -> list[str]:
        return self.lifecycle.due_instances(limit)

    def fire_due_timers(self, limit: int = 100) -> int:
        """Fire what is due (timers, then scheduled starts) as the worker does. Returns how many instances
        moved or started."""
        result = Worker(self).run_pass(limit=limit)
        return result.fired + result.started

    def fire_instance_timers(self, instance_id: str) -> bool:
        return self.lifecycle.fire_instance_timers(instance_id)

    def fire_locked(self, s: Session, inst: Instance) -> bool:
        return self.lifecycle.fire_locked(s, inst)

    def suspend(self, instance_id: str, actor: Actor, reason: str) -> None:
        self.lifecycle.set_status(instance_id, actor, "suspend", "running", "suspended", reason)

    def resume(self, instance_id: str, actor: Actor, reason: str) -> None:
        self.lifecycle.set_status(instance_id, actor, "resume", "suspended", "running", reason)

    def cancel(self, instance_id: str, actor: Actor, reason: str) -> None:
        self.lifecycle.cancel(instance_id, actor, reason)

    # ------------------------------------------------------------------ access
    def is_candidate(self, ht: HumanTask, actor: Actor) -> bool:
        return self.access.is_candidate(ht, actor)

    def may_read(self, ht: HumanTask, actor: Actor) -> bool:
        return self.access.may_read(ht, actor)

    def may_work(self, ht: HumanTask, actor: Actor) -> bool:
        return self.access.may_work(ht, actor)

    def may_manage(self, actor: Actor) -> bool:
        return self.access.may_manage(actor)

    @property
    def supervisor_groups(self) -> frozenset[str]:
        return self.access.supervisor_groups

    # ------------------------------------------------------------------ queries
    @staticmethod
    def task_query(actor: Actor, view: str = "mine") -> Select[HumanTask]:
        return task_query(actor, view)

    def tasks_for(self, actor: Actor, view: str = "open", limit: int = 200) -> list[HumanTask]:
        return self.queries.tasks_for(actor, view, limit)

    def get_task(self, task_id: str, actor: Actor) -> HumanTask:
        return self.queries.get_task(task_id, actor)

    def task_data(self, task_id: str, actor: Actor) -> dict[str, Any]:
        return self.queries.task_data(task_id, actor)

    def history(self, instance_id: str) -> list[AuditEvent]:
        return self.queries.history(instance_id)

    def instance(self, instance_id: str) -> Instance:
        return self.queries.instance(instance_id)

    def instance_tasks(self, instance_id: str) -> list[HumanTask]:
        return self.queries.instance_tasks(instance_id)

    def workflow(self, instance_id: str) -> BpmnWorkflow:
        return self.queries.workflow(instance_id)
