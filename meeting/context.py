"""What a task is about, in words: the topic, meeting, resolution item or major issue behind its ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting.case_context import case_subjects, case_titles
from meeting.check_context import check_subjects, check_titles
from meeting.item_context import item_subjects
from meeting.meeting_context import meeting_subjects
from meeting.models import (
    AssignedMatter,
    CoordinationRequest,
    MajorIssue,
    Meeting,
    MembershipChange,
    PetitionReferral,
    ResolutionItem,
    Topic,
    Unit,
)
from meeting.privacy import mask_name, mask_phone
from meeting.statuses import CoordinationStatus, CoUnitStatus, MatterStatus, PetitionStatus, TopicStatus
from meeting.timeutil import format_day


@dataclass
class Subject:
    kind: str  # topic | meeting | resolution | major | membership | matter
    id: int
    label: str
    title: str
    details: list[tuple[str, str]] = field(default_factory=list)


def _unit_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Unit.code, Unit.name)).all())


def subject_titles(session: Session, contexts: list[dict[str, Any]]) -> list[str]:
    """One short title per task context, with one query per kind of record."""
    ids: dict[str, set[int]] = {"topic_id": set(), "meeting_id": set(), "resolution_id": set(),
                                "major_issue_id": set(), "change_id": set(), "matter_id": set(),
                                "petition_id": set(), "coordination_id": set(), "case_id": set(),
                                "check_id": set()}
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
    if ids["matter_id"]:
        for a in session.scalars(select(AssignedMatter).where(AssignedMatter.id.in_(ids["matter_id"]))):
            names[("matter_id", a.id)] = f"交办事项：{a.title}"
    if ids["petition_id"]:
        for p in session.scalars(select(PetitionReferral).where(PetitionReferral.id.in_(ids["petition_id"]))):
            names[("petition_id", p.id)] = f"信访件{p.number}：{p.title}"
    if ids["coordination_id"]:
        wanted = ids["coordination_id"]
        for req in session.scalars(select(CoordinationRequest).where(CoordinationRequest.id.in_(wanted))):
            names[("coordination_id", req.id)] = f"协调事项：{req.title}"
    for case_id, title in case_titles(session, ids["case_id"]).items():
        names[("case_id", case_id)] = title
    for check_id, title in check_titles(session, ids["check_id"]).items():
        names[("check_id", check_id)] = title
    if ids["meeting_id"]:
        for meeting in session.scalars(select(Meeting).where(Meeting.id.in_(ids["meeting_id"]))):
            names[("meeting_id", meeting.id)] = meeting.title
    if ids["change_id"]:
        for c in session.scalars(select(MembershipChange).where(MembershipChange.id.in_(ids["change_id"]))):
            names[("change_id", c.id)] = f"成员单位调整：{c.unit_code}"
    out = []
    for ctx in contexts:
        title = ""
        for key in ("resolution_id", "major_issue_id", "matter_id", "petition_id", "coordination_id", "case_id",
                    "check_id", "topic_id", "change_id", "meeting_id"):
            if isinstance(ctx.get(key), int) and (key, ctx[key]) in names:
                title = names[(key, ctx[key])]
                break
        out.append(title)
    return out


def subjects(session: Session, ctx: dict[str, Any]) -> list[Subject]:
    """The records a task is about, most specific first, with the details a person needs to act."""
    units = _unit_names(session)
    out: list[Subject] = []
    # The item, and on its decision pages the 延期申请 or 督办函 being decided (meeting/item_context.py).
    out.extend(Subject(*row) for row in item_subjects(session, ctx, units))
    # The 请示 being decided, the draft minutes and the meeting with its agenda (meeting/meeting_context.py).
    out.extend(Subject(*row) for row in meeting_subjects(session, ctx, units))
    out.extend(Subject(*row) for row in case_subjects(session, ctx, units))
    out.extend(Subject(*row) for row in check_subjects(session, ctx, units))
    mid = ctx.get("matter_id")
    if isinstance(mid, int) and (a := session.get(AssignedMatter, mid)) is not None:
        out.append(Subject("matter", a.id, "交办事项", a.title, matter_details(a, units)))
    pid = ctx.get("petition_id")
    if isinstance(pid, int) and (p := session.get(PetitionReferral, pid)) is not None:
        out.append(Subject("petition", p.id, "信访件", p.title, petition_details(session, p, units)))
    rid = ctx.get("coordination_id")
    if isinstance(rid, int) and (r := session.get(CoordinationRequest, rid)) is not None:
        out.append(Subject("coordination", r.id, "协调事项", r.title, coordination_details(r, units)))
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
    return out



def matter_details(matter: AssignedMatter, units: dict[str, str]) -> list[tuple[str, str]]:
    """The 来文 and 批示 where the matter is decided, the office's proposal and the report back."""
    details = [("收文号", matter.number), ("交办机关", matter.source_org),
               ("来文类型", {"instruction": "批示件", "letter": "来文"}.get(matter.source_kind, matter.source_kind)),
               ("来文文号", matter.source_number or "—"), ("批示领导", matter.instruction_leader or "—"),
               ("批示内容或来文要求", matter.instruction), ("收文日期", matter.received_on.isoformat()),
               ("交办时限", matter.time_limit.isoformat()), ("状态", MatterStatus.label_of(matter.status))]
    if matter.proposed_lead:
        details += [("拟牵头单位", units.get(matter.proposed_lead, matter.proposed_lead)),
                    ("拟配合单位", "、".join(units.get(c, c) for c in matter.proposed_co) or "—"),
                    ("拟定完成时限", matter.proposed_deadline.isoformat() if matter.proposed_deadline else "—"),
                    ("是否需提交联席会议研究", "需要" if matter.needs_meeting else "不需要"),
                    ("拟办意见", matter.proposal_comment or "—")]
    if matter.report_body:
        details.append(("办理情况报告", matter.report_body))
    if matter.report_number:
        details.append(("报告文号", matter.report_number))
    return details


