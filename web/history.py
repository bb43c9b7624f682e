"""The history on a task page: what concerns this task and this unit, in words, oldest first.

A meeting's instance holds every unit's 确认参会 and every item's steps; a unit reading its own task wants its own
steps, what was decided about its work (returns, approvals), and the 催办 and 督办 it received. The whole
instance (``全部经过``) stays one click away for those who supervise it.

Which tasks concern a task: those of its instance about the same record, where the record is the task's most
specific context id (an item rather than its meeting). A task that carries the unit it is for (``attendee``,
``co_unit`` …) never shows another unit's task of that kind. Someone who supervises sees every party's steps on
the record; a unit sees its own steps, and on items, topics and issues also the decisions others took on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import AuditEvent, HumanTask
from meeting.models import Notification, Unit
from meeting.summaries import CONTEXT_KEYS

# Context keys naming the unit a per-unit task is for (meeting/runtime.py CONTEXT_KEYS).
PER_UNIT_KEYS = ("attendee", "co_unit", "comment_unit")
# Where notifications about a record point (meeting/actions/_common.py link()).
LINK_PREFIX = {"resolution_id": "/resolutions/", "meeting_id": "/meetings/", "topic_id": "/topics/",
               "major_issue_id": "/majors/", "change_id": "/membership/"}
NOTE_KINDS = ("reminder", "supervision", "returned", "decision")
NOTE_TITLES = {"reminder": "催办", "supervision": "督办", "returned": "退回", "decision": "决定"}
ACTION_TITLES = {
    "start": "发起", "complete": "办理", "claim": "签收", "unclaim": "退回签收", "delegate": "转交",
    "timer": "定时触发", "message": "收到消息", "suspend": "挂起", "resume": "恢复", "cancel": "终止",
    "migrate": "迁移版本", "regroup": "改由其他单位办理",
}
TEXT_LIMIT = 300


@dataclass
class Entry:
    at: datetime
    kind: str  # an audit action, or the kind of a notification
    title: str
    step: str
    who: str
    lines: list[str] = field(default_factory=list)
    comment: str | None = None
    current: bool = False  # an event of the task the page shows


def _key(ctx: dict[str, Any]) -> tuple[str, int] | None:
    for key in CONTEXT_KEYS:
        value = ctx.get(key)
        if isinstance(value, int) and not isinstance(value, bool):
            return key, value
    return None


def related_tasks(task: HumanTask, tasks: Sequence[HumanTask], groups: frozenset[str], username: str,
                  supervisor: bool) -> set[str]:
    """Ids of the tasks of the instance (``tasks``, oldest first) that concern ``task`` for this reader."""
    key = _key(task.context or {})
    # A step that made the record (提出议题 before the topic exists) carries no id yet: it belongs to the record
    # the instance is first about, the key of its first task that has one.
    primary = next((k for k in (_key(t.context or {}) for t in tasks) if k is not None), None)
    mine = {k: task.context.get(k) for k in PER_UNIT_KEYS if task.context.get(k)}
    out = {task.id}
    for t in tasks:
        ctx = t.context or {}
        if key is not None and (_key(ctx) or primary) != key:
            continue
        if any(ctx.get(k) and ctx.get(k) != v for k, v in mine.items()):
            continue  # another unit's reply of the same kind
        own = bool(set(t.candidate_groups or []) & groups) or username in (t.assignee, t.completed_by)
        # A unit reads the decisions taken on its item, topic or issue; on a meeting only its own steps.
        if supervisor or own or (key is not None and key[0] != "meeting_id"):
            out.add(t.id)
    return out


def _value_line(f: dict[str, Any], value: Any, units: dict[str, str]) -> str | None:
    """"label：value" for the fields a reader of a decision wants to see; None for the rest."""
    if value in (None, "", [], {}):
        return None
    label, ftype = f.get("label") or f["id"], f.get("type")
    if ftype == "enum":
        options = {o["id"]: o["name"] for o in f.get("options") or []}
        return f"{label}：{options.get(value, '')}" if value in options else None
    if ftype == "boolean":
        return f"{label}：{'是' if value is True else '否'}"
    if ftype in ("text", "date") and isinstance(value, str):
        text = value if len(value) <= TEXT_LIMIT else value[:TEXT_LIMIT] + "……"
        return f"{label}：{text}"
    if ftype == "unit" and isinstance(value, str):
        return f"{label}：{units.get(value, '')}"
    if ftype == "units" and isinstance(value, list):
        return f"{label}：{'、'.join(units.get(str(v), '') for v in value)}"
    if ftype == "resolution_items" and isinstance(value, list):
        return f"{label}：{len(value)} 项"
    return None  # free strings and numbers may hold names and phone numbers: the form shows them to its parties


def decision_lines(form: Iterable[dict[str, Any]], data: dict[str, Any], units: dict[str, str]) -> list[str]:
    out = []
    for f in form:
        line = _value_line(f, data.get(f["id"]), units)
        if line:
            out.append(line)
    return out


class HistoryBuilder:
    """Entries for one task page, from the instance's tasks and audit events and the record's notifications."""

    def __init__(self, session: Session, task: HumanTask, tasks: Sequence[HumanTask], names: dict[str, str]):
        self.session, self.task, self.names = session, task, names
        self.by_id = {t.id: t for t in tasks}
        self.units: dict[str, str] = dict(session.execute(select(Unit.code, Unit.name)).all())

    def who(self, username: str | None) -> str:
        if username in (None, "", "system"):
            return "系统"
        return self.names.get(username or "", "其他人员")

    def entry(self, e: AuditEvent) -> Entry:
        t = self.by_id.get(e.task_id or "")
        lines: list[str] = []
        if e.action == "complete" and t is not None:
            lines = decision_lines(t.form or [], e.data or {}, self.units)
        elif e.action == "delegate" and isinstance(e.data, dict):
            lines = [f"转交给：{self.who(e.data.get('to'))}"]
        elif e.action == "timer" and isinstance(e.data, dict):
            fired = [str(n) for n in e.data.get("timers") or [] if n]
            lines = [f"到时：{'、'.join(fired)}"] if fired else []
        return Entry(e.at, e.action, ACTION_TITLES.get(e.action, "其他"), t.name if t else (e.task_name or ""),
                     self.who(e.actor), lines, e.comment, current=e.task_id == self.task.id)

    def scoped(self, events: Sequence[AuditEvent], related: set[str], audience: list[str] | None,
               username: str) -> list[Entry]:
        """The related tasks' steps (a 签收 followed by the same person's 办理 reads as one step), the instance's
        suspensions and cancellations, and the 催办 / 督办 / 退回 / 决定 sent about the record. Who supervises
        (``audience`` None) also reads the start and the timers that moved the process on; a unit reads the
        start only when it started the process itself."""
        supervisor = audience is None
        instance_events = ("suspend", "resume", "cancel", *(("start", "timer", "message") if supervisor else ()))
        kept = [e for e in events if (e.task_id in related and e.action != "claim")
                or (e.task_id is None and e.action in instance_events)
                or (e.action == "start" and e.actor == username)]
        completed = {(e.task_id, e.actor) for e in kept if e.action == "complete"}
        claims = [e for e in events if e.task_id in related and e.action == "claim"
                  and (e.task_id, e.actor) not in completed]
        entries = [self.entry(e) for e in sorted([*kept, *claims], key=lambda e: e.id)]
        entries += self.notes(audience)
        return sorted(entries, key=lambda x: x.at)

    def full(self, events: Sequence[AuditEvent]) -> list[Entry]:
        return [self.entry(e) for e in events]

    def notes(self, audience: list[str] | None) -> list[Entry]:
        """Notifications about the task's record (or the task itself); ``audience`` None: every recipient's."""
        key = _key(self.task.context or {})
        links = [f"/tasks/{self.task.id}"]
        if key is not None and key[0] in LINK_PREFIX:
            links.append(f"{LINK_PREFIX[key[0]]}{key[1]}")
        stmt = select(Notification).where(Notification.link.in_(links), Notification.kind.in_(NOTE_KINDS),
                                          Notification.created_at >= self.task.created_at)
        if audience is not None:
            stmt = stmt.where(Notification.recipient_group.in_(audience))
        seen: set[tuple[str, datetime]] = set()
        out = []
        for n in self.session.scalars(stmt.order_by(Notification.created_at, Notification.id)):
            if (n.title, n.created_at) in seen:
                continue  # one notice sent to several groups at once
            seen.add((n.title, n.created_at))
            out.append(Entry(n.created_at, n.kind, NOTE_TITLES.get(n.kind, "通知"), "", "系统",
                             [n.title], n.body or None))
        return out
