"""Figures for the convener's dashboard and the units' scorecards (督办通报). Read-only, a few aggregate queries.

"Open" items are issued and not closed (in_progress, reported, returned); drafts (minutes not yet issued) count
nowhere. Days to close run from the day the meeting agreed the item (``created_at``) to ``closed_at``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import case, func, literal, select, union_all
from sqlalchemy.orm import Session

from meeting.models import YELLOW_BEFORE, ResolutionCoUnit, ResolutionItem, ResolutionTally, Unit
from meeting.queries import LIGHTS, light_clause
from meeting.statuses import CoUnitStatus, ItemSource, Light, ResolutionStatus
from meeting.timeutil import at_local, local_today

OPEN_STATUSES = ResolutionStatus.open()
ISSUED_STATUSES = ResolutionStatus.issued()
CLOSED = ResolutionStatus.CLOSED


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


# The aggregates below run in the database (GROUP BY, AVG), never as a loop over items in Python: the dashboard
# and the scorecards read a district's whole history of items through indexes on resolution_items.
def _day_span(session: Session, start: Any, end: Any) -> Any:
    """Days from ``start`` to ``end`` (fractional) as SQL, on SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 86400
    return func.julianday(end) - func.julianday(start)


def _per_month(moment: Any, firsts: list[date], *where: Any) -> Any:
    """Items per Beijing month starting at each of ``firsts`` (consecutive months), as one statement of range
    counts: each walks its slice of the index on ``moment``, where grouping by a formatted month would format
    every row of the year."""
    bounds = [at_local(day, 0) for day in [*firsts, add_months(firsts[-1], 1)]]
    return union_all(*(select(literal(i).label("month"), func.count().label("items"))
                       .where(moment >= bounds[i], moment < bounds[i + 1], *where) for i in range(len(firsts))))


def _counts(session: Session, statement: Any, months: int) -> list[int]:
    got = {int(i): int(n) for i, n in session.execute(statement)}
    return [got.get(i, 0) for i in range(months)]


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
    # 来源 (会议纪要 / 交办 / 协调 / 信访) -> (open, closed): every source feeds the same ledger and figures.
    by_source: dict[str, tuple[int, int]] = field(default_factory=dict)


def of_source(source: str | None) -> list[Any]:
    """The WHERE clause of one 来源 (``resolution_items.source`` is indexed), or none for every source."""
    return [ResolutionItem.source == source] if source else []


def _tallies(session: Session) -> list[tuple[str, str, str, int, float]]:
    """(lead unit, 来源, status, items, days the closed ones took) of the issued items: the counters the triggers
    keep (meeting/tallies.py), a few rows per unit however long the history."""
    t = ResolutionTally
    return [(unit, src, status, int(n), float(days or 0)) for unit, src, status, n, days in session.execute(
        select(t.lead_unit, t.source, t.status, t.items, t.closed_days)
        .where(t.status != ResolutionStatus.DRAFT, t.items != 0))]


def _by_unit(session: Session, now: datetime, tallies: list[tuple[str, str, str, int, float]],
             source: str | None = None) -> tuple[list[UnitLoad], dict[str, int]]:
    """Per lead unit its open, overdue and closed items, and the traffic lights of all issued items: the counts
    from the tallies, the red and yellow ones counted over the covering index (status, deadline, lead unit) on
    the open items due within the yellow window (the rest of the open items are green)."""
    item = ResolutionItem
    lights = dict.fromkeys((light.value for light in LIGHTS), 0)
    per_unit: dict[str, list[int]] = {}
    for code, _src, status, count, _days in tallies:
        tally = per_unit.setdefault(code, [0, 0, 0])  # open, overdue, closed
        if status == CLOSED:
            lights[Light.CLOSED] += count
            tally[2] += count
        elif status in OPEN_STATUSES:
            tally[0] += count
            lights[Light.GREEN] += count
    soon = session.execute(
        select(item.lead_unit, func.count(), func.sum(case((item.deadline < now, 1), else_=0)))
        .where(item.status.in_(OPEN_STATUSES), item.deadline <= now + YELLOW_BEFORE, *of_source(source))
        .group_by(item.lead_unit)).all()
    for code, count, red in soon:
        red = int(red or 0)
        lights[Light.RED] += red
        lights[Light.YELLOW] += count - red
        lights[Light.GREEN] -= count
        per_unit.setdefault(code, [0, 0, 0])[1] += red
    names = {code: (name, sort) for code, name, sort in session.execute(select(Unit.code, Unit.name, Unit.sort))}
    units = [UnitLoad(code, names.get(code, (code, 0))[0], *tally) for code, tally in per_unit.items()]
    units.sort(key=lambda u: (names.get(u.code, ("", 999))[1], u.code))
    return units, lights


def _by_source(tallies: list[tuple[str, str, str, int, float]]) -> dict[str, tuple[int, int]]:
    """Open and closed items per 来源, in the order of the labels table."""
    tally: dict[str, list[int]] = {}
    for _unit, src, status, count, _days in tallies:
        if status in OPEN_STATUSES or status == CLOSED:
            tally.setdefault(src, [0, 0])[status == CLOSED] += count
    return {src.value: (tally[src.value][0], tally[src.value][1]) if src.value in tally else (0, 0)
            for src in ItemSource}


