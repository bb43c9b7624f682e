"""向区政府报告落实结果: the office compiles the report, the convener approves, the district receives it."""

from __future__ import annotations

from sqlalchemy import select

from engine.actions import ActionContext
from engine.errors import ActionError
from meeting.actions._common import approve_or_return, comment_required, link, load, need_id, text
from meeting.actions._registry import registry
from meeting.models import ImplementationReport, Meeting
from meeting.notify import notify
from meeting.statuses import MeetingStatus, ReportStatus


def _report_of(ctx: ActionContext) -> ImplementationReport:
    report = ctx.session.scalar(
        select(ImplementationReport).where(ImplementationReport.meeting_id == need_id(ctx, "meeting_id"))
    )
    if report is None:
        raise ActionError("本次会议还没有落实情况报告。")
    return report


@registry.action(
    "report.save",
    title="保存落实情况报告",
    description="保存办公室汇总的落实情况报告；退回修改后再次提交时更新同一份报告。",
    reads=("meeting_id", "report_body"),
)
def save(ctx: ActionContext) -> None:
    body = comment_required(ctx, "report_body", "请填写落实情况报告")
    meeting = load(ctx.session, Meeting, need_id(ctx, "meeting_id"), "会议")
    report = ctx.session.scalar(select(ImplementationReport).where(ImplementationReport.meeting_id == meeting.id))
    if report is None:
        ctx.session.add(ImplementationReport(meeting_id=meeting.id, body=body, status=ReportStatus.DRAFT))
    else:
        report.redraft(body)


@registry.action(
    "report.review",
    title="审核落实报告",
    description="召集人同意上报或退回修改；退回须写明意见并通知办公室。",
    reads=("meeting_id", "report_decision", "report_comment"),
)
def review(ctx: ActionContext) -> None:
    choice, comment = approve_or_return(ctx, "report_decision", "report_comment")
    report = _report_of(ctx)
    report.review(approved=choice == "approve")
    report.review_comment = comment or None
    if choice != "approve":
        notify(ctx.session, "office", "returned", "落实情况报告被退回修改", comment,
               link("meetings", report.meeting_id), ctx.now)


@registry.action(
    "report.submit",
    title="报送区政府",
    description="向区政府报送议定事项落实情况报告。",
    reads=("meeting_id",),
)
def submit(ctx: ActionContext) -> None:
    report = _report_of(ctx)
    report.submit(ctx.now)
    meeting = load(ctx.session, Meeting, report.meeting_id, "会议")
    meeting.status = MeetingStatus.REPORTED


@registry.action(
    "report.receive",
    title="接收落实报告",
    description="区政府接收落实情况报告，可作批示；会议随之办结。",
    reads=("meeting_id", "receipt_comment"),
)
def receive(ctx: ActionContext) -> None:
    report = _report_of(ctx)
    comment = text(ctx, "receipt_comment")
    report.receive(ctx.actor, ctx.now, comment or None)
    meeting = load(ctx.session, Meeting, report.meeting_id, "会议")
    meeting.status = MeetingStatus.CLOSED
    notify(ctx.session, "office", "info", f"区政府已接收落实情况报告：{meeting.title}", comment,
           link("meetings", meeting.id), ctx.now)
