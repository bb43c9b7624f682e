"""Execution budgets: what one command may cost, so no diagram (or the data it is given) can stall the office.

A designer's diagram runs inside a command that holds its instance's row lock (on SQLite: the one write lock of
the whole database). A multi-instance over a huge collection, a call activity that calls itself, a loop of
automatic steps or a timer firing every millisecond would hold that lock, or flood everyone's inbox, for as
long as it runs. The limits below are checked at deploy where the diagram shows them (engine/loader.py: literal
loop cardinalities, cycles in the call graph, timer periods) and at run time where they depend on data (here,
used by engine/runner.py, engine/specs.py and engine/timers.py). A command over budget raises
:class:`BudgetExceeded` naming the element; its transaction rolls back and nothing changes.

The composition root passes the settings (``meeting/runtime.py`` reads them from the environment with
:meth:`Budgets.from_env`); every field has a default that fits the joint meeting.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from engine.errors import EngineError

# Environment variable of each setting (also documented in the README).
ENV_NAMES = {
    "max_multi_instance": "ENGINE_MAX_MULTI_INSTANCE",
    "max_call_depth": "ENGINE_MAX_CALL_DEPTH",
    "max_steps": "ENGINE_MAX_STEPS",
    "max_command_seconds": "ENGINE_MAX_COMMAND_SECONDS",
    "min_timer_seconds": "TIMER_FLOOR_SECONDS",
    "timer_starts_per_hour": "TIMER_STARTS_PER_HOUR",
    "pg_statement_timeout_ms": "PG_STATEMENT_TIMEOUT_MS",
    "pg_lock_timeout_ms": "PG_LOCK_TIMEOUT_MS",
}


class BudgetExceeded(EngineError):
    """A command went over one of its budgets; it was rolled back."""

    status = 422


@dataclass(frozen=True)
class Budgets:
    max_multi_instance: int = 1000  # instances one multi-instance activity may create
    max_call_depth: int = 8  # call activities nested inside each other
    max_steps: int = 5000  # automatic engine steps in one command
    max_command_seconds: float = 20.0  # wall time of the engine steps of one command
    min_timer_seconds: int = 60  # shortest timer duration or cycle period
    timer_starts_per_hour: int = 60  # instances one process may start from timers per hour
    pg_statement_timeout_ms: int = 30_000  # PostgreSQL backs the budgets up: no statement runs longer
    pg_lock_timeout_ms: int = 15_000  # and no lock is waited for longer

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Budgets:
        """Defaults, overridden by the environment variables of ENV_NAMES; a bad value raises ValueError."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_NAMES[f.name])
            if raw is None or not raw.strip():
                continue
            number = float(raw) if f.type == "float" else int(raw)
            if number <= 0:
                raise ValueError(f"{ENV_NAMES[f.name]} must be positive")
            values[f.name] = number
        return cls(**values)


DEFAULT = Budgets()


def of(my_task: Any) -> Budgets:
    """The budgets of the command running ``my_task`` (its script engine carries them; see engine/runner.py)."""
    engine = getattr(getattr(my_task, "workflow", None), "script_engine", None)
    found = getattr(engine, "budgets", None)
    return found if isinstance(found, Budgets) else DEFAULT


def element_name(my_task: Any) -> str:
    """How a user recognises the element: its name in the diagram, else its id. (A multi-instance activity's
    name is on the spec of its instances.)"""
    spec = my_task.task_spec
    name = getattr(spec, "bpmn_name", None)
    inner = getattr(spec, "task_spec", None)
    if not name and isinstance(inner, str):
        name = getattr(my_task.workflow.spec.task_specs.get(inner), "bpmn_name", None)
    return str(name or getattr(spec, "bpmn_id", None) or spec.name)


class StepBudget:
    """Counts the automatic steps of one command and watches its wall time and call depth; called by
    ``do_engine_steps`` before each step (``will_complete_task``)."""

    def __init__(self, budgets: Budgets) -> None:
        self.budgets = budgets
        self.steps = 0
        self.deadline = time.monotonic() + budgets.max_command_seconds

    def __call__(self, task: Any) -> None:
        self.steps += 1
        name = element_name(task)
        if self.steps > self.budgets.max_steps:
            raise BudgetExceeded(f"一次操作中自动执行的步骤超过上限 {self.budgets.max_steps} 步（停在“{name}”）："
                                 "流程图可能有不经过人工环节的循环，操作未生效")
        depth = getattr(task.workflow, "depth", 0) or 0
        if depth > self.budgets.max_call_depth:
            raise BudgetExceeded(f"调用活动嵌套超过上限 {self.budgets.max_call_depth} 层（在“{name}”处），操作未生效")
        if time.monotonic() > self.deadline:
            raise BudgetExceeded(f"一次操作的执行时间超过上限 {self.budgets.max_command_seconds:g} 秒"
                                 f"（停在“{name}”），操作未生效")


def check_multi_instance(my_task: Any, size: int) -> None:
    limit = of(my_task).max_multi_instance
    if size > limit:
        raise BudgetExceeded(f"多实例活动“{element_name(my_task)}”要创建 {size} 个实例，超过上限 {limit} 个，"
                             "操作未生效")
