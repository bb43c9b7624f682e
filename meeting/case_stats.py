"""Figures of the towns' cases for the dashboard, the scorecards and the 通报: by town and by department, from
grouped, indexed queries (nothing loops over the history in Python). Durations are hours between two recorded
moments; "on time" compares with the working-day deadlines each handling was given."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from meeting.models import AssistanceCase, CaseHandling
from meeting.statuses import CaseKind, CaseStatus, HandlingStatus, Satisfaction


def hours_between(session: Session, start: Any, end: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def _count(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass
class TownFigures:
    town: str
    cases: int = 0
    referrals: int = 0
    urgent: int = 0
    closed: int = 0
    rerouted: int = 0
    verified_24h: int = 0
    satisfaction: dict[str, int] = field(default_factory=dict)
    avg_close_hours: float | None = None


@dataclass
class DepartmentFigures:
    department: str
    routed: int = 0
    signed_on_time: int = 0
    done: int = 0
    done_on_time: int = 0
    returned: int = 0
    lapsed: int = 0
    avg_sign_hours: float | None = None


def _window(stmt: Any, column: Any, since: datetime | None, until: datetime | None) -> Any:
    if since is not None:
        stmt = stmt.where(column >= since)
    if until is not None:
        stmt = stmt.where(column < until)
    return stmt


def by_town(session: Session, towns: set[str] | None = None, since: datetime | None = None,
            until: datetime | None = None) -> list[TownFigures]:
    c = AssistanceCase
    stmt = select(c.town_code, func.count(), _count(c.kind == CaseKind.REFERRAL), _count(c.kind == CaseKind.URGENT),
                  _count(c.status == CaseStatus.CLOSED), _count(c.reroute_count > 0),
                  _count(and_(c.verified_at.isnot(None), c.verified_at <= c.verify_due_at)),
                  func.avg(hours_between(session, c.created_at, c.closed_at)),
                  *(_count(c.satisfaction == s.value) for s in Satisfaction)).group_by(c.town_code)
    if towns is not None:
        stmt = stmt.where(c.town_code.in_(towns))
    out = []
    for row in session.execute(_window(stmt, c.created_at, since, until)):
        town, total, referrals, urgent, closed, rerouted, verified, avg_hours, *answers = row
        out.append(TownFigures(town, total, referrals, urgent, closed, rerouted, verified,
                               {s.value: int(n) for s, n in zip(Satisfaction, answers, strict=True)},
                               round(float(avg_hours), 1) if avg_hours is not None else None))
    return sorted(out, key=lambda f: -f.cases)


def by_department(session: Session, towns: set[str] | None = None, since: datetime | None = None,
                  until: datetime | None = None) -> list[DepartmentFigures]:
    h = CaseHandling
    stmt = (select(h.department, func.count(), _count(and_(h.signed_at.isnot(None), h.signed_at <= h.sign_due_at)),
                   _count(h.status == HandlingStatus.DONE), _count(h.on_time.is_(True)),
                   _count(h.status == HandlingStatus.RETURNED), _count(h.status == HandlingStatus.LAPSED),
                   func.avg(hours_between(session, h.created_at, h.signed_at)))
            .group_by(h.department))
    if towns is not None:
        stmt = stmt.join(AssistanceCase, AssistanceCase.id == h.case_id).where(AssistanceCase.town_code.in_(towns))
    out = []
    for dept, routed, signed, done, on_time, returned, lapsed, avg_sign in session.execute(
            _window(stmt, h.created_at, since, until)):
        out.append(DepartmentFigures(dept, routed, signed, done, on_time, returned, lapsed,
                                     round(float(avg_sign), 1) if avg_sign is not None else None))
    return sorted(out, key=lambda f: -f.routed)


def headline(session: Session, now: datetime) -> dict[str, int]:
    """The dashboard's few numbers: open cases, cases waiting to be re-routed, departments' parts overdue."""
    c, h = AssistanceCase, CaseHandling
    open_statuses = (CaseStatus.MATERIALS, CaseStatus.VERIFYING, CaseStatus.HANDLING, CaseStatus.REROUTING,
                     CaseStatus.DISTRICT, CaseStatus.INFORMING, CaseStatus.VISITING)
    row = session.execute(select(_count(c.status.in_(open_statuses)), _count(c.status == CaseStatus.REROUTING),
                                 func.count()).select_from(c)).one()
    overdue = session.scalar(select(func.count()).select_from(h).where(
        h.status.in_((HandlingStatus.SIGNING, HandlingStatus.HANDLING)), h.due_at < now))
    returned = session.scalar(select(func.count()).select_from(h).where(h.status == HandlingStatus.RETURNED))
    return {"open": int(row[0]), "rerouting": int(row[1]), "total": int(row[2]), "overdue": int(overdue or 0),
            "returned": int(returned or 0)}


__all__ = ["DepartmentFigures", "TownFigures", "by_department", "by_town", "headline"]
