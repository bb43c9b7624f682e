"""The timer worker: fires due timers and scheduled starts, exactly once however many workers run.

One pass claims due instances (``status='running' AND next_timer_at < now``), oldest first, and fires each one:
``refresh_timers()`` then the engine until nothing automatic is READY, then save — its notifications and other
side effects are written in the same transaction. A transaction holds ``batch_size`` instances (default 1: one
short transaction per instance); with several, each instance runs in a savepoint so one failing instance does not
undo the others.

* PostgreSQL: the claim is ``SELECT … FOR UPDATE SKIP LOCKED``: concurrent workers take disjoint rows and never
  wait for each other; a user's command on a claimed instance waits for the row lock and then sees the fired
  state. Row locks die with the connection, so the work of a crashed (even SIGKILLed) worker is rolled back and
  claimed by another.
* SQLite: a write transaction (``BEGIN IMMEDIATE``) already excludes every other writer.
* Idempotent: under the lock the instance is checked again (still running, still due); a row fired meanwhile is
  skipped, so firing twice is impossible.
* A failing instance is not retried in a hot loop: its error is kept on the instance and in the audit trail, and
  it is tried again after ``retry_after``.
* Lag: for every firing the worker logs ``lag = fired_at − due_at`` and, per pass and at exit, p50/p95/max.
"""

from __future__ import annotations

import logging
import statistics
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import schedule
from engine.access import Actor
from engine.budgets import DEFAULT as DEFAULT_BUDGETS
from engine.db import Database
from engine.deployment import published_model
from engine.models import AuditEvent, Instance, Schedule
from engine.starting import Starts


class TimerHost(Protocol):
    """What the worker needs of the service: the database, the clock, firing a locked instance's timers,
    and starting an instance inside a transaction (``WorkflowService`` is one)."""

    db: Database
    starts: Starts

    def now(self) -> datetime: ...

    def fire_locked(self, s: Session, inst: Instance) -> bool: ...

log = logging.getLogger("engine.worker")


@dataclass(frozen=True)
class Firing:
    kind: str  # timer | start
    ref: str  # the instance id, or the schedule's name
    process_key: str
    due_at: datetime
    fired_at: datetime
    ok: bool
    instance_id: str | None = None

    @property
    def lag(self) -> float:
        return (self.fired_at - self.due_at).total_seconds()


