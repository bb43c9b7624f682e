"""Tokens per activity: what the monitoring pages draw on diagrams.

A workflow holds the tasks of its own diagram, of embedded sub-processes (drawn on the same diagram) and of the
processes its call activities run (drawn on *their* diagram). A *scope* is one drawing: the instance itself
(scope id ``""``) or one run of a called process (scope id = the id of the call-activity task that runs it).

``sync`` keeps the ``wf_activity`` projection in step with a workflow on every save, so a heatmap over all
instances of a version is one aggregate query (``heatmap``); ``scope_states`` reads one live workflow for the
instance pages (markers and the drill-down into call activities).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, cast

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import LoopTask
from sqlalchemy import Table, and_, bindparam, delete, func, or_, select
from sqlalchemy.orm import Session

from engine.models import ActivityTokens, Instance, ProcessModel, ProcessSpec
from engine.writes import Writes

ACTIVE = TaskState.READY | TaskState.STARTED | TaskState.WAITING
TOP = ""


@dataclass
class Counts:
    active: int = 0
    completed: int = 0
    failed: int = 0

    def as_dict(self) -> dict[str, int]:
        return {k: v for k, v in (("active", self.active), ("completed", self.completed),
                                  ("failed", self.failed)) if v}


@dataclass
class Scope:
    """One drawing of a diagram: the instance's own process, or one run of a called process."""

    id: str
    process_key: str
    call_task: Any = None  # the call-activity task (None for the instance itself)
    parent_scope: str | None = None
    counts: dict[str, Counts] = field(default_factory=dict)
    task_ids: set[str] = field(default_factory=set)  # every engine task of this scope (audit, human tasks)

    @property
    def active(self) -> list[str]:
        return sorted(k for k, c in self.counts.items() if c.active)

    @property
    def completed(self) -> list[str]:
        return sorted(k for k, c in self.counts.items() if c.completed and not c.active)

    @property
    def failed(self) -> list[str]:
        return sorted(k for k, c in self.counts.items() if c.failed)

    @property
    def state(self) -> str:
        """'active', 'completed', 'failed' or 'cancelled' for a called run (by its call-activity task)."""
        if self.call_task is None:
            return "active"
        state = self.call_task.state
        if state & TaskState.ERROR:
            return "failed"
        if state & TaskState.COMPLETED:
            return "completed"
        if state & TaskState.CANCELLED:
            return "cancelled"
        return "active"

    @property
    def data(self) -> dict[str, Any]:
        """The call-activity task's data (what the run was started with)."""
        return dict(self.call_task.data) if self.call_task is not None else {}


def _is_call(task: Any, called_keys: set[str]) -> bool:
    """A call activity runs another diagram; an embedded sub-process is drawn inside its parent's."""
    name = getattr(task.task_spec, "spec", None)
    return bool(name) and (name in called_keys or name != task.task_spec.bpmn_id)


def scope_states(wf: BpmnWorkflow, process_key: str, called_keys: Iterable[str] = ()) -> dict[str, Scope]:
    """Every scope of a workflow with the tokens of each of its activities, in one pass over the tasks."""
    called = set(called_keys)
    scopes: dict[str, Scope] = {TOP: Scope(TOP, process_key)}
    owner: dict[Any, str] = {id(wf): TOP}  # workflow object -> scope id

    def scope_of(workflow: Any) -> str:
        key = id(workflow)
        if key in owner:
            return owner[key]
        parent_task = wf.get_task_from_id(workflow.parent_task_id)
        parent_scope = scope_of(parent_task.workflow)
        if _is_call(parent_task, called):
            sid = str(workflow.parent_task_id)
            scopes[sid] = Scope(sid, workflow.spec.name, parent_task, parent_scope)
        else:
            sid = parent_scope
        owner[key] = sid
        return sid

    for task in wf.get_tasks():
        spec = task.task_spec
        bpmn_id = getattr(spec, "bpmn_id", None)
        sid = scope_of(task.workflow)
        scopes[sid].task_ids.add(str(task.id))
        if not bpmn_id or isinstance(spec, LoopTask):
            continue  # engine-internal tasks, and multi-instance bodies (their children are the tokens)
        state = task.state
        counts = scopes[sid].counts
        if state & TaskState.ERROR:
            counts.setdefault(bpmn_id, Counts()).failed += 1
        elif state & TaskState.COMPLETED:
            counts.setdefault(bpmn_id, Counts()).completed += 1
        elif state & ACTIVE and not (state & TaskState.WAITING and isinstance(spec, BoundaryEvent)):
            # A boundary event waiting on its activity is not a token of its own; once fired it is completed.
            counts.setdefault(bpmn_id, Counts()).active += 1
    return scopes


def totals(scopes: dict[str, Scope]) -> dict[tuple[str, str], Counts]:
    """Counts per (process key, activity) over all scopes of one instance."""
    out: dict[tuple[str, str], Counts] = {}
    for scope in scopes.values():
        for bpmn_id, c in scope.counts.items():
            t = out.setdefault((scope.process_key, bpmn_id), Counts())
            t.active, t.completed, t.failed = t.active + c.active, t.completed + c.completed, t.failed + c.failed
    return out


def tokens(inst: Instance, wf: BpmnWorkflow) -> dict[tuple[str, str], Counts]:
    """The ``wf_activity`` rows an instance should have for ``wf``, by (process key, activity)."""
    called = inst.model.called if inst.model is not None else []
    wanted = totals(scope_states(wf, inst.process_key, called))
    if inst.status not in ("running", "suspended"):
        for counts in wanted.values():  # an ended instance holds no tokens (a cancelled one keeps its history)
            counts.active = 0
    return wanted


