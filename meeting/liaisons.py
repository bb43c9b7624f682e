"""联络员变更备案: a unit's liaison changes (the most frequent change of the directory); the office records the new
liaison with the date and a note.

The unit's open tasks stay with the unit (they are offered to the group ``unit:<code>``, not to a person); what
the previous liaison had claimed goes to the new one in the same step when the office asks for it, or back to the
unit when the previous liaison's account is closed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import reassign
from engine.errors import FormError
from meeting import admin_audit, people
from meeting.models import LiaisonChange, Unit, User
from meeting.notify import notify
from meeting.statuses import UnitEventKind
from meeting.units_admin import event


@dataclass(frozen=True)
class LiaisonRequest:
    unit_code: str
    effective_on: str
    note: str = ""
    new_user: str = ""  # an existing person of the unit …
    new_username: str = ""  # … or a new one
    new_person: dict[str, Any] | None = None
    previous: str = ""
    hand_over: bool = True
    deactivate_previous: bool = False


@dataclass(frozen=True)
class Recorded:
    change: LiaisonChange
    one_time_password: str | None
    handed_over: int


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise FormError({"effective_on": "请填写变更生效日期（年-月-日）"}) from None


def _unit(session: Session, code: str) -> Unit:
    unit = session.get(Unit, code) if code else None
    if unit is None or not unit.active:
        raise FormError({"unit_code": "请选择名录中在用的单位"})
    return unit


def _new_liaison(session: Session, req: LiaisonRequest, unit: Unit, *, by: people.Operator,
                 at: datetime) -> tuple[User, str | None]:
    if req.new_user:
        user = session.scalar(select(User).where(User.username == req.new_user))
        if user is None or not user.active:
            raise FormError({"new_user": "请选择在用的人员"})
        if user.unit_code != unit.code:
            raise FormError({"new_user": f"{user.display_name}不属于{unit.name}，请先调整其所在单位"})
        return user, None
    if not req.new_username:
        raise FormError({"new_user": "请选择新联络员，或填写新人员的用户名和姓名"})
    profile = {**(req.new_person or {}), "unit_code": unit.code, "is_liaison": True}
    return people.create(session, req.new_username, profile, by=by, at=at)


def record(session: Session, req: LiaisonRequest, *, by: people.Operator, at: datetime) -> Recorded:
    unit = _unit(session, req.unit_code)
    effective = _date(req.effective_on)
    if len(req.note) > 2000:
        raise FormError({"note": "备注不超过2000字"})
    previous = None
    if req.previous:
        previous = session.scalar(select(User).where(User.username == req.previous))
        if previous is None or previous.unit_code != unit.code or not previous.is_liaison:
            raise FormError({"previous": f"请选择{unit.name}现任的联络员"})
    new, one_time = _new_liaison(session, req, unit, by=by, at=at)
    if previous is not None and previous.id == new.id:
        raise FormError({"new_user": "新联络员与原联络员是同一人"})
    new.is_liaison = True
    handed = 0
    if previous is not None:
        previous.is_liaison = False
        if req.hand_over:
            handed = reassign.hand_over(session, from_user=previous.username, to_user=new.username,
                                        group=unit.group, actor=by.username, at=at, comment="联络员变更交接")
        if req.deactivate_previous:
            people.deactivate(session, previous, by=by, at=at, reason="联络员变更，原联络员账号停用")
    change = LiaisonChange(unit_code=unit.code, previous_user=previous.username if previous else None,
                           new_user=new.username, effective_on=effective, note=req.note.strip(), handed_over=handed,
                           recorded_by=by.username, recorded_at=at)
    session.add(change)
    before = f"{previous.display_name}" if previous else "（无）"
    summary = f"{unit.name}联络员由{before}变更为{new.display_name}，{effective.isoformat()}起"
    event(session, unit.code, UnitEventKind.LIAISON, summary + (f"；交接待办{handed}件" if handed else ""),
          actor=by.username, at=at, data={"previous": change.previous_user, "new": new.username,
                                          "note": change.note})
    admin_audit.record(session, "admin.liaison.change", actor=by.username, at=at, target=f"unit:{unit.code}",
                       summary=summary, data={"previous": change.previous_user, "new": new.username,
                                              "effective_on": effective, "handed_over": handed, "note": change.note})
    notify(session, unit.group, "info", f"联络员变更：{new.display_name}", summary, None, at)
    session.flush()
    return Recorded(change, one_time, handed)


def recent(session: Session, unit_code: str | None = None, limit: int = 50) -> list[LiaisonChange]:
    stmt = select(LiaisonChange).order_by(LiaisonChange.recorded_at.desc(), LiaisonChange.id.desc()).limit(limit)
    if unit_code:
        stmt = stmt.where(LiaisonChange.unit_code == unit_code)
    return list(session.scalars(stmt))
