"""Deploying diagrams: check a batch, store new versions (spec once per content hash), schedule timer starts.

Four eyes (发布审批): a deploy either publishes at once (operators: ``flask deploy``, ``flask init``, the shipped
processes) or, for a designer, stores a *pending* version that nothing runs until an approver other than its
author publishes it (checked again against what is deployed then) or rejects it; both are audited. Instances,
starts, schedules and call activities only ever see published versions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session, defer

from engine.access import Actor
from engine.actions import ActionRegistry
from engine.budgets import DEFAULT, Budgets
from engine.db import Database
from engine.driver_rows import DriverQuery
from engine.errors import Conflict, Forbidden, FormError, NotFound, Problem
from engine.forms import FieldTypes
from engine.loader import LoadedProcess, SourceFile, load
from engine.models import PENDING, PUBLISHED, REJECTED, ProcessModel, ProcessSpec
from engine.projection import Projector
from engine.schedule import sync_timer_starts

_MODEL_COLUMNS = tuple(c.name for c in ProcessModel.__table__.c if c.name != "xml")
# The newest published version, read straight through the driver (engine/driver_rows.py): every start makes
# it. Its columns but the diagram, which loads when read (tests/test_driver_reads.py compares it with the ORM).
_LATEST_MODEL_ROW = DriverQuery(
    lambda _dialect: select(*(ProcessModel.__table__.c[name] for name in _MODEL_COLUMNS))
    .where(ProcessModel.key == bindparam("key"), ProcessModel.status == PUBLISHED)
    .order_by(ProcessModel.version.desc()).limit(1),
    ((ProcessModel, _MODEL_COLUMNS),))


@dataclass
class DeployResult:
    model: ProcessModel
    created: bool
    warnings: list[Problem] = field(default_factory=list)  # deployed all the same: shown to the designer


# Which of the given user names and group keys the directory does not know: (unknown users, unknown groups).
PrincipalCheck = Callable[[Session, set[str], set[str]], tuple[set[str], set[str]]]
UNKNOWN_USER = "办理人“{name}”不是系统中的用户：任务将无人能办理，除非该用户之后建立"
UNKNOWN_GROUP = "候选组“{name}”在系统中不存在：任务将无人能办理，除非该群组之后设立"


def principal_warnings(s: Session, loaded: list[LoadedProcess], check: PrincipalCheck | None) -> None:
    """Add a warning to each process for every user or group its user tasks name that does not exist."""
    if check is None:
        return
    users = {name for lp in loaded for _, _, kind, name in lp.principals if kind == "user"}
    groups = {name for lp in loaded for _, _, kind, name in lp.principals if kind == "group"}
    unknown_users, unknown_groups = check(s, users, groups)
    for lp in loaded:
        for element, line, kind, name in lp.principals:
            if name in (unknown_users if kind == "user" else unknown_groups):
                template = UNKNOWN_USER if kind == "user" else UNKNOWN_GROUP
                lp.warnings.append(Problem(lp.file, line, element, template.format(name=name)))


def latest_models(s: Session) -> list[ProcessModel]:
    """The newest published version of every deployed process."""
    latest = (select(ProcessModel.key, func.max(ProcessModel.version).label("v"))
              .where(ProcessModel.status == PUBLISHED).group_by(ProcessModel.key).subquery())
    stmt = select(ProcessModel).join(latest, and_(ProcessModel.key == latest.c.key,
                                                   ProcessModel.version == latest.c.v))
    return list(s.scalars(stmt))


def published_model(s: Session, key: str) -> ProcessModel | None:
    """The newest published version of ``key`` (None when none is)."""
    found = _LATEST_MODEL_ROW.first(s, {"key": key})
    if found is None:
        return None
    (entity,), (values,), _ = found
    return cast(ProcessModel, entity.held_or_load(s, values))


def latest_model(s: Session, key: str) -> ProcessModel:
    model = published_model(s, key)
    if model is None:
        raise NotFound(f"流程“{key}”尚未部署")
    return model


class Deployments:
    def __init__(self, db: Database, registry: ActionRegistry, field_types: FieldTypes, projector: Projector,
                 now: Callable[[], datetime], budgets: Budgets = DEFAULT,
                 principals: PrincipalCheck | None = None) -> None:
        self.budgets = budgets
        self.principals = principals
        self.db = db
        self.registry = registry
        self.field_types = field_types
        self.projector = projector
        self.now = now

    def deploy(self, sources: list[SourceFile], actor: Actor | None = None, pending: bool = False
               ) -> list[DeployResult]:
        """Check and deploy a batch; a process whose diagram and spec did not change keeps its version. With
        ``pending`` (a designer's deploy) the new versions wait for an approver (:meth:`publish`)."""
        with self.db.transaction() as s:
            deployed = {m.key: (m.file_name, m.xml) for m in latest_models(s)}
            loaded = load(sources, self.registry, deployed, self.field_types, self.budgets)
            principal_warnings(s, loaded, self.principals)
            results = [self._store(s, lp, actor, PENDING if pending else PUBLISHED) for lp in loaded]
            for result, lp in zip(results, loaded, strict=True):
                result.warnings = lp.warnings
            return results

    def check(self, sources: list[SourceFile]) -> list[LoadedProcess]:
        """Exactly the checks of ``deploy`` (against what is deployed now), storing nothing.
        Raises DeployError listing every problem."""
        with self.db.sessions() as s:
            deployed = {m.key: (m.file_name, m.xml) for m in latest_models(s)}
            loaded = load(sources, self.registry, deployed, self.field_types, self.budgets)
            principal_warnings(s, loaded, self.principals)
        return loaded

    def _store(self, s: Session, lp: LoadedProcess, actor: Actor | None, status: str = PUBLISHED
               ) -> DeployResult:
        """A new version, unless the published one (or, for a pending deploy, a pending one) is this diagram."""
        same = (select(ProcessModel).where(ProcessModel.key == lp.key, ProcessModel.source_sha == lp.source_sha,
                                           ProcessModel.spec_sha == lp.spec_sha)
                .order_by(ProcessModel.version.desc()).limit(1))
        published = published_model(s, lp.key)
        unchanged = s.scalars(same.where(ProcessModel.status.in_((PUBLISHED, PENDING) if status == PENDING
                                                                 else (PUBLISHED,)))).first()
        if unchanged is not None and (unchanged.status == PENDING or unchanged is published):
            return DeployResult(unchanged, False)
        self._keep_spec(s, lp)
        newest = s.scalar(select(func.max(ProcessModel.version)).where(ProcessModel.key == lp.key)) or 0
        model = ProcessModel(
            key=lp.key, version=newest + 1, name=lp.name, file_name=lp.file,
            xml=lp.xml, source_sha=lp.source_sha, spec_sha=lp.spec_sha, starter_groups=lp.starter_groups,
            start_events=[e.__dict__ for e in lp.start_events], called=lp.called,
            deployed_by=actor.username if actor else None, deployed_at=self.now(), status=status,
        )
        s.add(model)
        s.flush()
        self.projector.audit(s, "deploy" if status == PUBLISHED else "submit", actor=actor, process_key=lp.key,
                             data={"version": model.version, "file": lp.file, "spec_sha": lp.spec_sha})
        if status == PUBLISHED:
            sync_timer_starts(s, model, lp.spec, self.now())  # timer start events → wf_schedule rows
        return DeployResult(model, True)

    @staticmethod
    def _keep_spec(s: Session, lp: LoadedProcess) -> None:
        if s.get(ProcessSpec, lp.spec_sha) is None:
            s.add(ProcessSpec(sha=lp.spec_sha, spec=lp.spec))
            s.flush()

    # ------------------------------------------------------------------ four eyes
    def _pending(self, s: Session, key: str, version: int, actor: Actor) -> ProcessModel:
        stmt = select(ProcessModel).where(ProcessModel.key == key, ProcessModel.version == version)
        model = s.scalars(stmt.with_for_update() if self.db.is_postgres else stmt).first()
        if model is None:
            raise NotFound(f"流程“{key}”没有第 {version} 版")
        if model.status != PENDING:
            raise Conflict(f"“{model.name}”第 {version} 版已{'发布' if model.status == PUBLISHED else '驳回'}，"
                           "无需再审批")
        if model.deployed_by is not None and model.deployed_by == actor.username:
            raise Forbidden("不能审批自己提交的版本：发布须由另一人审核（四眼原则）")
        return model

    def publish(self, key: str, version: int, actor: Actor, comment: str | None = None) -> ProcessModel:
        """Publish a pending version: checked again against what is deployed now (its call activities bundle
        the processes published at this moment), then it is the version new instances start on."""
        with self.db.transaction() as s:
            model = self._pending(s, key, version, actor)
            current = published_model(s, key)
            if current is not None and current.version > model.version:
                raise Conflict(f"已有更新的已发布版本（第 {current.version} 版）：请驳回此版本，由设计人员重新提交")
            deployed = {m.key: (m.file_name, m.xml) for m in latest_models(s) if m.key != key}
            [lp] = [p for p in load([SourceFile(model.file_name, model.xml.encode())], self.registry, deployed,
                                    self.field_types, self.budgets) if p.key == key]
            self._keep_spec(s, lp)
            model.spec_sha, model.start_events, model.called = lp.spec_sha, [e.__dict__ for e in lp.start_events], \
                lp.called
            model.status, model.reviewed_by, model.reviewed_at = PUBLISHED, actor.username, self.now()
            model.review_comment = (comment or "").strip()[:2000] or None
            s.flush()
            self.projector.audit(s, "publish", actor=actor, process_key=key, comment=model.review_comment,
                                 data={"version": version, "deployed_by": model.deployed_by,
                                       "replaces": current.version if current else None})
            sync_timer_starts(s, model, lp.spec, self.now())
            return model

    def reject(self, key: str, version: int, actor: Actor, comment: str) -> ProcessModel:
        """Refuse a pending version, with the reason the designer reads."""
        if not (comment or "").strip():
            raise FormError({"comment": "请填写驳回理由"})
        with self.db.transaction() as s:
            model = self._pending(s, key, version, actor)
            model.status, model.reviewed_by, model.reviewed_at = REJECTED, actor.username, self.now()
            model.review_comment = comment.strip()[:2000]
            self.projector.audit(s, "reject", actor=actor, process_key=key, comment=model.review_comment,
                                 data={"version": version, "deployed_by": model.deployed_by})
            return model

    def pending(self) -> list[ProcessModel]:
        """Versions waiting for an approver, oldest first."""
        with self.db.sessions() as s:
            return list(s.scalars(select(ProcessModel).options(defer(ProcessModel.xml))
                                  .where(ProcessModel.status == PENDING).order_by(ProcessModel.deployed_at)))
