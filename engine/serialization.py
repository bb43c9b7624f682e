"""Instance state as JSON without its spec: the spec is stored once per version and shared in memory."""

from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.task import Task

from engine.specs import make_serializer

SERIALIZER_VERSION = "1.5"
# A task's fields at their usual values, left out of the stored state and put back when it is read: with 17
# parallel replies open, a joint meeting's state is a third empty fields (bench/run.py's state_kib_mi17).
TASK_DEFAULTS: dict[str, Any] = {"typename": "Task", "children": [], "triggered": False, "internal_data": {},
                                 "data": {}, "delta": {"updates": {}, "deletions": []}}
# A task whose data is empty under a parent with data is stored with a delta naming every one of the parent's
# keys (a predicted step of a long process: hundreds of bytes each); it is stored as emptied instead.
EMPTIED = "emptied"
Tasks = dict[str, dict[str, Any]]
# orjson hands dates, datetimes and dataclasses to the serializer's encoder as the standard library's encoder
# does (they come back typed); it writes str, int and dict subclasses as their base types, as that one does too.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def _parts(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    return [workflow, *workflow.get("subprocesses", {}).values()]


def _key_sets(workflow: dict[str, Any]) -> tuple[Tasks, Callable[[str], frozenset[str]]]:
    """The keys of each task's data, worked out from the stored deltas down the task tree (names only)."""
    tasks: Tasks = {tid: task for part in _parts(workflow) for tid, task in part.get("tasks", {}).items()}
    known: dict[str, frozenset[str]] = {}

    def keys(wanted: str) -> frozenset[str]:
        chain: list[str] = []
        tid = wanted
        while tid not in known:
            chain.append(tid)
            parent = tasks[tid].get("parent")
            if parent is None or parent not in tasks:
                break
            tid = parent
        for current in reversed(chain):
            task = tasks[current]
            parent = task.get("parent")
            if parent is None or parent not in tasks:
                known[current] = frozenset(task.get("data") or {})
                continue
            delta = task.get("delta") or {}
            if delta.get(EMPTIED):
                known[current] = frozenset()
                continue
            kept = known[parent] - set(delta.get("deletions", ()))
            known[current] = kept | set(delta.get("updates", {}))
        return known[wanted]

    return tasks, keys


def _compact(workflow: dict[str, Any]) -> None:
    """Drop the fields at their defaults from every task of ``workflow`` and of its subprocesses; an emptied
    task's deletions are left to be worked out again."""
    tasks, keys = _key_sets(workflow)
    emptied = []
    for tid, task in tasks.items():
        delta = task.get("delta")
        if (delta and not delta.get("updates") and delta.get("deletions") and not task.get("data")
                and set(delta["deletions"]) == keys(task["parent"])):
            emptied.append(tid)
    for tid in emptied:
        tasks[tid]["delta"] = {EMPTIED: True}
    for task in tasks.values():
        for key, default in TASK_DEFAULTS.items():
            if key in task and task[key] == default:
                del task[key]


def _expand(workflow: dict[str, Any]) -> None:
    """Put the defaults and an emptied task's deletions back (a state stored before compaction has them all)."""
    tasks, keys = _key_sets(workflow)
    for task in tasks.values():
        for key, default in TASK_DEFAULTS.items():
            if key not in task:
                task[key] = copy.deepcopy(default) if isinstance(default, dict | list) else default
    for task in tasks.values():
        if task["delta"].get(EMPTIED):
            task["delta"] = {"updates": {}, "deletions": sorted(keys(task["parent"]))}


# A task id's text, kept: every save writes each task's id, its parent's and its children's, and ``str`` of a
# UUID is Python code (0.47 µs, against 0.07 for a look-up here); emptied when it grows past the bound.
_ID_TEXTS: dict[UUID, str] = {}
MAX_ID_TEXTS = 20_000  # about 5 MB; the warm workflows (engine/warm.py) hold a few thousand tasks


def id_text(task_id: UUID) -> str:
    text = _ID_TEXTS.get(task_id)
    if text is None:
        if len(_ID_TEXTS) >= MAX_ID_TEXTS:
            _ID_TEXTS.clear()
        text = _ID_TEXTS[task_id] = str(task_id)
    return text


