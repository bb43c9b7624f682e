"""The regular starts of 督办's own processes, set up by ``flask init``: a round of 月报 on the 25th of each month,
a 阶段性落实情况报告 at the end of each quarter, and the district's monthly 动态复核 of the households on the rolls. They are ordinary configured schedules (engine/schedule.py): an
administrator changes the cycle with ``flask schedule`` (remove the row, add one with another expression)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Schedule
from engine.schedule import add_schedule

# name, process, ISO 8601 repeating interval (anchored on a past date: occurrences already past are skipped)
DEFAULTS = (
    ("月度进展报送", "progress_round", "R/2026-01-25T09:00:00/P1M"),
    ("季度阶段性落实情况报告", "interim_report", "R/2026-03-31T16:00:00/P3M"),
    # 家庭经济状况核对: the district's monthly 动态复核 of the rolls (meeting/actions/batches.py, a scheduled start
    # runs for the 核对 office and takes its month from the scheduled time).
    ("每月动态复核", "household_batch", "R/2026-01-05T09:00:00/P1M"),
)


def ensure_default_schedules(session: Session, now: datetime) -> list[str]:
    """Add a default schedule for each process that has no configured schedule yet; returns the names added.
    Idempotent: a process an administrator gave another schedule (under any name) keeps it."""
    scheduled = set(session.scalars(select(Schedule.process_key).where(Schedule.source == "config")))
    added = []
    for name, process, expression in DEFAULTS:
        if process not in scheduled:
            add_schedule(session, name, process, expression, now, run_as="office", created_by="init")
            added.append(name)
    return added