def dashboard(session: Session, now: datetime, months: int = 12, source: str | None = None) -> Dashboard:
    """The headline figures, lights, units and trend of the items of one 来源 (``source``) or all; the table by
    来源 always counts every source."""
    every = _tallies(session)
    tallies = [row for row in every if row[1] == source] if source else every
    units, lights = _by_unit(session, now, tallies, source)
    where = of_source(source)
    closed_items = [(count, days) for _unit, _src, status, count, days in tallies if status == CLOSED]
    counted = sum(count for count, _days in closed_items)
    # The tallies' days count closed items with a closing time (all of them: an item is closed with its time).
    avg = round(sum(days for _count, days in closed_items) / counted, 1) if counted else None

    first = add_months(month_start(local_today(now)), -(months - 1))
    firsts = [add_months(first, i) for i in range(months)]
    labels = [day.strftime("%Y-%m") for day in firsts]
    created = _counts(session, _per_month(ResolutionItem.created_at, firsts,
                                          ResolutionItem.status != ResolutionStatus.DRAFT, *where), months)
    closed = _counts(session, _per_month(ResolutionItem.closed_at, firsts, ResolutionItem.status == CLOSED, *where),
                     months)
    return Dashboard(
        open=sum(u.open for u in units), due_soon=lights[Light.YELLOW], overdue=lights[Light.RED],
        closed_this_month=closed[-1], avg_days_to_close=avg, lights=lights, units=units,
        months=labels, created_per_month=created, closed_per_month=closed, by_source=_by_source(every),
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


def scorecards(session: Session, now: datetime, start: date, end: date,
               source: str | None = None) -> list[Scorecard]:
    """Per lead unit, for the items agreed between ``start`` and ``end`` (Beijing days, inclusive), of one 来源
    or all: assigned, closed, 办结率, overdue (still open past the deadline, or closed after it), average days."""
    item = ResolutionItem
    done = (item.status == CLOSED) & item.closed_at.is_not(None)
    rows = session.execute(
        select(item.lead_unit, func.count(), func.sum(case((done, 1), else_=0)),
               func.sum(case((~done & (item.deadline < now), 1), else_=0)),
               func.sum(case((done & (item.closed_at > item.deadline), 1), else_=0)),
               func.avg(case((done, _day_span(session, item.created_at, item.closed_at)))))
        .where(item.status.in_(ISSUED_STATUSES), item.created_at >= at_local(start, 0),
               item.created_at < at_local(add_day(end), 0), *of_source(source))
        .group_by(item.lead_unit)
    ).all()
    units = {code: (name, sort) for code, name, sort in session.execute(select(Unit.code, Unit.name, Unit.sort))}
    cards = [Scorecard(code, units.get(code, (code, 0))[0], int(n), int(c or 0), int(o or 0), int(late or 0),
                       round(float(days), 1) if days is not None else None)
             for code, n, c, o, late, days in rows]
    return sorted(cards, key=lambda c: (units.get(c.code, ("", 999))[1], c.code))


def add_day(day: date) -> date:
    return date.fromordinal(day.toordinal() + 1)


OVERDUE_LISTED = 200  # a printed 通报 lists at most this many; the rest are counted and left to the ledger


def overdue_items(session: Session, now: datetime, limit: int = OVERDUE_LISTED, source: str | None = None
                  ) -> list[ResolutionItem]:
    """Open items past their deadline, the longest overdue first (the 督办通报's list), at most ``limit``."""
    return list(session.scalars(select(ResolutionItem).where(light_clause(Light.RED, now), *of_source(source))
                                .where(ResolutionItem.status.in_(OPEN_STATUSES))
                                .order_by(ResolutionItem.deadline, ResolutionItem.id).limit(limit)))


def overdue_count(session: Session, now: datetime, source: str | None = None) -> int:
    """How many open items are past their deadline (all of them, whatever ``overdue_items`` lists)."""
    return session.scalar(select(func.count()).select_from(ResolutionItem)
                          .where(light_clause(Light.RED, now), *of_source(source))
                          .where(ResolutionItem.status.in_(OPEN_STATUSES))) or 0


# ---------------------------------------------------------------------------------------------- co-units
@dataclass(frozen=True)
class CoScorecard:
    """A unit as 配合单位: inputs asked, given (on time or late), silent at the deadline (未反馈), still awaited."""

    code: str
    name: str
    assigned: int
    answered: int
    on_time: int
    silent: int
    pending: int

    @property
    def answer_rate(self) -> float:
        return self.answered / self.assigned if self.assigned else 0.0


def co_scorecards(session: Session, start: date, end: date, source: str | None = None) -> list[CoScorecard]:
    """Per co-operating unit, for the items (of one 来源, or all) agreed between ``start`` and ``end``: one grouped
    query."""
    link = ResolutionCoUnit
    on_time = (link.status == CoUnitStatus.ANSWERED) & (
        link.deadline.is_(None) | (link.answered_at <= link.deadline))
    rows = session.execute(
        select(Unit.code, Unit.name, func.count(),
               func.sum(case((link.status == CoUnitStatus.ANSWERED, 1), else_=0)),
               func.sum(case((on_time, 1), else_=0)),
               func.sum(case((link.status == CoUnitStatus.SILENT, 1), else_=0)),
               func.sum(case((link.status == CoUnitStatus.PENDING, 1), else_=0)))
        .join(link, link.unit_code == Unit.code)
        .join(ResolutionItem, ResolutionItem.id == link.resolution_id)
        .where(ResolutionItem.status.in_(ISSUED_STATUSES),
               ResolutionItem.created_at >= at_local(start, 0),
               ResolutionItem.created_at < at_local(add_day(end), 0), *of_source(source))
        .group_by(Unit.code, Unit.name, Unit.sort).order_by(Unit.sort)).all()
    return [CoScorecard(code, name, int(n), int(a or 0), int(t or 0), int(s or 0), int(p or 0))
            for code, name, n, a, t, s, p in rows]
