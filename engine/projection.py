"""What a command writes besides the workflow state: the instance row, the task, message and activity
projections that queries read without deserializing workflows, and the append-only audit log.

The hot path writes with plain statements built once (SQLAlchemy memoizes their cache keys) instead of ORM
units of work, collected per save and sent together (engine/writes.py: one statement on PostgreSQL): a completion
is the lock, that write and the notification of a new task, and the commit has (next to) nothing left to
flush."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
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
from engine.driver_rows import transient
from engine.errors import EngineError
from engine.forms import FormSpec
from engine.models import AuditEvent, AwaitedMessage, HumanTask, Instance, TaskCandidate
from engine.runner import Runner
from engine.timers import due_at
from engine.values import split_list, to_datetime
from engine.warm import Warm, WarmWorkflows
from engine.writes import Writes, update_by_id

READY, COMPLETED, CANCELLED = "READY", "COMPLETED", "CANCELLED"
NEW_INSTANCES = "wf_new_instances"  # Session.info key: instances created in this transaction (no rows yet)
# Session.info key: instance id -> (tokens per activity, model id) of the workflow as Projector.restore read it
TOKENS_BEFORE = "wf_tokens_before"
TIMER_EVENT_TYPES = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}

_TASKS = cast(Table, HumanTask.__table__)
_OPEN_TASK_IDS = select(_TASKS.c.id).where(_TASKS.c.instance_id == bindparam("instance_id"),
                                           _TASKS.c.state == READY)
_TASK_COLUMNS = tuple(c.key for c in _TASKS.columns)
_INSTANCES = cast(Table, Instance.__table__)
_INSERT_INSTANCE = insert(_INSTANCES)
_INSTANCE_COLUMNS = tuple(c.key for c in _INSTANCES.columns)
_CANDIDATES = cast(Table, TaskCandidate.__table__)
_AUDIT = cast(Table, AuditEvent.__table__)
_INSERT_AUDIT = insert(_AUDIT)
# New task rows go in as an upsert: a row somehow there already is brought in step instead of failing the command.
TASK_UPSERT = (("id",), ("state", "assignee", "completed_by", "completed_at", "claimed_at"))
CANDIDATE_UPSERT = (("task_id", "kind", "ref"), ("state",))


@dataclass
class CommandResult:
    instance_id: str
    status: str
    business_key: str | None
    ready_tasks: list[str] = field(default_factory=list)


def waiting_for(wf: BpmnWorkflow) -> tuple[list[datetime], set[tuple[str, str]]]:
    """When the workflow's timers fall due, and the (kind, name) of the messages and signals it waits for."""
    timers: list[datetime] = []
    messages: set[tuple[str, str]] = set()
    for ev in wf.waiting_events():
        if ev.event_type in TIMER_EVENT_TYPES:
            when = due_at(ev.value)
            if when is not None:
                timers.append(when)
        elif "Message" in ev.event_type and ev.name:
            messages.add(("message", ev.name))
        elif "Signal" in ev.event_type and ev.name:
            messages.add(("signal", ev.name))
    return timers, messages


def write_row(s: Session, obj: Instance | HumanTask, changes: dict[str, Any]) -> None:
    """UPDATE a loaded row's columns now with one plain statement, and give the object the same values
    without marking it changed: the commit has no unit of work to run for it."""
    table = cast(Table, type(obj).__table__)
    s.connection().execute(update_by_id(table, tuple(sorted(changes))), {**changes, "pk_": obj.id})
    for key, value in changes.items():
        set_committed_value(obj, key, value)


def insert_new_instance(s: Session, inst: Instance, changes: dict[str, Any], writes: Writes | None = None) -> None:
    """A new instance: one plain INSERT with its state, before rows that refer to it (now, or as the first of
    ``writes``); then it joins the session as a loaded row."""
    s.expunge(inst)
    for key in _INSTANCE_COLUMNS:
        setattr(inst, key, changes[key] if key in changes else getattr(inst, key))
    row = {key: getattr(inst, key) for key in _INSTANCE_COLUMNS}
    if writes is None:
        s.connection().execute(_INSERT_INSTANCE, row)
    else:
        writes.insert(_INSTANCES, [row])
    make_transient_to_detached(inst)
    s.add(inst)


def close_candidates(s: Session, tasks: list[HumanTask], state: str) -> None:
    """One UPDATE for the candidate rows of ``tasks`` (only tasks with candidates have rows)."""
    ids = [ht.id for ht in tasks if ht.candidate_groups or ht.candidate_users]
    if ids:
        s.execute(update(TaskCandidate).where(TaskCandidate.task_id.in_(ids)).values(state=state)
                  .execution_options(synchronize_session=False))