class LagStats:
    """Lags (seconds) between due time and firing."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._lock = threading.Lock()

    def add(self, lag: float) -> None:
        with self._lock:
            self.lags.append(lag)

    def summary(self) -> str:
        with self._lock:
            lags = sorted(self.lags)
        if not lags:
            return "n=0"
        p95 = lags[min(len(lags) - 1, int(round(0.95 * (len(lags) - 1))))]
        return (f"n={len(lags)} p50={statistics.median(lags):.3f}s p95={p95:.3f}s max={lags[-1]:.3f}s")


@dataclass
class PassResult:
    fired: int = 0
    started: int = 0
    failed: int = 0
    firings: list[Firing] = field(default_factory=list)
    stopped: bool = False

    @property
    def moved(self) -> int:
        return self.fired + self.started


class Worker:
    def __init__(self, service: TimerHost, batch_size: int = 1, name: str = "worker",
                 retry_after: timedelta = timedelta(minutes=10)) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.service = service
        self.db = service.db
        self.batch_size = batch_size
        self.name = name
        self.retry_after = retry_after
        self.stats = LagStats()

    # ------------------------------------------------------------------ one pass
    def run_pass(self, limit: int = 1000, stop: threading.Event | None = None) -> PassResult:
        """Fire what is due now (at most ``limit`` timers and ``limit`` starts); stops early when asked,
        after the instance in hand."""
        result = PassResult()
        for batch in (self._timer_batch, self._schedule_batch):
            done = 0
            while done < limit:
                if stop is not None and stop.is_set():
                    result.stopped = True
                    break
                claimed = batch(min(self.batch_size, limit - done), result, stop)
                if not claimed:
                    break
                done += claimed
        if result.firings:
            lags = sorted(f.lag for f in result.firings)
            log.info("%s pass: fired=%d started=%d failed=%d lag p50=%.3fs max=%.3fs", self.name, result.fired,
                     result.started, result.failed, statistics.median(lags), lags[-1])
        return result

    def _record(self, result: PassResult, firing: Firing) -> None:
        result.firings.append(firing)
        if not firing.ok:
            result.failed += 1
            return
        if firing.kind == "timer":
            result.fired += 1
        else:
            result.started += 1
        self.stats.add(firing.lag)
        log.info("%s %s fired: %s process=%s due=%s lag=%.3fs", self.name, firing.kind, firing.ref,
                 firing.process_key, firing.due_at.isoformat(), firing.lag)

    def _claim(self, s: Session, stmt: Any) -> list[Any]:
        if self.db.is_postgres:
            stmt = stmt.with_for_update(skip_locked=True)
        return list(s.scalars(stmt))

    # ------------------------------------------------------------------ timers
    def _timer_batch(self, size: int, result: PassResult, stop: threading.Event | None) -> int:
        with self.db.transaction() as s:
            now = self.service.now()
            ids = self._claim(s, select(Instance.id).where(Instance.status == "running",
                                                           Instance.next_timer_at < now)
                              .order_by(Instance.next_timer_at).limit(size))
            for n, instance_id in enumerate(ids):
                if n and stop is not None and stop.is_set():
                    result.stopped = True
                    break
                inst = s.get(Instance, instance_id, populate_existing=True)
                if inst is None or inst.next_timer_at is None:
                    continue
                due, key, fired_at = inst.next_timer_at, inst.process_key, self.service.now()
                try:
                    with s.begin_nested():
                        ok = self.service.fire_locked(s, inst)
                        if ok and inst.error and inst.error.startswith(TIMER_ERROR):
                            inst.error = None
                except Exception as exc:  # noqa: BLE001 - one broken instance must not stop the others
                    self._timer_failed(s, instance_id, exc)
                    self._record(result, Firing("timer", instance_id, key, due, fired_at, False, instance_id))
                    continue
                if ok:
                    self._record(result, Firing("timer", instance_id, key, due, fired_at, True, instance_id))
            return len(ids)

    def _timer_failed(self, s: Session, instance_id: str, exc: BaseException) -> None:
        inst = s.get(Instance, instance_id, populate_existing=True)
        if inst is None:
            return
        retry = self.service.now() + self.retry_after
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        log.error("%s timer failed: %s process=%s: %s (retry at %s)", self.name, instance_id, inst.process_key,
                  message, retry.isoformat(), exc_info=exc)
        inst.error = f"{TIMER_ERROR}{message}"[:2000]
        inst.next_timer_at = retry
        s.add(AuditEvent(at=self.service.now(), actor="system", action="timer_error", instance_id=instance_id,
                         process_key=inst.process_key, data={"error": message[:500], "retry_at": retry.isoformat()}))

    # ------------------------------------------------------------------ scheduled starts
    def _schedule_batch(self, size: int, result: PassResult, stop: threading.Event | None) -> int:
        with self.db.transaction() as s:
            now = self.service.now()
            rows = self._claim(s, select(Schedule).where(Schedule.active, Schedule.next_run_at <= now)
                               .order_by(Schedule.next_run_at).limit(size)
                               .execution_options(populate_existing=True))
            for n, row in enumerate(rows):
                if n and stop is not None and stop.is_set():
                    result.stopped = True
                    break
                due, fired_at = row.next_run_at, self.service.now()
                assert due is not None
                try:
                    with s.begin_nested():
                        instance_id = self._start(s, row)
                except Exception as exc:  # noqa: BLE001 - a broken schedule must not stop the others
                    row.next_run_at = self.service.now() + self.retry_after
                    log.error("%s scheduled start failed: %s process=%s: %s (retry at %s)", self.name, row.name,
                              row.process_key, exc, row.next_run_at.isoformat(), exc_info=exc)
                    self._record(result, Firing("start", row.name, row.process_key, due, fired_at, False))
                    continue
                if instance_id is not None:
                    self._record(result, Firing("start", row.name, row.process_key, due, fired_at, True,
                                                instance_id))
            return len(rows)

    def _start(self, s: Session, row: Schedule) -> str | None:
        """Start one instance for a due schedule row and move the row on; None when the row was retired."""
        now = self.service.now()
        model = published_model(s, row.process_key)
        event = schedule.start_event_for(model, row.start_event, row.source) if model is not None else None
        if model is None or event is None:
            log.warning("%s schedule %s retired: process %s has no such start event any more", self.name,
                        row.name, row.process_key)
            row.active, row.next_run_at = False, None
            return None
        if self._throttled(s, row, now):
            return None
        actor = Actor(row.run_as or "system", frozenset({"system"}))
        data = {**(row.data or {}), "scheduled_at": (row.next_run_at or now).isoformat(), "schedule": row.name}
        started = self.service.starts.start_in(s, model, actor, data, event, None)
        row.runs += 1
        row.last_run_at, row.last_instance_id = now, started.instance_id
        schedule.advance(row, now)
        return started.instance_id

    def _throttled(self, s: Session, row: Schedule, now: datetime) -> bool:
        """A process starts at most ``timer_starts_per_hour`` instances from timers in any hour (all its
        schedules running as that user together), so no timer start event floods the office. Over the cap, the row waits until the
        oldest start of the hour leaves the window; it is recorded in the audit trail."""
        cap = getattr(self.service, "budgets", DEFAULT_BUDGETS).timer_starts_per_hour
        since = now - timedelta(hours=1)
        recent = (select(Instance.started_at)
                  .where(Instance.process_key == row.process_key, Instance.started_at >= since,
                         Instance.started_by == (row.run_as or "system"))
                  .order_by(Instance.started_at.desc()).limit(cap))
        starts = list(s.scalars(recent))
        if len(starts) < cap:
            return False
        row.next_run_at = max(starts[-1] + timedelta(hours=1), now + timedelta(seconds=1))
        log.warning("%s schedule %s throttled: %d starts of %s in the last hour (cap %d); next at %s", self.name,
                    row.name, len(starts), row.process_key, cap, row.next_run_at.isoformat())
        s.add(AuditEvent(at=now, actor="system", action="schedule_throttled", process_key=row.process_key,
                         data={"schedule": row.name, "cap": cap, "next_run_at": row.next_run_at.isoformat()}))
        return True

    # ------------------------------------------------------------------ the loop
    def next_due(self) -> datetime | None:
        with self.db.sessions() as s:
            timer = s.scalar(select(func.min(Instance.next_timer_at)).where(Instance.status == "running"))
            start = s.scalar(select(func.min(Schedule.next_run_at)).where(Schedule.active))
        due = [d for d in (timer, start) if d is not None]
        return min(due) if due else None

    def run(self, stop: threading.Event, interval: float = 5.0, limit: int = 500,
            after_pass: Callable[[], Any] | None = None) -> None:
        """Pass after pass until ``stop`` is set: busy passes follow each other, an idle worker sleeps until
        the next due time it knows of (at most ``interval`` seconds, for timers other processes create)."""
        log.info("%s started (batch %d, interval %.1fs, %s)", self.name, self.batch_size, interval,
                 "PostgreSQL" if self.db.is_postgres else "SQLite")
        while not stop.is_set():
            try:
                result = self.run_pass(limit, stop)
            except Exception:  # noqa: BLE001 - e.g. the database restarting: log, wait, try again
                log.exception("%s pass failed", self.name)
                stop.wait(interval)
                continue
            if after_pass is not None:
                try:
                    after_pass()
                except Exception:  # noqa: BLE001 - mail problems never stop the timers
                    log.exception("%s after-pass hook failed", self.name)
            if result.moved + result.failed >= limit:
                continue
            stop.wait(self._idle_seconds(interval))
        log.info("%s stopped: lag %s", self.name, self.stats.summary())

    def _idle_seconds(self, interval: float) -> float:
        try:
            nxt = self.next_due()
        except Exception:  # noqa: BLE001
            return interval
        if nxt is None:
            return interval
        return min(interval, max(0.05, (nxt - self.service.now()).total_seconds() + 0.01))


TIMER_ERROR = "定时器执行失败："
