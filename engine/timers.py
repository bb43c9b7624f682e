"""Timer arithmetic on the Beijing calendar, and our timer event definitions that use it.

SpiffWorkflow 3.2.0 turns a months-based duration into a fixed number of days once (``R/P6M`` steps 184 days, so
1 September is followed by 4 March), counts months on the UTC calendar (a ``P1M`` started at 07:00 on 1 April in
Beijing ends on 2 May), fires every missed cycle of a cycle timer one refresh at a time, and leaves a timer that
became due during the final ``refresh_timers()`` of ``do_engine_steps()`` READY but unrun — it is then in no
``waiting_events()`` and would never fire. It also reads the system clock and the server's time zone. Here:

* our subclasses of its timer event definitions, which our parser builds (engine/specs.py), read the app clock
  (``engine.clock.now()``: tests move it, nothing sleeps); SpiffWorkflow's own classes stay untouched;
* durations are added on the Asia/Shanghai calendar: years and months keep the day of the month (clamped to the
  month's last day: 31 January + P1M = 28 February), days and weeks keep the wall-clock time;
* cycle occurrences are computed from the anchor, ``start + k × period``, so they never drift (31 January,
  28 February, 31 March, 30 April …);
* a cycle that missed occurrences (the worker was down) fires once and continues at the next future occurrence;
* :func:`run_engine_steps` runs the engine until no automatic task is left READY;
* dates written without an offset are Beijing time, whatever the server's zone;
* no duration or cycle period is shorter than the floor of the command's budgets (``min_timer_seconds``,
  engine/budgets.py): deploy refuses such literals, and values computed from data are raised to the floor, so no
  timer fires faster than that.
"""

from __future__ import annotations

import math
import re
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow import TaskState
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.util import PendingBpmnEvent

from engine import budgets, clock
from engine.clock import SHANGHAI

MAX_SETTLE_ROUNDS = 50


# ---------------------------------------------------------------------------------------------- parsing
def parse_instant(value: str | datetime) -> datetime:
    """An ISO date or date-time; without an offset it is Beijing time. Returns an aware UTC datetime."""
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=SHANGHAI)
    return dt.astimezone(UTC)


def parse_duration(text: str) -> dict[str, float]:
    """``P1Y2M10DT2H30M`` → {'years': 1, 'months': 2, 'days': 10, 'hours': 2, 'minutes': 30}."""
    parsed = TimerEventDefinition.parse_iso_duration(text.strip())
    if not parsed:
        raise ValueError(f"empty duration {text!r}")
    return {k: float(v) for k, v in parsed.items()}


def add_duration(start: datetime, duration: str | dict[str, float], times: int = 1) -> datetime:
    """``start + times × duration`` on the Beijing calendar (see the module docstring)."""
    parts = parse_duration(duration) if isinstance(duration, str) else dict(duration)
    local = start.astimezone(SHANGHAI)
    months = (parts.get("years", 0.0) * 12 + parts.get("months", 0.0)) * times
    whole = math.floor(months)
    if whole:
        year, month0 = divmod(local.month - 1 + whole, 12)
        year += local.year
        day = min(local.day, monthrange(year, month0 + 1)[1])
        local = local.replace(year=year, month=month0 + 1, day=day)
    if months != whole:  # a fraction of a month: that share of the month it ends in
        local += timedelta(days=(months - whole) * monthrange(local.year, local.month)[1])
    days = (parts.get("weeks", 0.0) * 7 + parts.get("days", 0.0)) * times
    clock_time = timedelta(hours=parts.get("hours", 0.0), minutes=parts.get("minutes", 0.0),
                           seconds=parts.get("seconds", 0.0)) * times
    return (local + timedelta(days=days) + clock_time).astimezone(UTC)


def approx_seconds(duration: str | dict[str, float]) -> float:
    """A duration's length from an arbitrary start (for display and legacy state only)."""
    base = datetime(2001, 1, 1, tzinfo=UTC)
    return (add_duration(base, duration) - base).total_seconds()