def sync(s: Session, inst: Instance, wf: BpmnWorkflow, before: dict[tuple[str, str], Counts] | None = None,
         before_model: int | None = None, writes: Writes | None = None) -> dict[tuple[str, str], Counts]:
    """Bring the instance's rows of ``wf_activity`` in step with its workflow (called on every save); returns
    what they hold then.

    ``before`` is what the rows hold, when the caller knows it (the tokens of the workflow as it was restored,
    see Projector.restore, with ``before_model`` the model it ran then): only the rows that change are written,
    in one statement (now, or with the command's other ``writes``), and nothing is read. Otherwise the rows are
    read first."""
    wanted = tokens(inst, wf)
    conn = s.connection()
    if before is None:
        before, models = {}, {}
        for pk, bpmn_id, model_id, active, completed, failed in conn.execute(_ROWS, {"iid": inst.id}):
            before[(pk, bpmn_id)] = Counts(active, completed, failed)
            models[(pk, bpmn_id)] = model_id
    else:
        models = dict.fromkeys(before, before_model)
    gone = [{"iid": inst.id, "pk": pk, "bid": bid} for pk, bid in before if (pk, bid) not in wanted]
    changed = [{"instance_id": inst.id, "process_key": pk, "bpmn_id": bid, "model_id": inst.model_id,
                "active": c.active, "completed": c.completed, "failed": c.failed}
               for (pk, bid), c in wanted.items() if before.get((pk, bid)) != c or models[(pk, bid)] != inst.model_id]
    if gone:
        conn.execute(_DELETE, gone)
    own = writes if writes is not None else Writes()
    own.insert(_T, changed, _UPSERT)
    if writes is None:
        own.execute(conn)
    return wanted


_T = cast(Table, ActivityTokens.__table__)
_ROW_KEY = and_(_T.c.instance_id == bindparam("iid"), _T.c.process_key == bindparam("pk"),
                _T.c.bpmn_id == bindparam("bid"))
_ROWS = select(_T.c.process_key, _T.c.bpmn_id, _T.c.model_id, _T.c.active, _T.c.completed, _T.c.failed).where(
    _T.c.instance_id == bindparam("iid"))
_DELETE = delete(_T).where(_ROW_KEY)
# New rows and changed counts in one upsert.
_UPSERT = (("instance_id", "process_key", "bpmn_id"), ("model_id", "active", "completed", "failed"))


# (caller spec sha, called key, called spec sha) -> does the caller bundle exactly that version? Specs are
# content-addressed, so the answer never changes.
_BUNDLES: dict[tuple[str, str, str], bool] = {}


def _bundles(s: Session, caller: ProcessModel, model: ProcessModel) -> bool:
    key = (caller.spec_sha, model.key, model.spec_sha)
    if key not in _BUNDLES:
        blob, own = s.get(ProcessSpec, caller.spec_sha), s.get(ProcessSpec, model.spec_sha)
        subs = (blob.spec.get("subprocess_specs") or {}) if blob is not None else {}
        _BUNDLES[key] = own is not None and subs.get(model.key) == own.spec.get("spec")
    return _BUNDLES[key]


def callers_of(s: Session, model: ProcessModel) -> list[int]:
    """The models whose instances run ``model``: itself, and every model that calls it (directly or through
    another called process) with exactly this version's diagram bundled at its deploy."""
    ids = [model.id]
    for m in s.scalars(select(ProcessModel).where(ProcessModel.key != model.key).order_by(ProcessModel.id)):
        if m.called and _bundles(s, m, model):
            ids.append(m.id)
    return ids


def bundled_model(s: Session, caller: ProcessModel, key: str) -> ProcessModel | None:
    """The version of process ``key`` that ``caller`` runs in its call activities (``caller`` itself for its
    own key)."""
    if key == caller.key:
        return caller
    for m in s.scalars(select(ProcessModel).where(ProcessModel.key == key).order_by(ProcessModel.version.desc())):
        if _bundles(s, caller, m):
            return m
    return None


def heatmap(s: Session, model: ProcessModel) -> dict[str, Counts]:
    """Tokens per activity of ``model`` over all instances that run it: one aggregate query."""
    callers = callers_of(s, model)
    rows = s.execute(
        select(ActivityTokens.bpmn_id, func.sum(ActivityTokens.active), func.sum(ActivityTokens.completed),
               func.sum(ActivityTokens.failed))
        .where(ActivityTokens.process_key == model.key, ActivityTokens.model_id.in_(callers))
        .group_by(ActivityTokens.bpmn_id)
    ).all()
    return {bpmn_id: Counts(int(a or 0), int(c or 0), int(f or 0)) for bpmn_id, a, c, f in rows}


def instances_at(s: Session, model: ProcessModel, bpmn_id: str) -> Any:
    """A SELECT of the instances holding an active token on one activity of ``model`` (heatmap drill-down)."""
    callers = callers_of(s, model)
    return (select(Instance).join(ActivityTokens, and_(ActivityTokens.instance_id == Instance.id))
            .where(ActivityTokens.process_key == model.key, ActivityTokens.model_id.in_(callers),
                   ActivityTokens.bpmn_id == bpmn_id, or_(ActivityTokens.active > 0, ActivityTokens.failed > 0)))
