"""联席会议: the plan, its approval, convening, attendance replies and the outcome of each topic."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select

from engine.actions import ActionContext
from engine.errors import ActionError, FormError
from meeting.actions._common import (
    comment_required,
    decision,
    known_units,
    link,
    load,
    need_id,
    optional_id,
    text,
    unit_group,
)
from meeting.actions._registry import registry
from meeting.directory import member_unit_codes
from meeting.items import check_item_rows, create_items
from meeting.models import MEETING_KINDS, Attendance, MajorIssue, Meeting, MeetingTopic, Topic
from meeting.notify import notify
from meeting.statuses import (
    AttendanceReply,
    MajorIssueStatus,
    MeetingStatus,
    ResolutionStatus,
    TopicOutcome,
    TopicStatus,
)
from meeting.timeutil import as_date, at_local, format_minute, iso_local, local_today

MEETING_HOUR = 9
REPLY_HOUR = 17


def reply_deadline_for(meeting_at: datetime, now: datetime) -> datetime:
    """Attendance replies are due at 17:00 two days before the meeting; a late plan still leaves a day to
    reply, but never past the start of the meeting."""
    due = at_local(local_today(meeting_at) - timedelta(days=2), REPLY_HOUR)
    due = max(due, (now + timedelta(days=1)).replace(second=0, microsecond=0))
    return min(due, meeting_at)


def attendees_of(meeting: Meeting, members: list[str]) -> list[str]:
    """Member units in the order of the rules, then the invited departments."""
    return members + [code for code in meeting.invited_units if code not in members]


def _plan_topics(ctx: ActionContext, meeting_id: int | None) -> list[Topic]:
    ids = list(dict.fromkeys(int(t) for t in (ctx.data.get("topic_ids") or [])))
    topics = {t.id: t for t in ctx.session.scalars(select(Topic).where(Topic.id.in_(ids)))}
    bad = []
    for topic_id in ids:
        topic = topics.get(topic_id)
        in_pool = topic is not None and topic.status == TopicStatus.ACCEPTED and topic.meeting_id is None
        already_here = topic is not None and meeting_id is not None and topic.meeting_id == meeting_id
        if not (in_pool or already_here):
            bad.append(topic.key if topic else f"T-{topic_id:04d}")
    if bad:
        raise FormError({"topic_ids": f"议题{'、'.join(bad)}未受理或已安排到其他会议，不能列入本次会议"})
    return [topics[i] for i in ids]


def adhoc_request_of(data: dict[str, Any]) -> dict[str, Any] | None:
    """The district's request when the instance started from the ``adhoc_meeting_request`` message: either
    an ``adhoc_request`` variable, or the message variables the engine keeps under ``message_<name>``."""
    value = data.get("adhoc_request")
    if isinstance(value, dict):
        return value
    message = data.get("message_adhoc_meeting_request")
    if isinstance(message, dict):
        inner = message.get("adhoc_request")
        return inner if isinstance(inner, dict) else message
    return None


def _next_seq(ctx: ActionContext, year: int) -> int:
    last = ctx.session.scalar(select(func.max(Meeting.seq)).where(Meeting.year == year))
    return (last or 0) + 1


def _schedule(ctx: ActionContext, meeting: Meeting, topics: list[Topic]) -> None:
    """The plan's topics are scheduled; topics dropped from a redrafted plan go back to the pool."""
    wanted = {t.id for t in topics}
    for old in ctx.session.scalars(select(Topic).where(Topic.meeting_id == meeting.id)):
        if old.id not in wanted:
            old.status, old.meeting_id, old.updated_at = TopicStatus.ACCEPTED, None, ctx.now
    ctx.session.execute(
        delete(MeetingTopic).where(MeetingTopic.meeting_id == meeting.id, MeetingTopic.topic_id.not_in(wanted))
    )
    linked = set(ctx.session.scalars(select(MeetingTopic.topic_id).where(MeetingTopic.meeting_id == meeting.id)))
    for topic in topics:
        topic.status, topic.meeting_id, topic.updated_at = TopicStatus.SCHEDULED, meeting.id, ctx.now
        if topic.id not in linked:
            ctx.session.add(MeetingTopic(meeting_id=meeting.id, topic_id=topic.id))