class TaskToDict(TaskConverter):
    """SpiffWorkflow's task dictionary, the same keys and values (tests/test_state_json.py compares them), made
    with less work per task: the parent looked up once instead of four times, the ids' texts kept, the data's
    delta worked out in place and an empty ``internal_data`` not converted. A joint meeting's 47 tasks are
    written on every save."""

    def to_dict(self, task: Task) -> dict[str, Any]:
        parent = task.workflow.tasks.get(task._parent)
        own = task.data
        if parent is None:
            data: dict[str, Any] = own
            delta: dict[str, Any] = {}
        else:
            above = parent.data
            data = {}
            delta = {"updates": {key: value for key, value in own.items() if key not in above or value != above[key]},
                     "deletions": [key for key in above if key not in own]}
        internal = task.internal_data
        return {
            "id": id_text(task.id),
            "parent": id_text(task._parent) if parent is not None else None,
            "children": [id_text(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": self.registry.convert(internal) if internal else {},
            "data": data,
            "delta": delta,
        }


class SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Saves no spec, and restores onto spec objects the caller already holds."""

    def mapping_to_dict(self, mapping: Any, **kwargs: Any) -> dict[str, Any]:
        convert = self.registry.convert
        return {id_text(k) if type(k) is UUID else str(k): convert(v, **kwargs) for k, v in mapping.items()}

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = dct.pop("_shared_specs")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateCodec:
    """Turns workflows into state text and back; caches spec objects per spec hash."""

    def __init__(self, cache_size: int = 64) -> None:
        self.serializer = make_serializer({BpmnWorkflow: SharedSpecWorkflowConverter, Task: TaskToDict})
        self._encoder = self.serializer._encoder_cls()
        self._specs: OrderedDict[str, tuple[Any, dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self._cache_size = cache_size

    def cached(self, sha: str) -> tuple[Any, dict[str, Any]] | None:
        """The spec objects of ``sha`` when in memory (no blob needed)."""
        with self._lock:
            hit = self._specs.get(sha)
            if hit is not None:
                self._specs.move_to_end(sha)
            return hit

    def specs(self, sha: str, blob: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        with self._lock:
            hit = self._specs.get(sha)
            if hit is not None:
                self._specs.move_to_end(sha)
                return hit
        blob = copy.deepcopy(blob)
        registry = self.serializer.registry
        spec = registry.restore(blob["spec"])
        subs = {name: registry.restore(s) for name, s in blob["subprocess_specs"].items()}
        with self._lock:
            self._specs[sha] = (spec, subs)
            while len(self._specs) > self._cache_size:
                self._specs.popitem(last=False)
        return spec, subs

    def dumps(self, workflow: BpmnWorkflow) -> str:
        """``serialize_json`` written compactly: UTF-8 text as is (not ``\\uXXXX``) and no spaces after
        separators, about a third smaller for Chinese data (bench/run.py's state_kib figures); ``loads`` reads
        both forms.

        Written by orjson, a fifteenth of the standard library's time (18 µs for a three-task state), with the
        serializer's own encoder for what JSON has no type for. What orjson refuses (an integer beyond 64 bits,
        a key that is not text) goes through the standard library's encoder as before. Two values differ from
        that encoder's: a UUID or an enum member in the data is written as its text or value (the standard
        library's wrote a typed UUID and refused the member; no task data holds either), and NaN or infinity
        as null (the standard library's wrote non-JSON tokens that came back as such; no form field takes them,
        only an expression or a decision's double output that overflows would make one)."""
        serializer = self.serializer
        serializer.registry._encoder_mode = True
        try:
            dct = serializer.to_dict(workflow)
            _compact(dct)
            dct[serializer.VERSION_KEY] = serializer.VERSION
            try:
                return orjson.dumps(dct, default=self._encoder.default, option=_ORJSON_OPTIONS).decode()
            except orjson.JSONEncodeError:
                return json.dumps(dct, cls=serializer._encoder_cls, ensure_ascii=False, separators=(",", ":"))
        finally:
            serializer.registry._encoder_mode = False

    def loads(self, text: str, specs: tuple[Any, dict[str, Any]]) -> BpmnWorkflow:
        dct = json.loads(text)
        version = dct.pop(self.serializer.VERSION_KEY, None)
        if version != SERIALIZER_VERSION:
            raise ValueError(f"unsupported serializer version {version!r}")
        _expand(dct)
        dct["_shared_specs"] = specs
        return self.serializer.from_dict(dct)
