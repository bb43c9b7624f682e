"""What a command writes besides the workflow state: the instance row, the task, message and activity
projections that queries read without deserializing workflows, and the append-only audit log.

The hot path writes with plain statements built once (SQLAlchemy memoizes their cache keys) instead of ORM
units of work: a completion is a handful of statements, and the commit has (next to) nothing left to flush."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from engine import activity, expressions
from engine.access import Actor
from engine.errors import EngineError
from engine.forms import FormSpec
from engine.models import AuditEvent, AwaitedMessage, HumanTask, Instance, TaskCandidate
from engine.runner import Runner
from engine.timers import due_at
from engine.values import split_list, to_datetime

READY, COMPLETED, CANCELLED = "READY", "COMPLETED", "CANCELLED"
NEW_INSTANCES = "wf_new_instances"  # Session.info key: instances created in this transaction (no rows yet)
TIMER_EVENT_TYPES = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}

_TASKS = cast(Table, HumanTask.__table__)
_OPEN_TASK_IDS = select(_TASKS.c.id).where(_TASKS.c.instance_id == bindparam("instance_id"),
                                           _TASKS.c.state == READY)
_TASK_COLUMNS = tuple(c.key for c in _TASKS.columns)
_INSERT_TASK = insert(_TASKS)
_INSTANCES = cast(Table, Instance.__table__)
_INSERT_INSTANCE = insert(_INSTANCES)
_INSTANCE_COLUMNS = tuple(c.key for c in _INSTANCES.columns)
_INSERT_CANDIDATE = insert(cast(Table, TaskCandidate.__table__))
_INSERT_AUDIT = insert(cast(Table, AuditEvent.__table__))
_UPDATES: dict[tuple[str, tuple[str, ...]], Any] = {}  # (table, changed columns) -> UPDATE by primary key


@dataclass
class CommandResult:
    instance_id: str
    status: str
    business_key: str | None
    ready_tasks: list[str] = field(default_factory=list)


def waiting_for(wf: BpmnWorkflow) -> tuple[list[datetime], set[str]]:
    """When the workflow's timers fall due, and the names of the messages it waits for."""
    timers, messages = [], set()
    for ev in wf.waiting_events():
        if ev.event_type in TIMER_EVENT_TYPES:
            when = due_at(ev.value)
            if when is not None:
                timers.append(when)
        elif "Message" in ev.event_type and ev.name:
            messages.add(ev.name)
    return timers, messages


def write_row(s: Session, obj: Instance | HumanTask, changes: dict[str, Any]) -> None:
    """UPDATE a loaded row's columns now with one plain statement, and give the object the same values
    without marking it changed: the commit has no unit of work to run for it."""
    table = cast(Table, type(obj).__table__)
    names = tuple(sorted(changes))
    stmt = _UPDATES.get((table.name, names))
    if stmt is None:
        stmt = _UPDATES[(table.name, names)] = (update(table).where(table.c.id == bindparam("pk_"))
                                                .values({k: bindparam(k) for k in names}))
    s.connection().execute(stmt, {**changes, "pk_": obj.id})
    for key, value in changes.items():
        set_committed_value(obj, key, value)


def insert_new_instance(s: Session, inst: Instance, changes: dict[str, Any]) -> None:
    """A new instance: one plain INSERT with its state, before rows that refer to it; then it joins the
    session as a loaded row."""
    s.expunge(inst)
    for key in _INSTANCE_COLUMNS:
        setattr(inst, key, changes[key] if key in changes else getattr(inst, key))
    s.connection().execute(_INSERT_INSTANCE, {key: getattr(inst, key) for key in _INSTANCE_COLUMNS})
    make_transient_to_detached(inst)
    s.add(inst)


def close_candidates(s: Session, tasks: list[HumanTask], state: str) -> None:
    """One UPDATE for the candidate rows of ``tasks`` (only tasks with candidates have rows)."""
    ids = [ht.id for ht in tasks if ht.candidate_groups or ht.candidate_users]
    if ids:
        s.execute(update(TaskCandidate).where(TaskCandidate.task_id.in_(ids)).values(state=state)
                  .execution_options(synchronize_session=False))


