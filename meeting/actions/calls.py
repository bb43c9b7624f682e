"""征集议题: the office calls all member units for topics by a deadline; each answers with a topic or 无议题; silence
is recorded at the deadline (never waited on); the office screens what came in into the topic pool."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.actions import ActionContext
from engine.errors import ActionError, FormError
from meeting.actions._common import decision, load, need_id, text, unit_group
from meeting.actions._registry import registry
from meeting.directory import member_unit_codes
from meeting.models import Topic, TopicCall, TopicCallReply, Unit
from meeting.notify import notify, notify_groups
from meeting.statuses import CallAnswer, CallStatus, TopicStatus
from meeting.timeutil import as_date, at_local, format_minute, iso_local, local_today

CALL_HOUR = 17  # answers are due by the close of office hours of the deadline day


def _call(ctx: ActionContext) -> TopicCall:
    return load(ctx.session, TopicCall, need_id(ctx, "call_id"), "议题征集")


@registry.action(
    "call.open",
    title="发出议题征集通知",
    description="向各成员单位发出议题征集通知，写明报送截止时间。",
    reads=("call_title", "call_deadline", "call_note"),
    returns=("call_id", "call_units", "call_due"),
)
def open_call(ctx: ActionContext) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = text(ctx, "call_title")
    if not title:
        errors["call_title"] = "此项必填"
    day = None
    try:
        day = as_date(ctx.data.get("call_deadline"))
    except ValueError:
        errors["call_deadline"] = "请填写有效日期"
    if day is None:
        errors.setdefault("call_deadline", "请填写报送截止日期")
    elif day < local_today(ctx.now):
        errors["call_deadline"] = "报送截止日期不能早于今天"
    if errors or day is None:
        raise FormError(errors)
    due = max(at_local(day, CALL_HOUR), ctx.now)
    call = TopicCall(title=title[:200], note=text(ctx, "call_note"), deadline=due, status=CallStatus.OPEN,
                     created_by=ctx.actor, created_at=ctx.now, instance_id=ctx.instance_id)
    ctx.session.add(call)
    ctx.session.flush()
    units = member_unit_codes(ctx.session)
    for code in units:
        ctx.session.add(TopicCallReply(call_id=call.id, unit_code=code, answer=CallAnswer.PENDING))
    notify_groups(ctx.session, [unit_group(c) for c in units], "info", f"议题征集：{call.title}",
                  f"请于{format_minute(due)}前报送需联席会议研究的议题，没有议题的请回复无议题。",
                  "/tasks", ctx.now)
    ctx.set_business_key(call.key)
    return {"call_id": call.id, "call_units": units, "call_due": iso_local(due)}


@registry.action(
    "call.record_answer",
    title="记录议题报送",
    description="成员单位报送议题（进入待审核）或回复无议题。",
    reads=("call_id", "call_unit", "call_answer", "title", "background", "proposal"),
)
def record_answer(ctx: ActionContext) -> None:
    answer = CallAnswer.parse(decision(ctx, "call_answer", (CallAnswer.TOPIC, CallAnswer.NONE)))
    call = _call(ctx)
    unit = text(ctx, "call_unit")
    reply = ctx.session.get(TopicCallReply, (call.id, unit))
    if reply is None:
        raise ActionError(f"本次议题征集没有向“{unit}”征集。")
    if answer == CallAnswer.TOPIC:
        errors = {f: "报送议题时此项必填" for f in ("title", "background", "proposal") if not text(ctx, f)}
        if len(text(ctx, "title")) > 100:
            errors["title"] = "议题名称不能超过100字"
        if errors:
            raise FormError(errors)
        topic = Topic(title=text(ctx, "title"), background=text(ctx, "background"), proposal=text(ctx, "proposal"),
                      related_units=[], urgency="normal", unit_code=unit, proposer=ctx.actor,
                      status=TopicStatus.SUBMITTED, instance_id=ctx.instance_id, created_at=ctx.now,
                      updated_at=ctx.now)
        ctx.session.add(topic)
        ctx.session.flush()
        reply.topic_id = topic.id
    reply.answer, reply.answered_by, reply.answered_at = answer, ctx.actor, ctx.now


@registry.action(
    "call.close",
    title="截止议题征集",
    description="报送截止或全部回复后截止征集；期满未报送的单位记为期满未报送，告知办公室审核。",
    reads=("call_id",),
)
def close_call(ctx: ActionContext) -> None:
    call = _call(ctx)
    replies = list(ctx.session.scalars(select(TopicCallReply).where(TopicCallReply.call_id == call.id)))
    silent = [r for r in replies if r.answer == CallAnswer.PENDING]
    for reply in silent:
        reply.answer = CallAnswer.SILENT
    call.status, call.closed_at = CallStatus.CLOSED, ctx.now
    names = dict(ctx.session.execute(select(Unit.code, Unit.name)).all())
    topics = sum(1 for r in replies if r.answer == CallAnswer.TOPIC)
    body = f"共报送议题{topics}个；{sum(1 for r in replies if r.answer == CallAnswer.NONE)}个单位回复无议题"
    if silent:
        body += f"；期满未报送：{'、'.join(names.get(r.unit_code, r.unit_code) for r in silent)}"
    notify(ctx.session, "office", "info", f"议题征集已截止：{call.title}", body + "。", "/tasks", ctx.now)


@registry.action(
    "call.screen",
    title="审核征集的议题",
    description="办公室把选中的议题列入议题库，其余不予受理并通知报送单位。",
    reads=("call_id", "accepted_topics", "call_screen_comment"),
)
def screen(ctx: ActionContext) -> None:
    call = _call(ctx)
    submitted = {t.id: t for t in ctx.session.scalars(
        select(Topic).join(TopicCallReply, TopicCallReply.topic_id == Topic.id)
        .where(TopicCallReply.call_id == call.id))}
    chosen = [int(t) for t in ctx.data.get("accepted_topics") or []]
    strangers = [f"T-{i:04d}" for i in chosen if i not in submitted]
    if strangers:
        raise FormError({"accepted_topics": f"议题{'、'.join(strangers)}不是本次征集报送的议题"})
    comment = text(ctx, "call_screen_comment")
    if set(submitted) - set(chosen) and not comment:
        raise FormError({"call_screen_comment": "有议题未列入议题库时请写明理由"})
    for topic in submitted.values():
        accepted = topic.id in chosen
        topic.screen(TopicStatus.ACCEPTED if accepted else TopicStatus.REJECTED)
        topic.screen_comment = None if accepted else comment
        topic.updated_at = ctx.now
        if not accepted:
            notify(ctx.session, unit_group(topic.unit_code), "returned", f"议题未列入：{topic.title}", comment,
                   None, ctx.now)
    call.status, call.screen_comment = CallStatus.SCREENED, comment or None
