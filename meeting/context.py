"""What a task is about, in words: the topic, meeting, resolution item or major issue behind its ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import SHANGHAI
from meeting.models import MajorIssue, Meeting, MembershipChange, ResolutionItem, Topic, Unit
from meeting.statuses import MeetingStatus, ResolutionStatus, TopicStatus


@dataclass
class Subject:
    kind: str  # topic | meeting | resolution | major | membership
    id: int
    label: str
    title: str
    details: list[tuple[str, str]] = field(default_factory=list)


def _unit_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Unit.code, Unit.name)).all())


def subject_titles(session: Session, contexts: list[dict[str, Any]]) -> list[str]:
    """One short title per task context, with one query per kind of record."""
    ids: dict[str, set[int]] = {"topic_id": set(), "meeting_id": set(), "resolution_id": set(),
                                "major_issue_id": set(), "change_id": set()}
    for ctx in contexts:
        for key in ids:
            if isinstance(ctx.get(key), int):
                ids[key].add(ctx[key])
    names: dict[tuple[str, int], str] = {}
    if ids["resolution_id"]:
        for r in session.scalars(select(ResolutionItem).where(ResolutionItem.id.in_(ids["resolution_id"]))):
            names[("resolution_id", r.id)] = f"{r.number} {r.content[:40]}"
    if ids["major_issue_id"]:
        for m in session.scalars(select(MajorIssue).where(MajorIssue.id.in_(ids["major_issue_id"]))):
            names[("major_issue_id", m.id)] = f"重大问题：{m.title}"
    if ids["topic_id"]:
        for t in session.scalars(select(Topic).where(Topic.id.in_(ids["topic_id"]))):
            names[("topic_id", t.id)] = f"议题：{t.title}"
    if ids["meeting_id"]:
        for meeting in session.scalars(select(Meeting).where(Meeting.id.in_(ids["meeting_id"]))):
            names[("meeting_id", meeting.id)] = meeting.title
    if ids["change_id"]:
        for c in session.scalars(select(MembershipChange).where(MembershipChange.id.in_(ids["change_id"]))):
            names[("change_id", c.id)] = f"成员单位调整：{c.unit_code}"
    out = []
    for ctx in contexts:
        title = ""
        for key in ("resolution_id", "major_issue_id", "topic_id", "change_id", "meeting_id"):
            if isinstance(ctx.get(key), int) and (key, ctx[key]) in names:
                title = names[(key, ctx[key])]
                break
        out.append(title)
    return out


def subjects(session: Session, ctx: dict[str, Any]) -> list[Subject]:
    """The records a task is about, most specific first, with the details a person needs to act."""
    units = _unit_names(session)
    out: list[Subject] = []
    rid = ctx.get("resolution_id")
    if isinstance(rid, int) and (r := session.get(ResolutionItem, rid)) is not None:
        out.append(Subject("resolution", r.id, "议定事项", f"{r.number} {r.content}", [
            ("牵头单位", units.get(r.lead_unit, r.lead_unit)),
            ("配合单位", "、".join(units.get(c, c) for c in r.co_units) or "无"),
            ("完成时限", r.deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d")),
            ("状态", ResolutionStatus.label_of(r.status)),
        ]))
    mid = ctx.get("major_issue_id")
    if isinstance(mid, int) and (m := session.get(MajorIssue, mid)) is not None:
        out.append(Subject("major", m.id, "重大问题", m.title, [("情况", m.description or "")]))
    tid = ctx.get("topic_id")
    if isinstance(tid, int) and (t := session.get(Topic, tid)) is not None:
        out.append(Subject("topic", t.id, "议题", t.title, [
            ("提出单位", units.get(t.unit_code, t.unit_code)), ("背景情况", t.background),
            ("建议处理意见", t.proposal), ("紧急程度", "紧急" if t.urgency == "urgent" else "一般"),
            ("状态", TopicStatus.label_of(t.status))]))
    cid = ctx.get("change_id")
    if isinstance(cid, int) and (c := session.get(MembershipChange, cid)) is not None:
        out.append(Subject("membership", c.id, "成员单位调整", units.get(c.unit_code, c.unit_code),
                           [("调整类型", c.kind), ("理由", c.reason)]))
    meeting_id = ctx.get("meeting_id")
    if isinstance(meeting_id, int) and (mt := session.get(Meeting, meeting_id)) is not None:
        out.append(Subject("meeting", mt.id, "会议", mt.title, [
            ("会议类型", "临时会议" if mt.kind == "adhoc" else "例会"),
            ("时间", mt.meeting_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")),
            ("地点", mt.place), ("状态", MeetingStatus.label_of(mt.status))]))
    return out

