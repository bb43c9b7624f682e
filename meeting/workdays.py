"""工作日: China's statutory holidays and 调休 make-up working days, with the administrator's corrections.

Government deadlines are counted in working days: weekends and statutory holidays are left out, make-up working
days (调休, often a Saturday or Sunday) count. Three sources, the first that knows a day wins:

1. ``workday_overrides``: days an administrator entered or corrected from the State Council's notice (国务院办公厅
   关于某年部分节假日安排的通知), e.g. a year the library does not know yet;
2. the ``chinese_calendar`` library, pinned in pyproject.toml (1.11.0 knows 2004–2026 and raises for later years;
   the README says how to move the pin when a new release carries the next year);
3. otherwise Monday to Friday. A year that neither the library nor a confirmed ``workday_years`` row covers is
   *unscheduled*: deadlines are still computed (weekdays), and the office is warned in the app
   (:func:`schedule_warning`) until an administrator enters the notice.

Domain code with a session asks :func:`calendar_for`; expressions in diagrams call ``workdays(date, n)``, which
the composition root (meeting/runtime.py) registers with the engine's evaluator and which reads a process-wide
copy of the overrides (:data:`SHARED`), reloaded at most every :data:`RELOAD_SECONDS` and at once after an edit
in this process.
"""

from __future__ import annotations

import threading
import time as _time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import SHANGHAI
from engine.db import Database
from engine.errors import FormError
from meeting.models import WorkdayOverride, WorkdayYear

RELOAD_SECONDS = 60.0
MAX_STEPS = 3660  # |n| up to ten years of working days; anything larger is a typing error
WEEKDAY_NAMES = "一二三四五六日"


def library_years() -> range:
    """The years the calendar library carries data for."""
    known = sorted({d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays})
    return range(known[0], known[-1] + 1) if known else range(0)


_LIBRARY_YEARS = library_years()


def library_is_workday(day: date) -> bool | None:
    """The library's answer, or None for a year it has no data for."""
    if day.year not in _LIBRARY_YEARS:
        return None
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class WorkCalendar:
    overrides: Mapping[date, bool] = field(default_factory=dict)
    confirmed_years: frozenset[int] = frozenset()

    def is_workday(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        known = library_is_workday(day)
        return known if known is not None else day.weekday() < 5

    def covers(self, year: int) -> bool:
        """Whether the year's holiday schedule is known (library or a confirmed notice)."""
        return year in _LIBRARY_YEARS or year in self.confirmed_years

    def add(self, day: date, n: int) -> date:
        """The n-th working day after ``day`` (n > 0), before it (n < 0), or ``day`` itself when it is a
        working day and else the next one (n == 0)."""
        if abs(n) > MAX_STEPS:
            raise ValueError(f"工作日数 {n} 过大")
        if n == 0:
            while not self.is_workday(day):
                day += timedelta(days=1)
            return day
        step = timedelta(days=1 if n > 0 else -1)
        left = abs(n)
        while left:
            day += step
            if self.is_workday(day):
                left -= 1
        return day

    def between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_workday(day)
        return count


def load_calendar(session: Session) -> WorkCalendar:
    overrides = {day: bool(workday) for day, workday in session.execute(select(WorkdayOverride.day, WorkdayOverride.workday))}
    years = frozenset(session.scalars(select(WorkdayYear.year)))
    return WorkCalendar(overrides, years)


def calendar_for(session: Session) -> WorkCalendar:
    """The calendar as the database has it now (inside a command: what the administrator entered counts)."""
    return load_calendar(session)


class SharedCalendar:
    """The calendar the ``workdays()`` expression function reads: expressions are evaluated inside the engine,
    which has no session to give them, so this copy is loaded from the bound database on its own connection."""

    def __init__(self) -> None:
        self._db: Database | None = None
        self._calendar = WorkCalendar()
        self._loaded_at: float | None = None
        self._lock = threading.Lock()

    def bind(self, db: Database) -> None:
        with self._lock:
            self._db, self._loaded_at = db, None

    def invalidate(self) -> None:
        with self._lock:
            self._loaded_at = None

    def get(self) -> WorkCalendar:
        with self._lock:
            fresh = self._loaded_at is not None and _time.monotonic() - self._loaded_at < RELOAD_SECONDS
            if self._db is None or fresh:
                return self._calendar
            with self._db.sessions() as s:
                self._calendar = load_calendar(s)
            self._loaded_at = _time.monotonic()
            return self._calendar


SHARED = SharedCalendar()


def _as_local(value: Any) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(0, 0))
    elif isinstance(value, str):
        moment = datetime.fromisoformat(value.strip())
    else:
        raise ValueError(f"不是日期：{value!r}")
    return moment.replace(tzinfo=SHANGHAI) if moment.tzinfo is None else moment.astimezone(SHANGHAI)


