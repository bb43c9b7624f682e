"""重大问题报区政府决定: 区民政局 drafts the request, the convener signs, the district leader decides."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import select

from engine.actions import ActionContext
from engine.errors import FormError
from meeting import documents
from meeting.actions._common import (
    approve_or_return,
    decision,
    link,
    load,
    need_id,
    text,
    unit_group,
)
from meeting.actions._registry import registry
from meeting.items import check_item_rows, create_items
from meeting.models import MAJOR_DECISIONS, MajorIssue, Meeting, ResolutionItem, Topic
from meeting.notify import notify, notify_groups
from meeting.statuses import MajorIssueStatus, ResolutionStatus, TopicStatus
from meeting.timeutil import local_today

DECISION_NAMES = {"approve": "同意", "reject": "不同意", "instruct": "作出指示"}


def _issue(ctx: ActionContext, *statuses: MajorIssueStatus) -> MajorIssue:
    issue = load(ctx.session, MajorIssue, need_id(ctx, "major_issue_id"), "重大问题")
    if statuses:
        issue.require(*statuses)
    return issue


@registry.action(
    "major.load_for_meeting",
    title="取出本次会议的重大问题",
    description="列出会议审议中报区政府决定的重大问题。",
    reads=("meeting_id",),
    returns=("major_issue_ids",),
)
def load_for_meeting(ctx: ActionContext) -> dict[str, Any]:
    ids = ctx.session.scalars(
        select(MajorIssue.id).where(MajorIssue.meeting_id == need_id(ctx, "meeting_id")).order_by(MajorIssue.id)
    )
    return {"major_issue_ids": list(ids)}


@registry.action(
    "major.save_request",
    title="保存请示",
    description="区民政局起草报区政府的请示。",
    reads=("major_issue_id", "request_title", "request_body"),
)
def save_request(ctx: ActionContext) -> None:
    errors = {f: "此项必填" for f in ("request_title", "request_body") if not text(ctx, f)}
    if errors:
        raise FormError(errors)
    issue = _issue(ctx)
    issue.draft_request(text(ctx, "request_title"), text(ctx, "request_body"))
    issue.drafted_by, issue.drafted_at = ctx.actor, ctx.now


@registry.action(
    "major.sign",
    title="签发请示",
    description="召集人签发请示（按年度顺序编文号）或退回修改；退回须写明意见并通知办公室。",
    reads=("major_issue_id", "sign_decision", "sign_comment"),
)
def sign(ctx: ActionContext) -> None:
    choice, comment = approve_or_return(ctx, "sign_decision", "sign_comment")
    issue = _issue(ctx)
    issue.sign(approved=choice == "approve", by=ctx.actor, at=ctx.now)
    issue.sign_comment = comment or None
    if choice == "approve":
        number = documents.take_number(ctx.session, "request", ctx.now, subject=f"major_issue:{issue.id}",
                                       title=issue.request_title or issue.title, by=ctx.actor)
        issue.request_number = number.number
    if choice != "approve":
        notify(ctx.session, "office", "returned", f"请示被退回修改：{issue.request_title or issue.title}",
               comment, link("majors", issue.id), ctx.now)


@registry.action(
    "major.record_decision",
    title="记录区政府决定",
    description="记录区政府的决定；作出指示时，据指示交办的事项立即进入落实。",
    reads=("major_issue_id", "district_decision", "district_instructions", "instruction_items"),
    returns=("instruction_item_ids",),
)
def record_decision(ctx: ActionContext) -> dict[str, Any]:
    choice = decision(ctx, "district_decision", MAJOR_DECISIONS)
    instructions = text(ctx, "district_instructions")
    rows = ctx.data.get("instruction_items") or []
    if choice in ("reject", "instruct") and not instructions:
        raise FormError({"district_instructions": "不同意或作出指示时请填写决定或指示内容"})
    if rows and choice != "instruct":
        raise FormError({"instruction_items": "只有作出指示时才能据指示交办事项"})
    issue = _issue(ctx, MajorIssueStatus.SIGNED)
    allowed = {issue.topic_id} if issue.topic_id else set()
    drafts = check_item_rows(ctx.session, rows, "instruction_items", local_today(ctx.now), allowed)
    drafts = [replace(d, topic_id=d.topic_id or issue.topic_id) for d in drafts]

    issue.decide(choice, instructions or None, ctx.actor, ctx.now)
    if issue.topic_id is not None:
        topic = load(ctx.session, Topic, issue.topic_id, "议题")
        topic.status, topic.updated_at = TopicStatus.RESOLVED, ctx.now
    meeting = load(ctx.session, Meeting, issue.meeting_id, "会议")
    items = create_items(ctx.session, drafts, meeting, ResolutionStatus.IN_PROGRESS, ctx.now,
                         major_issue_id=issue.id)
    return {"instruction_item_ids": [item.id for item in items]}


@registry.action(
    "major.notify_decision",
    title="通报区政府决定",
    description="把区政府的决定通报召集人和办公室，据指示交办的事项通知牵头单位。",
    reads=("major_issue_id",),
)
def notify_decision(ctx: ActionContext) -> None:
    issue = _issue(ctx, MajorIssueStatus.DECIDED)
    name = DECISION_NAMES.get(issue.decision or "", issue.decision or "")
    notify_groups(ctx.session, ["office", "convener"], "decision", f"区政府决定（{name}）：{issue.title}",
                  issue.instructions or "", link("majors", issue.id), ctx.now)
    items = ctx.session.scalars(select(ResolutionItem).where(ResolutionItem.major_issue_id == issue.id))
    for item in items:
        notify(ctx.session, unit_group(item.lead_unit), "task", f"区政府指示交办事项：{item.number}",
               item.content, link("resolutions", item.id), ctx.now)
