"""Scheduled starts: new instances at set times.

SpiffWorkflow runs a timer start event inside one instance (each cycle adds a branch to it, and with ``R/…`` the
instance never ends). We never let it: a timer start event of a deployed process becomes a ``wf_schedule`` row at
deploy (``source='diagram'``), and an administrator may add regular starts of a process at its none start event
(``source='config'``, e.g. the joint meeting every June and December). The worker claims due rows like due
timers and starts one new instance per occurrence, in the same transaction that moves the row to its next
occurrence, so an occurrence starts exactly one instance however many workers run.

Expressions are ISO 8601: a date (once), a duration from now (once), or ``R[n]/start/period`` / ``R[n]/period``.
Occurrences are ``anchor + k × period`` on the Beijing calendar (engine/timers.py), so ``R/2026-06-01T09:00/P6M``
is 1 June and 1 December every year. Occurrences already past when a schedule is armed are skipped; occurrences
missed while no worker ran give one start, then the schedule continues at its next future occurrence.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import expressions
from engine.errors import DeployError, EngineError, FormError, NotFound, Problem
from engine.models import PUBLISHED, ProcessModel, Schedule
from engine.timers import Cycle, add_duration, parse_cycle, parse_instant


@dataclass(frozen=True)
class Plan:
    """What a schedule expression means once armed at a moment."""

    anchor: datetime
    first: int
    period: str | None  # None: a single run at ``anchor``
    cycles: int  # -1 = unbounded

    def cycle(self) -> Cycle:
        assert self.period is not None
        return Cycle(self.cycles, self.anchor, self.first, self.period)

    def occurrence(self, k: int) -> datetime:
        return self.cycle().occurrence(k) if self.period else self.anchor


def plan(expression: str, armed_at: datetime) -> Plan:
    text = expression.strip()
    if text.upper().startswith("R"):
        c = parse_cycle(text, armed_at)
        return Plan(c.anchor, c.first, c.period, c.cycles)
    if text.upper().startswith("P"):
        return Plan(add_duration(armed_at, text), 0, None, 1)
    return Plan(parse_instant(text), 0, None, 1)


def arm(row: Schedule, now: datetime) -> None:
    """(Re)compute a row's first run from its expression; past occurrences are skipped."""
    p = plan(row.expression, now)
    row.anchor_at = p.anchor
    if p.period is None:
        row.occurrence, row.remaining = 0, 1
        row.next_run_at = p.anchor if p.anchor >= now else None
    else:
        k = p.cycle().first_at_or_after(now)
        row.occurrence = k
        row.remaining = -1 if p.cycles < 0 else max(0, p.cycles - (k - p.first))
        row.next_run_at = p.occurrence(k) if row.remaining != 0 else None
    row.active = row.next_run_at is not None


def advance(row: Schedule, now: datetime) -> None:
    """After a run: the next occurrence after ``now`` (occurrences missed meanwhile are consumed)."""
    p = plan(row.expression, row.anchor_at)
    if p.period is None:
        row.remaining, row.next_run_at, row.active = 0, None, False
        return
    p = Plan(row.anchor_at, p.first, p.period, p.cycles)
    k = p.cycle().first_at_or_after(now, row.occurrence + 1)
    if row.remaining > 0:
        row.remaining = max(0, row.remaining - (k - row.occurrence))
    row.occurrence = k
    row.next_run_at = p.occurrence(k) if row.remaining != 0 else None
    row.active = row.next_run_at is not None


# ---------------------------------------------------------------------------------------------- deploy
def _timer_expression(spec_blob: dict[str, Any], event_id: str) -> str | None:
    task_spec = spec_blob.get("spec", {}).get("task_specs", {}).get(event_id) or {}
    definition = task_spec.get("event_definition") or {}
    return definition.get("expression")


