"""议题征集: a member unit proposes a topic, the office screens it."""

from __future__ import annotations

from typing import Any

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
from meeting.models import Topic
from meeting.notify import notify
from meeting.statuses import TopicStatus

URGENCIES = ("normal", "urgent")


@registry.action(
    "topic.submit",
    title="提交议题",
    description="保存成员单位提出的议题；退回修改后再次提交时更新同一议题。",
    reads=("title", "background", "proposal", "related_units", "urgency", "attachment", "initiator",
           "initiator_unit", "topic_id"),
    returns=("topic_id",),
)
def submit(ctx: ActionContext) -> dict[str, Any]:
    errors = {f: "此项必填" for f in ("title", "background", "proposal") if not text(ctx, f)}
    if len(text(ctx, "title")) > 100:
        errors["title"] = "议题名称不能超过100字"
    urgency = text(ctx, "urgency") or "normal"
    if urgency not in URGENCIES:
        errors["urgency"] = "请选择紧急程度"
    if errors:
        raise FormError(errors)
    related = known_units(ctx, "related_units")

    topic_id = optional_id(ctx, "topic_id")
    if topic_id is None:
        unit = text(ctx, "initiator_unit")
        if not unit:
            raise ActionError("提出议题的用户未归属任何单位，请联系管理员设置所属单位。")
        topic = Topic(unit_code=unit, proposer=ctx.actor or text(ctx, "initiator") or None,
                      instance_id=ctx.instance_id, created_at=ctx.now, status=TopicStatus.SUBMITTED)
        ctx.session.add(topic)
    else:
        topic = load(ctx.session, Topic, topic_id, "议题")
        topic.resubmit()
    topic.title = text(ctx, "title")
    topic.background = text(ctx, "background")
    topic.proposal = text(ctx, "proposal")
    topic.related_units = related
    topic.urgency = urgency
    topic.attachment = text(ctx, "attachment") or None
    topic.updated_at = ctx.now
    ctx.session.flush()
    ctx.set_business_key(topic.key)
    return {"topic_id": topic.id}


SCREEN_RESULTS = {
    "accept": (TopicStatus.ACCEPTED, "decision", "议题已受理"),
    "return": (TopicStatus.RETURNED, "returned", "议题被退回修改"),
    "reject": (TopicStatus.REJECTED, "decision", "议题不予受理"),
}


@registry.action(
    "topic.screen",
    title="审核议题",
    description="办公室受理、退回或不予受理议题；退回和不予受理须说明理由，并通知提出单位。",
    reads=("topic_id", "screen_decision", "screen_comment"),
)
def screen(ctx: ActionContext) -> None:
    choice = decision(ctx, "screen_decision", tuple(SCREEN_RESULTS))
    comment = text(ctx, "screen_comment")
    if choice != "accept":
        comment = comment_required(ctx, "screen_comment", "退回或不予受理时请说明理由")
    topic = load(ctx.session, Topic, need_id(ctx, "topic_id"), "议题")
    status, kind, headline = SCREEN_RESULTS[choice]
    topic.screen(status)
    topic.screen_comment = comment or None
    topic.updated_at = ctx.now
    notify(ctx.session, unit_group(topic.unit_code), kind, f"{headline}：{topic.title}",
           comment, link("topics", topic.id), ctx.now)