def workdays(value: Any, n: int | float) -> str:
    """``workdays(deadline, -2)``: the moment ``n`` working days after (or before) ``value`` at the same
    Beijing wall-clock time, as ISO 8601 with +08:00 (what timers and due dates read)."""
    if isinstance(n, bool) or not isinstance(n, int | float) or n != int(n):
        raise ValueError(f"工作日数须为整数：{n!r}")
    local = _as_local(value)
    day = SHARED.get().add(local.date(), int(n))
    return datetime.combine(day, local.timetz()).isoformat()


def add_workdays(session: Session, moment: datetime, n: int) -> datetime:
    """``moment`` moved by ``n`` working days, keeping its Beijing wall-clock time (aware, UTC)."""
    local = moment.astimezone(SHANGHAI)
    day = calendar_for(session).add(local.date(), n)
    return datetime.combine(day, local.timetz()).astimezone(UTC)


# ---------------------------------------------------------------------------------------------- administration
def missing_years(session: Session, today: date) -> list[int]:
    """This year and the next, where neither the library nor a confirmed notice gives the schedule."""
    years = [y for y in (today.year, today.year + 1) if y not in _LIBRARY_YEARS]
    if not years:
        return []
    confirmed = set(session.scalars(select(WorkdayYear.year).where(WorkdayYear.year.in_(years))))
    return [y for y in years if y not in confirmed]


def schedule_warning(session: Session, today: date) -> str | None:
    """The warning the office reads while the coming year (or this year) has no holiday schedule."""
    missing = missing_years(session, today)
    if not missing:
        return None
    years = "、".join(f"{y}年" for y in missing)
    return (f"{years}的法定节假日和调休安排尚未录入：工作日暂按周一至周五计算。请系统管理员依据国务院办公厅"
            f"通知在“工作日设置”中录入放假和调休上班日期，并确认全年安排。")


def overrides_of(session: Session, year: int) -> list[WorkdayOverride]:
    return list(session.scalars(select(WorkdayOverride)
                                .where(WorkdayOverride.day >= date(year, 1, 1), WorkdayOverride.day <= date(year, 12, 31))
                                .order_by(WorkdayOverride.day)))


def set_day(session: Session, day: date, workday: bool, name: str, by: str, now: datetime) -> WorkdayOverride:
    """Enter or correct one day; FormError for a name that is too long."""
    name = name.strip()
    if len(name) > 50:
        raise FormError({"name": "名称不超过 50 字"})
    row = session.get(WorkdayOverride, day)
    if row is None:
        row = WorkdayOverride(day=day, workday=workday, name=name, updated_by=by, updated_at=now)
        session.add(row)
    else:
        row.workday, row.name, row.updated_by, row.updated_at = workday, name, by, now
    SHARED.invalidate()
    return row


def remove_day(session: Session, day: date) -> bool:
    row = session.get(WorkdayOverride, day)
    if row is not None:
        session.delete(row)
        session.flush()
    SHARED.invalidate()
    return row is not None


def confirm_year(session: Session, year: int, source: str, by: str, now: datetime) -> WorkdayYear:
    """The administrator states that the year's notice is entered completely (the warning then stops)."""
    source = source.strip()
    if not source:
        raise FormError({"source": "请填写通知文号或名称（如：国办发明电〔2026〕7号）"})
    row = session.get(WorkdayYear, year)
    if row is None:
        row = WorkdayYear(year=year, source=source[:100], confirmed_by=by, confirmed_at=now)
        session.add(row)
    else:
        row.source, row.confirmed_by, row.confirmed_at = source[:100], by, now
    SHARED.invalidate()
    return row


def describe(day: date, cal: WorkCalendar) -> str:
    """``2026-10-10 星期六 调休上班`` for pages and messages."""
    weekday = f"星期{WEEKDAY_NAMES[day.weekday()]}"
    kind = "工作日" if cal.is_workday(day) else "休息日"
    if cal.is_workday(day) and day.weekday() >= 5:
        kind = "调休上班"
    return f"{day.isoformat()} {weekday} {kind}"
