"""Wires the engine to the joint-meeting domain: the action registry, the directory's users and groups,
form lookups, and notifications for new tasks. The web layer and the CLI build their service here."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.budgets import Budgets
from engine.clock import Clock
from engine.db import Database
from engine.decisions import DecisionDeploy
from engine.designer import designed_keys, executable_keys
from engine.dmn import decision_ids
from engine.errors import NotFound
from engine.expressions import register_function
from engine.loader import SourceFile
from engine.models import HumanTask
from engine.service import Actor, DeployResult, WorkflowService
from engine.writes import Writes
from meeting import directory, workdays
from meeting.actions import registry
from meeting.fields import DomainLookups, field_types
from meeting.models import User
from meeting.notify import notify_groups
from meeting.principals import unknown_principals

PROCESSES_DIR = Path(__file__).resolve().parent.parent / "processes"
SUPERVISOR_GROUPS = ("admin", "office", "convener")
# Task-data keys shown on task rows (besides every ``*_id``): whom a per-unit task is for.
CONTEXT_KEYS = ("attendee", "co_unit", "lead_unit", "comment_unit", "call_unit", "material_topic")
MANAGER_GROUPS = ("admin", "convener")  # suspend, resume, cancel instances
# Who changes the diagrams never does the work they assign (four eyes): never a candidate or assignee.
DESIGNER_GROUPS = ("designer",)


# Deadlines and timers in diagrams may count 工作日: ``${workdays(deadline, -2)}`` (meeting/workdays.py). Registered
# when this module is imported, so every service and every lint of a diagram knows it.
register_function("workdays", workdays.workdays)


def _notify_new_task(session: Session, task: HumanTask, writes: Writes | None = None) -> None:
    # Personal work (assigned on creation) is news to that person only: telling the group too would show it
    # twice to the person, who is in the group, and to colleagues who cannot take it.
    groups = [f"user:{task.assignee}"] if task.assignee else list(task.candidate_groups or [])
    subject = f"（{task.business_key}）" if task.business_key else ""
    notify_groups(session, groups, "task", f"新待办：{task.name}{subject}",
                  f"请及时办理“{task.name}”。", f"/tasks/{task.id}", task.created_at, writes)


def build_service(db: Database, clock: Clock | None = None, budgets: Budgets | None = None) -> WorkflowService:
    """The service of the joint meeting; ``budgets`` default to the engine's, overridden by the environment
    (engine/budgets.py ENV_NAMES)."""
    workdays.SHARED.bind(db)
    return WorkflowService(db, registry, clock=clock, lookups=DomainLookups, field_types=field_types(),
                           context_keys=CONTEXT_KEYS, supervisor_groups=SUPERVISOR_GROUPS,
                           manager_groups=MANAGER_GROUPS, on_task_created=_notify_new_task,
                           budgets=budgets or Budgets.from_env(), excluded_groups=DESIGNER_GROUPS,
                           principals=unknown_principals)


def actor_for(db: Database, username: str) -> Actor:
    with db.sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        if user is None or not user.active:
            raise NotFound(f"用户“{username}”不存在或已停用")
        return Actor(username, frozenset(directory.groups_of(s, username)), user.unit_code)


def process_sources(directory_path: Path = PROCESSES_DIR) -> list[SourceFile]:
    return [SourceFile(p.name, p.read_bytes()) for p in sorted(directory_path.glob("*.bpmn"))]


def decision_sources(directory_path: Path = PROCESSES_DIR) -> list[SourceFile]:
    return [SourceFile(p.name, p.read_bytes()) for p in sorted(directory_path.glob("*.dmn"))]


def deploy_defaults(service: WorkflowService, actor: Actor | None = None, decisions: bool = True
                    ) -> list[DeployResult]:
    """Deploy the diagrams shipped under processes/ (unchanged ones keep their version). A process whose
    latest version a designer deployed is left as the designer made it: the shipped file is where a process
    starts, and ``flask init`` (run by ``make run``) must not revert the designers' work. With ``decisions``
    the shipped decision tables (.dmn) are deployed too (:func:`deploy_default_decisions`)."""
    designed = designed_keys(service)
    sources = [src for src in process_sources() if not set(executable_keys(src.data)) & designed]
    results = service.deploy(sources, actor) if sources else []
    if decisions:
        deploy_default_decisions(service, actor)
    return results


def deploy_default_decisions(service: WorkflowService, actor: Actor | None = None) -> list[DecisionDeploy]:
    """Deploy the decision tables shipped under processes/ (published at once), leaving alone every decision
    whose latest version a designer deployed, as :func:`deploy_defaults` does for processes."""
    designed = service.decisions.designed_keys()
    sources = [src for src in decision_sources() if not set(decision_ids(src.data)) & designed]
    return service.decisions.deploy(sources, actor) if sources else []


def seed(db: Database) -> None:
    with db.transaction() as s:
        directory.seed_directory(s)
