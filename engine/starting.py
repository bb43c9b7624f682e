"""Starting instances (none, message and scheduled timer start events) and correlating messages."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor, may_start
from engine.db import Database
from engine.deployment import latest_model, latest_models
from engine.dialect_specs import AppMessageEventDefinition
from engine.errors import Conflict, EngineError, Forbidden, FormError, NotFound
from engine.forms import FieldTypes, FormSpec, generic_field_types, unstorable, validate
from engine.locks import existing_instance
from engine.models import AwaitedMessage, Instance, ProcessModel, new_id
from engine.projection import NEW_INSTANCES, CommandResult, Projector
from engine.runner import Runner
from engine.sensitive import masked, scrub
from engine.timers import pass_timer_start
from engine.values import json_safe

MAX_VARIABLES_BYTES = 64_000
MAX_BROADCAST = 500  # instances one signal may reach in one command
VARIABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
RESERVED_VARIABLES = {"typename", "initiator", "initiator_unit"}


def deliver(wf: BpmnWorkflow, name: str, variables: dict[str, Any]) -> None:
    payload = {"payload": copy.deepcopy(variables), "result_var": f"message_{name}"}
    try:
        wf.send_event(BpmnEvent(AppMessageEventDefinition(name), payload=payload))
    except SpiffWorkflowException as exc:
        raise NotFound(f"流程没有在等待消息“{name}”") from exc


def deliver_signal(wf: BpmnWorkflow, name: str, variables: dict[str, Any]) -> None:
    """Every catch event of the instance waiting for the signal receives it, with the variables."""
    try:
        wf.send_event(BpmnEvent(SignalEventDefinition(name), payload=copy.deepcopy(variables)))
    except SpiffWorkflowException as exc:
        raise NotFound(f"流程没有在等待信号“{name}”") from exc


def check_variables(variables: Any) -> dict[str, Any]:
    """Variables sent with a message or a signal: an object of plain names (not the engine's own) and JSON
    values, bounded in size. Raises FormError otherwise."""
    if variables is None:
        return {}
    if not isinstance(variables, dict):
        raise FormError({"variables": "变量须为 JSON 对象（变量名 → 值）"})
    bad = [str(k) for k in variables if not isinstance(k, str) or not VARIABLE_NAME.match(k)
           or k in RESERVED_VARIABLES]
    if bad:
        raise FormError({"variables": "变量名须以字母开头、只含字母数字下划线，且不能是保留名："
                                      + "、".join(b[:40] for b in bad[:5])})
    if unstorable(variables):
        raise FormError({"variables": "变量中含有不允许的控制字符或无效字符"})
    try:
        size = len(json.dumps(variables, ensure_ascii=False))
    except (TypeError, ValueError):
        raise FormError({"variables": "变量的值须为 JSON 值"}) from None
    if size > MAX_VARIABLES_BYTES:
        raise FormError({"variables": f"变量过大（上限 {MAX_VARIABLES_BYTES // 1000} KB）"})
    return variables


def choose_start_event(model: ProcessModel, start_event: str | None) -> dict[str, Any]:
    """The start event a person uses: a none start event (the one named, or the first); message, signal and
    timer start events are for messages, signals and the schedule."""
    events = [e for e in model.start_events if e["kind"] not in ("timer", "signal")]
    if start_event is not None:
        for e in events:
            if e["id"] == start_event:
                return e
        raise NotFound(f"流程“{model.name}”没有开始事件“{start_event}”")
    for e in events:
        if e["kind"] == "none":
            return e
    raise EngineError(f"流程“{model.name}”只能由消息、信号或定时器启动")


def start_form(event: dict[str, Any]) -> FormSpec:
    return FormSpec([FormSpec.field_from_dict(d) for d in event.get("form") or []])


class Starts:
    def __init__(self, db: Database, runner: Runner, projector: Projector, now: Callable[[], datetime],
                 field_types: FieldTypes | None = None, lookups: Callable[[Session], Any] | None = None) -> None:
        self.db = db
        self.runner = runner
        self.projector = projector
        self.now = now
        self.field_types = field_types or generic_field_types()
        self.lookups = lookups

    def startable(self, actor: Actor) -> list[dict[str, Any]]:
        """The start events this actor may use, one entry per (process, start event)."""
        with self.db.sessions() as s:
            out = []
            for m in sorted(latest_models(s), key=lambda m: m.key):
                for ev in m.start_events:
                    if ev["kind"] in ("timer", "signal"):
                        continue
                    groups = ev.get("starter_groups") or m.starter_groups
                    if groups and may_start(actor.groups, groups):
                        out.append({"process_key": m.key, "process_name": m.name, "version": m.version,
                                    "start_event": ev["id"], "name": ev["name"] or m.name,
                                    "kind": ev["kind"], "message": ev.get("message"),
                                    "form": ev.get("form") or []})
            return out

    def start(self, key: str, actor: Actor, data: dict[str, Any] | None = None, start_event: str | None = None,
              business_key: str | None = None, form_values: dict[str, Any] | None = None,
              prepare: Callable[[Session], dict[str, Any]] | None = None) -> CommandResult:
        """Start at a none start event. ``data`` comes from trusted code; ``form_values`` from a person (the
        start form, the API, the CLI) and is checked against the start event's camunda:formData: only its
        fields, typed and validated (FormError 422 with a message per field). ``prepare`` runs in the command's
        transaction before the form is checked and adds form values (a start page stores the files it was sent,
        so a refused start leaves no file behind)."""
        with self.db.transaction() as s:
            model = latest_model(s, key)
            event = choose_start_event(model, start_event)
            if not may_start(actor.groups, event.get("starter_groups") or model.starter_groups):
                raise Forbidden(f"您无权发起“{model.name}”")
            if prepare is not None:
                form_values = {**(form_values or {}), **prepare(s)}
            values = self.form_values(s, event, form_values) if form_values is not None or event.get("form") \
                else {}
            return self.start_in(s, model, actor, {**(data or {}), **values}, event, business_key)

    def form_values(self, s: Session, event: dict[str, Any], submitted: dict[str, Any] | None) -> dict[str, Any]:
        form = start_form(event)
        submitted = submitted or {}
        declared = {f.id for f in form.fields}
        errors = {str(k)[:64]: "开始表单中没有此字段" if declared else "此流程的开始事件没有开始表单，不接受变量"
                  for k in [k for k in submitted if k not in declared][:20]}
        try:
            values = validate(form, submitted, self.lookups(s) if self.lookups else None, self.field_types)
        except FormError as exc:
            errors.update(exc.errors)
        if errors:  # every field's message at once, the undeclared ones included
            raise FormError(errors)
        return values

    def start_in(self, s: Session, model: ProcessModel, actor: Actor, data: dict[str, Any],
                 event: dict[str, Any], business_key: str | None) -> CommandResult:
        """Start an instance at ``event`` inside the caller's transaction (the worker's scheduled starts)."""
        spec, subs = self.runner.specs(s, model)
        wf = BpmnWorkflow(spec, subs)
        now = self.now()
        # Inserted once, complete, when the projector saves it (or earlier, by any query that autoflushes).
        inst = Instance(id=new_id(), model=model, model_id=model.id, process_key=model.key, status="running",
                        business_key=business_key, title=model.name, state="", started_by=actor.username,
                        started_at=now, updated_at=now, revision=0)
        s.add(inst)
        s.info.setdefault(NEW_INSTANCES, set()).add(inst.id)
        start_task = wf.get_tasks(spec_name="Start")[0]
        start_task.data.update({**copy.deepcopy(data), "initiator": actor.username, "initiator_unit": actor.unit})
        if event.get("initiator"):  # camunda:initiator names the variable that holds who started
            start_task.data[event["initiator"]] = actor.username
        message = event["kind"] in ("message", "signal")
        if message or any(e["kind"] != "none" for e in model.start_events):
            others = {e["id"] for e in model.start_events if e["id"] != event["id"]}
            for t in wf.get_tasks():
                if t.task_spec.bpmn_id in others:
                    t.cancel()
                elif event["kind"] == "timer" and t.task_spec.bpmn_id == event["id"]:
                    pass_timer_start(t)  # a scheduled start (engine/schedule.py) has fired
        sensitive = start_form(event).sensitive_ids()  # for this command's actions only (engine/sensitive.py)
        # Written with the save's other rows; nothing the run does writes an entry before it.
        audit = self.projector.audit_row("start", actor=actor, instance=inst, process_key=model.key,
                                         data={"version": model.version, "start_event": event["id"],
                                               "data": json_safe(masked(data, sensitive))})
        self.runner.run(s, inst, wf, lambda: None)
        if message:  # the start event waits for its message or signal: it has come
            send = deliver if event["kind"] == "message" else deliver_signal
            self.runner.run(s, inst, wf, lambda: send(wf, event["message"], {}))
        scrub(wf, sensitive)
        return self.projector.save(s, inst, wf, audit=audit)

    def send_message(self, name: str, actor: Actor, variables: dict[str, Any] | None = None,
                     business_key: str | None = None, instance_id: str | None = None,
                     manager: bool = False) -> CommandResult:
        """Correlate a message as Camunda does: to the one instance waiting for it (narrowed by id or business
        key; 409 when several wait), else start a new instance at a message start event of that name (404
        when neither). Delivering to a running instance is for managers, its starter and those who may start
        its process; the variables become process variables of the path that caught the message."""
        variables = check_variables(variables)
        with self.db.transaction() as s:
            stmt = (select(Instance.id).join(AwaitedMessage, AwaitedMessage.instance_id == Instance.id)
                    .where(AwaitedMessage.name == name, AwaitedMessage.kind == "message",
                           Instance.status == "running"))
            if instance_id:
                stmt = stmt.where(Instance.id == instance_id)
            if business_key:
                stmt = stmt.where(Instance.business_key == business_key)
            waiting = list(s.scalars(stmt.limit(2)))
            if waiting:
                self._check_may_deliver(s, waiting[0], actor, manager)  # before saying how many there are
            if len(waiting) > 1:
                raise Conflict(f"有多个流程实例在等待消息“{name}”，请指定业务编号或实例")
            if waiting:
                return self._deliver_to(s, waiting[0], name, actor, variables, manager)
            if instance_id:
                raise NotFound(f"该流程实例没有在等待消息“{name}”")
            for model in latest_models(s):
                for ev in model.start_events:
                    if ev["kind"] == "message" and ev.get("message") == name:
                        if not may_start(actor.groups, ev.get("starter_groups") or model.starter_groups):
                            raise Forbidden(f"您无权发送“{ev['name'] or name}”")
                        return self.start_in(s, model, actor, variables, ev, business_key)
            raise NotFound(f"没有流程在等待消息“{name}”")

    def _check_may_deliver(self, s: Session, instance_id: str, actor: Actor, manager: bool) -> None:
        inst = s.get(Instance, instance_id)
        if inst is None:
            raise NotFound("流程实例不存在")
        model = self.runner.model_of(s, inst)
        if not (manager or inst.started_by == actor.username or may_start(actor.groups, model.starter_groups)):
            raise Forbidden(f"您无权向流程“{model.name}”发送消息")

    def _deliver_to(self, s: Session, instance_id: str, name: str, actor: Actor, variables: dict[str, Any],
                    manager: bool) -> CommandResult:
        self._check_may_deliver(s, instance_id, actor, manager)
        inst = existing_instance(s, instance_id, self.db.is_postgres)
        wf = self.runner.restore(s, inst)
        self.projector.audit(s, "message", actor=actor, instance=inst,
                             data={"message": name, "variables": json_safe(variables)})
        self.runner.run(s, inst, wf, lambda: deliver(wf, name, variables))
        return self.projector.save(s, inst, wf)

    def broadcast_signal(self, name: str, actor: Actor, variables: dict[str, Any] | None = None
                         ) -> SignalResult:
        """Throw a signal as Camunda's signal API does: every running instance waiting for it receives it (each
        locked in turn, in id order), and every process with a signal start event of that name starts. One
        transaction: all or nothing. The caller checks that the actor may broadcast."""
        variables = check_variables(variables)
        with self.db.transaction() as s:
            stmt = (select(Instance.id).join(AwaitedMessage, AwaitedMessage.instance_id == Instance.id)
                    .where(AwaitedMessage.name == name, AwaitedMessage.kind == "signal",
                           Instance.status == "running").order_by(Instance.id).limit(MAX_BROADCAST + 1))
            waiting = list(dict.fromkeys(s.scalars(stmt)))
            if len(waiting) > MAX_BROADCAST:
                raise Conflict(f"等待信号“{name}”的流程实例超过 {MAX_BROADCAST} 个，请分批处理")
            result = SignalResult(name)
            for instance_id in waiting:
                inst = existing_instance(s, instance_id, self.db.is_postgres)
                wf = self.runner.restore(s, inst)
                self.projector.audit(s, "signal", actor=actor, instance=inst,
                                     data={"signal": name, "variables": json_safe(variables)})
                self.runner.run(s, inst, wf, functools.partial(deliver_signal, wf, name, variables))
                result.delivered.append(self.projector.save(s, inst, wf).instance_id)
            for model in latest_models(s):
                for ev in model.start_events:
                    if ev["kind"] == "signal" and ev.get("message") == name:
                        started = self.start_in(s, model, actor, variables, ev, None)
                        result.started.append(started.instance_id)
            if not result.delivered and not result.started:
                raise NotFound(f"没有流程在等待信号“{name}”")
            return result


@dataclass
class SignalResult:
    signal: str
    delivered: list[str] = field(default_factory=list)  # running instances that received it
    started: list[str] = field(default_factory=list)  # instances started at a signal start event
