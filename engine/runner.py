"""Running a workflow inside a command: spec objects, restoring state, engine steps and named actions."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from sqlalchemy.orm import Session

from engine import expressions
from engine.actions import ActionContext, ActionRegistry
from engine.budgets import DEFAULT, Budgets, StepBudget
from engine.errors import ActionError, EngineError
from engine.models import Instance, ProcessModel, ProcessSpec
from engine.serialization import StateCodec
from engine.specs import AppScriptEngine
from engine.timers import run_engine_steps

Specs = tuple[Any, dict[str, Any]]


def unwrap(exc: BaseException) -> BaseException:
    """SpiffWorkflow wraps what an action or expression raised; find the original."""
    seen = 0
    while seen < 10:
        inner = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
        if isinstance(exc, EngineError | expressions.ExpressionError) or inner is None:
            return exc
        exc, seen = inner, seen + 1
    return exc


def has_message_events(specs: Iterable[Any]) -> bool:
    for spec in specs:
        for task_spec in spec.task_specs.values():
            pending = [getattr(task_spec, "event_definition", None)]
            while pending:
                ed = pending.pop()
                if ed is None:
                    continue
                if isinstance(ed, MessageEventDefinition | SignalEventDefinition):
                    return True
                pending.extend(getattr(ed, "event_definitions", None) or [])
    return False


def failure_message(exc: SpiffWorkflowException, inner: BaseException) -> str:
    """Why the engine stopped, in Chinese, on the element where it stopped; SpiffWorkflow's own (English)
    text never reaches the user."""
    task = getattr(exc, "task", None)
    spec: Any = getattr(task, "task_spec", None)
    where = f"在“{spec.bpmn_name or spec.bpmn_id}”处" if getattr(spec, "bpmn_id", None) else ""
    if isinstance(inner, expressions.ExpressionError):
        return f"流程{where}执行失败：{inner}"
    if isinstance(inner, WorkflowDataException):
        return f"流程{where}执行失败：所需的数据不存在或不符合要求"
    return f"流程{where}执行失败：引擎无法继续执行这一步"


class Runner:
    """Turns stored rows into live workflows and runs them, calling registered actions on the way."""

    def __init__(self, registry: ActionRegistry, now: Callable[[], datetime], budgets: Budgets = DEFAULT) -> None:
        self.registry = registry
        self.now = now
        self.budgets = budgets
        self.codec = StateCodec()
        self._message_specs: dict[str, bool] = {}  # spec sha -> has message events (content-addressed)

    def specs(self, s: Session, model: ProcessModel) -> Specs:
        cached = self.codec.cached(model.spec_sha)
        if cached is not None:
            return cached
        blob = s.get(ProcessSpec, model.spec_sha)
        if blob is None:
            raise EngineError(f"流程“{model.key}”第 {model.version} 版的定义缺失")
        return self.codec.specs(model.spec_sha, blob.spec)

    def model_of(self, s: Session, inst: Instance) -> ProcessModel:
        model = inst.model or s.get(ProcessModel, inst.model_id)  # usually loaded with the instance
        if model is None:
            raise EngineError("流程实例的流程定义缺失")
        return model

    def restore(self, s: Session, inst: Instance) -> BpmnWorkflow:
        return self.codec.loads(inst.state, self.specs(s, self.model_of(s, inst)))

    def dumps(self, wf: BpmnWorkflow) -> str:
        return self.codec.dumps(wf)

    def awaits_messages(self, s: Session, inst: Instance) -> bool:
        """Whether the instance's process (or a process it calls) has any message event."""
        model = inst.model or s.get(ProcessModel, inst.model_id)
        if model is None:
            return True
        known = self._message_specs.get(model.spec_sha)
        if known is None:
            spec, subs = self.specs(s, model)
            known = self._message_specs[model.spec_sha] = has_message_events([spec, *subs.values()])
        return known

    def run(self, s: Session, inst: Instance, wf: BpmnWorkflow, act: Callable[[], Any]) -> None:
        """``act()`` then engine steps until only people or timers are awaited; engine failures become
        EngineError with a Chinese message. The steps run within the budgets (engine/budgets.py): over them,
        BudgetExceeded is raised and the caller's transaction rolls back."""
        def action_runner(topic: str, task: Any) -> dict[str, Any] | None:
            return self.call_action(s, inst, task, topic, copy.deepcopy(task.data), None)

        wf.script_engine = AppScriptEngine(action_runner, self.budgets)
        try:
            act()
            run_engine_steps(wf, StepBudget(self.budgets))
        except (EngineError, expressions.ExpressionError):
            raise
        except SpiffWorkflowException as exc:
            inner = unwrap(exc)
            if isinstance(inner, EngineError):
                raise inner from exc
            raise EngineError(failure_message(exc, inner)) from exc

    def on_complete(self, s: Session, inst: Instance, task: Any, username: str, values: dict[str, Any]
                    ) -> dict[str, Any] | None:
        """The action a user task names in ``camunda:properties`` ``onComplete``, with the submitted values."""
        ext = getattr(task.task_spec, "extensions", None) or {}
        name = ext.get("onComplete")
        if not name:
            return None
        return self.call_action(s, inst, task, name, {**copy.deepcopy(task.data), **values}, username)

    def call_action(self, s: Session, inst: Instance, task: Any, name: str, data: dict[str, Any],
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
