"""Open tasks follow the organisation when it changes: a person leaves or hands over, a group is renamed or
merged into another, or a group's work goes to someone else for a while.

Each function works inside the caller's transaction (so an administrative change and the tasks it moves commit
or roll back together), locks every task's instance first as the task commands do (PostgreSQL ``FOR UPDATE``,
in instance order so two bulk moves never deadlock; SQLite's single writer already excludes the rest) and writes
one audit entry per task it moves. Only open (READY) tasks move: history stays as it happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, or_, select
from sqlalchemy.orm import Session

from engine.locks import lock_task
from engine.models import AuditEvent, HumanTask, TaskCandidate
from engine.projection import READY


def _postgres(s: Session) -> bool:
    return s.get_bind().dialect.name == "postgresql"


def _in_group(group: str) -> ColumnElement[bool]:
    return HumanTask.id.in_(select(TaskCandidate.task_id).where(
        TaskCandidate.kind == "g", TaskCandidate.ref == group, TaskCandidate.state == READY))


def _locked(s: Session, *where: ColumnElement[bool]) -> list[HumanTask]:
    ids = list(s.scalars(select(HumanTask.id).where(HumanTask.state == READY, *where)
                         .order_by(HumanTask.instance_id, HumanTask.id)))
    postgres = _postgres(s)
    tasks = []
    for task_id in ids:
        ht, _ = lock_task(s, task_id, postgres)
        if ht.state == READY:  # completed by a command that held the lock before us
            tasks.append(ht)
    return tasks


def _audit(s: Session, action: str, ht: HumanTask, actor: str, at: datetime, data: dict[str, Any],
           comment: str | None) -> None:
    s.add(AuditEvent(at=at, actor=actor, action=action, instance_id=ht.instance_id, task_id=ht.id,
                     task_name=ht.name, process_key=ht.process_key, data=data, comment=comment))


def open_tasks_of_group(s: Session, group: str) -> list[HumanTask]:
    """Open tasks a group may take (unlocked; for showing what a change would move)."""
    return list(s.scalars(select(HumanTask).where(HumanTask.state == READY, _in_group(group))
                          .order_by(HumanTask.created_at)))


def claimed_by(s: Session, username: str, group: str | None = None) -> list[HumanTask]:
    """Open tasks ``username`` holds; with ``group``, those ``hand_over`` would move (of the group, or given
    to them by name). Unlocked, for showing."""
    where = [HumanTask.state == READY, HumanTask.assignee == username]
    if group is not None:
        where.append(or_(_in_group(group), _personal()))
    return list(s.scalars(select(HumanTask).where(*where).order_by(HumanTask.created_at)))


def _personal() -> ColumnElement[bool]:
    """Tasks given to one person by name (an assignee and no candidates, e.g. to whoever started the process)."""
    return ~HumanTask.id.in_(select(TaskCandidate.task_id))


def hand_over(s: Session, *, from_user: str, to_user: str, group: str, actor: str, at: datetime,
              comment: str | None = None) -> int:
    """The open tasks ``from_user`` holds for ``group``, and those given to them by name, go to ``to_user`` (a
    member of the group taking over their work). Tasks they hold for other groups stay."""
    moved = _locked(s, HumanTask.assignee == from_user, or_(_in_group(group), _personal()))
    for ht in moved:
        ht.assignee, ht.claimed_at = to_user, at
        _audit(s, "delegate", ht, actor, at, {"from": from_user, "to": to_user}, comment)
    s.flush()
    return len(moved)


def release(s: Session, *, user: str, actor: str, at: datetime, comment: str | None = None,
            fallback_group: str | None = None) -> int:
    """Tasks ``user`` holds go back to their candidates (someone else of the group can take them). A task given
    to the user alone (no candidates) is offered to ``fallback_group`` (their unit); without one it stays, for
    the supervisors to see and reassign."""
    moved = _locked(s, HumanTask.assignee == user)
    count = 0
    for ht in moved:
        if not ht.candidate_groups and not ht.candidate_users:
            if fallback_group is None:
                continue
            ht.candidate_groups = [fallback_group]
            s.add(TaskCandidate(task_id=ht.id, kind="g", ref=fallback_group, state=READY))
        ht.assignee, ht.claimed_at = None, None
        _audit(s, "unclaim", ht, actor, at, {"from": user, "to": ht.candidate_groups}, comment)
        count += 1
    s.flush()
    return count


def regroup(s: Session, *, old: str, new: str, actor: str, at: datetime, comment: str | None = None) -> int:
    """Open tasks offered to group ``old`` are offered to ``new`` instead (a merge)."""
    return _change_groups(s, old, lambda groups: [new if g == old else g for g in groups], actor, at, comment)


def add_group(s: Session, *, group: str, extra: str, actor: str, at: datetime, comment: str | None = None) -> int:
    """Open tasks offered to ``group`` are offered to ``extra`` as well (e.g. the office, while a unit has no
    one to do them)."""
    return _change_groups(s, group, lambda groups: [*groups, extra], actor, at, comment)


def _change_groups(s: Session, group: str, change: Any, actor: str, at: datetime, comment: str | None) -> int:
    moved = _locked(s, _in_group(group))
    for ht in moved:
        before = list(ht.candidate_groups or [])
        after = list(dict.fromkeys(change(before)))
        if after == before:
            continue
        ht.candidate_groups = after
        s.execute(delete(TaskCandidate).where(TaskCandidate.task_id == ht.id, TaskCandidate.kind == "g",
                                              TaskCandidate.ref.in_(set(before) - set(after))))
        for ref in _new(after, before):
            s.add(TaskCandidate(task_id=ht.id, kind="g", ref=ref, state=READY))
        _audit(s, "regroup", ht, actor, at, {"from": before, "to": after}, comment)
    s.flush()
    return len(moved)


def _new(after: Iterable[str], before: Iterable[str]) -> list[str]:
    old = set(before)
    return [g for g in after if g not in old]
