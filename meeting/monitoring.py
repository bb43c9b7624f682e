"""Figures for the convener's dashboard and the units' scorecards (督办通报). Read-only, a few aggregate queries.

"Open" items are issued and not closed (in_progress, reported, returned); drafts (minutes not yet issued) count
nowhere. Days to close run from the day the meeting agreed the item (``created_at``) to ``closed_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from meeting.models import ResolutionItem, Unit
from meeting.queries import counts_by_light, light_clause
from meeting.statuses import Light, ResolutionStatus
from meeting.timeutil import at_local, local_today

OPEN_STATUSES = ResolutionStatus.open()
ISSUED_STATUSES = ResolutionStatus.issued()
CLOSED = ResolutionStatus.CLOSED


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _days(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


@dataclass(frozen=True)
class UnitLoad:
    code: str
    name: str
    open: int
    overdue: int
    closed: int


@dataclass(frozen=True)
class Dashboard:
    open: int
    due_soon: int
    overdue: int
    closed_this_month: int
    avg_days_to_close: float | None
    lights: dict[str, int]
    units: list[UnitLoad]
    months: list[str]  # YYYY-MM, oldest first
    created_per_month: list[int]
    closed_per_month: list[int]


def dashboard(session: Session, now: datetime, months: int = 12) -> Dashboard:
    lights = counts_by_light(session, now)
    this_month = at_local(month_start(local_today(now)), 0)
    closed_this_month = session.scalar(
        select(func.count()).select_from(ResolutionItem)
        .where(ResolutionItem.status == CLOSED, ResolutionItem.closed_at >= this_month)) or 0
    durations = [_days(c, d) for c, d in session.execute(
        select(ResolutionItem.created_at, ResolutionItem.closed_at)
        .where(ResolutionItem.status == CLOSED, ResolutionItem.closed_at.is_not(None))) if d is not None]
    avg = round(sum(durations) / len(durations), 1) if durations else None

    is_open = ResolutionItem.status.in_(OPEN_STATUSES)
    rows = session.execute(
        select(Unit.code, Unit.name,
               func.sum(case((is_open, 1), else_=0)),
               func.sum(case((light_clause(Light.RED, now), 1), else_=0)),
               func.sum(case((ResolutionItem.status == CLOSED, 1), else_=0)))
        .join(ResolutionItem, ResolutionItem.lead_unit == Unit.code)
        .where(ResolutionItem.status.in_(ISSUED_STATUSES))
        .group_by(Unit.code, Unit.name, Unit.sort).order_by(Unit.sort)
    ).all()
    units = [UnitLoad(code, name, int(o or 0), int(r or 0), int(c or 0)) for code, name, o, r, c in rows]

    first = add_months(month_start(local_today(now)), -(months - 1))
    labels = [add_months(first, i).strftime("%Y-%m") for i in range(months)]
    since = at_local(first, 0)
    created = [0] * months
    closed = [0] * months
    index = {label: i for i, label in enumerate(labels)}
    for (moment,) in session.execute(select(ResolutionItem.created_at).where(
            ResolutionItem.status.in_(ISSUED_STATUSES), ResolutionItem.created_at >= since)):
        created[index[local_today(moment).strftime("%Y-%m")]] += 1
    for (closed_at,) in session.execute(select(ResolutionItem.closed_at).where(
            ResolutionItem.status == CLOSED, ResolutionItem.closed_at >= since)):
        if closed_at is not None:
            closed[index[local_today(closed_at).strftime("%Y-%m")]] += 1
    return Dashboard(
        open=sum(u.open for u in units), due_soon=lights[Light.YELLOW], overdue=lights[Light.RED],
        closed_this_month=closed_this_month, avg_days_to_close=avg, lights=lights, units=units,
        months=labels, created_per_month=created, closed_per_month=closed,
    )


@dataclass(frozen=True)
class Scorecard:
    code: str
    name: str
    assigned: int
    closed: int
    overdue_open: int
    closed_late: int
    avg_days_to_close: float | None

    @property
    def close_rate(self) -> float:
        return self.closed / self.assigned if self.assigned else 0.0

    @property
    def overdue(self) -> int:
        return self.overdue_open + self.closed_late


def scorecards(session: Session, now: datetime, start: date, end: date) -> list[Scorecard]:
    """Per lead unit, for the items agreed between ``start`` and ``end`` (Beijing days, inclusive):
    assigned, closed, 办结率, overdue (still open past the deadline, or closed after it), average days."""
    rows = session.execute(
        select(ResolutionItem.lead_unit, ResolutionItem.status, ResolutionItem.deadline,
               ResolutionItem.created_at, ResolutionItem.closed_at)
        .where(ResolutionItem.status.in_(ISSUED_STATUSES),
               ResolutionItem.created_at >= at_local(start, 0),
               ResolutionItem.created_at < at_local(add_day(end), 0))
    ).all()
    units = {code: (name, sort) for code, name, sort in session.execute(select(Unit.code, Unit.name, Unit.sort))}
    acc: dict[str, _Tally] = {}
    for lead, status, deadline, created, closed_at in rows:
        t = acc.setdefault(lead, _Tally())
        t.assigned += 1
        if status == CLOSED and closed_at is not None:
            t.closed += 1
            t.days.append(_days(created, closed_at))
            t.late += closed_at > deadline
        elif now > deadline:
            t.overdue += 1
    cards = [Scorecard(code, units.get(code, (code, 0))[0], t.assigned, t.closed, t.overdue, t.late,
                       round(sum(t.days) / len(t.days), 1) if t.days else None) for code, t in acc.items()]
    return sorted(cards, key=lambda c: (units.get(c.code, ("", 999))[1], c.code))


@dataclass
class _Tally:
    assigned: int = 0
    closed: int = 0
    overdue: int = 0
    late: int = 0
    days: list[float] = field(default_factory=list)


def add_day(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)


def overdue_items(session: Session, now: datetime) -> list[ResolutionItem]:
    """Open items past their deadline, the longest overdue first (the 督办通报's list)."""
    return list(session.scalars(select(ResolutionItem).where(light_clause(Light.RED, now))
                                .where(ResolutionItem.status.in_(OPEN_STATUSES))
                                .order_by(ResolutionItem.deadline, ResolutionItem.id)))