@registry.action(
    "meeting.save_plan",
    title="保存会议方案",
    description="保存会议方案（类型、日期、地点、上会议题、列席单位），计算参会单位与回执期限；"
    "由区政府临时会议请求启动时记录请求事由。",
    reads=("meeting_kind", "meeting_title", "meeting_date", "meeting_place", "topic_ids", "invited_units",
           "meeting_id", "adhoc_request", "message_adhoc_meeting_request", "initiator"),
    returns=("meeting_id", "attendees", "meeting_at", "reply_deadline"),
)
def save_plan(ctx: ActionContext) -> dict[str, Any]:
    adhoc = adhoc_request_of(ctx.data)
    meeting_id = optional_id(ctx, "meeting_id")
    kind, meeting_day, invited, topics = _checked_plan(ctx, adhoc, meeting_id)
    meeting_at = at_local(meeting_day, MEETING_HOUR)
    if meeting_id is None:
        meeting = Meeting(year=meeting_day.year, seq=_next_seq(ctx, meeting_day.year),
                          instance_id=ctx.instance_id, created_at=ctx.now, status=MeetingStatus.PLANNED)
        ctx.session.add(meeting)
    else:
        meeting = load(ctx.session, Meeting, meeting_id, "会议")
        meeting.redraft_plan()
    meeting.kind = kind
    meeting.title = text(ctx, "meeting_title")
    meeting.place = text(ctx, "meeting_place")
    meeting.meeting_at = meeting_at
    reply_deadline = reply_deadline_for(meeting_at, ctx.now)
    meeting.reply_deadline = reply_deadline
    meeting.invited_units = invited
    if adhoc is not None:
        meeting.request_reason = str(adhoc.get("reason") or "").strip() or None
        try:
            meeting.requested_date = as_date(adhoc.get("suggested_date"))
        except ValueError:
            meeting.requested_date = None
        meeting.requested_by = str(adhoc.get("requested_by") or "") or text(ctx, "initiator") or None
    ctx.session.flush()
    _schedule(ctx, meeting, topics)
    ctx.set_business_key(meeting.key)
    return {
        "meeting_id": meeting.id,
        "attendees": attendees_of(meeting, member_unit_codes(ctx.session)),
        "meeting_at": iso_local(meeting_at),
        "reply_deadline": iso_local(reply_deadline),
    }


def _checked_plan(ctx: ActionContext, adhoc: dict[str, Any] | None, meeting_id: int | None
                  ) -> tuple[str, date, list[str], list[Topic]]:
    """The plan's kind, day, invited units and topics, or FormError naming every bad field."""
    errors: dict[str, str] = {}
    # A meeting the district asked for is an ad hoc meeting whatever the form says.
    kind = "adhoc" if adhoc is not None else text(ctx, "meeting_kind")
    if kind not in MEETING_KINDS:
        errors["meeting_kind"] = "请选择会议类型"
    for field in ("meeting_title", "meeting_place"):
        if not text(ctx, field):
            errors[field] = "此项必填"
    meeting_day: date | None = None
    try:
        meeting_day = as_date(ctx.data.get("meeting_date"))
    except ValueError:
        errors["meeting_date"] = "请填写有效日期"
    if meeting_day is None:
        errors.setdefault("meeting_date", "请填写会议日期")
    elif at_local(meeting_day, MEETING_HOUR) <= ctx.now:
        errors["meeting_date"] = "会议日期须晚于当前时间（会议当日9:00开始）"
    try:
        invited = known_units(ctx, "invited_units")
    except FormError as exc:
        errors.update(exc.errors)
        invited = []
    try:
        topics = _plan_topics(ctx, meeting_id)
    except FormError as exc:
        errors.update(exc.errors)
        topics = []
    if errors or meeting_day is None:
        raise FormError(errors)
    return kind, meeting_day, invited, topics



@registry.action(
    "meeting.review_plan",
    title="审定会议方案",
    description="召集人同意召开或退回修改；退回须写明意见并通知办公室。",
    reads=("meeting_id", "plan_decision", "plan_comment"),
)
def review_plan(ctx: ActionContext) -> None:
    choice = decision(ctx, "plan_decision", ("approve", "return"))
    comment = text(ctx, "plan_comment")
    if choice == "return":
        comment = comment_required(ctx, "plan_comment", "退回修改时请写明意见")
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    meeting.review_plan(approved=choice == "approve")
    meeting.plan_comment = comment or None
    if choice != "approve":
        notify(ctx.session, "office", "returned", f"会议方案被退回修改：{meeting.title}", comment,
               link("meetings", meeting.id), ctx.now)


@registry.action(
    "meeting.convene",
    title="通知召开",
    description="为每个参会单位建立参会回执并发出会议通知。",
    reads=("meeting_id", "attendees"),
)
def convene(ctx: ActionContext) -> None:
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    meeting.convene()
    codes = [str(c) for c in (ctx.data.get("attendees") or attendees_of(meeting, member_unit_codes(ctx.session)))]
    existing = set(ctx.session.scalars(select(Attendance.unit_code).where(Attendance.meeting_id == meeting.id)))
    when = format_minute(meeting.meeting_at)
    due = format_minute(meeting.reply_deadline) if meeting.reply_deadline else ""
    for code in codes:
        if code in existing:
            continue
        ctx.session.add(Attendance(meeting_id=meeting.id, unit_code=code, invited=code in meeting.invited_units,
                                   reply=AttendanceReply.PENDING))
        notify(ctx.session, unit_group(code), "info", f"会议通知：{meeting.title}",
               f"会议时间：{when}；地点：{meeting.place}。请于{due}前回复参会回执。",
               link("meetings", meeting.id), ctx.now)