def petition_details(session: Session, petition: PetitionReferral, units: dict[str, str]) -> list[tuple[str, str]]:
    """The 信访件 with the petitioner masked, its statutory limit and the 处理意见 being reviewed."""
    from meeting.actions.petitions import latest_opinion

    details = [("信访件编号", petition.number), ("信访事由", petition.title),
               ("信访人", mask_name(petition.petitioner_name)), ("联系电话", mask_phone(petition.petitioner_phone) or "—"),
               ("信访事项内容", petition.content), ("受理日期", petition.received_on.isoformat()),
               ("办理期限", format_day(petition.due_at)), ("状态", PetitionStatus.label_of(petition.status))]
    if petition.lead_unit:
        details.append(("责任单位", units.get(petition.lead_unit, petition.lead_unit)))
    if petition.request_title:
        details += [("请示标题", petition.request_title), ("请示正文", petition.request_body or ""),
                    ("请示文号", petition.request_number or "（签发时编定）")]
    if petition.decision:
        words = {"approve": "同意", "reject": "不同意", "instruct": "作出指示"}.get(petition.decision, petition.decision)
        details.append(("区政府决定", words + (f"：{petition.decision_text}" if petition.decision_text else "")))
    opinion = latest_opinion(session, petition.resolution_id)
    if opinion:
        details.append(("处理意见", opinion))
    if petition.review_comment:
        details.append(("审核意见", petition.review_comment))
    return details


def coordination_details(request: CoordinationRequest, units: dict[str, str]) -> list[tuple[str, str]]:
    """The request, the office's way of handling it and each named unit's answer."""
    details = [("协调事项", request.title), ("需协调解决的问题", request.problem),
               ("提出单位", units.get(request.unit_code or "", request.unit_code or "—")),
               ("需协调的单位", "、".join(units.get(c, c) for c in request.units) or "—"),
               ("状态", CoordinationStatus.label_of(request.status))]
    if request.letter_number:
        details += [("协调函文号", request.letter_number),
                    ("答复时限", format_day(request.reply_due) if request.reply_due else "—")]
        details += [(f"答复：{units.get(r.unit_code, r.unit_code)}",
                     f"{CoUnitStatus.label_of(r.status)}{'：' + r.body if r.body else ''}") for r in request.reply_rows]
    if request.meeting_at:
        details += [("协调会日期", format_day(request.meeting_at)), ("协调会地点", request.meeting_place or "—")]
    if request.minutes:
        details += [("参会单位", "、".join(units.get(c, c) for c in request.participants)),
                    ("纪要文号", request.minutes_number or "—"), ("会议纪要", request.minutes)]
    if request.result:
        details.append(("协调结果", request.result))
    return details
