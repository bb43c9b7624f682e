"""The engine's commands and queries. Each command is one short transaction that locks its instance row."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import (
    MessageEventDefinition as MessageEventDefinitionBase,
)
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import and_, bindparam, func, insert, inspect, or_, select, union_all, update
from sqlalchemy.orm import Session, defer, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from engine import activity, expressions
from engine.actions import ActionContext, ActionRegistry
from engine.clock import SHANGHAI, Clock, SystemClock, set_clock
from engine.db import Database
from engine.errors import (
    ActionError,
    Conflict,
    EngineError,
    Forbidden,
    FormError,
    InstanceNotActive,
    NotFound,
    TaskAlreadyDone,
)
from engine.forms import FieldLookups, FormSpec, validate
from engine.loader import LoadedProcess, SourceFile, load
from engine.models import (
    AuditEvent,
    AwaitedMessage,
    HumanTask,
    Instance,
    ProcessModel,
    ProcessSpec,
    TaskCandidate,
    new_id,
)
from engine.serialization import StateCodec
from engine.timers import due_at, pass_timer_start, run_engine_steps

READY, COMPLETED, CANCELLED = "READY", "COMPLETED", "CANCELLED"
NEW_INSTANCES = "wf_new_instances"  # Session.info key: instances created in this transaction (no rows yet)
_MESSAGE_SPECS: dict[str, bool] = {}  # spec sha -> has message events (specs are content-addressed)
CONTEXT_KEYS = ("attendee", "co_unit", "lead_unit")
TIMER_EVENT_TYPES = {"TimeDateEventDefinition", "DurationTimerEventDefinition", "CycleTimerEventDefinition"}


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user name and the groups they belong to (roles and ``unit:<code>``)."""

    username: str
    groups: frozenset[str] = frozenset()
    unit: str | None = None

    @property
    def is_admin(self) -> bool:
        return "admin" in self.groups

    @classmethod
    def system(cls) -> Actor:
        return cls("system", frozenset({"system"}))


@dataclass
class DeployResult:
    model: ProcessModel
    created: bool


@dataclass
class CommandResult:
    instance_id: str
    status: str
    business_key: str | None
    ready_tasks: list[str] = field(default_factory=list)


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def _unwrap(exc: BaseException) -> BaseException:
    """SpiffWorkflow wraps what an action or expression raised; find the original."""
    seen = 0
    while seen < 10:
        inner = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
        if isinstance(exc, EngineError | expressions.ExpressionError) or inner is None:
            return exc
        exc, seen = inner, seen + 1
    return exc


