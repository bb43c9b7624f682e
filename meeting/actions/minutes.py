"""会议纪要: drafting, the convener's approval and issuing to the units and the 抄送 recipients."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.actions import ActionContext
from engine.errors import ActionError, FormError
from meeting.actions._common import comment_required, decision, link, load, need_id, text, unit_group
from meeting.actions._registry import registry
from meeting.minutes_doc import attach_issued_minutes
from meeting.models import Attendance, Meeting, Minutes, ResolutionCoUnit, ResolutionItem, Unit
from meeting.notify import notify, notify_groups
from meeting.statuses import MeetingStatus, MinutesStatus, ResolutionStatus


def _minutes_of(ctx: ActionContext, meeting_id: int) -> Minutes:
    minutes = ctx.session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))
    if minutes is None:
        raise ActionError("本次会议还没有会议纪要草稿。")
    return minutes


def recipients_of(session: Session, meeting_id: int) -> list[str]:
    """Every unit that attended or was asked to, every lead and co-operating unit of the meeting's items,
    and the 抄送 recipients; in directory order."""
    attendees = select(Attendance.unit_code).where(Attendance.meeting_id == meeting_id)
    leads = select(ResolutionItem.lead_unit).where(ResolutionItem.meeting_id == meeting_id)
    co_units = (
        select(ResolutionCoUnit.unit_code)
        .join(ResolutionItem, ResolutionItem.id == ResolutionCoUnit.resolution_id)
        .where(ResolutionItem.meeting_id == meeting_id)
    )
    query = (
        select(Unit.code)
        .where(
            Unit.code.in_(attendees)
            | Unit.code.in_(leads)
            | Unit.code.in_(co_units)
            | ((Unit.kind == "cc") & Unit.active)
        )
        .order_by(Unit.sort, Unit.code)
    )
    return list(session.scalars(query))


@registry.action(
    "minutes.save_draft",
    title="保存纪要草稿",
    description="保存会议纪要编号和正文；退回修改后再次提交时更新同一份纪要。",
    reads=("meeting_id", "minutes_no", "minutes_body"),
)
def save_draft(ctx: ActionContext) -> None:
    number, body = text(ctx, "minutes_no"), text(ctx, "minutes_body")
    errors = {f: "此项必填" for f, v in (("minutes_no", number), ("minutes_body", body)) if not v}
    if errors:
        raise FormError(errors)
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    taken = ctx.session.scalar(select(Minutes).where(Minutes.number == number, Minutes.meeting_id != meeting.id))
    if taken is not None:
        raise FormError({"minutes_no": f"纪要编号“{number}”已被其他会议使用"})
    minutes = ctx.session.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))
    if minutes is None:
        ctx.session.add(Minutes(meeting_id=meeting.id, number=number, body=body, recipients=[],
                                status=MinutesStatus.DRAFT))
    else:
        minutes.redraft(number, body)


@registry.action(
    "minutes.review",
    title="审签会议纪要",
    description="召集人同意印发或退回修改；退回须写明意见并通知办公室。",
    reads=("meeting_id", "minutes_decision", "minutes_comment"),
)
def review(ctx: ActionContext) -> None:
    choice = decision(ctx, "minutes_decision", ("approve", "return"))
    comment = text(ctx, "minutes_comment")
    if choice == "return":
        comment = comment_required(ctx, "minutes_comment", "退回修改时请写明意见")
    minutes = _minutes_of(ctx, need_id(ctx, "meeting_id"))
    minutes.review(approved=choice == "approve", by=ctx.actor)
    minutes.review_comment = comment or None
    if choice != "approve":
        notify(ctx.session, "office", "returned", f"会议纪要被退回修改：{minutes.number}", comment,
               link("meetings", minutes.meeting_id), ctx.now)


@registry.action(
    "minutes.issue",
    title="印发会议纪要",
    description="印发纪要给参会单位、承办单位和抄送单位，议定事项随之交办落实。",
    reads=("meeting_id",),
)
def issue(ctx: ActionContext) -> None:
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    minutes = _minutes_of(ctx, meeting.id)
    recipients = recipients_of(ctx.session, meeting.id)
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
    notify_groups(ctx.session, [unit_group(c) for c in recipients] + ["cc"], "issued", title, body,
                  link("meetings", meeting.id), ctx.now)
