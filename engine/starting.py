"""Starting instances (none, message and scheduled timer start events) and correlating messages."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.access import Actor, may_start
from engine.db import Database
from engine.deployment import latest_model, latest_models
from engine.errors import Conflict, EngineError, Forbidden, NotFound
from engine.locks import existing_instance
from engine.models import AwaitedMessage, Instance, ProcessModel, new_id
from engine.projection import NEW_INSTANCES, CommandResult, Projector
from engine.runner import Runner
from engine.timers import pass_timer_start
from engine.values import json_safe


def deliver(wf: BpmnWorkflow, name: str, variables: dict[str, Any]) -> None:
    payload = {"payload": copy.deepcopy(variables), "result_var": f"message_{name}"}
    try:
        wf.send_event(BpmnEvent(MessageEventDefinition(name), payload=payload))
    except SpiffWorkflowException as exc:
        raise NotFound(f"流程没有在等待消息“{name}”") from exc


def choose_start_event(model: ProcessModel, start_event: str | None) -> dict[str, Any]:
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


class Starts:
    def __init__(self, db: Database, runner: Runner, projector: Projector, now: Callable[[], datetime]) -> None:
        self.db = db
        self.runner = runner
        self.projector = projector
        self.now = now

    def startable(self, actor: Actor) -> list[dict[str, Any]]:
        """The start events this actor may use, one entry per (process, start event)."""
        with self.db.sessions() as s:
            out = []
            for m in sorted(latest_models(s), key=lambda m: m.key):
                for ev in m.start_events:
                    if ev["kind"] == "timer":
                        continue
                    groups = ev.get("starter_groups") or m.starter_groups
                    if groups and may_start(actor.groups, groups):
                        out.append({"process_key": m.key, "process_name": m.name, "version": m.version,
                                    "start_event": ev["id"], "name": ev["name"] or m.name,
                                    "kind": ev["kind"], "message": ev.get("message")})
            return out

    def start(self, key: str, actor: Actor, data: dict[str, Any] | None = None, start_event: str | None = None,
              business_key: str | None = None) -> CommandResult:
        with self.db.transaction() as s:
            model = latest_model(s, key)
            event = choose_start_event(model, start_event)
            if not may_start(actor.groups, event.get("starter_groups") or model.starter_groups):
                raise Forbidden(f"您无权发起“{model.name}”")
            return self.start_in(s, model, actor, data or {}, event, business_key)

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
        message = event["kind"] == "message"
        if message or any(e["kind"] != "none" for e in model.start_events):
            others = {e["id"] for e in model.start_events if e["id"] != event["id"]}
            for t in wf.get_tasks():
                if t.task_spec.bpmn_id in others:
                    t.cancel()
                elif event["kind"] == "timer" and t.task_spec.bpmn_id == event["id"]:
                    pass_timer_start(t)  # a scheduled start (engine/schedule.py) has fired
        self.projector.audit(s, "start", actor=actor, instance=inst, process_key=model.key,
                             data={"version": model.version, "start_event": event["id"], "data": json_safe(data)})
        self.runner.run(s, inst, wf, lambda: None)
        if message:
            deliver(wf, event["message"], {})
            self.runner.run(s, inst, wf, lambda: None)
        return self.projector.save(s, inst, wf)

    def send_message(self, name: str, actor: Actor, variables: dict[str, Any] | None = None,
                     business_key: str | None = None, instance_id: str | None = None) -> CommandResult:
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
                return self._deliver_to(s, waiting[0], name, actor, variables or {})
            for model in latest_models(s):
                for ev in model.start_events:
                    if ev["kind"] == "message" and ev.get("message") == name:
                        if not may_start(actor.groups, ev.get("starter_groups") or model.starter_groups):
                            raise Forbidden(f"您无权发送“{ev['name'] or name}”")
                        return self.start_in(s, model, actor, variables or {}, ev, business_key)
            raise NotFound(f"没有流程在等待消息“{name}”")

    def _deliver_to(self, s: Session, instance_id: str, name: str, actor: Actor, variables: dict[str, Any]
                    ) -> CommandResult:
        inst = existing_instance(s, instance_id, self.db.is_postgres)
        wf = self.runner.restore(s, inst)
        self.projector.audit(s, "message", actor=actor, instance=inst,
                             data={"message": name, "variables": json_safe(variables)})
        self.runner.run(s, inst, wf, lambda: deliver(wf, name, variables))
        return self.projector.save(s, inst, wf)
