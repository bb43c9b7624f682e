"""联席会议: the plan, its approval, convening, attendance replies (closed at their deadline: nobody's silence
stops a meeting), the 签到 of the meeting day and the outcome of each topic."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.actions import ActionContext
from engine.errors import ActionError, FormError
from meeting.actions._common import (
    approve_or_return,
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
from meeting.directory import member_unit_codes, person_with_role
from meeting.items import check_item_rows, create_items
from meeting.models import MEETING_KINDS, Attendance, MajorIssue, Meeting, MeetingTopic, Topic, Unit, User
from meeting.notify import notify
from meeting.statuses import (
    AttendanceReply,
    MajorIssueStatus,
    MeetingStatus,
    ResolutionStatus,
    SignIn,
    TopicOutcome,
    TopicStatus,
)
from meeting.timeutil import as_date, at_local, format_minute, iso_local, local_today

MEETING_HOUR = 9
REPLY_HOUR = 17
COMMENT_DAYS = 3  # the 征求意见 round on draft minutes: a few days, changed on the form
GUEST_KIND = "guest"
_TIME = re.compile(r"^([01]?\d|2[0-3])[:：]([0-5]\d)$")
MAX_GUESTS = 20


def reply_deadline_for(meeting_at: datetime, now: datetime) -> datetime:
    """Attendance replies are due at 17:00 two days before the meeting; a late plan still leaves a day to
    reply, but never past the start of the meeting."""
    due = at_local(local_today(meeting_at) - timedelta(days=2), REPLY_HOUR)
    due = max(due, (now + timedelta(days=1)).replace(second=0, microsecond=0))
    return min(due, meeting_at)


def attendees_of(meeting: Meeting, members: list[str], guests: set[str] | None = None) -> list[str]:
    """Who replies to the notice: member units in the order of the rules, then the invited departments of the
    directory. Guest departments typed in for this meeting have nobody in the system; the office calls them."""
    guests = guests or set()
    return members + [code for code in meeting.invited_units if code not in members and code not in guests]


def guest_codes(session: Session, codes: list[str]) -> set[str]:
    return set(session.scalars(select(Unit.code).where(Unit.code.in_(codes), Unit.kind == GUEST_KIND)))


def personal_assignees(session: Session) -> dict[str, str | None]:
    """Who the personal steps go to (审定, 审签, 接收 …): the one convener and the one district leader."""
    return {"convener_user": person_with_role(session, "convener"),
            "district_user": person_with_role(session, "district")}


def meeting_time(value: str) -> tuple[int, int]:
    """``09:00`` → (9, 0); ValueError for anything that is not a time of day."""
    match = _TIME.match(value.strip())
    if not match:
        raise ValueError(value)
    return int(match.group(1)), int(match.group(2))


def parse_guests(text_value: str) -> list[tuple[str, str, str]]:
    """Guest departments typed one per line: 单位名称、联系人、联系电话 (separated by 、 ， , or spaces)."""
    guests = []
    for line in text_value.splitlines():
        parts = [p.strip() for p in re.split(r"[、，,；;\s]+", line.strip()) if p.strip()]
        if parts:
            name = parts[0][:100]
            guests.append((name, (parts[1] if len(parts) > 1 else "")[:100], (parts[2] if len(parts) > 2 else "")[:40]))
    return guests


def _guest_units(ctx: ActionContext, guests: list[tuple[str, str, str]]) -> list[str]:
    """The directory rows of typed-in guest departments: an existing unit of that name is reused (its contact
    updated), a new one is kept as a unit of the guest kind so it can be invited again."""
    codes = []
    for name, contact, phone in guests:
        unit = ctx.session.scalar(select(Unit).where(Unit.name == name).order_by(Unit.active.desc()).limit(1))
        if unit is None:
            count = ctx.session.scalar(select(func.count()).select_from(Unit).where(Unit.kind == GUEST_KIND)) or 0
            code = f"guest{count + 1}"
            while ctx.session.get(Unit, code) is not None:
                count += 1
                code = f"guest{count + 1}"
            unit = Unit(code=code, name=name, kind=GUEST_KIND, duties="", is_lead=False, active=True, sort=900)
            ctx.session.add(unit)
        if unit.kind == GUEST_KIND:
            unit.active = True
            unit.contact_name = contact or unit.contact_name
            unit.contact_phone = phone or unit.contact_phone
        codes.append(unit.code)
    ctx.session.flush()
    return codes


def _presider(session: Session, username: str | None) -> dict[str, str]:
    """Who presides by default: the convener (规则四: 联席会议由召集人主持)."""
    user = session.scalar(select(User).where(User.username == username)) if username else None
    if user is None:
        return {"presider_name": "", "presider_post": ""}
    return {"presider_name": user.display_name, "presider_post": getattr(user, "post", None) or ""}


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
    description="保存会议方案（类型、日期和开始时间、地点、上会议题、列席单位和名录外邀请的部门），计算参会单位与"
    "回执期限；由区政府临时会议请求启动时记录请求事由。",
    reads=("meeting_kind", "meeting_title", "meeting_date", "meeting_time", "meeting_place", "topic_ids",
           "invited_units", "guest_units", "meeting_id", "adhoc_request", "message_adhoc_meeting_request",
           "initiator"),
    returns=("meeting_id", "attendees", "meeting_at", "reply_deadline", "convener_user", "district_user",
             "presider_name", "presider_post"),
)
def save_plan(ctx: ActionContext) -> dict[str, Any]:
    adhoc = adhoc_request_of(ctx.data)
    meeting_id = optional_id(ctx, "meeting_id")
    kind, meeting_at, invited, topics = _checked_plan(ctx, adhoc, meeting_id)
    meeting_day = local_today(meeting_at)
    invited += [c for c in _guest_units(ctx, parse_guests(text(ctx, "guest_units"))) if c not in invited]
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
    people = personal_assignees(ctx.session)
    return {
        "meeting_id": meeting.id,
        "attendees": attendees_of(meeting, member_unit_codes(ctx.session), guest_codes(ctx.session, invited)),
        "meeting_at": iso_local(meeting_at),
        "reply_deadline": iso_local(reply_deadline),
        **people,
        **_presider(ctx.session, people["convener_user"]),
    }


def _checked_time(ctx: ActionContext, meeting_day: date | None, errors: dict[str, str]) -> datetime | None:
    """The meeting's start: the day at the time on the form (09:00 when the form has none), after now."""
    try:
        hour, minute = meeting_time(text(ctx, "meeting_time") or f"{MEETING_HOUR:02d}:00")
    except ValueError:
        errors["meeting_time"] = "请按“09:00”的格式填写开始时间"
        return None
    if meeting_day is None:
        return None
    meeting_at = at_local(meeting_day, hour, minute)
    if meeting_at <= ctx.now:
        errors["meeting_date"] = "会议日期须晚于当前时间（按所填开始时间计算）"
    return meeting_at


