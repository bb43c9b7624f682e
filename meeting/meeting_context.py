"""What the decision pages of the meeting cycle show: the plan with its agenda and the units invited (审定会议方案,
确认参会), the draft minutes with the comments received and the recipients (审签会议纪要, 纪要征求意见), and the
请示 as drafted and signed (区政府决定). Rows of (kind, id, label, title, details) for meeting.context.Subject."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.clock import SHANGHAI
from meeting.models import (
    Attendance,
    MajorIssue,
    Meeting,
    MeetingTopic,
    Minutes,
    MinutesComment,
    Topic,
    TopicCall,
    TopicCallReply,
    User,
)
from meeting.statuses import (
    AttendanceReply,
    CallAnswer,
    CallStatus,
    CommentAnswer,
    MajorIssueStatus,
    MeetingStatus,
    MinutesStatus,
)

SubjectRow = tuple[str, int, str, str, list[tuple[str, str]]]


def _when(moment: Any) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if moment else ""


def _person(session: Session, username: str | None) -> str:
    if not username:
        return ""
    name = session.scalar(select(User.display_name).where(User.username == username))
    return name or username


def agenda(session: Session, meeting_id: int, units: dict[str, str]) -> str:
    rows = session.execute(select(Topic.title, Topic.unit_code).join(MeetingTopic, MeetingTopic.topic_id == Topic.id)
                           .where(MeetingTopic.meeting_id == meeting_id).order_by(Topic.id)).all()
    return "\n".join(f"{i}. {title}（{units.get(code, code)}）" for i, (title, code) in enumerate(rows, 1)) or "无"


def meeting_subject(session: Session, meeting: Meeting, units: dict[str, str]) -> SubjectRow:
    """The meeting with what the convener approves and the units reply to: time, place, agenda, invitations."""
    invited = [units.get(c, c) for c in meeting.invited_units]
    replies = dict(session.execute(select(Attendance.unit_code, Attendance.reply)
                                   .where(Attendance.meeting_id == meeting.id)).all())
    details = [
        ("会议类型", "临时会议" if meeting.kind == "adhoc" else "例会"),
        ("时间", _when(meeting.meeting_at)), ("地点", meeting.place),
        ("议程（上会议题）", agenda(session, meeting.id, units)),
        ("参会单位", "各成员单位" + (f"（回执截止：{_when(meeting.reply_deadline)}）" if meeting.reply_deadline else "")),
        ("列席单位", "、".join(invited) or "无"),
    ]
    if meeting.request_reason:
        details.append(("区政府要求召开的事由", meeting.request_reason))
    if replies:
        counts = {label: sum(1 for r in replies.values() if r == value)
                  for value, label in AttendanceReply.labels().items()}
        details.append(("回执情况", "，".join(f"{label}{n}个" for label, n in counts.items() if n)))
    if meeting.presider_name:
        details.append(("主持人", " ".join(p for p in (meeting.presider_post, meeting.presider_name) if p)))
    details.append(("状态", MeetingStatus.label_of(meeting.status)))
    return ("meeting", meeting.id, "会议", meeting.title, details)


def minutes_subject(session: Session, minutes: Minutes, units: dict[str, str]) -> SubjectRow:
    """The draft as it stands, the comments of the current round and who it will go to."""
    comments = list(session.scalars(select(MinutesComment).where(
        MinutesComment.minutes_id == minutes.id, MinutesComment.round == minutes.comment_rounds)))
    # The units with something to say by name; the others counted by their answer (a page per unit is short).
    lines = []
    counted: dict[str, int] = {}
    for c in sorted(comments, key=lambda c: c.unit_code):
        if c.answer == CommentAnswer.OPINION or c.opinion:
            opinion = f"：{c.opinion}" if c.opinion else ""
            lines.append(f"{units.get(c.unit_code, c.unit_code)}　{CommentAnswer.label_of(c.answer)}{opinion}")
        else:
            counted[c.answer] = counted.get(c.answer, 0) + 1
    lines += [f"{answer.label}：{counted[answer]}个单位" for answer in CommentAnswer if answer in counted]
    report = ["区政府分管领导", *(units.get(c, c) for c in minutes.report_to)]
    details = [
        ("文号", minutes.number or "审签时按年度顺序编号"),
        ("纪要正文", minutes.body),
        ("报", "、".join(report)), ("送", "各成员单位"),
        ("抄送", "、".join(units.get(c, c) for c in minutes.copy_to) or "无"),
        (f"第{minutes.comment_rounds}轮征求意见（截止 {_when(minutes.comment_deadline)}）", "\n".join(lines) or "无"),
        ("状态", MinutesStatus.label_of(minutes.status)),
    ]
    if minutes.review_comment:
        details.append(("审签意见", minutes.review_comment))
    return ("minutes", minutes.id, "会议纪要", minutes.number or "（草稿）", details)


def request_subject(session: Session, issue: MajorIssue) -> SubjectRow:
    """重大问题 and, once drafted, the 请示 itself: title, 文号, body, who drafted and who signed, when."""
    details = [("情况", issue.description or "")]
    if issue.request_title:
        details += [
            ("请示标题", issue.request_title),
            ("文号", issue.request_number or "（签发时编号）"),
            ("请示正文", issue.request_body or ""),
            ("起草", f"{_person(session, issue.drafted_by)} {_when(issue.drafted_at)}".strip()),
        ]
        if issue.signed_by:
            details += [("签发", _person(session, issue.signed_by)), ("签发日期", _when(issue.signed_at)[:10])]
    details.append(("状态", MajorIssueStatus.label_of(issue.status)))
    title = issue.request_title if issue.status in (MajorIssueStatus.SIGNED, MajorIssueStatus.DECIDED) else issue.title
    return ("major", issue.id, "重大问题" if not issue.request_title else "请示", title or issue.title, details)


def call_subject(session: Session, call: TopicCall, units: dict[str, str]) -> SubjectRow:
    """A call for topics: its deadline and note, and who answered what so far."""
    replies = list(session.scalars(select(TopicCallReply).where(TopicCallReply.call_id == call.id)))
    answered = {label: [units.get(r.unit_code, r.unit_code) for r in replies if r.answer == value]
                for value, label in CallAnswer.labels().items()}
    details = [("报送截止", _when(call.deadline)), ("征集说明", call.note or "无")]
    details += [(label, "、".join(names)) for label, names in answered.items() if names]
    details.append(("状态", CallStatus.label_of(call.status)))
    return ("call", call.id, "议题征集", call.title, details)


def meeting_subjects(session: Session, ctx: dict[str, Any], units: dict[str, str]) -> list[SubjectRow]:
    """The call for topics, the 请示 (when the task is about a major issue), the minutes (once drafted) and the
    meeting."""
    out: list[SubjectRow] = []
    cid = ctx.get("call_id")
    if isinstance(cid, int) and (call := session.get(TopicCall, cid)) is not None:
        out.append(call_subject(session, call, units))
    mid = ctx.get("major_issue_id")
    if isinstance(mid, int) and (issue := session.get(MajorIssue, mid)) is not None:
        out.append(request_subject(session, issue))
    meeting_id = ctx.get("meeting_id")
    if isinstance(meeting_id, int) and (meeting := session.get(Meeting, meeting_id)) is not None:
        minutes = session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))
        if minutes is not None and not isinstance(mid, int):
            out.append(minutes_subject(session, minutes, units))
        out.append(meeting_subject(session, meeting, units))
    return out
