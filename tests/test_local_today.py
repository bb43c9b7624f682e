"""The Beijing calendar day of an instant: the fixed-offset shortcut agrees with the time-zone database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from engine.clock import SHANGHAI
from meeting.timeutil import local_today


@given(st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)))
def test_the_day_is_the_time_zone_databases_day(moment: datetime) -> None:
    utc = moment.replace(tzinfo=UTC)
    assert local_today(utc) == utc.astimezone(SHANGHAI).date()
    other = utc.astimezone(timezone(timedelta(hours=-5)))  # the same instant given in another zone
    assert local_today(other) == utc.astimezone(SHANGHAI).date()


def test_the_day_turns_at_beijing_midnight() -> None:
    assert local_today(datetime(2026, 12, 6, 15, 59, 59, tzinfo=UTC)).day == 6
    assert local_today(datetime(2026, 12, 6, 16, 0, 0, tzinfo=UTC)).day == 7
    # 1988: summer time in China, the day turned at 15:00 UTC
    assert local_today(datetime(1988, 7, 1, 15, 30, tzinfo=UTC)).day == 2
