"""Runs one diagram of the compatibility suite through the real service and reports what happened, in the
shape the manifest's expectations have: refused (with every problem's message), or started and driven by the
case's steps, with the status it ended in, the activities it completed (its path) and the tasks left open."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from SpiffWorkflow import TaskState

from engine.actions import ActionRegistry
from engine.clock import ManualClock
from engine.db import Database
from engine.errors import DeployError, EngineError
from engine.loader import SourceFile
from engine.service import Actor, WorkflowService
from engine.timers import TimerEventDefinition

ADMIN = Actor("compat", frozenset({"admin"}))


def service(db: Database, clock: ManualClock) -> WorkflowService:
    registry = ActionRegistry()
    for topic in ("compat.noop",):
        registry.action(topic, title="空动作")(lambda ctx: {})
    return WorkflowService(db, registry, clock=clock)


def path_of(svc: WorkflowService, instance_id: str) -> list[str]:
    """The BPMN ids of every completed activity, event and gateway (sorted: parallel branches have no order)."""
    wf = svc.workflow(instance_id)
    return sorted(t.task_spec.bpmn_id for t in wf.get_tasks()
                  if t.state == TaskState.COMPLETED and t.task_spec.bpmn_id and not t.task_spec.bpmn_id.startswith(
                      ("link_", "flow_")))


def open_tasks(svc: WorkflowService, instance_id: str) -> list[str]:
    return sorted(t.bpmn_id for t in svc.instance_tasks(instance_id) if t.state == "READY")


def worker_of(task: Any) -> Actor:
    """Whoever the task names: its assignee, or someone in its candidate groups."""
    return Actor(task.assignee or "compat", frozenset(task.candidate_groups or []) | {"admin"})


def step(svc: WorkflowService, clock: ManualClock, instance_id: str, action: dict[str, Any]) -> None:
    if "complete" in action:
        task = next(t for t in svc.instance_tasks(instance_id)
                    if t.state == "READY" and t.bpmn_id == action["complete"])
        svc.complete(task.id, worker_of(task), action.get("values") or {})
    elif "message" in action:
        svc.send_message(action["message"], ADMIN, action.get("variables") or {}, instance_id=instance_id)
    elif "signal" in action:
        svc.send_signal(action["signal"], ADMIN, action.get("variables") or {})
    elif "wait" in action:
        parts = TimerEventDefinition.parse_iso_duration(action["wait"])
        clock.advance(timedelta(days=parts.get("days", 0), hours=parts.get("hours", 0),
                                minutes=parts.get("minutes", 0), seconds=parts.get("seconds", 0)))
        svc.fire_instance_timers(instance_id)
    else:
        raise ValueError(f"unknown step {action}")


def run(files: list[Path], expect: dict[str, Any], db: Database, clock: ManualClock) -> dict[str, Any]:
    svc = service(db, clock)
    try:
        results = svc.deploy([SourceFile(f.name, f.read_bytes()) for f in files])
    except DeployError as exc:
        return {"outcome": "refused", "messages": [p.message for p in exc.problems],
                "located": all(p.element or p.line for p in exc.problems)}
    start = expect.get("start") or {}
    key = start.get("process") or results[0].model.key
    try:
        instance_id = svc.start(key, ADMIN, start.get("data") or {}, start_event=start.get("event"),
                                business_key=start.get("business_key"),
                                form_values=start.get("form")).instance_id
        for action in expect.get("steps") or []:
            step(svc, clock, instance_id, action)
    except EngineError as exc:
        return {"outcome": "failed", "status": exc.status, "message": exc.message}
    return {"outcome": "runs", "status": svc.instance(instance_id).status, "path": path_of(svc, instance_id),
            "open": open_tasks(svc, instance_id),
            "warnings": [w.message for r in results for w in r.warnings]}