class Projector:
    """Saves a command's outcome: state, status, timers, tasks, awaited messages, activity counts, audit."""

    def __init__(self, runner: Runner, now: Callable[[], datetime], context_keys: Iterable[str] = (),
                 on_task_created: Callable[[Session, HumanTask], None] | None = None) -> None:
        self.runner = runner
        self.now = now
        self.context_keys = frozenset(context_keys)
        self.on_task_created = on_task_created

    def save(self, s: Session, inst: Instance, wf: BpmnWorkflow, status: str | None = None) -> CommandResult:
        now = self.now()
        if not status:
            status = ("completed" if wf.success else "cancelled") if wf.is_completed() else inst.status
        changes: dict[str, Any] = {"state": self.runner.dumps(wf), "updated_at": now,
                                   "revision": inst.revision + 1, "status": status}
        if status in ("completed", "cancelled") and inst.ended_at is None:
            changes["ended_at"] = now
        timers, messages = waiting_for(wf)
        changes["next_timer_at"] = min(timers) if timers and status == "running" else None
        if inst in s.new:
            insert_new_instance(s, inst, changes)
        else:
            write_row(s, inst, changes)
        # The projections read only their own rows, which nothing pending touches: no autoflush.
        with s.no_autoflush:
            self.sync_messages(s, inst, messages if inst.status == "running" else set())
        ready = self.sync_tasks(s, inst, wf)
        with s.no_autoflush:
            activity.sync(s, inst, wf)  # tokens per activity, for heatmaps
        return CommandResult(inst.id, inst.status, inst.business_key, ready)

    def sync_messages(self, s: Session, inst: Instance, names: set[str]) -> None:
        if not names and (inst.id in s.info.get(NEW_INSTANCES, ()) or not self.runner.awaits_messages(s, inst)):
            return  # no row can exist: a new instance, or a process without message events
        existing = {m.name: m for m in s.scalars(select(AwaitedMessage)
                                                 .where(AwaitedMessage.instance_id == inst.id))}
        for name, row in existing.items():
            if name not in names:
                s.delete(row)
        for name in names - set(existing):
            s.add(AwaitedMessage(instance_id=inst.id, name=name))

    def _open_task_ids(self, s: Session, inst: Instance) -> set[str]:
        """Ids of the instance's open task rows, including what this session changed but has not flushed."""
        open_ids: set[str] = set()
        if inst.id not in s.info.get(NEW_INSTANCES, ()):
            open_ids = set(s.connection().execute(_OPEN_TASK_IDS, {"instance_id": inst.id}).scalars())
        open_ids -= {o.id for o in s.dirty if isinstance(o, HumanTask) and o.state != READY}
        open_ids |= {o.id for o in s.new if isinstance(o, HumanTask) and o.instance_id == inst.id
                     and o.state == READY}
        return open_ids

    def sync_tasks(self, s: Session, inst: Instance, wf: BpmnWorkflow) -> list[str]:
        now = self.now()
        live = {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)} \
            if inst.status == "running" else {}
        open_ids = self._open_task_ids(s, inst)
        gone = sorted(open_ids - live.keys())
        if gone:
            s.execute(update(HumanTask).where(HumanTask.id.in_(gone)).values(state=CANCELLED, completed_at=now))
            s.execute(update(TaskCandidate).where(TaskCandidate.task_id.in_(gone)).values(state=CANCELLED)
                      .execution_options(synchronize_session=False))
        created = [self.project(inst, task, now) for tid, task in live.items() if tid not in open_ids]
        if created:
            conn = s.connection()
            conn.execute(_INSERT_TASK, [{k: getattr(ht, k) for k in _TASK_COLUMNS} for ht in created])
            candidates = [{"task_id": ht.id, "kind": c.kind, "ref": c.ref, "state": c.state}
                          for ht in created if ht.candidate_groups or ht.candidate_users for c in ht.candidates]
            if candidates:
                conn.execute(_INSERT_CANDIDATE, candidates)
        if self.on_task_created is not None:
            for ht in created:
                self.on_task_created(s, ht)
        return list(live)

    def project(self, inst: Instance, task: Any, now: datetime) -> HumanTask:
        """The task row of a READY user task: assignment and dates evaluated on the task's data."""
        spec = task.task_spec
        ext = getattr(spec, "extensions", None) or {}
        assignment = _assignment(spec, ext, task.data, now)
        context = {k: v for k, v in task.data.items()
                   if (k.endswith("_id") or k in self.context_keys)
                   and isinstance(v, int | str) and not isinstance(v, bool)}
        groups, users = assignment["groups"], assignment["users"]
        ht = HumanTask(
            id=str(task.id), instance_id=inst.id, process_key=inst.process_key, bpmn_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane, state=READY, assignee=assignment["assignee"],
            candidate_groups=groups, candidate_users=users, due_at=assignment["due"],
            follow_up_at=assignment["follow"], priority=assignment["priority"], context=context,
            form=FormSpec.from_task_spec(spec).as_list(), documentation=spec.documentation,
            business_key=inst.business_key, created_at=now,
        )
        if groups or users:  # (an empty collection costs an instrumented list: leave it unset)
            ht.candidates = ([TaskCandidate(kind="g", ref=g, state=READY) for g in dict.fromkeys(groups)]
                             + [TaskCandidate(kind="u", ref=u, state=READY) for u in dict.fromkeys(users)])
        return ht

    def audit(self, s: Session, action: str, *, actor: Actor | None = None, instance: Instance | None = None,
              task: HumanTask | None = None, comment: str | None = None, process_key: str | None = None,
              data: dict[str, Any] | None = None) -> None:
        """Append one audit entry at once with a plain INSERT."""
        s.connection().execute(_INSERT_AUDIT, dict(
            at=self.now(), actor=actor.username if actor else "system", action=action,
            instance_id=instance.id if instance else (task.instance_id if task else None),
            task_id=task.id if task else None, task_name=task.name if task else None,
            process_key=process_key or (instance.process_key if instance else None)
            or (task.process_key if task else None),
            data=json.loads(json.dumps(data or {}, default=str)), comment=comment,
        ))


def _assignment(spec: Any, ext: dict[str, Any], data: dict[str, Any], now: datetime) -> dict[str, Any]:
    def render(key: str) -> Any:
        return expressions.render(ext[key], data) if ext.get(key) else None

    try:
        groups = [g for v in split_list(ext.get("candidateGroups"))
                  for g in split_list(expressions.render(v, data))] if ext.get("candidateGroups") else []
        assignee = render("assignee")
        return {
            "groups": groups,
            "users": split_list(render("candidateUsers")),
            "assignee": str(assignee) if assignee else None,
            "due": to_datetime(render("dueDate"), now),
            "follow": to_datetime(render("followUpDate"), now),
            "priority": int(render("priority")) if ext.get("priority") else 50,
        }
    except (expressions.ExpressionError, ValueError, TypeError) as exc:
        raise EngineError(f"任务“{spec.bpmn_name or spec.bpmn_id}”的分派设置无法求值：{exc}") from exc
