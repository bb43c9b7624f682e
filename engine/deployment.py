"""Deploying diagrams: check a batch, store new versions (spec once per content hash), schedule timer starts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, func, select
from sqlalchemy.orm import Session, defer

from engine.access import Actor
from engine.actions import ActionRegistry
from engine.db import Database
from engine.errors import NotFound
from engine.forms import FieldTypes
from engine.loader import LoadedProcess, SourceFile, load
from engine.models import ProcessModel, ProcessSpec
from engine.projection import Projector
from engine.schedule import sync_timer_starts

_LATEST_MODEL = (select(ProcessModel).options(defer(ProcessModel.xml))  # the diagram loads when read
                 .where(ProcessModel.key == bindparam("key")).order_by(ProcessModel.version.desc()).limit(1))


@dataclass
class DeployResult:
    model: ProcessModel
    created: bool


def latest_models(s: Session) -> list[ProcessModel]:
    """The newest version of every deployed process."""
    latest = (select(ProcessModel.key, func.max(ProcessModel.version).label("v"))
              .group_by(ProcessModel.key).subquery())
    stmt = select(ProcessModel).join(latest, and_(ProcessModel.key == latest.c.key,
                                                   ProcessModel.version == latest.c.v))
    return list(s.scalars(stmt))


def latest_model(s: Session, key: str) -> ProcessModel:
    model = s.scalars(_LATEST_MODEL, {"key": key}).first()
    if model is None:
        raise NotFound(f"流程“{key}”尚未部署")
    return model


class Deployments:
    def __init__(self, db: Database, registry: ActionRegistry, field_types: FieldTypes, projector: Projector,
                 now: Callable[[], datetime]) -> None:
        self.db = db
        self.registry = registry
        self.field_types = field_types
        self.projector = projector
        self.now = now

    def deploy(self, sources: list[SourceFile], actor: Actor | None = None) -> list[DeployResult]:
        """Check and deploy a batch; a process whose diagram and spec did not change keeps its version."""
        with self.db.transaction() as s:
            deployed = {m.key: (m.file_name, m.xml) for m in latest_models(s)}
            loaded = load(sources, self.registry, deployed, self.field_types)
            return [self._store(s, lp, actor) for lp in loaded]

    def check(self, sources: list[SourceFile]) -> list[LoadedProcess]:
        """Exactly the checks of ``deploy`` (against what is deployed now), storing nothing.
        Raises DeployError listing every problem."""
        with self.db.sessions() as s:
            deployed = {m.key: (m.file_name, m.xml) for m in latest_models(s)}
        return load(sources, self.registry, deployed, self.field_types)

    def _store(self, s: Session, lp: LoadedProcess, actor: Actor | None) -> DeployResult:
        current = s.scalars(select(ProcessModel).where(ProcessModel.key == lp.key)
                            .order_by(ProcessModel.version.desc()).limit(1)).first()
        if current is not None and current.source_sha == lp.source_sha and current.spec_sha == lp.spec_sha:
            return DeployResult(current, False)
        if s.get(ProcessSpec, lp.spec_sha) is None:
            s.add(ProcessSpec(sha=lp.spec_sha, spec=lp.spec))
            s.flush()
        model = ProcessModel(
            key=lp.key, version=(current.version + 1) if current else 1, name=lp.name, file_name=lp.file,
            xml=lp.xml, source_sha=lp.source_sha, spec_sha=lp.spec_sha, starter_groups=lp.starter_groups,
            start_events=[e.__dict__ for e in lp.start_events], called=lp.called,
            deployed_by=actor.username if actor else None, deployed_at=self.now(),
        )
        s.add(model)
        s.flush()
        self.projector.audit(s, "deploy", actor=actor, process_key=lp.key,
                             data={"version": model.version, "file": lp.file, "spec_sha": lp.spec_sha})
        sync_timer_starts(s, model, lp.spec, self.now())  # timer start events → wf_schedule rows
        return DeployResult(model, True)
