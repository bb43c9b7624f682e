"""The monthly 归纳 of urgent cases (救急难) per town: how many were reported, verified on site within the hours of
the rules, escalated to the town's 分管领导, late, helped by 先行救助 (count and yuan), referred to departments and
sent to the district office. One grouped query over ``assistance_cases`` (indexed by town and creation time), never
a loop over the history.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from meeting.models import AssistanceCase, CaseHandling, Unit
from meeting.statuses import CaseKind
from meeting.timeutil import at_local

# The columns of the page and the export, in order: attribute, Chinese heading.
COLUMNS = (
    ("cases", "急难案件"),
    ("verified_in_time", "按时核实"),
    ("escalated", "报告分管领导"),
    ("late", "超时未核实"),
    ("unfounded", "经核实不属实"),
    ("advance_count", "先行救助（件）"),
    ("advance_total", "先行救助金额（元）"),
    ("referred", "转介部门"),
    ("district", "报区联席会议办公室"),
)


@dataclass(frozen=True)
class TownMonth:
    town_code: str
    town_name: str
    cases: int = 0
    verified_in_time: int = 0
    escalated: int = 0
    late: int = 0
    unfounded: int = 0
    advance_count: int = 0
    advance_total: int = 0
    referred: int = 0
    district: int = 0


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The month as Beijing time sees it, as UTC instants [start, end)."""
    first = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)
    return at_local(first, 0), at_local(following, 0)


def monthly_summary(session: Session, year: int, month: int, now: datetime,
                    towns: Collection[str] | None = None) -> list[TownMonth]:
    """One row per active town (or per town of ``towns``), in directory order, for the cases reported that month.
    A case is late when it was verified after its deadline, or is still unverified with its deadline passed."""
    start, end = month_bounds(year, month)
    c = AssistanceCase

    def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    referred = exists().where(CaseHandling.case_id == c.id)
    late = or_(c.verified_at > c.verify_due_at, and_(c.verified_at.is_(None), c.verify_due_at < now))
    query = (select(c.town_code, func.count(c.id), count_if(c.verified_at <= c.verify_due_at),
                    func.count(c.escalated_at), count_if(late), count_if(c.verified_true.is_(False)),
                    func.count(c.advance_granted_at),
                    func.coalesce(func.sum(case((c.advance_granted_at.isnot(None), c.advance_amount), else_=0)), 0),
                    count_if(referred), func.count(c.district_reason))
             .where(c.kind == CaseKind.URGENT, c.created_at >= start, c.created_at < end)
             .group_by(c.town_code))
    unit_query = select(Unit.code, Unit.name).where(Unit.kind == "town").order_by(Unit.sort, Unit.code)
    if towns is not None:
        query = query.where(c.town_code.in_(list(towns)))
        unit_query = unit_query.where(Unit.code.in_(list(towns)))
    else:
        unit_query = unit_query.where(Unit.active)
    figures = {row[0]: [int(v or 0) for v in row[1:]] for row in session.execute(query)}
    out = []
    for code, name in session.execute(unit_query):
        values = figures.get(code)
        out.append(TownMonth(code, name, *values) if values else TownMonth(code, name))
    return out


def totals(rows: list[TownMonth]) -> dict[str, int]:
    """The district's figures: the sum of the towns' rows."""
    return {key: sum(getattr(r, key) for r in rows) for key, _ in COLUMNS}