@dataclass(frozen=True)
class Cycle:
    """``R[n]/start/period`` or ``R[n]/period`` (first occurrence one period after ``armed_at``)."""

    cycles: int  # -1 = unbounded
    anchor: datetime  # occurrence k is anchor + k × period
    first: int  # index of the first occurrence (0 when a start is given, 1 when not)
    period: str

    def occurrence(self, k: int) -> datetime:
        return add_duration(self.anchor, self.period, k) if k else self.anchor

    def first_at_or_after(self, moment: datetime, k: int | None = None) -> int:
        """The index of the first occurrence not before ``moment`` (from ``k`` on)."""
        k = self.first if k is None else k
        step = approx_seconds(self.period)
        if step > 0 and self.occurrence(k) < moment:  # jump close first, then walk: months vary in length
            k = max(k, math.floor((moment - self.anchor).total_seconds() / step) - 2)
        while self.occurrence(k) < moment:
            k += 1
        return k


def parse_cycle(text: str, armed_at: datetime) -> Cycle:
    parts = text.strip().upper().replace("--", "/").split("/")
    if not parts[0].startswith("R"):
        raise ValueError(f"not a repeating interval: {text!r}")
    count = parts[0][1:]
    cycles = int(count) if count else -1
    if len(parts) == 2 and parts[1].startswith("P"):
        parse_duration(parts[1])
        return Cycle(cycles, armed_at.astimezone(UTC), 1, parts[1])
    if len(parts) == 3 and parts[2].startswith("P") and not parts[1].startswith("P"):
        parse_duration(parts[2])
        return Cycle(cycles, parse_instant(text.strip().split("/")[1]), 0, parts[2])
    raise ValueError(f"unsupported repeating interval {text!r} (use R[n]/start/period or R[n]/period)")


# ---------------------------------------------------------------------------------------------- our timer classes
# The parser (engine/specs.py) builds these instead of SpiffWorkflow's own, and the serializer restores them from
# the stock type names, so SpiffWorkflow itself stays untouched: no module global or method of it is replaced.
def _now() -> datetime:
    return clock.now().astimezone(UTC)


def parse_time_date(value: Any) -> datetime:
    """A ``timeDate`` value as SpiffWorkflow reads it (an ISO date-time or ISO week date), with naive values in
    Beijing time rather than in the server's zone. Returns an aware UTC datetime."""
    text = str(value).strip()
    if "W" in text.upper():
        match = re.match(r"(\d{4})W(\d{2})(\d)(T.+)?", text.upper().replace("-", ""))
        if match is None:
            raise ValueError(f"invalid ISO week date {text!r}")
        year, week, day, time_part = match.groups()
        text = datetime.fromisocalendar(int(year), int(week), int(day)).strftime("%Y-%m-%d") + (time_part or "")
    return parse_instant(text)


class _StockName(TimerEventDefinition):
    """``waiting_events()`` reports the stock class name as the event type, as before these classes existed:
    callers (``next_timer_at``, the worker) recognise timers by those names."""

    stock_name: str

    def details(self, my_task: Any) -> PendingBpmnEvent:
        event = super().details(my_task)
        return PendingBpmnEvent(event.name, self.stock_name, event.value, event.correlations)


class AppTimeDateEventDefinition(_StockName, TimeDateEventDefinition):
    """A ``timeDate`` read on the app clock; a date without an offset is Beijing time."""

    stock_name = TimeDateEventDefinition.__name__

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            event_value = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            my_task._set_internal_data(event_value=event_value)
        if parse_time_date(event_value) < _now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


class AppDurationTimerEventDefinition(_StockName, DurationTimerEventDefinition):
    """A ``timeDuration`` added on the Beijing calendar to the app clock's time when the timer is armed."""

    stock_name = DurationTimerEventDefinition.__name__

    def has_fired(self, my_task: Any) -> bool:
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            now, floor = _now(), budgets.of(my_task).min_timer_seconds
            event_value = max(add_duration(now, str(expression)), now + timedelta(seconds=floor)).isoformat()
            my_task._set_internal_data(event_value=event_value)
        if parse_instant(event_value) < _now():
            my_task._set_internal_data(event_fired=True)
        return bool(my_task._get_internal_data("event_fired", False))


def _arm_cycle(text: str, now: datetime, floor_seconds: float = 0) -> dict[str, Any]:
    cycle = parse_cycle(text, now)
    if approx_seconds(cycle.period) < floor_seconds:  # a period computed from data: never faster than the floor
        cycle = Cycle(cycle.cycles, cycle.anchor, cycle.first, f"PT{int(math.ceil(floor_seconds))}S")
    k = cycle.first
    return {"cycles": cycle.cycles, "next": cycle.occurrence(k).isoformat(), "duration": approx_seconds(cycle.period),
            "anchor": cycle.anchor.isoformat(), "first": cycle.first, "period": cycle.period, "k": k}