def _to_datetime(value: Any, now: datetime, end_of_day: bool = True) -> datetime | None:
    """A due/follow-up value: datetime, date, ISO datetime or date string, or ISO duration from now."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59) if end_of_day else time(0), SHANGHAI)
    text = str(value).strip()
    if text.startswith("P"):
        duration = TimerEventDefinition.parse_iso_duration(text)
        return now + TimerEventDefinition.get_timedelta_from_start(duration, now)
    if len(text) == 10:
        return _to_datetime(date.fromisoformat(text), now, end_of_day)
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=SHANGHAI)


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def _has_message_events(specs: Iterable[Any]) -> bool:
    for spec in specs:
        for task_spec in spec.task_specs.values():
            pending = [getattr(task_spec, "event_definition", None)]
            while pending:
                ed = pending.pop()
                if ed is None:
                    continue
                if isinstance(ed, MessageEventDefinitionBase):
                    return True
                pending.extend(getattr(ed, "event_definitions", None) or [])
    return False


# The hot path's statements, built once (SQLAlchemy also memoizes their cache keys): bench/, issue 7.
# An instance's process model comes with it, without the diagram text and the start-event lists.
_MODEL_LIGHT = joinedload(Instance.model).load_only(
    ProcessModel.id, ProcessModel.key, ProcessModel.version, ProcessModel.name, ProcessModel.spec_sha,
    ProcessModel.called)
_INSTANCE_OF_TASK = (select(Instance).options(_MODEL_LIGHT)
                     .where(Instance.id == select(HumanTask.instance_id)
                            .where(HumanTask.id == bindparam("task_id")).scalar_subquery())
                     .execution_options(populate_existing=True))
_INSTANCE_OF_TASK_FOR_UPDATE = _INSTANCE_OF_TASK.with_for_update(of=Instance)
_TASKS = HumanTask.__table__
_OPEN_TASK_IDS = select(_TASKS.c.id).where(_TASKS.c.instance_id == bindparam("instance_id"),
                                           _TASKS.c.state == READY)
# SQLite: the instance and the task in one statement (BEGIN IMMEDIATE already excludes other writers).
_INSTANCE_AND_TASK = (select(Instance, HumanTask).options(_MODEL_LIGHT)
                      .join(HumanTask, HumanTask.instance_id == Instance.id)
                      .where(HumanTask.id == bindparam("task_id")).execution_options(populate_existing=True))
_INSERT_TASK = insert(HumanTask.__table__)
_INSERT_INSTANCE = insert(Instance.__table__)
_INSTANCE_COLUMNS = tuple(c.key for c in Instance.__table__.columns)
_INSERT_CANDIDATE = insert(TaskCandidate.__table__)
_INSERT_AUDIT = insert(AuditEvent.__table__)
_LATEST_MODEL = (select(ProcessModel).options(defer(ProcessModel.xml))  # the diagram loads when read
                 .where(ProcessModel.key == bindparam("key")).order_by(ProcessModel.version.desc()).limit(1))
_UPDATES: dict[tuple[str, tuple[str, ...]], Any] = {}  # (table, changed columns) -> UPDATE by primary key


def may_start(groups: Iterable[str], starter_groups: list[str]) -> bool:
    groups = set(groups)
    if "admin" in groups:
        return True
    for g in starter_groups:
        if g == "unit:*" and any(x.startswith("unit:") for x in groups):
            return True
        if g in groups:
            return True
    return False


class WorkflowService:
    def __init__(
        self,
        db: Database,
        registry: ActionRegistry,
        clock: Clock | None = None,
        lookups: Callable[[Session], FieldLookups] | None = None,
        supervisor_groups: Iterable[str] = ("admin",),
        on_task_created: Callable[[Session, HumanTask], None] | None = None,
    ) -> None:
        self.db = db
        self.registry = registry
        self.clock = clock or SystemClock()
        set_clock(self.clock)
        self.codec = StateCodec()
        self.lookups = lookups
        self.supervisor_groups = frozenset(supervisor_groups)
        self.on_task_created = on_task_created

    def now(self) -> datetime:
        return self.clock.now()

    # ------------------------------------------------------------------ deploy
    def deploy(self, sources: list[SourceFile], actor: Actor | None = None) -> list[DeployResult]:
        """Check and deploy a batch; a process whose diagram and spec did not change keeps its version."""
        with self.db.transaction() as s:
            deployed = {m.key: (m.file_name, m.xml) for m in self._latest_models(s)}
            loaded = load(sources, self.registry, deployed)
            results = [self._store_model(s, lp, actor) for lp in loaded]
        return results

    def check(self, sources: list[SourceFile]) -> list[LoadedProcess]:
        """Exactly the checks of ``deploy`` (against what is deployed now), storing nothing.
        Raises DeployError listing every problem."""
        with self.db.sessions() as s:
            deployed = {m.key: (m.file_name, m.xml) for m in self._latest_models(s)}
        return load(sources, self.registry, deployed)

    def _latest_models(self, s: Session) -> list[ProcessModel]:
        latest = (select(ProcessModel.key, func.max(ProcessModel.version).label("v"))
                  .group_by(ProcessModel.key).subquery())
        stmt = select(ProcessModel).join(latest, and_(ProcessModel.key == latest.c.key,
                                                       ProcessModel.version == latest.c.v))
        return list(s.scalars(stmt))

    def latest_model(self, s: Session, key: str) -> ProcessModel:
        model = s.scalars(_LATEST_MODEL, {"key": key}).first()
        if model is None:
            raise NotFound(f"流程“{key}”尚未部署")
        return model

    def _store_model(self, s: Session, lp: LoadedProcess, actor: Actor | None) -> DeployResult:
        current = s.scalars(select(ProcessModel).where(ProcessModel.key == lp.key)
                            .order_by(ProcessModel.version.desc()).limit(1)).first()
        if current is not None and current.source_sha == lp.source_sha and current.spec_sha == lp.spec_sha:
            return DeployResult(current, False)
        if s.get(ProcessSpec, lp.spec_sha) is None:
            s.add(ProcessSpec(sha=lp.spec_sha, spec=lp.spec))
            s.flush()
        model = ProcessModel(
            key=lp.key, version=(current.version + 1) if current else 1, name=lp.name, file_name=lp.file,
            xml=lp.xml, source_sha=lp.source_sha, spec_sha=lp.spec_sha, starter_groups=lp.starter_groups,
            start_events=[e.__dict__ for e in lp.start_events], called=lp.called,
            deployed_by=actor.username if actor else None, deployed_at=self.now(),
        )
        s.add(model)
        s.flush()
        self._audit(s, actor, "deploy", None, None, None, lp.key,
                    {"version": model.version, "file": lp.file, "spec_sha": lp.spec_sha})
        from engine.schedule import sync_timer_starts

        sync_timer_starts(s, model, lp.spec, self.now())  # timer start events → wf_schedule rows
        return DeployResult(model, True)

    # ------------------------------------------------------------------ start
    def startable(self, actor: Actor) -> list[dict[str, Any]]:
        """The start events this actor may use, one entry per (process, start event)."""
        with self.db.sessions() as s:
            out = []
            for m in sorted(self._latest_models(s), key=lambda m: m.key):
                for ev in m.start_events:
                    if ev["kind"] == "timer":
                        continue
                    groups = ev.get("starter_groups") or m.starter_groups
                    if groups and may_start(actor.groups, groups):
                        out.append({"process_key": m.key, "process_name": m.name, "version": m.version,
                                    "start_event": ev["id"], "name": ev["name"] or m.name,
                                    "kind": ev["kind"], "message": ev.get("message")})
            return out

    def start(
        self,
        key: str,
        actor: Actor,
        data: dict[str, Any] | None = None,
        start_event: str | None = None,
        business_key: str | None = None,
    ) -> CommandResult:
        with self.db.transaction() as s:
            model = self.latest_model(s, key)
            event = self._choose_start_event(model, start_event)
            groups = event.get("starter_groups") or model.starter_groups
            if not may_start(actor.groups, groups):
                raise Forbidden(f"您无权发起“{model.name}”")
            if event["kind"] == "message":
                return self._start_instance(s, model, actor, data or {}, event, business_key, message=True)
            return self._start_instance(s, model, actor, data or {}, event, business_key)

    def _choose_start_event(self, model: ProcessModel, start_event: str | None) -> dict[str, Any]:
        events = [e for e in model.start_events if e["kind"] != "timer"]
        if start_event is not None:
            for e in events:
                if e["id"] == start_event:
                    return e
            raise NotFound(f"流程“{model.name}”没有开始事件“{start_event}”")
        for e in events:
            if e["kind"] == "none":
                return e
        raise EngineError(f"流程“{model.name}”只能由消息或定时器启动")

    def _start_instance(
        self, s: Session, model: ProcessModel, actor: Actor, data: dict[str, Any], event: dict[str, Any],
        business_key: str | None, message: bool = False,
    ) -> CommandResult:
        spec, subs = self._specs(s, model)
        wf = BpmnWorkflow(spec, subs)
        now = self.now()
        # Inserted once, complete, when _save flushes it (or earlier, by any query that autoflushes).
        inst = Instance(id=new_id(), model=model, model_id=model.id, process_key=model.key, status="running",
                        business_key=business_key, title=model.name, state="", started_by=actor.username,
                        started_at=now, updated_at=now, revision=0)
        s.add(inst)
        s.info.setdefault(NEW_INSTANCES, set()).add(inst.id)
        start_data = {**copy.deepcopy(data), "initiator": actor.username, "initiator_unit": actor.unit}
        start_task = wf.get_tasks(spec_name="Start")[0]
        start_task.data.update(start_data)
        if message or any(e["kind"] != "none" for e in model.start_events):
            for t in wf.get_tasks():
                if t.task_spec.bpmn_id in {e["id"] for e in model.start_events if e["id"] != event["id"]}:
                    t.cancel()
                elif event["kind"] == "timer" and t.task_spec.bpmn_id == event["id"]:
                    pass_timer_start(t)  # a scheduled start (engine/schedule.py) has fired
        self._audit(s, actor, "start", inst, None, None, model.key,
                    {"version": model.version, "start_event": event["id"], "data": _json_safe(data)})
        self._run(s, inst, wf, actor, lambda: None)
        if message:
            self._deliver(wf, event["message"], {})
            self._run(s, inst, wf, actor, lambda: None)
        return self._save(s, inst, wf)

    # ------------------------------------------------------------------ messages
    def send_message(
        self,
        name: str,
        actor: Actor,
        variables: dict[str, Any] | None = None,
        business_key: str | None = None,
        instance_id: str | None = None,
    ) -> CommandResult:
        """Correlate a message: to the instance waiting for it (by id or business key), or start a new
        instance at a message start event of that name."""
        with self.db.transaction() as s:
            stmt = (select(Instance.id).join(AwaitedMessage, AwaitedMessage.instance_id == Instance.id)
                    .where(AwaitedMessage.name == name, Instance.status == "running"))
            if instance_id:
                stmt = stmt.where(Instance.id == instance_id)
            if business_key:
                stmt = stmt.where(Instance.business_key == business_key)
            waiting = list(s.scalars(stmt.limit(2)))
            if len(waiting) > 1:
                raise Conflict(f"有多个流程实例在等待消息“{name}”，请指定业务编号")
            if waiting:
                inst = self._lock(s, waiting[0])
                wf = self._restore(s, inst)
                self._audit(s, actor, "message", inst, None, None, inst.process_key,
                            {"message": name, "variables": _json_safe(variables or {})})
                self._run(s, inst, wf, actor, lambda: self._deliver(wf, name, variables or {}))
                return self._save(s, inst, wf)
            for model in self._latest_models(s):
                for ev in model.start_events:
                    if ev["kind"] == "message" and ev.get("message") == name:
                        groups = ev.get("starter_groups") or model.starter_groups
                        if not may_start(actor.groups, groups):
                            raise Forbidden(f"您无权发送“{ev['name'] or name}”")
                        return self._start_instance(s, model, actor, variables or {}, ev, business_key,
                                                    message=True)
            raise NotFound(f"没有流程在等待消息“{name}”")

    def _deliver(self, wf: BpmnWorkflow, name: str, variables: dict[str, Any]) -> None:
        payload = {"payload": copy.deepcopy(variables), "result_var": f"message_{name}"}
        try:
            wf.send_event(BpmnEvent(MessageEventDefinition(name), payload=payload))
        except SpiffWorkflowException as exc:
            raise NotFound(f"流程没有在等待消息“{name}”") from exc

    # ------------------------------------------------------------------ tasks
    def claim(self, task_id: str, actor: Actor) -> None:
        with self.db.transaction() as s:
            ht = self._task_for_update(s, task_id, actor)
            if ht.assignee == actor.username:
                return
            # Candidacy first: someone who may not do the task learns nothing about who holds it.
            if not self.is_candidate(ht, actor):
                raise Forbidden("您不是此任务的候选办理人，不能签收")
            if ht.assignee:
                raise Conflict(f"任务已由{ht.assignee}签收")
            ht.assignee, ht.claimed_at = actor.username, self.now()
            self._audit(s, actor, "claim", None, ht, None, ht.process_key, {})

    def unclaim(self, task_id: str, actor: Actor) -> None:
        with self.db.transaction() as s:
            ht = self._task_for_update(s, task_id, actor)
            if ht.assignee is None:
                return
            if ht.assignee != actor.username and not actor.is_admin:
                raise Forbidden("只有签收人可以退回签收")
            if not ht.candidate_groups and not ht.candidate_users:
                raise Conflict("此任务指定了办理人，不能退回签收")
            ht.assignee, ht.claimed_at = None, None
            self._audit(s, actor, "unclaim", None, ht, None, ht.process_key, {})

    def delegate(self, task_id: str, actor: Actor, to: Actor) -> None:
        """Hand a claimed task to a colleague who is also a candidate."""
        with self.db.transaction() as s:
            ht = self._task_for_update(s, task_id, actor)
            if ht.assignee != actor.username and not actor.is_admin:
                raise Forbidden("只有签收人可以转交任务")
            if not self.is_candidate(ht, to):
                raise Forbidden(f"{to.username}不是此任务的候选办理人")
            ht.assignee, ht.claimed_at = to.username, self.now()
            self._audit(s, actor, "delegate", None, ht, None, ht.process_key, {"to": to.username})

    def complete(self, task_id: str, actor: Actor, values: dict[str, Any], comment: str | None = None
                 ) -> CommandResult:
        with self.db.transaction() as s:
            ht, inst = self._locked_task(s, task_id, actor)
            if ht.assignee and ht.assignee != actor.username and not actor.is_admin:
                raise Forbidden(f"此任务已由{ht.assignee}签收，只有签收人可以办理")
            if not ht.assignee and not self.is_candidate(ht, actor) and not actor.is_admin:
                raise Forbidden("您无权办理此任务")
            form = FormSpec([FormSpec.field_from_dict(f) for f in ht.form])
            clean = validate(form, values, self.lookups(s) if self.lookups else None)
            wf = self._restore(s, inst)
            task = wf.get_task_from_id(UUID(task_id))
            if task is None or task.state != TaskState.READY:
                raise Conflict("任务状态已变化，请刷新页面")
            now = self.now()

            def act() -> None:
                updates = self._on_complete(s, inst, task, actor, clean)
                task.data.update(clean)
                if updates:
                    task.data.update(updates)
                task.run()

            self._run(s, inst, wf, actor, act)
            self._write(s, ht, {"state": COMPLETED, "completed_by": actor.username, "completed_at": now,
                                "assignee": ht.assignee or actor.username})
            self._close_candidates(s, [ht], COMPLETED)
            self._audit(s, actor, "complete", inst, ht, comment, inst.process_key, _json_safe(clean))
            return self._save(s, inst, wf)

    def _on_complete(self, s: Session, inst: Instance, task: Any, actor: Actor, values: dict[str, Any]
                     ) -> dict[str, Any] | None:
        ext = getattr(task.task_spec, "extensions", None) or {}
        name = ext.get("onComplete")
        if not name:
            return None
        data = {**copy.deepcopy(task.data), **values}
        return self._call_action(s, inst, task, name, data, actor.username)

    def _call_action(self, s: Session, inst: Instance, task: Any, name: str, data: dict[str, Any],
                     actor: str | None) -> dict[str, Any] | None:
        if name not in self.registry:
            raise ActionError(f"动作“{name}”未登记")
        ctx = ActionContext(session=s, now=self.now(), instance_id=inst.id, process_key=inst.process_key,
                            task_id=str(task.id), task_bpmn_id=task.task_spec.bpmn_id, data=data, actor=actor,
                            business_key=inst.business_key)
        result = self.registry.get(name).fn(ctx)
        if ctx.business_key_changed:
            inst.business_key = ctx.business_key
            s.flush()
        return result

    # ------------------------------------------------------------------ timers
    def due_instances(self, limit: int = 100) -> list[str]:
        with self.db.sessions() as s:
            stmt = (select(Instance.id).where(Instance.status == "running", Instance.next_timer_at < self.now())
                    .order_by(Instance.next_timer_at).limit(limit))
            return list(s.scalars(stmt))

    def fire_due_timers(self, limit: int = 100) -> int:
        """Fire what is due (timers, then scheduled starts) as the worker does (engine/worker.py).
        Returns how many instances moved or started."""
        from engine.worker import Worker

        result = Worker(self).run_pass(limit=limit)
        return result.fired + result.started

    def fire_instance_timers(self, instance_id: str) -> bool:
        with self.db.transaction() as s:
            stmt = select(Instance).where(Instance.id == instance_id)
            if self.db.is_postgres:
                stmt = stmt.with_for_update(skip_locked=True, of=Instance)
            inst = s.scalars(stmt.execution_options(populate_existing=True)).first()
            return inst is not None and self.fire_locked(s, inst)

    def fire_locked(self, s: Session, inst: Instance) -> bool:
        """Fire an instance's due timers; the caller holds its row lock. False when nothing is due (any more)."""
        if inst.status != "running" or inst.next_timer_at is None or inst.next_timer_at >= self.now():
            return False
        now, due = self.now(), inst.next_timer_at
        wf = self._restore(s, inst)
        fired = [ev.name for ev in wf.waiting_events()
                 if ev.event_type in TIMER_EVENT_TYPES and (when := due_at(ev.value)) is not None and when < now]
        self._run(s, inst, wf, Actor.system(), wf.refresh_timers)
        self._audit(s, None, "timer", inst, None, None, inst.process_key,
                    {"fired": len(fired), "timers": fired, "due_at": due.isoformat()})
        self._save(s, inst, wf)
        return True

    # ------------------------------------------------------------------ lifecycle
    def suspend(self, instance_id: str, actor: Actor, reason: str) -> None:
        self._set_status(instance_id, actor, "suspend", "running", "suspended", reason)

    def resume(self, instance_id: str, actor: Actor, reason: str) -> None:
        self._set_status(instance_id, actor, "resume", "suspended", "running", reason)

    def _set_status(self, instance_id: str, actor: Actor, action: str, expected: str, new: str, reason: str
                    ) -> None:
        if not reason or not reason.strip():
            raise FormError({"reason": "请填写原因"})
        with self.db.transaction() as s:
            inst = self._lock(s, instance_id)
            if inst.status != expected:
                raise InstanceNotActive(f"流程当前状态为“{inst.status}”，不能{'挂起' if new == 'suspended' else '恢复'}")
            inst.status, inst.updated_at = new, self.now()
            self._audit(s, actor, action, inst, None, reason, inst.process_key, {})

    def cancel(self, instance_id: str, actor: Actor, reason: str) -> None:
        if not reason or not reason.strip():
            raise FormError({"reason": "请填写原因"})
        with self.db.transaction() as s:
            inst = self._lock(s, instance_id)
            if inst.status in ("completed", "cancelled"):
                raise InstanceNotActive("流程已结束，不能终止")
            wf = self._restore(s, inst)
            wf.cancel()
            self._audit(s, actor, "cancel", inst, None, reason, inst.process_key, {})
            self._save(s, inst, wf, status="cancelled")

    # ------------------------------------------------------------------ queries
    def is_candidate(self, ht: HumanTask, actor: Actor) -> bool:
        return actor.username in (ht.candidate_users or []) or bool(set(ht.candidate_groups or []) & actor.groups)

    def may_read(self, ht: HumanTask, actor: Actor) -> bool:
        return (ht.assignee == actor.username or ht.completed_by == actor.username
                or self.is_candidate(ht, actor) or bool(actor.groups & self.supervisor_groups))

    def task_query(self, actor: Actor, view: str = "mine"):  # type: ignore[no-untyped-def]
        """A SELECT over the projection: mine | claimable | open (mine + claimable) | done.

        Each view starts from the actor's own rows (their candidate rows, the tasks assigned to them), found
        through indexes, so its cost follows the actor's work and not the number of tasks (bench/, issue 7)."""
        candidate_ids = select(TaskCandidate.task_id).where(
            TaskCandidate.state == READY,
            or_(and_(TaskCandidate.kind == "g", TaskCandidate.ref.in_(sorted(actor.groups))),
                and_(TaskCandidate.kind == "u", TaskCandidate.ref == actor.username)))
        stmt = select(HumanTask)
        if view == "mine":
            return stmt.where(HumanTask.state == READY, HumanTask.assignee == actor.username)
        if view == "claimable":
            return stmt.where(HumanTask.state == READY, HumanTask.assignee.is_(None),
                              HumanTask.id.in_(candidate_ids))
        if view == "open":
            mine_ids = (select(HumanTask.id).where(HumanTask.state == READY, HumanTask.assignee == actor.username)
                        .correlate(None))
            return stmt.where(HumanTask.state == READY,
                              or_(HumanTask.assignee == actor.username, HumanTask.assignee.is_(None)),
                              HumanTask.id.in_(union_all(mine_ids, candidate_ids)))
        if view == "done":
            return stmt.where(HumanTask.completed_by == actor.username)
        raise ValueError(view)

    def tasks_for(self, actor: Actor, view: str = "open", limit: int = 200) -> list[HumanTask]:
        with self.db.sessions() as s:
            order = HumanTask.completed_at.desc() if view == "done" else HumanTask.due_at.asc().nulls_last()
            return list(s.scalars(self.task_query(actor, view).order_by(order, HumanTask.created_at)
                                  .limit(limit)))

    def get_task(self, task_id: str, actor: Actor) -> HumanTask:
        with self.db.sessions() as s:
            ht = s.get(HumanTask, task_id)
            if ht is None:
                raise NotFound("任务不存在")
            if not self.may_read(ht, actor):
                raise Forbidden("您无权查看此任务")
            return ht

    def task_data(self, task_id: str, actor: Actor) -> dict[str, Any]:
        """The data a task currently sees (for prefilling a returned form); deserializes one instance."""
        with self.db.sessions() as s:
            ht = s.get(HumanTask, task_id)
            if ht is None:
                raise NotFound("任务不存在")
            if not self.may_read(ht, actor):
                raise Forbidden("您无权查看此任务")
            inst = s.get(Instance, ht.instance_id)
            assert inst is not None
            task = self._restore(s, inst).get_task_from_id(UUID(task_id))
            return copy.deepcopy(task.data) if task is not None else {}

    def history(self, instance_id: str) -> list[AuditEvent]:
        with self.db.sessions() as s:
            return list(s.scalars(select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                                  .order_by(AuditEvent.id)))

    def instance(self, instance_id: str) -> Instance:
        with self.db.sessions() as s:
            return self._existing(s, instance_id)

    def instance_tasks(self, instance_id: str) -> list[HumanTask]:
        with self.db.sessions() as s:
            return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)
                                  .order_by(HumanTask.created_at)))

    def workflow(self, instance_id: str) -> BpmnWorkflow:
        """The live workflow of an instance, read-only use (monitoring, tests)."""
        with self.db.sessions() as s:
            return self._restore(s, self._existing(s, instance_id))

    @staticmethod
    def _existing(s: Session, instance_id: str) -> Instance:
        inst = s.get(Instance, instance_id)
        if inst is None:
            raise NotFound("流程实例不存在")
        return inst

    # ------------------------------------------------------------------ internals
    def _lock(self, s: Session, instance_id: str) -> Instance:
        stmt = (select(Instance).options(_MODEL_LIGHT).where(Instance.id == instance_id)
                .execution_options(populate_existing=True))
        if self.db.is_postgres:
            stmt = stmt.with_for_update(of=Instance)
        inst = s.scalars(stmt).first()
        if inst is None:
            raise NotFound("流程实例不存在")
        return inst

    def _task_for_update(self, s: Session, task_id: str, actor: Actor) -> HumanTask:
        return self._locked_task(s, task_id, actor)[0]

    def _locked_task(self, s: Session, task_id: str, actor: Actor) -> tuple[HumanTask, Instance]:
        # PostgreSQL: the task's instance row locked first, then the task row as the previous lock holder left
        # it (two statements, no refresh). SQLite's BEGIN IMMEDIATE already excludes other writers: one.
        if self.db.is_postgres:
            inst = s.scalars(_INSTANCE_OF_TASK_FOR_UPDATE, {"task_id": task_id}).first()
            ht = s.get(HumanTask, task_id, populate_existing=True) if inst is not None else None
        else:
            row = s.execute(_INSTANCE_AND_TASK, {"task_id": task_id}).first()
            inst, ht = row if row is not None else (None, None)
        if inst is None or ht is None:
            raise NotFound("任务不存在")
        may_work = (ht.assignee == actor.username or ht.completed_by == actor.username
                    or self.is_candidate(ht, actor) or actor.is_admin)
        if (ht.state != READY or inst.status != "running") and not may_work:
            raise Forbidden("您无权办理此任务")  # before any state: others learn nothing about the task
        if ht.state != READY:
            raise TaskAlreadyDone(ht.name, ht.completed_by, ht.completed_at, ht.state)
        if inst.status != "running":
            raise InstanceNotActive("流程已挂起或已结束，暂不能办理")
        return ht, inst

    def _specs(self, s: Session, model: ProcessModel) -> tuple[Any, dict[str, Any]]:
        cached = self.codec._specs.get(model.spec_sha)
        if cached is not None:
            return cached
        blob = s.get(ProcessSpec, model.spec_sha)
        assert blob is not None
        return self.codec.specs(model.spec_sha, blob.spec)

    def _restore(self, s: Session, inst: Instance) -> BpmnWorkflow:
        model = inst.model or s.get(ProcessModel, inst.model_id)  # loaded with the instance
        assert model is not None
        return self.codec.loads(inst.state, self._specs(s, model))

    def _run(self, s: Session, inst: Instance, wf: BpmnWorkflow, actor: Actor, act: Callable[[], Any]) -> None:
        from engine.specs import AppScriptEngine

        def runner(topic: str, task: Any) -> dict[str, Any] | None:
            return self._call_action(s, inst, task, topic, copy.deepcopy(task.data), None)

        wf.script_engine = AppScriptEngine(runner)
        try:
            act()
            run_engine_steps(wf)
        except (EngineError, expressions.ExpressionError):
            raise
        except SpiffWorkflowException as exc:
            inner = _unwrap(exc)
            if isinstance(inner, EngineError):
                raise inner from exc
            raise EngineError(f"流程执行失败：{inner}") from exc

    def _save(self, s: Session, inst: Instance, wf: BpmnWorkflow, status: str | None = None) -> CommandResult:
        now = self.now()
        if not status:
            status = ("completed" if wf.success else "cancelled") if wf.is_completed() else inst.status
        changes: dict[str, Any] = {"state": self.codec.dumps(wf), "updated_at": now, "revision": inst.revision + 1,
                                   "status": status}
        if status in ("completed", "cancelled") and inst.ended_at is None:
            changes["ended_at"] = now
        timers, messages = [], set()
        for ev in wf.waiting_events():
            if ev.event_type in TIMER_EVENT_TYPES:
                when = due_at(ev.value)
                if when is not None:
                    timers.append(when)
            elif "Message" in ev.event_type and ev.name:
                messages.add(ev.name)
        changes["next_timer_at"] = min(timers) if timers and status == "running" else None
        if inst in s.new:  # a new instance: one plain INSERT with its state, before rows that refer to it,
            s.expunge(inst)  # then it joins the session as a loaded row (no unit of work: bench/, issue 7)
            for key in _INSTANCE_COLUMNS:
                setattr(inst, key, changes[key] if key in changes else getattr(inst, key))
            s.connection().execute(_INSERT_INSTANCE, {key: getattr(inst, key) for key in _INSTANCE_COLUMNS})
            make_transient_to_detached(inst)
            s.add(inst)
        else:
            self._write(s, inst, changes)
        # The projections read only their own rows, which nothing pending touches: no autoflush; they write
        # with plain statements, so the commit has (next to) nothing left to flush (bench/, issue 7).
        with s.no_autoflush:
            self._sync_messages(s, inst, messages if inst.status == "running" else set())
        ready = self._sync_tasks(s, inst, wf)
        with s.no_autoflush:
            activity.sync(s, inst, wf)  # tokens per activity, for heatmaps (engine/activity.py)
        return CommandResult(inst.id, inst.status, inst.business_key, ready)

    def _write(self, s: Session, obj: Instance | HumanTask, changes: dict[str, Any]) -> None:
        """UPDATE a loaded row's columns now with one plain statement, and give the object the same values
        without marking it changed: the commit has no unit of work to run for it (bench/, issue 7)."""
        table = inspect(obj).mapper.local_table
        names = tuple(sorted(changes))
        stmt = _UPDATES.get((table.name, names))
        if stmt is None:
            stmt = _UPDATES[(table.name, names)] = (update(table).where(table.c.id == bindparam("pk_"))
                                                    .values({k: bindparam(k) for k in names}))
        s.connection().execute(stmt, {**changes, "pk_": obj.id})
        for key, value in changes.items():
            set_committed_value(obj, key, value)

    def _sync_messages(self, s: Session, inst: Instance, names: set[str]) -> None:
        if not names and (inst.id in s.info.get(NEW_INSTANCES, ()) or not self._awaits_messages(s, inst)):
            return  # no row can exist: a new instance, or a process without message events
        existing = {m.name: m for m in s.scalars(select(AwaitedMessage)
                                                 .where(AwaitedMessage.instance_id == inst.id))}
        for name, row in existing.items():
            if name not in names:
                s.delete(row)
        for name in names - set(existing):
            s.add(AwaitedMessage(instance_id=inst.id, name=name))

    def _awaits_messages(self, s: Session, inst: Instance) -> bool:
        """Whether the instance's process (or a process it calls) has any message event; specs are
        content-addressed, so the answer is cached per spec hash."""
        model = inst.model or s.get(ProcessModel, inst.model_id)
        if model is None:
            return True
        known = _MESSAGE_SPECS.get(model.spec_sha)
        if known is None:
            spec, subs = self._specs(s, model)
            known = _MESSAGE_SPECS[model.spec_sha] = _has_message_events([spec, *subs.values()])
        return known

    def _close_candidates(self, s: Session, tasks: list[HumanTask], state: str) -> None:
        """One UPDATE for the candidate rows of ``tasks`` (only tasks with candidates have rows)."""
        ids = [ht.id for ht in tasks if ht.candidate_groups or ht.candidate_users]
        if ids:
            s.execute(update(TaskCandidate).where(TaskCandidate.task_id.in_(ids)).values(state=state)
                      .execution_options(synchronize_session=False))

    def _sync_tasks(self, s: Session, inst: Instance, wf: BpmnWorkflow) -> list[str]:
        now = self.now()
        live = {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)} \
            if inst.status == "running" else {}
        open_ids: set[str] = set()
        if inst.id not in s.info.get(NEW_INSTANCES, ()):
            # ids only, and without flushing first: what this session changed is taken from the session
            open_ids = set(s.connection().execute(_OPEN_TASK_IDS, {"instance_id": inst.id}).scalars())
        open_ids -= {o.id for o in s.dirty if isinstance(o, HumanTask) and o.state != READY}
        open_ids |= {o.id for o in s.new if isinstance(o, HumanTask) and o.instance_id == inst.id
                     and o.state == READY}
        gone = sorted(open_ids - live.keys())
        if gone:
            s.execute(update(HumanTask).where(HumanTask.id.in_(gone))
                      .values(state=CANCELLED, completed_at=now))
            s.execute(update(TaskCandidate).where(TaskCandidate.task_id.in_(gone)).values(state=CANCELLED)
                      .execution_options(synchronize_session=False))
        created = [self._project(inst, task, now) for tid, task in live.items() if tid not in open_ids]
        if created:  # plain INSERTs now; the hook gets the rows as objects (bench/, issue 7)
            columns = [c.key for c in HumanTask.__table__.columns]
            conn = s.connection()
            conn.execute(_INSERT_TASK, [{k: getattr(ht, k) for k in columns} for ht in created])
            candidates = [{"task_id": ht.id, "kind": c.kind, "ref": c.ref, "state": c.state}
                          for ht in created if ht.candidate_groups or ht.candidate_users for c in ht.candidates]
            if candidates:
                conn.execute(_INSERT_CANDIDATE, candidates)
        if self.on_task_created is not None:
            for ht in created:
                self.on_task_created(s, ht)
        return list(live)

    def _project(self, inst: Instance, task: Any, now: datetime) -> HumanTask:
        spec = task.task_spec
        ext = getattr(spec, "extensions", None) or {}
        data = task.data
        try:
            groups = [g for v in _split(ext.get("candidateGroups"))
                      for g in _split(expressions.render(v, data))] if ext.get("candidateGroups") else []
            users = _split(expressions.render(ext["candidateUsers"], data)) if ext.get("candidateUsers") else []
            assignee = expressions.render(ext["assignee"], data) if ext.get("assignee") else None
            due = _to_datetime(expressions.render(ext["dueDate"], data), now) if ext.get("dueDate") else None
            follow = (_to_datetime(expressions.render(ext["followUpDate"], data), now)
                      if ext.get("followUpDate") else None)
            priority = int(expressions.render(ext["priority"], data)) if ext.get("priority") else 50
        except (expressions.ExpressionError, ValueError, TypeError) as exc:
            raise EngineError(f"任务“{spec.bpmn_name or spec.bpmn_id}”的分派设置无法求值：{exc}") from exc
        context = {k: v for k, v in data.items()
                   if (k.endswith("_id") or k in CONTEXT_KEYS) and isinstance(v, int | str) and not isinstance(v, bool)}
        ht = HumanTask(
            id=str(task.id), instance_id=inst.id, process_key=inst.process_key, bpmn_id=spec.bpmn_id,
            name=spec.bpmn_name or spec.bpmn_id, lane=spec.lane, state=READY,
            assignee=str(assignee) if assignee else None, candidate_groups=groups, candidate_users=users,
            due_at=due, follow_up_at=follow, priority=priority, context=context,
            form=FormSpec.from_task_spec(spec).as_list(), documentation=spec.documentation,
            business_key=inst.business_key, created_at=now,
        )
        if groups or users:  # (an empty collection costs an instrumented list: leave it unset)
            ht.candidates = ([TaskCandidate(kind="g", ref=g, state=READY) for g in dict.fromkeys(groups)]
                             + [TaskCandidate(kind="u", ref=u, state=READY) for u in dict.fromkeys(users)])
        return ht

    def _audit(self, s: Session, actor: Actor | None, action: str, inst: Instance | None, ht: HumanTask | None,
               comment: str | None, process_key: str | None, data: dict[str, Any]) -> None:
        # Append-only: written at once with a plain INSERT, no ORM object to flush (bench/, issue 7).
        s.connection().execute(_INSERT_AUDIT, dict(
            at=self.now(), actor=actor.username if actor else "system", action=action,
            instance_id=inst.id if inst else (ht.instance_id if ht else None),
            task_id=ht.id if ht else None, task_name=ht.name if ht else None, process_key=process_key,
            data=json.loads(json.dumps(data, default=str)), comment=comment,
        ))

