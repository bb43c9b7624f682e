"""Read helpers for the ledger, dashboards and meeting pages (no writes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.orm import Session

from meeting.directory import unit_names
from meeting.models import (
    YELLOW_BEFORE,
    Attendance,
    ResolutionCoUnit,
    ResolutionItem,
    Topic,
    Unit,
)
from meeting.statuses import AttendanceReply, Light, ResolutionStatus, TopicStatus

LIGHTS = Light.of_items()


def light_clause(light: str, now: datetime) -> ColumnElement[bool]:
    """The SQL form of ``ResolutionItem.light(now) == light``."""
    open_ = ResolutionItem.status != ResolutionStatus.CLOSED
    if light == Light.CLOSED:
        return ResolutionItem.status == ResolutionStatus.CLOSED
    if light == Light.RED:
        return open_ & (ResolutionItem.deadline < now)
    if light == Light.YELLOW:
        return open_ & (ResolutionItem.deadline >= now) & (ResolutionItem.deadline <= now + YELLOW_BEFORE)
    if light == Light.GREEN:
        return open_ & (ResolutionItem.deadline > now + YELLOW_BEFORE)
    raise ValueError(f"unknown light {light!r}")


@dataclass(frozen=True)
class ResolutionRow:
    item: ResolutionItem
    light: str
    lead_unit_name: str
    co_unit_names: list[str]


def resolution_ledger(
    session: Session,
    now: datetime,
    unit: str | None = None,
    status: str | None = None,
    light: str | None = None,
    meeting_id: int | None = None,
    include_drafts: bool = False,
) -> list[ResolutionRow]:
    """Resolution items with their traffic light, by deadline. ``unit`` matches the lead or a co-operating unit;
    drafts (items of minutes not yet issued) are left out unless asked for."""
    query = select(ResolutionItem)
    if unit:
        as_co = select(ResolutionCoUnit.resolution_id).where(ResolutionCoUnit.unit_code == unit)
        query = query.where(or_(ResolutionItem.lead_unit == unit, ResolutionItem.id.in_(as_co)))
    if status:
        query = query.where(ResolutionItem.status == status)
    elif not include_drafts:
        query = query.where(ResolutionItem.status != ResolutionStatus.DRAFT)
    if light:
        query = query.where(light_clause(light, now))
    if meeting_id is not None:
        query = query.where(ResolutionItem.meeting_id == meeting_id)
    items = list(session.scalars(query.order_by(ResolutionItem.deadline, ResolutionItem.id)))
    names = unit_names(session, sorted({c for i in items for c in [i.lead_unit, *i.co_units]}))
    return [
        ResolutionRow(item, item.light(now), names[item.lead_unit], [names[c] for c in item.co_units])
        for item in items
    ]


def counts_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(ResolutionItem.status, func.count()).group_by(ResolutionItem.status)).all()
    found = {status: count for status, count in rows}
    return {status.value: found.get(status, 0) for status in ResolutionStatus}


def counts_by_light(session: Session, now: datetime) -> dict[str, int]:
    """Issued items (drafts excluded) per traffic light."""
    which = case(*((light_clause(light, now), light) for light in LIGHTS))
    rows = session.execute(
        select(which, func.count()).where(ResolutionItem.status != ResolutionStatus.DRAFT).group_by(which)
    ).all()
    found = {light: count for light, count in rows}
    return {light.value: found.get(light, 0) for light in LIGHTS}


@dataclass(frozen=True)
class UnitStat:
    code: str
    name: str
    total: int
    closed: int
    overdue: int

    @property
    def close_rate(self) -> float:
        return self.closed / self.total if self.total else 0.0


def unit_statistics(session: Session, now: datetime) -> list[UnitStat]:
    """Per lead unit: items issued, closed and overdue (the 办结率 / 逾期数 of a 通报)."""
    closed = func.sum(case((ResolutionItem.status == ResolutionStatus.CLOSED, 1), else_=0))
    overdue = func.sum(case((light_clause(Light.RED, now), 1), else_=0))
    rows = session.execute(
        select(Unit.code, Unit.name, func.count(ResolutionItem.id), closed, overdue)
        .join(ResolutionItem, ResolutionItem.lead_unit == Unit.code)
        .where(ResolutionItem.status != ResolutionStatus.DRAFT)
        .group_by(Unit.code, Unit.name, Unit.sort)
        .order_by(Unit.sort)
    ).all()
    return [UnitStat(code, name, total, closed or 0, overdue or 0) for code, name, total, closed, overdue in rows]


@dataclass(frozen=True)
class AttendanceSummary:
    rows: list[tuple[Attendance, str]]  # each reply with its unit's name, in directory order
    attend: int
    leave: int
    pending: int
    substitute: int = 0
    unanswered: int = 0

    @property
    def total(self) -> int:
        return len(self.rows)


def attendance_summary(session: Session, meeting_id: int) -> AttendanceSummary:
    rows = [
        (row, name)
        for row, name in session.execute(
            select(Attendance, Unit.name)
            .join(Unit, Unit.code == Attendance.unit_code)
            .where(Attendance.meeting_id == meeting_id)
            .order_by(Attendance.invited, Unit.sort)
        )
    ]
    count = {reply: sum(1 for row, _ in rows if row.reply == reply) for reply in AttendanceReply}
    return AttendanceSummary(rows, count[AttendanceReply.ATTEND], count[AttendanceReply.LEAVE],
                             count[AttendanceReply.PENDING], count[AttendanceReply.SUBSTITUTE],
                             count[AttendanceReply.UNANSWERED])


def topic_pool(session: Session) -> list[Topic]:
    """Accepted topics waiting for a meeting: urgent first, then the oldest."""
    urgent_first = case((Topic.urgency == "urgent", 0), else_=1)
    return list(
        session.scalars(
            select(Topic)
            .where(Topic.status == TopicStatus.ACCEPTED, Topic.meeting_id.is_(None))
            .order_by(urgent_first, Topic.created_at, Topic.id)
        )
    )
