"""Errors the engine raises; every message is meant for the user and is written in Chinese."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from engine.clock import SHANGHAI


class EngineError(Exception):
    """Base class: a command was refused and nothing changed."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """Text for a one-line-per-record output: line breaks and other control characters written as escapes
    (a task named "甲\\n乙" prints as ``甲\\n乙``), so a record never spills onto the next line."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True)
class Problem:
    """One problem found in a diagram, located by file, line and element id."""

    file: str
    line: int | None
    element: str | None
    message: str

    def compiler_line(self) -> str:
        """``file:line: element: message`` on exactly one line, whatever the names in it contain."""
        return one_line(f"{self.file}:{self.line or 0}: {self.element or '-'}: {self.message}")

    def as_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "element": self.element, "message": self.message}


class DeployError(EngineError):
    status = 422

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("流程图未通过检查：" + "；".join(p.message for p in problems[:3]))
        self.problems = problems


class FormError(EngineError):
    """Submitted values were refused; ``errors`` maps field id to a Chinese message."""

    status = 422

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("表单填写有误：" + "；".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class NotFound(EngineError):
    status = 404


class Forbidden(EngineError):
    status = 403


class Conflict(EngineError):
    status = 409


class HeldByOther(Forbidden):
    """Someone else has signed for the task; ``by`` is their login name, for the page to show by name."""

    def __init__(self, by: str) -> None:
        super().__init__("此任务已由其他人员签收，只有签收人可以办理")
        self.by = by


class TaskAlreadyDone(Conflict):
    def __init__(self, task_name: str, by: str | None, at: datetime | None, state: str) -> None:
        who = by or "系统"
        when = at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""
        verb = "办理" if state == "COMPLETED" else "取消"
        super().__init__(f"任务“{task_name}”已由{who}于{when}{verb}，无需重复提交。")
        self.by, self.at, self.state = by, at, state


class InstanceNotActive(Conflict):
    pass


class ActionError(EngineError):
    """A registered action failed for a reason the user should read."""
