"""One injectable clock for timers, due dates and reminders. Tests move it; nothing sleeps."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SystemClock(Clock):
    pass


class OffsetClock(Clock):
    """The system clock moved by a fixed offset: lets worker processes in tests and rehearsals act "later"
    (``WORKFLOW_NOW_OFFSET``, seconds). Never set it in production."""

    def __init__(self, offset: timedelta) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


class ManualClock(Clock):
    """A clock that stands still until told to move (for tests and the demo)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")
        self._now = start.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, when: datetime) -> None:
        with self._lock:
            self._now = when.astimezone(UTC)

    def advance(self, delta: timedelta) -> datetime:
        with self._lock:
            self._now += delta
            return self._now


_current: Clock = SystemClock()


def get_clock() -> Clock:
    return _current


def set_clock(clock: Clock) -> None:
    """Install the clock process-wide. Our timer event definitions (engine/timers.py) read it through :func:`now`;
    SpiffWorkflow itself is not touched."""
    global _current
    _current = clock


def now() -> datetime:
    return _current.now()


def local(dt: datetime) -> datetime:
    return dt.astimezone(SHANGHAI)
