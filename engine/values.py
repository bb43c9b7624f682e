"""Plain value conversions the engine's commands share: JSON-safe data, due dates, comma lists."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.clock import SHANGHAI


def json_safe(value: Any) -> Any:
    """Data as JSON can hold it (dates as ISO text), for the audit log and messages."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [json_safe(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def to_datetime(value: Any, now: datetime, end_of_day: bool = True) -> datetime | None:
    """A due/follow-up value: datetime, date, ISO datetime or date string, or ISO duration from now.
    A bare date means the end of that day in Beijing (a deadline "by 30 June" includes 30 June)."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=SHANGHAI)
    if isinstance(value, date):
        return datetime.combine(value, time(23, 59, 59) if end_of_day else time(0), SHANGHAI)
    text = str(value).strip()
    if text.startswith("P"):
        duration = TimerEventDefinition.parse_iso_duration(text)
        return now + TimerEventDefinition.get_timedelta_from_start(duration, now)
    if len(text) == 10:
        return to_datetime(date.fromisoformat(text), now, end_of_day)
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=SHANGHAI)


def split_list(value: Any) -> list[str]:
    """``"a, b"`` or ``["a", "b"]`` → ``["a", "b"]`` (blank entries dropped)."""
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [str(v).strip() for v in value if str(v).strip()]
    return [v.strip() for v in str(value).split(",") if v.strip()]
