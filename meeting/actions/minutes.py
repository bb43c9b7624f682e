"""会议纪要: drafting, the 征求意见 round with the attending units, the convener's 审签 (which gives the 文号 from
the document register) and issuing to the recipients chosen for this document."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.actions import ActionContext
from engine.errors import ActionError, FormError
from meeting import documents
from meeting.actions._common import (
    approve_or_return,
    comment_required,
    decision,
    known_units,
    link,
    load,
    need_id,
    text,
    unit_group,
)
from meeting.actions._registry import registry
from meeting.directory import member_unit_codes
from meeting.minutes_doc import attach_issued_minutes
from meeting.models import (
    Attendance,
    Meeting,
    Minutes,
    MinutesComment,
    ResolutionCoUnit,
    ResolutionItem,
    Unit,
)
from meeting.notify import notify, notify_groups
from meeting.statuses import CommentAnswer, MeetingStatus, MinutesStatus, ResolutionStatus, SignIn
from meeting.timeutil import as_date, at_local, iso_local, local_today

COMMENT_HOUR = 17  # a 征求意见 deadline day ends at the close of office hours
# Who comments on the draft: the units that came (and sent someone who can answer in the system).
NO_ACCOUNTS = ("guest", "gov", "cc")


def _minutes_of(ctx: ActionContext, meeting_id: int) -> Minutes:
    minutes = ctx.session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))
    if minutes is None:
        raise ActionError("本次会议还没有会议纪要草稿。")
    return minutes


def recipients_of(session: Session, minutes: Minutes) -> list[str]:
    """Every unit the issued minutes go to: 报, 分送 (the member units), 抄送, and the lead and co-operating
    units of the meeting's items; in directory order."""
    leads = select(ResolutionItem.lead_unit).where(ResolutionItem.meeting_id == minutes.meeting_id)
    co_units = (
        select(ResolutionCoUnit.unit_code)
        .join(ResolutionItem, ResolutionItem.id == ResolutionCoUnit.resolution_id)
        .where(ResolutionItem.meeting_id == minutes.meeting_id)
    )
    chosen = [*minutes.report_to, *minutes.distribute_to, *minutes.copy_to]
    query = (select(Unit.code).where(Unit.code.in_(chosen) | Unit.code.in_(leads) | Unit.code.in_(co_units))
             .order_by(Unit.sort, Unit.code))
    return list(session.scalars(query))


def comment_units_of(session: Session, meeting_id: int) -> list[str]:
    """The units asked for comments: those signed in as present or represented (or, without a sign-in, those
    that replied they would come), except departments without accounts."""
    rows = session.execute(
        select(Attendance.unit_code, Attendance.sign_in, Attendance.reply, Unit.kind)
        .join(Unit, Unit.code == Attendance.unit_code).where(Attendance.meeting_id == meeting_id)
        .order_by(Unit.sort, Unit.code)).all()
    out = []
    for code, sign_in, reply, kind in rows:
        came = sign_in in (SignIn.PRESENT, SignIn.SUBSTITUTE) if sign_in else reply in ("attend", "substitute")
        if came and kind not in NO_ACCOUNTS:
            out.append(code)
    return out


def _checked_draft(ctx: ActionContext) -> tuple[str, Any, list[str], list[str]]:
    errors: dict[str, str] = {}
    body = text(ctx, "minutes_body")
    if not body:
        errors["minutes_body"] = "此项必填"
    due = None
    try:
        due = as_date(ctx.data.get("comment_deadline"))
    except ValueError:
        errors["comment_deadline"] = "请填写有效日期"
    if due is None:
        errors.setdefault("comment_deadline", "请填写征求意见截止日期")
    elif due < local_today(ctx.now):
        errors["comment_deadline"] = "征求意见截止日期不能早于今天"
    report: list[str] = []
    copy: list[str] = []
    for field in ("report_units", "copy_units"):
        try:
            (report if field == "report_units" else copy).extend(known_units(ctx, field))
        except FormError as exc:
            errors.update(exc.errors)
    if errors:
        raise FormError(errors)
    return body, due, report, copy


@registry.action(
    "minutes.save_draft",
    title="保存纪要草稿并征求意见",
    description="保存会议纪要正文、报送和抄送单位（分送各成员单位），向出席单位征求意见；退回修改后再次提交时"
    "更新同一份纪要并开始新一轮征求意见。",
    reads=("meeting_id", "minutes_body", "comment_deadline", "report_units", "copy_units"),
    returns=("comment_units", "comment_due"),
)
def save_draft(ctx: ActionContext) -> dict[str, Any]:
    body, due, report, copy = _checked_draft(ctx)
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    minutes = ctx.session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))
    if minutes is None:
        minutes = Minutes(meeting_id=meeting.id, number=None, body=body, recipients=[], report_to=[],
                          distribute_to=[], copy_to=[], comment_rounds=0, status=MinutesStatus.COMMENTING)
        ctx.session.add(minutes)
    else:
        minutes.redraft(body)
    minutes.report_to, minutes.copy_to = report, copy
    minutes.distribute_to = member_unit_codes(ctx.session)
    deadline = at_local(due, COMMENT_HOUR)
    deadline = max(deadline, ctx.now + timedelta(hours=1))
    minutes.comment_deadline = deadline
    minutes.comment_rounds = (minutes.comment_rounds or 0) + 1
    ctx.session.flush()
    units = comment_units_of(ctx.session, meeting.id)
    for code in units:
        ctx.session.add(MinutesComment(minutes_id=minutes.id, round=minutes.comment_rounds, unit_code=code,
                                       answer=CommentAnswer.PENDING))
    return {"comment_units": units, "comment_due": iso_local(deadline)}


