"""DMN decision tables, deployed, versioned and reviewed like process models (engine/deployment.py).

An operator's deploy (``flask init``, ``flask deploy``) publishes at once; a designer's deploy stores a *pending*
version that nothing evaluates until an approver other than its author publishes it (or rejects it). Both are
audited. :meth:`Decisions.evaluate` runs the newest published version, or the version a caller pins (a running
process that must keep the rules it started with).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, defer

from engine.access import Actor
from engine.db import Database
from engine.dmn import DecisionCheckError, DecisionError, LoadedDecision, evaluate_table, load_decisions
from engine.errors import Conflict, DeployError, Forbidden, FormError, NotFound, Problem
from engine.loader import SourceFile
from engine.models import PENDING, PUBLISHED, REJECTED, DecisionModel
from engine.projection import Projector

__all__ = ["DecisionDeploy", "DecisionError", "DecisionResult", "Decisions"]


@dataclass(frozen=True)
class DecisionResult:
    key: str
    version: int
    rows: list[dict[str, Any]]  # one per matched rule (COLLECT) or at most one: output name → typed value
    matched_rules: list[str]  # the rule ids, in table order


@dataclass
class DecisionDeploy:
    model: DecisionModel
    created: bool


class Decisions:
    def __init__(self, db: Database, projector: Projector, now: Callable[[], datetime]) -> None:
        self.db = db
        self.projector = projector
        self.now = now
        self._tables: dict[tuple[str, int], dict[str, Any]] = {}  # versions never change: cached for good

    # ------------------------------------------------------------------ deploy
    @staticmethod
    def check(sources: list[SourceFile]) -> list[LoadedDecision]:
        """Every check of ``deploy``, storing nothing. Raises DeployError listing every problem of every file."""
        problems: list[Problem] = []
        loaded: list[LoadedDecision] = []
        for src in sources:
            try:
                loaded.extend(load_decisions(src))
            except DeployError as exc:
                problems.extend(exc.problems)
        seen: set[str] = set()
        for d in loaded:
            if d.key in seen:
                problems.append(Problem(d.file, None, d.key, f"决策标识“{d.key}”在多个文件中出现"))
            seen.add(d.key)
        if problems:
            raise DecisionCheckError(problems)
        return loaded

    def deploy(self, sources: list[SourceFile], actor: Actor | None = None, pending: bool = False
               ) -> list[DecisionDeploy]:
        """Check and store a batch of .dmn files; a decision whose table did not change keeps its version. With
        ``pending`` (a designer's deploy) new versions wait for an approver (:meth:`publish`)."""
        loaded = self.check(sources)
        with self.db.transaction() as s:
            return [self._store(s, d, actor, PENDING if pending else PUBLISHED) for d in loaded]

    def _store(self, s: Session, d: LoadedDecision, actor: Actor | None, status: str) -> DecisionDeploy:
        accepted = (PUBLISHED, PENDING) if status == PENDING else (PUBLISHED,)
        same = s.scalars(select(DecisionModel).where(
            DecisionModel.key == d.key, DecisionModel.table_sha == d.table_sha, DecisionModel.status.in_(accepted))
            .order_by(DecisionModel.version.desc()).limit(1)).first()
        published = self._published(s, d.key)
        if same is not None and (same.status == PENDING or same is published):
            return DecisionDeploy(same, False)
        newest = s.scalar(select(func.max(DecisionModel.version)).where(DecisionModel.key == d.key)) or 0
        model = DecisionModel(key=d.key, version=newest + 1, name=d.name, file_name=d.file, xml=d.xml,
                              table=d.table, table_sha=d.table_sha, status=status, deployed_at=self.now(),
                              deployed_by=actor.username if actor else None)
        s.add(model)
        s.flush()
        self.projector.audit(s, "deploy_decision" if status == PUBLISHED else "submit_decision", actor=actor,
                             data={"decision": d.key, "version": model.version, "file": d.file})
        return DecisionDeploy(model, True)

    # ------------------------------------------------------------------ four eyes
    def _pending(self, s: Session, key: str, version: int, actor: Actor) -> DecisionModel:
        stmt = select(DecisionModel).where(DecisionModel.key == key, DecisionModel.version == version)
        model = s.scalars(stmt.with_for_update() if self.db.is_postgres else stmt).first()
        if model is None:
            raise NotFound(f"决策“{key}”没有第 {version} 版")
        if model.status != PENDING:
            raise Conflict(f"决策“{model.name}”第 {version} 版已{'发布' if model.status == PUBLISHED else '驳回'}，"
                           "无需再审批")
        if model.deployed_by is not None and model.deployed_by == actor.username:
            raise Forbidden("不能审批自己提交的版本：发布须由另一人审核（四眼原则）")
        return model

    def publish(self, key: str, version: int, actor: Actor, comment: str | None = None) -> DecisionModel:
        """Publish a pending version: from now on ``evaluate(key)`` without a version uses it."""
        with self.db.transaction() as s:
            model = self._pending(s, key, version, actor)
            current = self._published(s, key)
            if current is not None and current.version > model.version:
                raise Conflict(f"已有更新的已发布版本（第 {current.version} 版）：请驳回此版本，由设计人员重新提交")
            model.status, model.reviewed_by, model.reviewed_at = PUBLISHED, actor.username, self.now()
            model.review_comment = (comment or "").strip()[:2000] or None
            s.flush()
            self.projector.audit(s, "publish_decision", actor=actor, comment=model.review_comment,
                                 data={"decision": key, "version": version, "deployed_by": model.deployed_by,
                                       "replaces": current.version if current else None})
            return model

    def reject(self, key: str, version: int, actor: Actor, comment: str) -> DecisionModel:
        if not (comment or "").strip():
            raise FormError({"comment": "请填写驳回理由"})
        with self.db.transaction() as s:
            model = self._pending(s, key, version, actor)
            model.status, model.reviewed_by, model.reviewed_at = REJECTED, actor.username, self.now()
            model.review_comment = comment.strip()[:2000]
            self.projector.audit(s, "reject_decision", actor=actor, comment=model.review_comment,
                                 data={"decision": key, "version": version, "deployed_by": model.deployed_by})
            return model

    # ------------------------------------------------------------------ queries
    @staticmethod
    def _published(s: Session, key: str) -> DecisionModel | None:
        return s.scalars(select(DecisionModel).options(defer(DecisionModel.xml))
                         .where(DecisionModel.key == key, DecisionModel.status == PUBLISHED)
                         .order_by(DecisionModel.version.desc()).limit(1)).first()

    def designed_keys(self) -> set[str]:
        """Decisions whose latest version (published or pending) a person deployed, not a shipped file."""
        newest = (select(DecisionModel.key, func.max(DecisionModel.version).label("v"))
                  .where(DecisionModel.status != REJECTED).group_by(DecisionModel.key).subquery())
        with self.db.sessions() as s:
            return set(s.scalars(select(DecisionModel.key)
                                 .join(newest, and_(DecisionModel.key == newest.c.key,
                                                    DecisionModel.version == newest.c.v))
                                 .where(DecisionModel.deployed_by.is_not(None))))

    def pending(self) -> list[DecisionModel]:
        """Versions waiting for an approver, oldest first."""
        with self.db.sessions() as s:
            return list(s.scalars(select(DecisionModel).options(defer(DecisionModel.xml))
                                  .where(DecisionModel.status == PENDING).order_by(DecisionModel.deployed_at)))

    def catalogue(self) -> dict[str, list[DecisionModel]]:
        """Every version of every decision (newest first), by key in key order, without the XML."""
        found: dict[str, list[DecisionModel]] = {}
        with self.db.sessions() as s:
            for m in s.scalars(select(DecisionModel).options(defer(DecisionModel.xml), defer(DecisionModel.table))
                               .order_by(DecisionModel.key, DecisionModel.version.desc())):
                found.setdefault(m.key, []).append(m)
        return found

    def versions(self, key: str) -> list[DecisionModel]:
        """Every version of ``key``, newest first."""
        with self.db.sessions() as s:
            return list(s.scalars(select(DecisionModel).options(defer(DecisionModel.xml))
                                  .where(DecisionModel.key == key).order_by(DecisionModel.version.desc())))

    def published(self, key: str) -> DecisionModel | None:
        with self.db.sessions() as s:
            return self._published(s, key)

    def model(self, key: str, version: int | None = None) -> DecisionModel:
        """One version (with its XML); without ``version`` the newest published one. Raises NotFound."""
        with self.db.sessions() as s:
            if version is None:
                found = self._published(s, key)
                if found is None:
                    raise NotFound(f"决策“{key}”尚未部署或没有已发布的版本")
                version = found.version
            model = s.scalars(select(DecisionModel).where(DecisionModel.key == key,
                                                          DecisionModel.version == version)).first()
            if model is None:
                raise NotFound(f"决策“{key}”没有第 {version} 版")
            return model

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, key: str, inputs: Mapping[str, Any], version: int | None = None) -> DecisionResult:
        """Run decision ``key``: the newest published version, or the published ``version`` a caller pinned
        (a running case that keeps the rules it started with). Pending and rejected versions never run.
        Raises NotFound or DecisionError."""
        if version is None:
            with self.db.sessions() as s:
                current = s.scalar(select(func.max(DecisionModel.version)).where(
                    DecisionModel.key == key, DecisionModel.status == PUBLISHED))
            if current is None:
                raise NotFound(f"决策“{key}”尚未部署或没有已发布的版本")
            version = current
        table = self._tables.get((key, version))
        if table is None:
            with self.db.sessions() as s:
                table = s.scalar(select(DecisionModel.table).where(
                    DecisionModel.key == key, DecisionModel.version == version, DecisionModel.status == PUBLISHED))
            if table is None:
                raise NotFound(f"决策“{key}”没有已发布的第 {version} 版")
            self._tables[(key, version)] = table  # a published version never changes
        result = evaluate_table(table, inputs)
        return DecisionResult(key, version, result.rows, result.matched_rules)
