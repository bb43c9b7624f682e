"""What process designers do besides drawing: check a diagram exactly as deploy does, deploy it as a new
version, keep drafts with optimistic concurrency, list versions with their instances, compare two versions.

Checks and deploys go through ``WorkflowService.check`` / ``deploy`` and so through engine.loader: the hardened
parse, XSD, our lint, normalization and the SpiffWorkflow parse. Problems keep the loader's element id and
line and get a ``target``: the id of the diagram element they belong to (a form field's problem is shown on
its user task, an XSD error on the element at its line), so the modeler can mark it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import SHANGHAI
from engine.diff import VersionDiff, diff_versions, diffable
from engine.errors import Conflict, DeployError, NotFound, Problem
from engine.loader import BPMN, MAX_BPMN_BYTES, SourceFile, _Collector, parse_xml
from engine.models import (
    PENDING,
    PUBLISHED,
    REJECTED,
    VERSION_STATUS_LABELS,
    Instance,
    ProcessDraft,
    ProcessModel,
)
from engine.service import Actor, DeployResult, WorkflowService

# A process id is an XML NCName (what the BPMN schema allows for ids, as Camunda 7 takes them: "报销-审批",
# "invoice.v2"), at most 100 characters (the key column), so every id the loader accepts opens in the designer.
KEY_PATTERN = re.compile(r"^[^\W\d][\w.\-\u00b7]{0,99}\Z")


class DraftConflict(Conflict):
    """Someone saved the draft since this designer loaded it."""

    def __init__(self, draft: ProcessDraft | None, message: str | None = None) -> None:
        if draft is None:
            super().__init__(message or "草稿已被他人删除或部署，请重新打开。")
            self.by, self.at, self.revision, self.fixed = None, None, None, message
            return
        self.by, self.at, self.revision = draft.updated_by, draft.updated_at, draft.revision
        self.fixed = message
        super().__init__(self.naming(draft.updated_by))

    def naming(self, who: str | None) -> str:
        """The message with the person who saved it called ``who`` (the page gives their name, not login)."""
        if self.fixed or self.at is None:
            return self.fixed or self.message
        when = self.at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
        return (f"草稿已由{who}于{when}保存（第 {self.revision} 版），"
                "您打开之后它已改变；请先载入对方的草稿，或确认覆盖。")


@dataclass
class VersionInfo:
    id: int
    key: str
    version: int
    name: str
    file_name: str
    deployed_by: str | None
    deployed_at: datetime
    running: int = 0
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    status: str = PUBLISHED  # published | pending | rejected (four eyes)
    reviewed_by: str | None = None
    review_comment: str | None = None

    @property
    def status_label(self) -> str:
        return VERSION_STATUS_LABELS.get(self.status, self.status)


@dataclass
class DraftInfo:
    key: str
    revision: int
    base_version: int | None
    updated_by: str
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "revision": self.revision, "base_version": self.base_version,
                "updated_by": self.updated_by, "updated_at": self.updated_at.isoformat()}


@dataclass
class ModelSummary:
    key: str
    name: str
    versions: list[VersionInfo]  # newest first
    draft: DraftInfo | None = None

    @property
    def latest(self) -> VersionInfo | None:
        return self.versions[0] if self.versions else None

    @property
    def published(self) -> VersionInfo | None:
        """The version new instances start on."""
        return next((v for v in self.versions if v.status == PUBLISHED), None)

    @property
    def pending(self) -> list[VersionInfo]:
        return [v for v in self.versions if v.status == PENDING]


def _draft_info(d: ProcessDraft) -> DraftInfo:
    return DraftInfo(d.key, d.revision, d.base_version, d.updated_by, d.updated_at)


def locate(xml: bytes, problems: list[Problem]) -> list[dict[str, Any]]:
    """The problems as dicts with ``target``: the diagram element each belongs to, or None."""
    out = _Collector("locate")
    tree = parse_xml(SourceFile("locate", xml), out) if len(xml) <= MAX_BPMN_BYTES else None
    by_id: dict[str, list[etree._Element]] = {}
    by_line: dict[int, etree._Element] = {}
    if tree is not None:
        for el in tree.getroot().iter():
            if not isinstance(el.tag, str):
                continue
            if el.get("id"):
                by_id.setdefault(el.get("id") or "", []).append(el)
            if el.sourceline is not None:
                by_line[el.sourceline] = el  # the innermost element starting on that line
    result = []
    for p in problems:
        start: etree._Element | None = None
        candidates = by_id.get(p.element or "", [])
        if candidates:
            start = next((c for c in candidates if c.sourceline == p.line), candidates[0])
        elif p.line is not None:
            start = by_line.get(p.line)
        target = None
        while start is not None:
            if diffable(start):
                target = start.get("id")
                break
            start = start.getparent()
        result.append({**p.as_dict(), "target": target})
    return result


def executable_keys(xml: bytes) -> list[str]:
    """Ids of the executable processes in a diagram (after the hardened parse; [] if it does not parse)."""
    out = _Collector("keys")
    tree = parse_xml(SourceFile("keys", xml), out)
    if tree is None:
        return []
    return [p.get("id") or "" for p in tree.getroot().findall(f"{{{BPMN}}}process")
            if p.get("isExecutable") == "true" and p.get("id")]


def designed_keys(service: WorkflowService) -> set[str]:
    """Processes whose latest version a person deployed (``deployed_by`` set), not the shipped files: published
    or waiting for an approver (a rejected version leaves the process to the shipped file)."""
    latest = (select(ProcessModel.key, func.max(ProcessModel.version).label("v"))
              .where(ProcessModel.status != REJECTED).group_by(ProcessModel.key).subquery())
    stmt = (select(ProcessModel.key)
            .join(latest, (ProcessModel.key == latest.c.key) & (ProcessModel.version == latest.c.v))
            .where(ProcessModel.deployed_by.is_not(None)))
    with service.db.sessions() as s:
        return set(s.scalars(stmt))


def process_name(xml: bytes, key: str) -> str | None:
    """The name of process ``key`` in a diagram (None when absent or unparsable)."""
    tree = parse_xml(SourceFile("name", xml), _Collector("name"))
    if tree is None:
        return None
    for p in tree.getroot().findall(f"{{{BPMN}}}process"):
        if p.get("id") == key:
            return p.get("name") or None
    return None


class Designer:
    def __init__(self, service: WorkflowService) -> None:
        self.service = service
        self.db = service.db

    # ------------------------------------------------------------------ reading
    def models(self) -> list[ModelSummary]:
        with self.db.sessions() as s:
            versions = self._versions(s, None)
            drafts = {d.key: _draft_info(d) for d in s.scalars(select(ProcessDraft))}
        by_key: dict[str, ModelSummary] = {}
        for v in versions:
            summary = by_key.setdefault(v.key, ModelSummary(v.key, v.name, []))
            summary.versions.append(v)
        for key, d in drafts.items():
            by_key.setdefault(key, ModelSummary(key, key, [])).draft = d
        return sorted(by_key.values(), key=lambda m: m.key)

    def summary(self, key: str) -> ModelSummary:
        for m in self.models():
            if m.key == key:
                return m
        raise NotFound(f"流程“{key}”不存在")

    def _versions(self, s: Session, key: str | None) -> list[VersionInfo]:
        stmt = select(ProcessModel.id, ProcessModel.key, ProcessModel.version, ProcessModel.name,
                      ProcessModel.file_name, ProcessModel.deployed_by, ProcessModel.deployed_at,
                      ProcessModel.status, ProcessModel.reviewed_by, ProcessModel.review_comment)
        if key is not None:
            stmt = stmt.where(ProcessModel.key == key)
        rows = list(s.execute(stmt.order_by(ProcessModel.key, ProcessModel.version.desc())))
        counts: dict[int, dict[str, int]] = {}
        count_stmt = select(Instance.model_id, Instance.status, func.count()).group_by(Instance.model_id,
                                                                                         Instance.status)
        if key is not None:
            count_stmt = count_stmt.where(Instance.process_key == key)
        for model_id, status, n in s.execute(count_stmt):
            counts.setdefault(model_id, {})[status] = n
        out = []
        for r in rows:
            c = counts.get(r.id, {})
            out.append(VersionInfo(r.id, r.key, r.version, r.name, r.file_name, r.deployed_by, r.deployed_at,
                                   running=c.get("running", 0) + c.get("suspended", 0), total=sum(c.values()),
                                   by_status=c, status=r.status, reviewed_by=r.reviewed_by,
                                   review_comment=r.review_comment))
        return out

    def versions(self, key: str) -> list[VersionInfo]:
        with self.db.sessions() as s:
            return self._versions(s, key)

    def model(self, key: str, version: int) -> ProcessModel:
        with self.db.sessions() as s:
            m = s.scalars(select(ProcessModel).where(ProcessModel.key == key, ProcessModel.version == version)
                          ).first()
            if m is None:
                raise NotFound(f"流程“{key}”没有第 {version} 版")
            return m

    def published(self, key: str) -> ProcessModel | None:
        """The version new instances start on (None: nothing published yet)."""
        with self.db.sessions() as s:
            return s.scalars(select(ProcessModel).where(ProcessModel.key == key, ProcessModel.status == PUBLISHED)
                             .order_by(ProcessModel.version.desc()).limit(1)).first()

    def review_diff(self, model: ProcessModel) -> VersionDiff:
        """A pending version against the published one (against an empty diagram when none is published)."""
        base = self.published(model.key)
        return diff_versions(base.xml if base is not None else _EMPTY_DIAGRAM, model.xml, f"{model.key}.bpmn")

    def latest(self, key: str) -> ProcessModel | None:
        with self.db.sessions() as s:
            return s.scalars(select(ProcessModel).where(ProcessModel.key == key)
                             .order_by(ProcessModel.version.desc()).limit(1)).first()

    def deployed_keys(self) -> list[str]:
        with self.db.sessions() as s:
            return sorted(set(s.scalars(select(ProcessModel.key))))

    def draft(self, key: str) -> ProcessDraft | None:
        with self.db.sessions() as s:
            return s.get(ProcessDraft, key)

    # ------------------------------------------------------------------ checking and deploying
    def file_name_for(self, key: str | None, xml: bytes) -> str:
        if key is None:
            keys = executable_keys(xml)
            key = keys[0] if keys else None
        latest = self.latest(key) if key else None
        if latest is not None:
            return latest.file_name
        return f"{key or 'diagram'}.bpmn"

    def check(self, xml: bytes, file_name: str, key: str | None = None) -> list[dict[str, Any]]:
        """Every problem deploy would report (with ``key``: also a diagram that is not that process),
        located; [] when the diagram would deploy."""
        problems = _key_problems(xml, key, file_name)
        try:
            self.service.check([SourceFile(file_name, xml)])
        except DeployError as exc:
            problems.extend(exc.problems)
        return locate(xml, problems) if problems else []

    def deploy(self, xml: bytes, actor: Actor, key: str | None = None, file_name: str | None = None,
               draft_revision: int | None = None) -> list[DeployResult]:
        """Check and submit for publication: the new version waits, pending, until an approver other than the
        designer publishes it (four eyes; engine/deployment.py). With ``key`` the diagram must contain that
        executable process (the designer edits one process); the key's draft is removed when it is the
        revision the designer deployed from."""
        file_name = file_name or self.file_name_for(key, xml)
        problems = _key_problems(xml, key, file_name)
        if problems:
            try:
                self.service.check([SourceFile(file_name, xml)])
            except DeployError as exc:
                problems.extend(exc.problems)
            raise DeployError(problems)
        results = self.service.deploy([SourceFile(file_name, xml)], actor, pending=True)
        if key is not None and draft_revision is not None:
            with self.db.transaction() as s:
                d = s.get(ProcessDraft, key)
                if d is not None and d.revision == draft_revision:
                    s.delete(d)
        return results

    # ------------------------------------------------------------------ drafts
    def save_draft(self, key: str, xml: bytes, actor: Actor, revision: int | None, force: bool = False,
                   base_version: int | None = None) -> DraftInfo:
        """Save without deploying. ``revision`` is the draft revision the designer started from (None: they
        started from a deployed version). A save from an outdated revision raises DraftConflict unless
        ``force``. The XML must pass the hardened parse (no DOCTYPE, well-formed BPMN) but may be incomplete."""
        if not KEY_PATTERN.match(key):
            raise NotFound(f"流程标识“{key}”无效")
        out = _Collector(f"{key}.bpmn")
        if parse_xml(SourceFile(f"{key}.bpmn", xml), out) is None:
            raise DeployError(out.problems)
        now = self.service.now()
        with self.db.transaction() as s:
            stmt = select(ProcessDraft).where(ProcessDraft.key == key)
            if self.db.is_postgres:
                stmt = stmt.with_for_update()
            draft = s.scalars(stmt.execution_options(populate_existing=True)).first()
            if draft is None:
                if revision is not None and not force:
                    raise DraftConflict(None)
                draft = ProcessDraft(key=key, xml=xml.decode("utf-8"), revision=1, updated_by=actor.username,
                                     updated_at=now, base_version=base_version)
                s.add(draft)
                s.flush()
                return _draft_info(draft)
            if draft.revision != revision and not force:
                raise DraftConflict(draft)
            draft.xml = xml.decode("utf-8")
            draft.revision += 1
            draft.updated_by, draft.updated_at = actor.username, now
            if base_version is not None:
                draft.base_version = base_version
            return _draft_info(draft)

    def discard_draft(self, key: str, revision: int | None) -> None:
        with self.db.transaction() as s:
            draft = s.get(ProcessDraft, key)
            if draft is None:
                return
            if revision is not None and draft.revision != revision:
                raise DraftConflict(draft, "草稿在您打开之后已被他人修改，未删除。")
            s.delete(draft)

    # ------------------------------------------------------------------ comparing
    def diff(self, key: str, old: int | str, new: int | str) -> VersionDiff:
        return diff_versions(self.xml_of(key, old), self.xml_of(key, new), f"{key}.bpmn")

    def xml_of(self, key: str, version: int | str) -> str:
        if version == "draft":
            d = self.draft(key)
            if d is None:
                raise NotFound(f"流程“{key}”没有草稿")
            return d.xml
        return self.model(key, int(version)).xml


_EMPTY_DIAGRAM = ('<?xml version="1.0" encoding="UTF-8"?>'
                  f'<bpmn:definitions xmlns:bpmn="{BPMN}" id="empty" targetNamespace="http://bpmn.io/schema/bpmn" />')


def _key_problems(xml: bytes, key: str | None, file_name: str) -> list[Problem]:
    """With ``key``: the diagram must contain that executable process (a designer edits one process)."""
    keys = executable_keys(xml)
    if key is None or key in keys or not keys:  # no executable process at all: the loader says so
        return []
    return [Problem(file_name, _line_of_process(xml), None,
                    f"流程标识必须是“{key}”（可执行流程的 id）；要新建另一个流程请用“新建流程”")]


def _line_of_process(xml: bytes) -> int | None:
    out = _Collector("x")
    tree = parse_xml(SourceFile("x", xml), out)
    if tree is None:
        return None
    proc = tree.getroot().find(f"{{{BPMN}}}process")
    return proc.sourceline if proc is not None else None
