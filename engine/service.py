"""The engine's one entry point: a façade over the command and query modules, built once per application.

Each command is one short transaction that locks its instance row. Where things live:

* ``engine.access``        who may read, work on, start and manage (``Actor``, ``Access``)
* ``engine.deployment``    deploy and check diagrams, process versions
* ``engine.decisions``     DMN decision tables: deploy, review, evaluate (``service.decisions``)
* ``engine.starting``      start instances, correlate messages
* ``engine.task_commands`` claim, give back, hand over, complete
* ``engine.lifecycle``     suspend, resume, cancel, fire due timers
* ``engine.queries``       tasks, instances, history
* ``engine.runner``        specs, restoring state, engine steps, named actions
* ``engine.projection``    saving state and the task/message/activity projections, the audit log
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import Select
from sqlalchemy.orm import Session

from engine.access import Access, Actor, may_start
from engine.actions import ActionRegistry
from engine.budgets import DEFAULT, Budgets
from engine.clock import Clock, SystemClock, set_clock
from engine.db import Database
from engine.decisions import DecisionResult, Decisions
from engine.deployment import Deployments, DeployResult, PrincipalCheck, latest_model
from engine.errors import Forbidden
from engine.forms import FieldTypes, generic_field_types
from engine.lifecycle import Lifecycle
from engine.loader import LoadedProcess, SourceFile
from engine.models import AuditEvent, HumanTask, Instance, ProcessModel
from engine.paging import Page
from engine.projection import CommandResult, Projector, TaskCreated
from engine.queries import Queries, task_query
from engine.runner import Runner
from engine.starting import SignalResult, Starts
from engine.task_commands import Prepare, TaskCommands
from engine.worker import Worker

__all__ = ["Actor", "CommandResult", "DecisionResult", "DeployResult", "WorkflowService", "may_start"]


class WorkflowService:
    def __init__(
        self,
        db: Database,
        registry: ActionRegistry,
        clock: Clock | None = None,
        lookups: Callable[[Session], Any] | None = None,
        supervisor_groups: Iterable[str] = ("admin",),
        manager_groups: Iterable[str] = ("admin",),
        on_task_created: TaskCreated | None = None,
        field_types: FieldTypes | None = None,
        context_keys: Iterable[str] = (),
        budgets: Budgets = DEFAULT,
        excluded_groups: Iterable[str] = (),
        principals: PrincipalCheck | None = None,
    ) -> None:
        """``lookups`` builds, per transaction, what field types ask about the domain; ``context_keys`` are
        task-data keys (besides ``*_id``) copied onto task rows for the pages' context cards; ``budgets``
        bound every command (engine/budgets.py); members of ``excluded_groups`` (those who design processes)
        never work on tasks."""
        self.db = db
        self.registry = registry
        self.clock = clock or SystemClock()
        set_clock(self.clock)
        self.field_types = field_types or generic_field_types()
        self.budgets = budgets
        self.access = Access(supervisor_groups, manager_groups, excluded_groups)
        self.runner = Runner(registry, self.now, budgets)
        self.projector = Projector(self.runner, self.now, context_keys, on_task_created)
        # ``principals``: which users and groups named in diagrams the directory does not know (deploy warnings)
        self.deployments = Deployments(db, registry, self.field_types, self.projector, self.now, budgets,
                                       principals)
        self.decisions = Decisions(db, self.projector, self.now)  # DMN decision tables (engine/decisions.py)
        self.starts = Starts(db, self.runner, self.projector, self.now, self.field_types, lookups)
        self.tasks = TaskCommands(db, self.runner, self.projector, self.access, self.field_types, lookups,
                                  self.now)
        self.lifecycle = Lifecycle(db, self.runner, self.projector, self.access, self.now)
        self.queries = Queries(db, self.runner, self.access)

    def now(self) -> datetime:
        return self.clock.now()

    # ------------------------------------------------------------------ deploy
    def deploy(self, sources: list[SourceFile], actor: Actor | None = None, pending: bool = False
               ) -> list[DeployResult]:
        """Deploy (published at once), or with ``pending`` submit for an approver's review (four eyes)."""
        return self.deployments.deploy(sources, actor, pending)

    def publish(self, key: str, version: int, actor: Actor, comment: str | None = None) -> ProcessModel:
        return self.deployments.publish(key, version, actor, comment)

    def reject(self, key: str, version: int, actor: Actor, comment: str) -> ProcessModel:
        return self.deployments.reject(key, version, actor, comment)

    def pending_versions(self) -> list[ProcessModel]:
        return self.deployments.pending()

    def check(self, sources: list[SourceFile]) -> list[LoadedProcess]:
        return self.deployments.check(sources)

    def evaluate_decision(self, key: str, inputs: Mapping[str, Any], version: int | None = None) -> DecisionResult:
        """Evaluate a DMN decision table: the newest published version, or the published ``version`` given."""
        return self.decisions.evaluate(key, inputs, version)

    @staticmethod
    def latest_model(s: Session, key: str) -> ProcessModel:
        return latest_model(s, key)

    # ------------------------------------------------------------------ start and messages
    def startable(self, actor: Actor) -> list[dict[str, Any]]:
        return self.starts.startable(actor)

    def start(self, key: str, actor: Actor, data: dict[str, Any] | None = None, start_event: str | None = None,
              business_key: str | None = None, form_values: dict[str, Any] | None = None,
              prepare: Callable[[Session], dict[str, Any]] | None = None) -> CommandResult:
        return self.starts.start(key, actor, data, start_event, business_key, form_values, prepare)

    def send_message(self, name: str, actor: Actor, variables: dict[str, Any] | None = None,
                     business_key: str | None = None, instance_id: str | None = None) -> CommandResult:
        return self.starts.send_message(name, actor, variables, business_key, instance_id,
                                        manager=self.access.may_manage(actor))

    def send_signal(self, name: str, actor: Actor, variables: dict[str, Any] | None = None) -> SignalResult:
        """Broadcast a signal (managers only: it reaches every instance waiting for it)."""
        if not self.access.may_manage(actor):
            raise Forbidden("只有管理人员可以广播信号")
        return self.starts.broadcast_signal(name, actor, variables)

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
    def task_query(self, actor: Actor, view: str = "mine") -> Select[HumanTask]:
        return task_query(actor, view, self.access.excluded(actor))

    def tasks_for(self, actor: Actor, view: str = "open", limit: int = 200) -> list[HumanTask]:
        return self.queries.tasks_for(actor, view, limit)

    def tasks_page(self, actor: Actor, view: str, limit: int, after: str | None = None, before: str | None = None,
                   sort: str = "due") -> Page[HumanTask]:
        return self.queries.tasks_page(actor, view, limit, after, before, sort)

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
