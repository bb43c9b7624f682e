"""Workflows that committed commands left in memory, so that the next command on the same instance in this
process skips reading its state back into objects (engine/projection.py: ``Projector.restore``).

An entry is the workflow object as a command saved it, with the state text it was saved as: it is used only
when the instance row holds exactly that text again (the row read under the instance's lock), so a command of
another process, a rolled-back transaction or a restored backup can only cause a miss. An entry joins the
cache when its transaction commits, and a command takes it out while it works, so no two commands ever share a
workflow object."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from sqlalchemy import event
from sqlalchemy.orm import Session

PENDING = "wf_warm_pending"  # Session.info key: instance id -> (cache, entry), kept once the session commits


@dataclass(frozen=True)
class Warm:
    state: str  # the state text the workflow was saved as
    model_id: int
    workflow: BpmnWorkflow
    tokens: dict[tuple[str, str], Any]  # its wf_activity counts (engine/activity.py: tokens)


class WarmWorkflows:
    """At most ``size`` workflows whose state texts add up to at most ``max_chars``, least recently saved
    dropped first. A workflow in memory takes about seven times its state text (a joint meeting with its 17
    replies open: 15.8k characters, 106 KB), so the default keeps this under 10 MB per process."""

    def __init__(self, size: int = 64, max_chars: int = 1_000_000) -> None:
        self.size = size
        self.max_chars = max_chars
        self._entries: OrderedDict[str, Warm] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def take(self, instance_id: str, state: str, model_id: int) -> Warm | None:
        """The instance's workflow if the one in memory was saved as ``state`` on ``model_id``; the entry
        leaves the cache either way (the caller will change the workflow, or the entry is stale)."""
        with self._lock:
            entry = self._entries.pop(instance_id, None)
            if entry is not None:
                self._chars -= len(entry.state)
            found = entry is not None and entry.model_id == model_id and entry.state == state
            if found:
                self.hits += 1
            else:
                self.misses += 1
        return entry if found else None

    def hold(self, s: Session, instance_id: str, entry: Warm) -> None:
        """Keep ``entry`` once ``s`` commits (a later save of the same instance in ``s`` replaces it)."""
        # What a workflow restored from text runs with until a command sets its own (engine/runner.py: run);
        # the command's engine refers to that command's session.
        entry.workflow.script_engine = PythonScriptEngine()
        s.info.setdefault(PENDING, {})[instance_id] = (self, entry)

    def _keep(self, instance_id: str, entry: Warm) -> None:
        if len(entry.state) > self.max_chars:
            return
        with self._lock:
            old = self._entries.pop(instance_id, None)
            if old is not None:
                self._chars -= len(old.state)
            self._entries[instance_id] = entry
            self._chars += len(entry.state)
            while len(self._entries) > self.size or self._chars > self.max_chars:
                _, dropped = self._entries.popitem(last=False)
                self._chars -= len(dropped.state)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    for instance_id, (cache, entry) in session.info.pop(PENDING, {}).items():
        cache._keep(instance_id, entry)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session: Session) -> None:
    session.info.pop(PENDING, None)