def _checked_plan(ctx: ActionContext, adhoc: dict[str, Any] | None, meeting_id: int | None
                  ) -> tuple[str, datetime, list[str], list[Topic]]:
    """The plan's kind, start, invited units and topics, or FormError naming every bad field."""
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
    meeting_at = _checked_time(ctx, meeting_day, errors)
    if len(parse_guests(text(ctx, "guest_units"))) > MAX_GUESTS:
        errors["guest_units"] = f"一次最多邀请{MAX_GUESTS}个名录外部门"
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
    if errors or meeting_at is None:
        raise FormError(errors)
    return kind, meeting_at, invited, topics



@registry.action(
    "meeting.review_plan",
    title="审定会议方案",
    description="召集人同意召开或退回修改；退回须写明意见并通知办公室。",
    reads=("meeting_id", "plan_decision", "plan_comment"),
)
def review_plan(ctx: ActionContext) -> None:
    choice, comment = approve_or_return(ctx, "plan_decision", "plan_comment")
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    meeting.review_plan(approved=choice == "approve")
    meeting.plan_comment = comment or None
    if choice != "approve":
        notify(ctx.session, "office", "returned", f"会议方案被退回修改：{meeting.title}", comment,
               link("meetings", meeting.id), ctx.now)


@registry.action(
    "meeting.convene",
    title="通知召开",
    description="为每个参会单位建立参会回执并发出会议通知；提出议题的单位在回执截止前提交会议材料。",
    reads=("meeting_id", "attendees"),
    returns=("material_topics", "material_owners", "materials_due"),
)
def convene(ctx: ActionContext) -> dict[str, Any]:
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    meeting.convene()
    guests = guest_codes(ctx.session, meeting.invited_units)
    codes = [str(c) for c in (ctx.data.get("attendees")
                              or attendees_of(meeting, member_unit_codes(ctx.session), guests))]
    existing = set(ctx.session.scalars(select(Attendance.unit_code).where(Attendance.meeting_id == meeting.id)))
    # Guest departments are on the list as 列席 too; the office tells them by phone.
    for code in sorted(guests - existing):
        ctx.session.add(Attendance(meeting_id=meeting.id, unit_code=code, invited=True,
                                   reply=AttendanceReply.PENDING))
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
    # 会议材料 are due with the replies: the office prints and hands them out before the meeting.
    meeting.materials_due = meeting.reply_deadline or meeting.meeting_at
    owners = dict(ctx.session.execute(select(Topic.id, Topic.unit_code).join(
        MeetingTopic, MeetingTopic.topic_id == Topic.id).where(MeetingTopic.meeting_id == meeting.id)
        .order_by(Topic.id)).all())
    return {"material_topics": list(owners), "material_owners": {str(k): v for k, v in owners.items()},
            "materials_due": iso_local(meeting.materials_due)}