def candidate_rows(ht: HumanTask, state: str) -> list[dict[str, Any]]:
    """The ``wf_task_candidate`` rows of a task: one per distinct group and user it is offered to."""
    return ([{"task_id": ht.id, "kind": "g", "ref": g, "state": state}
             for g in dict.fromkeys(ht.candidate_groups or ())]
            + [{"task_id": ht.id, "kind": "u", "ref": u, "state": state}
               for u in dict.fromkeys(ht.candidate_users or ())])


Closing = tuple[HumanTask, dict[str, Any]]  # a task row a command closes, and its changed columns
# Called for each task row a save creates, with the save's writes: rows it adds there (a notification) are sent
# with the command's other rows (one statement on PostgreSQL).
TaskCreated = Callable[[Session, HumanTask, Writes], None]


class Projector:
    """Saves a command's outcome: state, status, timers, tasks, awaited messages, activity counts, audit.

    A command that read the instance with ``restore`` and its open task ids with the lock (``save``'s
    ``open_ids``) has its projections written as diffs: the columns that change on the task rows it closes, the
    rows it creates, their candidate rows, only the activity rows that change; nothing is read back."""

    def __init__(self, runner: Runner, now: Callable[[], datetime], context_keys: Iterable[str] = (),
                 on_task_created: TaskCreated | None = None) -> None:
        self.runner = runner
        self.now = now
        self.context_keys = frozenset(context_keys)
        self.on_task_created = on_task_created
        self.warm = WarmWorkflows()

    def restore(self, s: Session, inst: Instance) -> BpmnWorkflow:
        """The instance's workflow for a command that will save it (the one the last command in this process
        saved, when the row still holds its state): what its activity rows hold now is taken from the
        workflow itself, so ``save`` writes only the rows that change."""
        entry = self.warm.take(inst.id, inst.state, inst.model_id)
        if entry is not None:
            wf, tokens = entry.workflow, entry.tokens
        else:
            wf = self.runner.restore(s, inst)
            tokens = activity.tokens(inst, wf)
        s.info.setdefault(TOKENS_BEFORE, {})[inst.id] = (tokens, inst.model_id)
        return wf

    def save(self, s: Session, inst: Instance, wf: BpmnWorkflow, status: str | None = None, *,
             open_ids: set[str] | None = None, closing: Sequence[Closing] = (),
             audit: dict[str, Any] | None = None) -> CommandResult:
        """Write the command's outcome. ``open_ids``: the instance's open task rows as the command read them
        (then they are not read again); ``closing``: task rows the command closes, written with the new ones;
        ``audit``: an entry (``audit_row``) written with them."""
        now = self.now()
        if not status:
            status = ("completed" if wf.success else "cancelled") if wf.is_completed() else inst.status
        # Every save bumps the revision: a command that waited for the instance's lock relies on it to notice
        # (engine/locks.py).
        changes: dict[str, Any] = {"state": self.runner.dumps(wf), "updated_at": now,
                                   "revision": inst.revision + 1, "status": status}
        if status in ("completed", "cancelled") and inst.ended_at is None:
            changes["ended_at"] = now
        timers, messages = waiting_for(wf)
        changes["next_timer_at"] = min(timers) if timers and status == "running" else None
        writes = Writes()
        if inst in s.new:
            insert_new_instance(s, inst, changes, writes)
        else:
            # Only what changed: an indexed column (status, next timer) written unchanged still costs its
            # index pages on SQLite.
            changes = {key: value for key, value in changes.items() if getattr(inst, key) != value}
            writes.update(_INSTANCES, inst.id, changes)
            for key, value in changes.items():
                set_committed_value(inst, key, value)
        # The projections read only their own rows, which nothing pending touches: no autoflush.
        with s.no_autoflush:
            self.sync_messages(s, inst, messages if inst.status == "running" else set())
            ready, created = self.sync_tasks(s, inst, wf, open_ids, closing, writes)
            tokens, model_id = s.info.get(TOKENS_BEFORE, {}).pop(inst.id, (None, None))
            if tokens is None and inst.id in s.info.get(NEW_INSTANCES, ()):
                tokens, model_id = {}, inst.model_id  # a new instance has no rows yet
            tokens = activity.sync(s, inst, wf, tokens, model_id, writes)  # tokens per activity, for heatmaps
            if audit is not None:
                writes.insert(_AUDIT, [audit])
            if self.on_task_created is not None:
                for ht in created:
                    self.on_task_created(s, ht, writes)
            writes.execute(s.connection())
        for ht, closed in closing:
            for key, value in closed.items():
                set_committed_value(ht, key, value)
        self.warm.hold(s, inst.id, Warm(inst.state, inst.model_id, wf, tokens))
        return CommandResult(inst.id, inst.status, inst.business_key, ready)

    def sync_messages(self, s: Session, inst: Instance, names: set[tuple[str, str]]) -> None:
        """The (kind, name) rows of the messages and signals the instance waits for."""
        if not names and (inst.id in s.info.get(NEW_INSTANCES, ()) or not self.runner.awaits_messages(s, inst)):
            return  # no row can exist: a new instance, or a process without message or signal events
        existing = {(m.kind, m.name): m for m in s.scalars(select(AwaitedMessage)
                                                           .where(AwaitedMessage.instance_id == inst.id))}
        for key, row in existing.items():
            if key not in names:
                s.delete(row)
        for kind, name in names - set(existing):
            s.add(AwaitedMessage(instance_id=inst.id, name=name, kind=kind))

    def _open_task_ids(self, s: Session, inst: Instance, known: set[str] | None) -> set[str]:
        """Ids of the instance's open task rows (read now unless ``known``), including what this session
        changed but has not flushed."""
        open_ids: set[str] = set(known or ())
        if known is None and inst.id not in s.info.get(NEW_INSTANCES, ()):
            open_ids = set(s.connection().execute(_OPEN_TASK_IDS, {"instance_id": inst.id}).scalars())
        open_ids -= {o.id for o in s.dirty if isinstance(o, HumanTask) and o.state != READY}
        open_ids |= {o.id for o in s.new if isinstance(o, HumanTask) and o.instance_id == inst.id
                     and o.state == READY}
        return open_ids

    def sync_tasks(self, s: Session, inst: Instance, wf: BpmnWorkflow, known: set[str] | None,
                   closing: Sequence[Closing], writes: Writes) -> tuple[list[str], list[HumanTask]]:
        """Task rows in step with the workflow's ready user tasks; returns their ids and the new rows."""
        now = self.now()
        live = {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)} \
            if inst.status == "running" else {}
        open_ids = self._open_task_ids(s, inst, known) - {ht.id for ht, _ in closing}
        gone = sorted(open_ids - live.keys())
        if gone:
            s.execute(update(HumanTask).where(HumanTask.id.in_(gone)).values(state=CANCELLED, completed_at=now))
            s.execute(update(TaskCandidate).where(TaskCandidate.task_id.in_(gone)).values(state=CANCELLED)
                      .execution_options(synchronize_session=False))
        created = [self.project(inst, task, now) for tid, task in live.items() if tid not in open_ids]
        for ht, changes in closing:  # only the columns that change: the rest (its form, say) is not sent again
            writes.update(_TASKS, ht.id, changes)
        writes.insert(_TASKS, [{k: getattr(ht, k) for k in _TASK_COLUMNS} for ht in created], TASK_UPSERT)
        writes.insert(_CANDIDATES, [c for ht, changes in closing for c in candidate_rows(ht, changes["state"])]
                      + [c for ht in created for c in candidate_rows(ht, READY)], CANDIDATE_UPSERT)
        return list(live), created

    def project(self, inst: Instance, task: Any, now: datetime) -> HumanTask:
        """The task row of a READY user task: assignment and dates evaluated on the task's data."""
        spec = task.task_spec
        ext = getattr(spec, "extensions", None) or {}
        assignment = _assignment(spec, ext, task.data, now)
        context = {k: v for k, v in task.data.items()
                   if (k.endswith("_id") or k in self.context_keys)
                   and isinstance(v, int | str) and not isinstance(v, bool)}
        groups, users = assignment["groups"], assignment["users"]
        ht: HumanTask = transient(HumanTask, dict(
            id=str(task.id), instance_id=inst.id, process_key=inst.process_key, bpmn_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane, state=READY, assignee=assignment["assignee"],
            candidate_groups=groups, candidate_users=users, due_at=assignment["due"],
            follow_up_at=assignment["follow"], priority=assignment["priority"], context=context,
            form=FormSpec.from_task_spec(spec).as_list(), documentation=spec.documentation,
            business_key=inst.business_key, created_at=now,
        ))
        return ht

    def audit(self, s: Session, action: str, *, actor: Actor | None = None, instance: Instance | None = None,
              task: HumanTask | None = None, comment: str | None = None, process_key: str | None = None,
              data: dict[str, Any] | None = None) -> None:
        """Append one audit entry at once with a plain INSERT."""
        s.connection().execute(_INSERT_AUDIT, [self.audit_row(
            action, actor=actor, instance=instance, task=task, comment=comment, process_key=process_key, data=data)])

    def audit_row(self, action: str, *, actor: Actor | None = None, instance: Instance | None = None,
                  task: HumanTask | None = None, comment: str | None = None, process_key: str | None = None,
                  data: dict[str, Any] | None = None) -> dict[str, Any]:
        """An audit entry's row (``audit`` writes it now, ``save`` with the command's other rows)."""
        return dict(
            at=self.now(), actor=actor.username if actor else "system", action=action,
            instance_id=instance.id if instance else (task.instance_id if task else None),
            task_id=task.id if task else None, task_name=task.name if task else None,
            process_key=process_key or (instance.process_key if instance else None)
            or (task.process_key if task else None),
            data=json.loads(json.dumps(data or {}, default=str)), comment=comment,
        )


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