@registry.action(
    "meeting.record_attendance",
    title="记录参会回执",
    description="记录单位的参会或请假回执；参会须填写参会人员，请假须写明事由。",
    reads=("meeting_id", "attendee", "attendance", "attendee_name", "leave_reason"),
)
def record_attendance(ctx: ActionContext) -> None:
    reply = AttendanceReply.parse(decision(ctx, "attendance", (AttendanceReply.ATTEND, AttendanceReply.LEAVE)))
    if reply == AttendanceReply.ATTEND:
        name = comment_required(ctx, "attendee_name", "参会时请填写参会人员")
        reason = None
    else:
        reason = comment_required(ctx, "leave_reason", "请假时请写明事由")
        name = None
    meeting_id = need_id(ctx, "meeting_id")
    unit = text(ctx, "attendee")
    if not unit:
        raise ActionError("流程数据中缺少 attendee，无法记录回执。")
    row = ctx.session.get(Attendance, (meeting_id, unit))
    if row is None:
        meeting = load(ctx.session, Meeting, meeting_id, "会议")
        row = Attendance(meeting_id=meeting_id, unit_code=unit, invited=unit in meeting.invited_units)
        ctx.session.add(row)
    row.reply = reply
    row.attendee_name = name
    row.leave_reason = reason
    row.replied_by = ctx.actor
    row.replied_at = ctx.now


@registry.action(
    "meeting.remind_attendance",
    title="催复参会回执",
    description="回执期限前一天提醒尚未回复的单位。",
    reads=("meeting_id",),
)
def remind_attendance(ctx: ActionContext) -> None:
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    pending = ctx.session.scalars(
        select(Attendance.unit_code)
        .where(Attendance.meeting_id == meeting.id, Attendance.reply == AttendanceReply.PENDING)
    )
    due = format_minute(meeting.reply_deadline) if meeting.reply_deadline else ""
    for code in pending:
        notify(ctx.session, unit_group(code), "reminder", f"请尽快回复参会回执：{meeting.title}",
               f"回执期限：{due}", link("meetings", meeting.id), ctx.now)


def _topic_ids(ctx: ActionContext, field: str) -> list[int]:
    return list(dict.fromkeys(int(t) for t in (ctx.data.get(field) or [])))


@registry.action(
    "meeting.record_outcomes",
    title="记录审议结果",
    description="一致意见形成议定事项（按会议编号），重大问题报区政府决定，暂缓议题退回议题库。",
    reads=("meeting_id", "resolution_items", "major_topics", "deferred_topics", "outcome_summary"),
    returns=("resolution_ids", "major_issue_ids", "has_major_issues"),
)
def record_outcomes(ctx: ActionContext) -> dict[str, Any]:
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    meeting.check_outcomes_open()
    scheduled = {t.id: t for t in ctx.session.scalars(select(Topic).where(Topic.meeting_id == meeting.id))}
    major = _topic_ids(ctx, "major_topics")
    deferred = _topic_ids(ctx, "deferred_topics")
    errors: dict[str, str] = {}
    drafts = []
    if not text(ctx, "outcome_summary"):
        errors["outcome_summary"] = "请填写审议情况"
    for field, ids in (("major_topics", major), ("deferred_topics", deferred)):
        strangers = [f"T-{i:04d}" for i in ids if i not in scheduled]
        if strangers:
            errors[field] = f"议题{'、'.join(strangers)}不是本次会议审议的议题"
    both = [f"T-{i:04d}" for i in major if i in deferred]
    if both:
        errors["deferred_topics"] = f"议题{'、'.join(both)}不能既报区政府决定又暂缓"
    try:
        drafts = check_item_rows(ctx.session, ctx.data.get("resolution_items"), "resolution_items",
                                 local_today(ctx.now), set(scheduled) - set(deferred))
    except FormError as exc:
        errors.update(exc.errors)
    if errors:
        raise FormError(errors)

    items = create_items(ctx.session, drafts, meeting, ResolutionStatus.DRAFT, ctx.now)
    issues = []
    for topic_id in major:
        topic = scheduled[topic_id]
        issue = MajorIssue(meeting_id=meeting.id, topic_id=topic.id, title=topic.title,
                           description=topic.proposal, status=MajorIssueStatus.RAISED)
        ctx.session.add(issue)
        issues.append(issue)
    outcomes = {i: TopicOutcome.MAJOR for i in major} | {i: TopicOutcome.DEFERRED for i in deferred}
    for link_row in ctx.session.scalars(select(MeetingTopic).where(MeetingTopic.meeting_id == meeting.id)):
        link_row.outcome = outcomes.get(link_row.topic_id, TopicOutcome.CONSENSUS)
    for topic in scheduled.values():
        outcome = outcomes.get(topic.id, TopicOutcome.CONSENSUS)
        if outcome == TopicOutcome.DEFERRED:
            topic.status, topic.meeting_id = TopicStatus.ACCEPTED, None
        else:
            topic.status = TopicStatus.ESCALATED if outcome == TopicOutcome.MAJOR else TopicStatus.RESOLVED
        topic.updated_at = ctx.now
    meeting.outcome_summary = text(ctx, "outcome_summary")
    meeting.hold()
    ctx.session.flush()
    return {
        "resolution_ids": [item.id for item in items],
        "major_issue_ids": [issue.id for issue in issues],
        "has_major_issues": bool(issues),
    }