@registry.action(
    "minutes.record_comment",
    title="记录纪要修改意见",
    description="出席单位对纪要草稿提出修改意见或确认无意见。",
    reads=("meeting_id", "comment_unit", "comment_answer", "comment_text"),
)
def record_comment(ctx: ActionContext) -> None:
    answer = CommentAnswer.parse(decision(ctx, "comment_answer", (CommentAnswer.NONE, CommentAnswer.OPINION)))
    opinion = comment_required(ctx, "comment_text", "有修改意见时请写明意见") if answer == CommentAnswer.OPINION else None
    minutes = _minutes_of(ctx, need_id(ctx, "meeting_id"))
    unit = text(ctx, "comment_unit")
    row = ctx.session.get(MinutesComment, (minutes.id, minutes.comment_rounds, unit))
    if row is None:
        raise ActionError(f"本轮征求意见没有向“{unit}”征求意见。")
    row.answer, row.opinion, row.answered_by, row.answered_at = answer, opinion, ctx.actor, ctx.now


@registry.action(
    "minutes.close_comments",
    title="汇总征求意见",
    description="征求意见期满或意见收齐：未反馈的单位记为无意见，纪要送召集人审签。",
    reads=("meeting_id",),
)
def close_comments(ctx: ActionContext) -> None:
    minutes = _minutes_of(ctx, need_id(ctx, "meeting_id"))
    rows = list(ctx.session.scalars(select(MinutesComment).where(
        MinutesComment.minutes_id == minutes.id, MinutesComment.round == minutes.comment_rounds)))
    silent = [r for r in rows if r.answer == CommentAnswer.PENDING]
    for row in silent:
        row.answer = CommentAnswer.SILENT
    minutes.close_comments()
    opinions = sum(1 for r in rows if r.answer == CommentAnswer.OPINION)
    notify(ctx.session, "office", "info", "会议纪要征求意见已结束",
           f"共征求{len(rows)}个单位意见：{opinions}个单位提出修改意见，{len(silent)}个单位期满未反馈（视为无意见）。",
           link("meetings", minutes.meeting_id), ctx.now)


@registry.action(
    "minutes.review",
    title="审签会议纪要",
    description="召集人同意印发（按年度顺序编文号）或退回修改；退回须写明意见并通知办公室。",
    reads=("meeting_id", "minutes_decision", "minutes_comment"),
)
def review(ctx: ActionContext) -> None:
    choice, comment = approve_or_return(ctx, "minutes_decision", "minutes_comment")
    minutes = _minutes_of(ctx, need_id(ctx, "meeting_id"))
    minutes.review(approved=choice == "approve", by=ctx.actor, at=ctx.now)
    minutes.review_comment = comment or None
    if choice == "approve":
        meeting = load(ctx.session, Meeting, minutes.meeting_id, "会议")
        number = documents.take_number(ctx.session, "minutes", ctx.now, subject=f"minutes:{minutes.id}",
                                       title=f"{meeting.title}纪要", by=ctx.actor)
        minutes.number = number.number
    else:
        notify(ctx.session, "office", "returned", "会议纪要被退回修改", comment,
               link("meetings", minutes.meeting_id), ctx.now)


@registry.action(
    "minutes.issue",
    title="印发会议纪要",
    description="印发纪要：报区政府分管领导和选定的报送单位，分送各成员单位，抄送选定单位；议定事项随之交办落实。",
    reads=("meeting_id",),
)
def issue(ctx: ActionContext) -> None:
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    minutes = _minutes_of(ctx, meeting.id)
    recipients = recipients_of(ctx.session, minutes)
    minutes.issue(ctx.now, recipients)
    # Issuing the minutes assigns their items (交办): they are implemented from now on.
    ctx.session.execute(
        update(ResolutionItem)
        .where(ResolutionItem.meeting_id == meeting.id, ResolutionItem.status == ResolutionStatus.DRAFT)
        .values(status=ResolutionStatus.IN_PROGRESS)
    )
    meeting.status = MeetingStatus.MINUTES_ISSUED
    attach_issued_minutes(ctx.session, minutes, ctx.now, ctx.instance_id)
    title = f"会议纪要印发：{minutes.number}"
    body = f"《{meeting.title}》会议纪要已印发，请查阅并抓好落实。"
    cc_kind = set(ctx.session.scalars(select(Unit.code).where(Unit.code.in_(minutes.copy_to), Unit.kind == "cc")))
    # The 负责人 (区政府分管领导) is always among those the minutes are 报 to; 抄送 readers when any 抄送 went out.
    groups = ["district", *[unit_group(c) for c in recipients]] + (["cc"] if cc_kind else [])
    notify_groups(ctx.session, groups, "issued", title, body, link("meetings", meeting.id), ctx.now)
