"""工作日: the calendar (library, administrator's corrections, weekdays for unknown years), the ``workdays()``
expression function registered with the engine's evaluator from the composition root, and its refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import meeting.runtime  # noqa: F401  (registers workdays() with the evaluator)
from engine import expressions
from engine.db import Database
from engine.expressions import ExpressionError, compile_expression, evaluate, register_function
from meeting import workdays
from meeting.workdays import WorkCalendar

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize(("start", "n", "expected"), [
    (date(2026, 9, 30), 1, date(2026, 10, 8)),  # across the National Day holiday
    (date(2026, 10, 9), 1, date(2026, 10, 10)),  # a 调休 Saturday is a working day
    (date(2026, 10, 12), -5, date(2026, 9, 29)),  # backwards over both
    (date(2026, 9, 29), -2, date(2026, 9, 24)),  # 中秋节 (25 September 2026) left out
    (date(2026, 10, 3), 0, date(2026, 10, 8)),  # 0: the day itself, or the next working day
    (date(2027, 1, 1), 1, date(2027, 1, 4)),  # an unknown year: Monday to Friday
])
def test_calendar_counts_holidays_and_make_up_days(start: date, n: int, expected: date) -> None:
    assert WorkCalendar().add(start, n) == expected


def test_the_administrator_corrects_and_completes_a_year(sqlite_db: Database) -> None:
    with sqlite_db.transaction() as s:
        assert workdays.schedule_warning(s, date(2026, 12, 1)) is not None
        workdays.set_day(s, date(2027, 1, 1), False, "元旦", "admin", NOW)
        workdays.set_day(s, date(2027, 2, 7), True, "春节调休上班", "admin", NOW)  # a Sunday
    with sqlite_db.sessions() as s:
        cal = workdays.calendar_for(s)
        assert cal.add(date(2026, 12, 31), 1) == date(2027, 1, 4)
        assert cal.is_workday(date(2027, 2, 7)) and not cal.covers(2027)
        assert "2027年" in (workdays.schedule_warning(s, date(2026, 12, 1)) or "")
    with sqlite_db.transaction() as s:
        workdays.confirm_year(s, 2027, "国办发明电〔2026〕7号", "admin", NOW)
        assert workdays.remove_day(s, date(2027, 2, 7)) and not workdays.remove_day(s, date(2027, 2, 7))
    with sqlite_db.sessions() as s:
        assert workdays.schedule_warning(s, date(2026, 12, 1)) is None
        assert workdays.calendar_for(s).covers(2027)


def test_workdays_is_an_expression_function_through_the_safe_evaluator(sqlite_db: Database) -> None:
    workdays.SHARED.bind(sqlite_db)
    with sqlite_db.transaction() as s:
        workdays.set_day(s, date(2027, 1, 1), False, "元旦", "admin", NOW)
    assert "workdays" in expressions.registered_functions()
    assert evaluate('workdays("2026-09-30T23:59:59+08:00", 1)', {}) == "2026-10-08T23:59:59+08:00"
    assert evaluate("workdays(d, -n)", {"d": "2026-10-12T09:00:00+08:00", "n": 2}) == "2026-10-09T09:00:00+08:00"
    assert evaluate('workdays("2026-12-31", 1)', {}) == "2027-01-04T00:00:00+08:00"  # the override counts
    with pytest.raises(ExpressionError):
        evaluate('workdays("2026-09-30", 1.5)', {})
    with pytest.raises(ExpressionError):
        evaluate('workdays("not a date", 1)', {})
    with pytest.raises(ExpressionError):
        evaluate('workdays("2026-09-30", 10 ** 6)', {})
    workdays.SHARED.bind(Database("sqlite://"))  # leave no binding to a file of this test behind


def test_registering_functions_is_guarded() -> None:
    register_function("workdays", workdays.workdays)  # the same function again: harmless
    with pytest.raises(ValueError, match="already registered"):
        register_function("workdays", len)
    with pytest.raises(ValueError):
        register_function("_hidden", len)
    with pytest.raises(ExpressionError, match="不允许调用函数"):
        compile_expression("no_such_function(1)")