class AppCycleTimerEventDefinition(_StockName, CycleTimerEventDefinition):
    """A ``timeCycle`` whose occurrences are ``anchor + k × period`` on the app clock; missed occurrences give one
    firing. ``update_task`` (stock) adds a branch each time :meth:`cycle_complete` says so."""

    stock_name = CycleTimerEventDefinition.__name__

    def cycle_complete(self, my_task: Any) -> bool:
        now = _now()
        event_value = my_task._get_internal_data("event_value")
        if event_value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            event_value = _arm_cycle(str(expression), now, budgets.of(my_task).min_timer_seconds)
        ready = False
        if event_value["cycles"] != 0:
            if parse_instant(event_value["next"]) < now:
                ready = True
                if "period" in event_value:
                    cycle = Cycle(event_value["cycles"], parse_instant(event_value["anchor"]), event_value["first"],
                                  event_value["period"])
                    k = cycle.first_at_or_after(now, event_value["k"] + 1)
                    consumed = k - event_value["k"]  # this firing plus the occurrences missed meanwhile
                    event_value["k"] = k
                    event_value["next"] = cycle.occurrence(k).isoformat()
                else:  # state armed by the stock implementation: fixed steps, still one firing for all missed
                    step = timedelta(seconds=event_value["duration"])
                    nxt, consumed = parse_instant(event_value["next"]) + step, 1
                    while nxt < now:
                        nxt, consumed = nxt + step, consumed + 1
                    event_value["next"] = nxt.isoformat()
                if event_value["cycles"] > 0:
                    event_value["cycles"] = max(0, event_value["cycles"] - consumed)
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=event_value)
        return ready


# Stock class -> ours: what the parser builds and what stored specs and state are restored into.
APP_TIMER_CLASSES: dict[type[TimerEventDefinition], type[TimerEventDefinition]] = {
    TimeDateEventDefinition: AppTimeDateEventDefinition,
    DurationTimerEventDefinition: AppDurationTimerEventDefinition,
    CycleTimerEventDefinition: AppCycleTimerEventDefinition,
}


def app_timer(definition: TimerEventDefinition) -> TimerEventDefinition:
    """Ours in place of a stock timer definition (anything else is returned as is)."""
    app_class = APP_TIMER_CLASSES.get(type(definition))
    if app_class is None:
        return definition
    return app_class(definition.name, definition.expression, description=definition.description)


# ---------------------------------------------------------------------------------------------- running
def run_engine_steps(wf: Any, before_step: Callable[[Any], None] | None = None) -> None:
    """``do_engine_steps()`` until no automatic task is READY; ``before_step`` is called with each task
    before it runs (the command's step budget, engine/budgets.py).

    ``do_engine_steps()`` ends with ``refresh_timers()``: a timer that falls due right then becomes READY but
    does not run, and being no longer WAITING it is missing from ``waiting_events()`` (so from
    ``next_timer_at``). Running the engine again until nothing automatic is READY closes that gap."""
    wf.do_engine_steps(will_complete_task=before_step)
    for _ in range(MAX_SETTLE_ROUNDS):
        if not any(not t.task_spec.manual for t in wf.get_tasks(state=TaskState.READY)):
            return
        wf.do_engine_steps(will_complete_task=before_step)


def due_at(value: Any) -> datetime | None:
    """The moment a waiting timer falls due, from ``waiting_events()`` (cycle timers give a dict)."""
    if isinstance(value, dict):
        value = value.get("next")
    if not value:
        return None
    return parse_instant(value)


def pass_timer_start(task: Any) -> None:
    """Let a timer start event through once, like a none start event: the schedule that started this instance
    (engine/schedule.py) has fired it. A cycle start event makes its branch itself (SpiffWorkflow only adds one
    when a cycle fires), so we add it here."""
    task._set_internal_data(event_fired=True)
    if isinstance(task.task_spec.event_definition, CycleTimerEventDefinition):
        for output in task.task_spec.outputs:
            child = task._add_child(output, TaskState.FUTURE)
            child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)