@registry.action(
    "meeting.record_material",
    title="提交会议材料",
    description="提出议题的单位上传本议题的汇报材料。",
    reads=("meeting_id", "material_topic", "material", "material_note"),
)
def record_material(ctx: ActionContext) -> None:
    attachment = text(ctx, "material")
    if not attachment:
        raise FormError({"material": "请上传汇报材料"})
    link_row = ctx.session.get(MeetingTopic, (need_id(ctx, "meeting_id"), need_id(ctx, "material_topic")))
    if link_row is None:
        raise ActionError("该议题不在本次会议的议程中。")
    link_row.material_id, link_row.material_note = attachment, text(ctx, "material_note") or None
    link_row.material_by, link_row.material_at = ctx.actor, ctx.now


@registry.action(
    "meeting.close_materials",
    title="截止会议材料",
    description="材料报送截止时告知办公室哪些议题还没有汇报材料；会议照常召开。",
    reads=("meeting_id",),
)
def close_materials(ctx: ActionContext) -> None:
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    missing = list(ctx.session.scalars(select(Topic.title).join(MeetingTopic, MeetingTopic.topic_id == Topic.id)
                                       .where(MeetingTopic.meeting_id == meeting.id,
                                              MeetingTopic.material_id.is_(None)).order_by(Topic.id)))
    if missing:
        notify(ctx.session, "office", "info", f"会议材料报送已截止：{meeting.title}",
               f"以下议题尚无汇报材料：{'、'.join(missing)}。", link("meetings", meeting.id), ctx.now)


@registry.action(
    "meeting.record_attendance",
    title="记录参会回执",
    description="记录单位的参会、代会或请假回执；参会须填写参会人员，代会须填写代会人员及其职务，请假须写明事由。",
    reads=("meeting_id", "attendee", "attendance", "attendee_name", "attendee_post", "attendee_phone",
           "leave_reason"),
)
def record_attendance(ctx: ActionContext) -> None:
    choices = (AttendanceReply.ATTEND, AttendanceReply.SUBSTITUTE, AttendanceReply.LEAVE)
    reply = AttendanceReply.parse(decision(ctx, "attendance", choices))
    post = text(ctx, "attendee_post")[:100] or None
    if reply == AttendanceReply.ATTEND:
        name = comment_required(ctx, "attendee_name", "参会时请填写参会人员")
        reason = None
    elif reply == AttendanceReply.SUBSTITUTE:
        errors = {f: m for f, m in (("attendee_name", "代会时请填写代会人员姓名"), ("attendee_post", "请填写代会人员职务"))
                  if not text(ctx, f)}
        if errors:
            raise FormError(errors)
        name, reason = text(ctx, "attendee_name"), None
    else:
        reason = comment_required(ctx, "leave_reason", "请假时请写明事由")
        name, post = None, None
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
    row.attendee_name = name[:100] if name else None
    row.attendee_post = post
    row.attendee_phone = text(ctx, "attendee_phone")[:40] or None if name else None
    row.leave_reason = reason
    row.replied_by = ctx.actor
    row.replied_at = ctx.now


