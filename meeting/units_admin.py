"""The directory as the system administrator keeps it: add, rename, merge, retire and reactivate units, their
duties and the lead unit, each change written into the unit's history (``UnitEvent``) and the audit log.

Codes stay stable: a rename changes the name, never the code, so every task, item and document that names the
unit keeps pointing at it. A merge is the one change that retires a code: the retired unit's people, open
resolution items (as lead or co-operating unit), open topics and open tasks move to the surviving unit, and the
surviving unit's people also act for the old code (``acting_codes``), so tasks that running instances still
address to it reach them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engine import reassign
from engine.errors import FormError, NotFound
from meeting import admin_audit
from meeting.models import (
    UNIT_KINDS,
    ResolutionCoUnit,
    ResolutionItem,
    Topic,
    Unit,
    UnitEvent,
    User,
)
from meeting.statuses import ResolutionStatus, TopicStatus, UnitEventKind, UnitKind

CODE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
FINAL_TOPICS = (TopicStatus.REJECTED, TopicStatus.RESOLVED, TopicStatus.ESCALATED)


def event(session: Session, unit_code: str, kind: UnitEventKind, summary: str, *, actor: str | None,
          at: datetime, data: dict[str, Any] | None = None, change_id: int | None = None) -> None:
    session.add(UnitEvent(unit_code=unit_code, kind=kind, summary=summary, data=data or {}, actor=actor,
                          change_id=change_id, at=at))


def get(session: Session, code: str) -> Unit:
    unit = session.get(Unit, code)
    if unit is None:
        raise NotFound(f"单位“{code}”不在名录中")
    return unit


def history(session: Session, code: str) -> list[UnitEvent]:
    return list(session.scalars(select(UnitEvent).where(UnitEvent.unit_code == code)
                                .order_by(UnitEvent.at.desc(), UnitEvent.id.desc())))


def _clean(data: dict[str, Any], *, new: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {"name": str(data.get("name") or "").strip(),
                             "duties": str(data.get("duties") or "").strip(),
                             "kind": str(data.get("kind") or "").strip(),
                             "is_lead": str(data.get("is_lead") or "").lower() in ("1", "on", "true", "yes")}
    if not clean["name"] or len(clean["name"]) > 100:
        errors["name"] = "请填写单位名称（不超过100字）"
    if clean["kind"] not in UNIT_KINDS:
        errors["kind"] = "请选择单位类别"
    if len(clean["duties"]) > 5000:
        errors["duties"] = "职责分工不超过5000字"
    sort = str(data.get("sort") or "").strip()
    if sort:
        if not sort.isascii() or not sort.isdigit() or int(sort) > 100_000:
            errors["sort"] = "排序为0–100000的整数"
        else:
            clean["sort"] = int(sort)
    if new:
        code = str(data.get("code") or "").strip().lower()
        if not CODE.match(code):
            errors["code"] = "单位代码为2–32位小写字母、数字或下划线，以字母开头"
        clean["code"] = code
    if clean["is_lead"] and clean["kind"] != UnitKind.MEMBER:
        errors["is_lead"] = "牵头单位须是成员单位"
    if errors:
        raise FormError(errors)
    return clean


def create(session: Session, data: dict[str, Any], *, actor: str, at: datetime) -> Unit:
    clean = _clean(data, new=True)
    if session.get(Unit, clean["code"]) is not None:
        raise FormError({"code": f"单位代码“{clean['code']}”已被使用"})
    if session.scalar(select(Unit.code).where(Unit.name == clean["name"], Unit.active)) is not None:
        raise FormError({"name": f"名录中已有“{clean['name']}”"})
    if "sort" not in clean:
        clean["sort"] = (session.scalar(select(func.max(Unit.sort))) or 0) + 1
    is_lead = clean.pop("is_lead")
    unit = Unit(active=True, is_lead=False, **clean)
    session.add(unit)
    session.flush()
    if is_lead:
        _make_lead(session, unit, actor=actor, at=at)
    label = UnitKind.label_of(unit.kind)
    event(session, unit.code, UnitEventKind.ADDED, f"{label}“{unit.name}”列入名录", actor=actor, at=at)
    admin_audit.record(session, "admin.unit.create", actor=actor, at=at, target=f"unit:{unit.code}",
                       summary=f"新增单位 {unit.name}（{label}）")
    return unit


def update_unit(session: Session, unit: Unit, data: dict[str, Any], *, actor: str, at: datetime) -> None:
    """Name, duties, kind, order and the lead mark; each change is one history entry."""
    clean = _clean(data, new=False)
    before = {k: getattr(unit, k) for k in ("name", "duties", "kind", "sort", "is_lead")}
    if clean["name"] != unit.name and session.scalar(
            select(Unit.code).where(Unit.name == clean["name"], Unit.active, Unit.code != unit.code)) is not None:
        raise FormError({"name": f"名录中已有“{clean['name']}”"})
    if unit.is_lead and not clean["is_lead"]:
        raise FormError({"is_lead": "请在另一成员单位上设为牵头单位，牵头单位不能空缺"})
    if clean["name"] != unit.name:
        event(session, unit.code, UnitEventKind.RENAMED, f"“{unit.name}”更名为“{clean['name']}”",
              actor=actor, at=at, data={"from": unit.name, "to": clean["name"]})
    if clean["duties"] != unit.duties:
        event(session, unit.code, UnitEventKind.DUTIES, "职责分工调整", actor=actor, at=at,
              data={"from": unit.duties, "to": clean["duties"]})
    if clean["kind"] != unit.kind:
        event(session, unit.code, UnitEventKind.KIND,
              f"由{UnitKind.label_of(unit.kind)}调整为{UnitKind.label_of(clean['kind'])}", actor=actor, at=at)
    is_lead = clean.pop("is_lead")
    for key, value in clean.items():
        setattr(unit, key, value)
    if is_lead and not unit.is_lead:
        _make_lead(session, unit, actor=actor, at=at)
    after = {k: getattr(unit, k) for k in before}
    changes = admin_audit.diff(before, after)
    if changes:
        admin_audit.record(session, "admin.unit.update", actor=actor, at=at, target=f"unit:{unit.code}",
                           summary=f"修改单位信息 {unit.name}", data={"changes": changes})
    session.flush()


def _make_lead(session: Session, unit: Unit, *, actor: str, at: datetime) -> None:
    for other in session.scalars(select(Unit).where(Unit.is_lead, Unit.code != unit.code)):
        other.is_lead = False
        event(session, other.code, UnitEventKind.LEAD, f"不再担任牵头单位（改由{unit.name}牵头）", actor=actor, at=at)
    unit.is_lead = True
    event(session, unit.code, UnitEventKind.LEAD, "担任牵头单位", actor=actor, at=at)


@dataclass(frozen=True)
class MergeResult:
    people: int
    items: int
    topics: int
    tasks: int


def merge(session: Session, source: Unit, target: Unit, *, actor: str, at: datetime, note: str = "") -> MergeResult:
    """``source`` is merged into ``target``: its people, open items, open topics and open tasks follow."""
    if source.code == target.code:
        raise FormError({"target": "不能并入本单位"})
    if not source.active or not target.active:
        raise FormError({"target": "合并的两个单位都须在用"})
    people = _changed(session.execute(update(User).where(User.unit_code == source.code)
                                      .values(unit_code=target.code)))
    items = _move_items(session, source.code, target.code)
    topics = _changed(session.execute(update(Topic).where(Topic.unit_code == source.code,
                                                          Topic.status.not_in(FINAL_TOPICS))
                                      .values(unit_code=target.code)))
    tasks = reassign.regroup(session, old=source.group, new=target.group, actor=actor, at=at,
                             comment=f"{source.name}并入{target.name}")
    session.execute(update(Unit).where(Unit.merged_into == source.code).values(merged_into=target.code))
    if source.is_lead:
        target.is_lead = True
    source.active, source.is_lead, source.merged_into = False, False, target.code
    result = MergeResult(people, items, topics, tasks)
    counts = f"人员{people}名、未办结事项{items}项、议题{topics}个、待办{tasks}件"
    event(session, source.code, UnitEventKind.MERGED, f"并入{target.name}；{counts}随之转入", actor=actor, at=at,
          data={"into": target.code, "note": note})
    event(session, target.code, UnitEventKind.ABSORBED, f"{source.name}并入本单位；{counts}转入", actor=actor,
          at=at, data={"from": source.code, "note": note})
    admin_audit.record(session, "admin.unit.merge", actor=actor, at=at, target=f"unit:{source.code}",
                       summary=f"{source.name}并入{target.name}；{counts}随之转入",
                       data={"into": target.name, "note": note.strip()[:500]})
    session.flush()
    session.expire_all()
    return result


def _changed(result: Any) -> int:
    """Rows an UPDATE changed (a CursorResult's rowcount)."""
    return int(getattr(result, "rowcount", 0) or 0)


def _move_items(session: Session, old: str, new: str) -> int:
    """Open items led by ``old`` are led by ``new``; where ``old`` co-operates, ``new`` does (its link keeps its
    deadline and answers), unless ``new`` is already lead or co-unit of that item."""
    open_statuses = [s for s in ResolutionStatus if s != ResolutionStatus.CLOSED]
    moved = _changed(session.execute(update(ResolutionItem).where(ResolutionItem.lead_unit == old,
                                                                  ResolutionItem.status.in_(open_statuses))
                                     .values(lead_unit=new)))
    items = session.scalars(select(ResolutionItem).where(ResolutionItem.status.in_(open_statuses),
                                                         ResolutionItem.id.in_(
        select(ResolutionCoUnit.resolution_id).where(ResolutionCoUnit.unit_code == old))))
    for item in list(items):
        this = (ResolutionCoUnit.resolution_id == item.id, ResolutionCoUnit.unit_code == old)
        if item.lead_unit == new or new in item.co_units:
            session.execute(delete(ResolutionCoUnit).where(*this))
        else:
            session.execute(update(ResolutionCoUnit).where(*this).values(unit_code=new))
        moved += 1
    session.flush()
    return moved


def retire(session: Session, unit: Unit, *, actor: str, at: datetime, note: str = "") -> None:
    """撤销: the unit stays in the directory (and in every record naming it) but no longer takes part. A unit
    with people or open work is merged instead, so that nothing it holds is left behind."""
    if not unit.active:
        return
    if unit.is_lead:
        raise FormError({"unit": "牵头单位不能撤销，请先设定新的牵头单位"})
    busy = _open_work(session, unit.code)
    if busy:
        raise FormError({"unit": f"{unit.name}尚有{busy}，请先合并到其他单位或移交后再撤销"})
    unit.active = False
    event(session, unit.code, UnitEventKind.RETIRED, f"撤销{('：' + note.strip()) if note.strip() else ''}",
          actor=actor, at=at, data={"note": note.strip()[:500]})
    admin_audit.record(session, "admin.unit.retire", actor=actor, at=at, target=f"unit:{unit.code}",
                       summary=f"撤销单位 {unit.name}", data={"note": note.strip()[:500]})
    session.flush()


def _open_work(session: Session, code: str) -> str:
    people = session.scalar(select(func.count()).select_from(User).where(User.unit_code == code, User.active)) or 0
    items = session.scalar(select(func.count()).select_from(ResolutionItem).where(
        ResolutionItem.lead_unit == code, ResolutionItem.status != ResolutionStatus.CLOSED)) or 0
    tasks = len(reassign.open_tasks_of_group(session, f"unit:{code}"))
    parts = [f"在用人员{people}名" if people else "", f"未办结事项{items}项" if items else "",
             f"待办{tasks}件" if tasks else ""]
    return "、".join(p for p in parts if p)


def reactivate(session: Session, unit: Unit, *, actor: str, at: datetime) -> None:
    if unit.active:
        return
    if unit.merged_into:
        raise FormError({"unit": "已并入其他单位的单位不能恢复"})
    unit.active = True
    event(session, unit.code, UnitEventKind.REACTIVATED, "恢复", actor=actor, at=at)
    admin_audit.record(session, "admin.unit.reactivate", actor=actor, at=at, target=f"unit:{unit.code}",
                       summary=f"恢复单位 {unit.name}")
    session.flush()


@dataclass(frozen=True)
class UnitRow:
    unit: Unit
    people: int
    liaisons: list[str]
    open_items: int


def overview(session: Session, kind: str = "", include_retired: bool = False) -> list[UnitRow]:
    """The directory with the figures the page shows: active people, liaisons' names, open items."""
    stmt = select(Unit).order_by(Unit.active.desc(), Unit.kind, Unit.sort, Unit.code)
    if kind:
        stmt = stmt.where(Unit.kind == kind)
    if not include_retired:
        stmt = stmt.where(Unit.active)
    units = list(session.scalars(stmt))
    people = dict(session.execute(select(User.unit_code, func.count()).where(User.active)
                                  .group_by(User.unit_code)).all())
    liaisons: dict[str, list[str]] = {}
    for code, name in session.execute(select(User.unit_code, User.display_name)
                                      .where(User.active, User.is_liaison).order_by(User.username)):
        if code:
            liaisons.setdefault(code, []).append(name)
    items = dict(session.execute(select(ResolutionItem.lead_unit, func.count())
                                 .where(ResolutionItem.status.in_(ResolutionStatus.open()))
                                 .group_by(ResolutionItem.lead_unit)).all())
    return [UnitRow(u, people.get(u.code, 0), liaisons.get(u.code, []), items.get(u.code, 0)) for u in units]
