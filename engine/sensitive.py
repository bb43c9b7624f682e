"""Sensitive form fields: personal data (a 身份证号, a phone) a form collects for a domain record.

A ``camunda:formField`` with ``<camunda:property id="sensitive" value="true" />`` is validated and handed to
the command that submits it like any field: the actions that run in that command (the task's ``onComplete``,
the service tasks the engine reaches before it stops) read it from their data and may store it in their own
records. It is never kept by the engine: the audit entry holds ``MASK`` in its place, and before the command
saves the instance the value is removed from every task's data (sub-processes included) and from the
workflow's data, so neither the stored state nor anything read from it (task views, the API, notifications,
the task history) can show it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow

from engine.forms import FormSpec, is_empty

MASK = "（已脱敏）"


def sensitive_ids(forms: Iterable[FormSpec]) -> frozenset[str]:
    """The ids of the sensitive fields of ``forms``."""
    return frozenset(i for form in forms for i in form.sensitive_ids())


def masked(values: dict[str, Any], ids: frozenset[str]) -> dict[str, Any]:
    """``values`` with each sensitive value that was given replaced by ``MASK`` (for the audit log)."""
    if not ids:
        return values
    return {k: (MASK if k in ids and not is_empty(v) else v) for k, v in values.items()}


def scrub(wf: BpmnWorkflow, ids: frozenset[str]) -> None:
    """Remove the sensitive fields from all data the workflow would serialize: every task of the workflow and
    of its sub-processes, and the workflows' own data."""
    if not ids:
        return
    workflows: list[Any] = [wf, *wf.subprocesses.values()]
    for w in workflows:
        _drop(w.data, ids)
        for task in w.tasks.values():
            _drop(task.data, ids)


def _drop(data: dict[str, Any] | None, ids: frozenset[str]) -> None:
    if data:
        for key in ids & data.keys():
            del data[key]
