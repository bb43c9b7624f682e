"""The registry of named actions that service tasks and completion hooks call."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session


@dataclass
class ActionContext:
    """What an action sees: the open transaction, the time, the instance and the task data (a copy)."""

    session: Session
    now: datetime
    instance_id: str
    process_key: str
    task_id: str
    task_bpmn_id: str
    data: dict[str, Any]
    actor: str | None = None
    business_key: str | None = None
    business_key_changed: bool = field(default=False, init=False)

    def set_business_key(self, key: str) -> None:
        self.business_key = key
        self.business_key_changed = True


ActionFn = Callable[[ActionContext], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Action:
    name: str
    title: str
    fn: ActionFn
    description: str = ""
    reads: tuple[str, ...] = ()
    returns: tuple[str, ...] = ()


class ActionRegistry:
    """Named actions; a diagram may only call what is registered here."""

    def __init__(self) -> None:
        self._actions: dict[str, Action] = {}

    def action(
        self,
        name: str,
        title: str,
        description: str = "",
        reads: tuple[str, ...] = (),
        returns: tuple[str, ...] = (),
    ) -> Callable[[ActionFn], ActionFn]:
        def register(fn: ActionFn) -> ActionFn:
            if name in self._actions:
                raise ValueError(f"action {name!r} registered twice")
            self._actions[name] = Action(name, title, fn, description, reads, returns)
            return fn

        return register

    def __contains__(self, name: object) -> bool:
        return name in self._actions

    def get(self, name: str) -> Action:
        return self._actions[name]

    def names(self) -> list[str]:
        return sorted(self._actions)

    def all(self) -> list[Action]:
        return [self._actions[n] for n in self.names()]

    def element_templates(self) -> list[dict[str, Any]]:
        """Camunda 7 element templates so designers pick service-task actions from a list in the modeler."""
        templates = []
        for a in self.all():
            templates.append(
                {
                    "$schema": "https://unpkg.com/@camunda/element-templates-json-schema/resources/schema.json",
                    "name": a.title,
                    "id": f"action.{a.name}",
                    "description": a.description or a.title,
                    "appliesTo": ["bpmn:ServiceTask"],
                    "properties": [
                        {"type": "Hidden", "value": "external",
                         "binding": {"type": "property", "name": "camunda:type"}},
                        {"label": "动作", "type": "Hidden", "value": a.name,
                         "binding": {"type": "property", "name": "camunda:topic"}},
                    ],
                }
            )
        return templates
