"""Moving running instances to a newer version of their process, only when every change lies ahead of their
tokens. A dry run reports, per instance, whether it can move and if not why; the move itself is one short
transaction per instance, audited ("migrate", with the versions).

The comparison is SpiffWorkflow's own (``SpecDiff``: task specs aligned by BPMN id, attributes compared). An
instance may move when no task it has reached (completed, started, ready, waiting, failed) belongs to an
element the new version changes or removes, with one allowance: a ready task's outgoing (or incoming) flows may
change, because its branch is predicted again from the new version. Tasks only predicted (future, likely,
maybe) may change freely. Ready tasks keep their ids, so open work items stay as they are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.diff import SpecDiff, migrate_workflow
from sqlalchemy import select

from engine.errors import Conflict, NotFound
from engine.locks import existing_instance
from engine.models import PUBLISHED, Instance, ProcessModel
from engine.service import Actor, WorkflowService

REACHED = TaskState.COMPLETED | TaskState.STARTED | TaskState.READY | TaskState.WAITING | TaskState.ERROR
_READY_MAY_CHANGE = {"inputs", "outputs"}
_STATE_LABELS = {TaskState.COMPLETED: "已完成", TaskState.STARTED: "进行中", TaskState.READY: "正在办理",
                 TaskState.WAITING: "正在等待", TaskState.ERROR: "出错", TaskState.CANCELLED: "已取消"}


@dataclass
class InstancePlan:
    instance_id: str
    business_key: str | None
    title: str | None
    version: int
    status: str
    blockers: list[str] = field(default_factory=list)

    @property
    def movable(self) -> bool:
        return not self.blockers


@dataclass
class MigrationPlan:
    key: str
    target_version: int
    instances: list[InstancePlan]

    @property
    def movable(self) -> list[InstancePlan]:
        return [p for p in self.instances if p.movable]


def _label(spec: Any) -> str:
    name = getattr(spec, "bpmn_name", None)
    bpmn_id = getattr(spec, "bpmn_id", None) or spec.name
    return f"“{name}”（{bpmn_id}）" if name else f"“{bpmn_id}”"


def _under_ready(task: Any) -> bool:
    parent = task.parent
    while parent is not None:
        if parent.state == TaskState.READY:
            return True
        parent = parent.parent
    return False


def _blockers(workflow: Any, diff: SpecDiff) -> list[str]:
    """Why the tasks of one (sub)workflow cannot move onto the new spec; [] when they can."""
    out: list[str] = []
    changed = diff.changed
    for task in workflow.get_tasks(skip_subprocesses=True):
        spec = task.task_spec
        if _under_ready(task) and task.state & TaskState.PREDICTED_MASK:
            continue  # predicted again from the new version
        if getattr(spec, "bpmn_id", None) is None:
            continue  # engine-internal specs (Start, End, root) follow the process
        if diff.alignment.get(spec) is None:
            state = _STATE_LABELS.get(task.state, "已预测")
            out.append(f"步骤{_label(spec)}{state}，新版本中已删除")
        elif task.state & REACHED and spec in changed:
            keys = set(changed[spec])
            if task.state == TaskState.READY and keys <= _READY_MAY_CHANGE:
                continue
            out.append(f"步骤{_label(spec)}{_STATE_LABELS.get(task.state, '')}，新版本中已修改")
    return list(dict.fromkeys(out))


class Migrator:
    def __init__(self, service: WorkflowService) -> None:
        self.service = service
        self.registry = service.runner.codec.serializer.registry

    def _target(self, s: Any, key: str, version: int | None) -> ProcessModel:
        # only published versions run: a pending or rejected one is no target
        stmt = select(ProcessModel).where(ProcessModel.key == key, ProcessModel.status == PUBLISHED)
        stmt = stmt.where(ProcessModel.version == version) if version is not None else stmt.order_by(
            ProcessModel.version.desc()).limit(1)
        target = s.scalars(stmt).first()
        if target is None:
            raise NotFound(f"流程“{key}”没有该版本")
        return target

    def _check(self, wf: BpmnWorkflow, new_spec: Any, new_subs: dict[str, Any]
               ) -> tuple[list[str], SpecDiff, dict[Any, SpecDiff]]:
        top = SpecDiff(self.registry, wf.spec, new_spec)
        blockers = _blockers(wf, top)
        sub_diffs: dict[Any, SpecDiff] = {}
        for sp_id, sp in wf.subprocesses.items():
            new = new_subs.get(sp.spec.name)
            if new is None:
                blockers.append(f"子流程“{sp.spec.name}”在新版本中已不存在")
                continue
            sub_diffs[sp_id] = SpecDiff(self.registry, sp.spec, new)
            blockers.extend(_blockers(sp, sub_diffs[sp_id]))
        return list(dict.fromkeys(blockers)), top, sub_diffs

    def plan(self, key: str, target_version: int | None = None) -> MigrationPlan:
        """The dry run: every running or suspended instance of an older version, movable or not and why."""
        service = self.service
        with service.db.sessions() as s:
            target = self._target(s, key, target_version)
            new_spec, new_subs = service.runner.specs(s, target)
            rows = list(s.scalars(select(Instance).join(ProcessModel, Instance.model_id == ProcessModel.id)
                                  .where(Instance.process_key == key, Instance.status.in_(("running", "suspended")),
                                         ProcessModel.version < target.version)
                                  .order_by(Instance.started_at)))
            plans = []
            for inst in rows:
                wf = service.runner.restore(s, inst)
                blockers, _, _ = self._check(wf, new_spec, new_subs)
                plans.append(InstancePlan(inst.id, inst.business_key, inst.title, inst.model.version, inst.status,
                                          blockers))
        return MigrationPlan(key, target.version, plans)

    def migrate(self, key: str, target_version: int, instance_ids: list[str], actor: Actor) -> list[str]:
        """Move the given instances (each re-checked under its lock); returns the ids moved. An instance that
        cannot move (any more) raises Conflict and nothing of it changes; those before it stay moved."""
        moved = []
        for instance_id in instance_ids:
            with self.service.db.transaction() as s:
                target = self._target(s, key, target_version)
                inst = existing_instance(s, instance_id, self.service.db.is_postgres)
                if inst.process_key != key or inst.status not in ("running", "suspended"):
                    raise Conflict("流程实例已结束或不属于该流程，未迁移")
                source = s.get(ProcessModel, inst.model_id)
                assert source is not None
                if source.version >= target.version:
                    continue
                wf = self.service.runner.restore(s, inst)
                new_spec, new_subs = self.service.runner.specs(s, target)
                blockers, top, sub_diffs = self._check(wf, new_spec, new_subs)
                if blockers:
                    raise Conflict(f"流程实例{inst.business_key or inst.id}不能迁移：" + "；".join(blockers[:3]))
                dropped = migrate_workflow(_WorkflowDiff(wf, top), wf, new_spec, reset_mask=TaskState.READY)
                for sp_id, sp in wf.subprocesses.items():
                    dropped += migrate_workflow(_WorkflowDiff(sp, sub_diffs[sp_id]), sp, new_subs[sp.spec.name],
                                                reset_mask=TaskState.READY)
                wf.subprocess_specs = new_subs
                inst.model_id = target.id
                inst.model = target
                self.service.projector.audit(s, "migrate", actor=actor, instance=inst, process_key=key,
                                             data={"from_version": source.version, "to_version": target.version,
                                                   "repredicted_tasks": len(dropped)})
                self.service.projector.save(s, inst, wf)
                moved.append(inst.id)
        return moved


class _WorkflowDiff:
    """What ``migrate_workflow`` reads of a WorkflowDiff: the task → new spec alignment."""

    def __init__(self, workflow: Any, diff: SpecDiff) -> None:
        self.alignment = {t: diff.alignment.get(t.task_spec) for t in workflow.get_tasks(skip_subprocesses=True)}
