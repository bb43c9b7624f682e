"""Administrative changes in the one append-only audit log (``wf_audit``), and what the audit administrator reads.

Every change to people, roles, units, liaisons and the sign-in policy is one entry: who, when, which action
(``admin.*``), a sentence saying what changed (``comment``) and the details (``data``: ``target`` and, for edits,
``changes`` as ``field: [before, after]``). Passwords never enter it. Business events (tasks, instances, deploys)
are already there; the audit administrator reads both, administrators' own actions included.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal_column, or_, select
from sqlalchemy.orm import Session

from engine.models import AuditEvent
from engine.paging import Key, Page, capped_count, page

ADMIN_PREFIX = "admin."
ACTION_LABELS = {
    "admin.init": "初始化管理员",
    "admin.user.create": "新增人员",
    "admin.user.update": "修改人员信息",
    "admin.user.deactivate": "停用账号",
    "admin.user.reactivate": "启用账号",
    "admin.user.password_reset": "重置密码",
    "admin.user.roles": "调整角色与群组",
    "admin.user.import": "批量导入人员",
    "admin.account.password": "修改本人密码",
    "admin.unit.create": "新增单位",
    "admin.unit.update": "修改单位信息",
    "admin.unit.merge": "合并单位",
    "admin.unit.retire": "撤销单位",
    "admin.unit.reactivate": "恢复单位",
    "admin.unit.membership": "成员单位调整生效",
    "admin.liaison.change": "联络员变更备案",
    "admin.tasks.to_office": "单位待办交办公室",
    "admin.policy.update": "修改登录策略",
    "admin.audit.export": "导出审计日志",
    "regroup": "改派办理单位",
}
FIELD_LABELS = {
    "display_name": "姓名", "unit_code": "单位", "post": "职务", "phone": "电话", "email": "电子邮箱",
    "is_liaison": "联络员", "active": "状态", "roles": "角色与群组", "name": "名称", "duties": "职责分工",
    "kind": "类别", "is_lead": "牵头单位", "sort": "排序", "merged_into": "并入",
}
PAGE_SIZE = 50


def record(session: Session, action: str, *, actor: str | None, at: datetime, summary: str,
           target: str | None = None, data: dict[str, Any] | None = None) -> None:
    """Append one administrative entry (``action`` is a key of ACTION_LABELS)."""
    body = dict(data or {})
    if target:
        body["target"] = target
    session.add(AuditEvent(at=at, actor=actor or "system", action=action, data=_plain(body), comment=summary))


def _plain(value: Any) -> Any:
    """JSON-safe: dates and other values as text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``field: [before, after]`` for the fields that changed."""
    return {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}


@dataclass(frozen=True)
class AuditQuery:
    """What the audit administrator filters on; every field optional."""

    scope: str = ""  # "admin", "business" or "" (everything)
    actor: str = ""
    action: str = ""
    text: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def where(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.scope == "admin":
            conditions.append(AuditEvent.action.startswith(ADMIN_PREFIX))
        elif self.scope == "business":
            conditions.append(~AuditEvent.action.startswith(ADMIN_PREFIX))
        if self.actor:
            conditions.append(AuditEvent.actor == self.actor)
        if self.action:
            conditions.append(AuditEvent.action == self.action)
        if self.text:
            like = f"%{self.text}%"
            conditions.append(or_(AuditEvent.comment.like(like), AuditEvent.task_name.like(like),
                                  AuditEvent.process_key.like(like)))
        if self.since is not None:
            conditions.append(AuditEvent.at >= self.since)
        if self.until is not None:
            conditions.append(AuditEvent.at < self.until)
        return conditions

    def select(self) -> Select[AuditEvent]:
        return select(AuditEvent).where(*self.where()).order_by(AuditEvent.id.desc())


ORDER = [Key(AuditEvent.id, desc=True)]  # newest first: ids grow with time


def page_after(session: Session, query: AuditQuery, limit: int, after: str | None = None,
               before: str | None = None) -> tuple[Page[AuditEvent], int, bool]:
    """One page of entries (keyset paging, engine/paging.py: the log only grows, and page 1000 costs what page 1
    does), and how many match, counted up to engine.paging.COUNT_CAP (True: more than that)."""
    stmt = select(AuditEvent).where(*query.where())
    total, over = capped_count(session, stmt)
    return page(session, stmt, ORDER, limit, after, before), total, over


def stream(session: Session, query: AuditQuery, batch: int = 500) -> Iterator[AuditEvent]:
    """Every matching entry, newest first, read in batches (an export never holds the whole log)."""
    last: int | None = None
    while True:
        stmt = query.select().limit(batch)
        if last is not None:
            stmt = stmt.where(AuditEvent.id < last)
        rows = list(session.scalars(stmt))
        if not rows:
            return
        yield from rows
        last = rows[-1].id


def _actors_statement() -> Select[str | None]:
    """Each next actor after the last one found: one index probe per actor (a loose index scan on
    ix_wf_audit_actor), not a pass over the whole log."""
    step = select(func.min(AuditEvent.actor)).where(AuditEvent.actor > literal_column("found.actor"))
    found = select(func.min(AuditEvent.actor).label("actor")).cte("found", recursive=True)
    found = found.union_all(select(step.scalar_subquery()).select_from(found)
                            .where(literal_column("found.actor").is_not(None)))
    return select(found.c.actor).where(found.c.actor.is_not(None))


_ACTORS = _actors_statement()


def actors(session: Session) -> list[str]:
    """Everyone who appears in the log, for the filter."""
    return [a for a in session.scalars(_ACTORS) if a]


def describe_changes(data: dict[str, Any]) -> str:
    """``姓名：张三 → 张四；联络员：否 → 是`` for the details column and the export."""
    changes = data.get("changes") or {}
    parts = []
    for field, pair in changes.items():
        if not isinstance(pair, list) or len(pair) != 2:
            continue
        before, after = (_shown(v) for v in pair)
        parts.append(f"{FIELD_LABELS.get(field, field)}：{before} → {after}")
    return "；".join(parts)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(str(v) for v in value) or "（无）"
    return str(value)
