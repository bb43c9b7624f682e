"""Instance state as JSON without its spec: the spec is stored once per version and shared in memory."""

from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter

from engine.specs import make_serializer

SERIALIZER_VERSION = "1.5"


class SharedSpecWorkflowConverter(BpmnWorkflowConverter):
    """Saves no spec, and restores onto spec objects the caller already holds."""

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
        self.serializer = make_serializer({BpmnWorkflow: SharedSpecWorkflowConverter})
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
        both forms."""
        serializer = self.serializer
        serializer.registry._encoder_mode = True
        try:
            dct = serializer.to_dict(workflow)
            dct[serializer.VERSION_KEY] = serializer.VERSION
            return json.dumps(dct, cls=serializer._encoder_cls, ensure_ascii=False, separators=(",", ":"))
        finally:
            serializer.registry._encoder_mode = False

    def loads(self, text: str, specs: tuple[Any, dict[str, Any]]) -> BpmnWorkflow:
        dct = json.loads(text)
        version = dct.pop(self.serializer.VERSION_KEY, None)
        if version != SERIALIZER_VERSION:
            raise ValueError(f"unsupported serializer version {version!r}")
        dct["_shared_specs"] = specs
        return self.serializer.from_dict(dct)