@registry.action(
    "meeting.close_attendance",
    title="截止参会回执",
    description="回执截止时仍未回复的单位记为未回复并告知办公室；会议照常召开。",
    reads=("meeting_id",),
)
def close_attendance(ctx: ActionContext) -> None:
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    guests = guest_codes(ctx.session, meeting.invited_units)
    silent = [row for row in ctx.session.scalars(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.reply == AttendanceReply.PENDING))
        if row.unit_code not in guests]
    for row in silent:
        row.reply = AttendanceReply.UNANSWERED
    meeting.attendance_closed_at = ctx.now
    if silent:
        names = dict(ctx.session.execute(select(Unit.code, Unit.name)
                                         .where(Unit.code.in_([r.unit_code for r in silent]))).all())
        listed = "、".join(names.get(r.unit_code, r.unit_code) for r in silent)
        notify(ctx.session, "office", "info", f"参会回执已截止：{meeting.title}",
               f"截止时仍未回复：{listed}，已记为未回复；会议照常召开。", link("meetings", meeting.id), ctx.now)


@registry.action(
    "meeting.record_sign_in",
    title="记录会议签到",
    description="记录会议当天各单位实际到会情况（出席、代会、缺席）和主持人；为起草纪要准备默认的征求意见期限和报送单位。",
    reads=("meeting_id", "sign_in_sheet", "presider_name", "presider_post"),
    returns=("comment_deadline", "report_units", "copy_units"),
)
def record_sign_in(ctx: ActionContext) -> dict[str, Any]:
    presider = comment_required(ctx, "presider_name", "请填写主持人")
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    meeting.check_outcomes_open()
    rows = {r.unit_code: r for r in ctx.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id))}
    sheet = {str(r["unit"]): r for r in (ctx.data.get("sign_in_sheet") or []) if isinstance(r, dict)}
    strangers = sorted(set(sheet) - set(rows))
    if strangers:
        raise FormError({"sign_in_sheet": f"单位“{'、'.join(strangers)}”不在本次会议的参会名单中"})
    for code, row in rows.items():
        entry = sheet.get(code) or default_sign_in(row)
        row.sign_in = SignIn.parse(str(entry["status"]))
        came = row.sign_in != SignIn.ABSENT
        row.signed_name = (str(entry.get("name") or "")[:100] or None) if came else None
        row.signed_post = (str(entry.get("post") or "")[:100] or None) if came else None
    meeting.presider_name, meeting.presider_post = presider[:100], text(ctx, "presider_post")[:100] or None
    meeting.signed_in_at = ctx.now
    gov = list(ctx.session.scalars(select(Unit.code).where(Unit.kind == "gov", Unit.active).order_by(Unit.sort)))
    return {"comment_deadline": (local_today(ctx.now) + timedelta(days=COMMENT_DAYS)).isoformat(),
            "report_units": gov, "copy_units": []}


def default_sign_in(row: Attendance) -> dict[str, Any]:
    """The sign-in the reply suggests (the office corrects it on the day): who said they come, came."""
    if row.reply == AttendanceReply.ATTEND:
        return {"status": SignIn.PRESENT, "name": row.attendee_name, "post": row.attendee_post}
    if row.reply == AttendanceReply.SUBSTITUTE:
        return {"status": SignIn.SUBSTITUTE, "name": row.attendee_name, "post": row.attendee_post}
    return {"status": SignIn.ABSENT, "name": None, "post": None}


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