def sync_timer_starts(s: Session, model: ProcessModel, spec_blob: dict[str, Any], now: datetime) -> None:
    """At deploy: one active schedule per timer start event of the new version; a schedule whose expression did
    not change keeps its next run; a timer start event the new version dropped stops its schedule."""
    events = {e["id"]: e for e in model.start_events if e["kind"] == "timer"}
    if not events and not _had_timer_starts(s, model):
        return  # nothing to schedule or to retire (and wf_schedule is not even read)
    existing = {r.start_event: r for r in s.scalars(
        select(Schedule).where(Schedule.source == "diagram", Schedule.process_key == model.key))}
    problems = []
    for event_id, event in events.items():
        expr = _timer_expression(spec_blob, event_id)
        try:
            text = str(expressions.evaluate(expr or "", {})).strip()
            plan(text, now)
        except (expressions.ExpressionError, ValueError, TypeError) as exc:
            problems.append(Problem(model.file_name, None, event_id,
                                    f"定时开始事件“{event['name'] or event_id}”的定时设置无效：{exc}"))
            continue
        row = existing.get(event_id)
        if row is None:
            row = Schedule(name=f"{model.key}:{event_id}", source="diagram", process_key=model.key,
                           start_event=event_id, expression=text, run_as="system", data={}, runs=0,
                           created_by=model.deployed_by, created_at=now)
            s.add(row)
            arm(row, now)
        elif row.expression != text or not row.active:
            row.expression = text
            arm(row, now)
    if problems:
        raise DeployError(problems)
    for event_id, row in existing.items():
        if event_id not in events:
            row.active, row.next_run_at = False, None


def _had_timer_starts(s: Session, model: ProcessModel) -> bool:
    earlier = s.scalars(select(ProcessModel.start_events).where(ProcessModel.key == model.key,
                                                                 ProcessModel.version < model.version))
    return any(e.get("kind") == "timer" for events in earlier for e in events or [])


# ---------------------------------------------------------------------------------------------- administration
def start_event_for(model: ProcessModel, start_event: str | None, source: str) -> dict[str, Any] | None:
    for e in model.start_events:
        if start_event is not None and e["id"] == start_event:
            return e if (e["kind"] == "timer") == (source == "diagram") and e["kind"] != "message" else None
        if start_event is None and e["kind"] == "none" and source == "config":
            return e
    return None


def add_schedule(s: Session, name: str, process_key: str, expression: str, now: datetime,
                 run_as: str = "system", data: dict[str, Any] | None = None, start_event: str | None = None,
                 created_by: str | None = None) -> Schedule:
    """A regular start configured by an administrator (at a none start event of the latest version)."""
    name = name.strip()
    if not name:
        raise FormError({"name": "请填写计划名称"})
    if s.scalar(select(Schedule.id).where(Schedule.name == name)) is not None:
        raise FormError({"name": f"计划“{name}”已存在"})
    model = s.scalars(select(ProcessModel).where(ProcessModel.key == process_key, ProcessModel.status == PUBLISHED)
                      .order_by(ProcessModel.version.desc()).limit(1)).first()
    if model is None:
        raise NotFound(f"流程“{process_key}”尚未部署")
    if start_event_for(model, start_event, "config") is None:
        raise FormError({"start_event": f"流程“{model.name}”没有可定时发起的开始事件“{start_event or '（无）'}”"})
    try:
        plan(expression, now)
    except (ValueError, TypeError) as exc:
        raise FormError({"expression": f"定时设置“{expression}”不是有效的 ISO 8601 日期、时长或循环：{exc}"}) from exc
    row = Schedule(name=name, source="config", process_key=process_key, start_event=start_event,
                   expression=expression.strip(), run_as=run_as, data=dict(data or {}), runs=0,
                   created_by=created_by, created_at=now)
    arm(row, now)
    if not row.active:
        raise FormError({"expression": f"定时设置“{expression}”已没有将来的发起时间"})
    s.add(row)
    s.flush()
    return row


def list_schedules(s: Session) -> list[Schedule]:
    return list(s.scalars(select(Schedule).order_by(Schedule.process_key, Schedule.name)))


def remove_schedule(s: Session, name: str) -> None:
    row = s.scalar(select(Schedule).where(Schedule.name == name))
    if row is None:
        raise NotFound(f"没有计划“{name}”")
    if row.source == "diagram":
        raise EngineError("流程图中的定时开始事件随流程部署，请修改流程图后重新部署")
    s.delete(row)
