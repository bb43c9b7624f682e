"""Cross-department coordination between meetings (seed 五: "及时处理社会救助工作中需要跨部门协调解决的问题").

A member unit (or the office) asks for coordination on a concrete problem, naming the units it needs. The office
decides: a 协调函 (numbered from the document register; each named unit answers by a working-day deadline, a silent
unit is recorded as 未反馈 and never holds the matter up), a 专题协调会 (participants, a 纪要-style record, items
agreed there go into the ledger with 来源 协调 and run the resolution_item process), or a topic for the next joint
meeting.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.actions import ActionContext
from engine.errors import FormError
from meeting import documents
from meeting.actions._common import decision, link, load, need_id, text, unit_group
from meeting.actions._registry import registry
from meeting.items import assignable_units, check_item_rows, create_sourced_item
from meeting.models import CoordinationReply, CoordinationRequest, Topic
from meeting.notify import notify, notify_groups
from meeting.statuses import CoordinationStatus, CoUnitStatus, ItemSource, TopicStatus
from meeting.timeutil import as_date, at_local, end_of_day, iso_local, local_today
from meeting.workdays import calendar_for

documents.declare_kind("coordination_letter", "协调函", "汉救联协〔{year}〕{seq}号")
documents.declare_kind("coordination_minutes", "专题协调会纪要", "汉救联协纪〔{year}〕{seq}号")

ROUTES = ("letter", "meeting", "refer")
MAX_REPLY_WORKDAYS = 30


def _request(ctx: ActionContext, *statuses: CoordinationStatus) -> CoordinationRequest:
    request = load(ctx.session, CoordinationRequest, need_id(ctx, "coordination_id"), "协调事项")
    if statuses:
        request.require(*statuses)
    return request


def _units(ctx: ActionContext, field: str, required: bool) -> list[str]:
    codes = list(dict.fromkeys(str(c) for c in (ctx.data.get(field) or [])))
    if required and not codes:
        raise FormError({field: "请选择单位"})
    unknown = [c for c in codes if c not in assignable_units(ctx.session)]
    if unknown:
        raise FormError({field: f"单位“{'、'.join(unknown)}”不在可承办单位名录中"})
    return codes


@registry.action(
    "coordination.register",
    title="登记协调请求",
    description="登记成员单位提出的跨部门协调请求：需协调解决的问题和需要协调的单位。",
    reads=("coord_title", "coord_problem", "coord_units", "coord_attachment", "initiator_unit"),
    returns=("coordination_id",),
)
def register(ctx: ActionContext) -> dict[str, Any]:
    errors = {f: "此项必填" for f in ("coord_title", "coord_problem") if not text(ctx, f)}
    if errors:
        raise FormError(errors)
    units = _units(ctx, "coord_units", required=True)
    request = CoordinationRequest(
        title=text(ctx, "coord_title")[:200], problem=text(ctx, "coord_problem"),
        unit_code=text(ctx, "initiator_unit") or None, units=units, participants=[],
        attachment_id=text(ctx, "coord_attachment") or None, status=CoordinationStatus.SUBMITTED,
        instance_id=ctx.instance_id, requested_by=ctx.actor, created_at=ctx.now)
    ctx.session.add(request)
    ctx.session.flush()
    notify(ctx.session, "office", "task", f"协调请求：{request.title}", request.problem,
           link("coordination", request.id), ctx.now)
    return {"coordination_id": request.id}


@registry.action(
    "coordination.decide",
    title="确定协调方式",
    description="办公室决定发协调函（被协调单位在规定工作日内答复）、召开专题协调会或提交联席会议研究。",
    reads=("coordination_id", "coord_route", "coord_reply_workdays", "coord_meeting_date", "coord_meeting_place",
           "coord_comment"),
    returns=("coord_reply_units", "coord_reply_due", "coord_meeting_due"),
)
def decide(ctx: ActionContext) -> dict[str, Any]:
    route = decision(ctx, "coord_route", ROUTES)
    request = _request(ctx, CoordinationStatus.SUBMITTED)
    request.route, request.office_comment = route, text(ctx, "coord_comment") or None
    today = local_today(ctx.now)
    out: dict[str, Any] = {"coord_reply_units": [], "coord_reply_due": "", "coord_meeting_due": ""}
    if route == "letter":
        raw = text(ctx, "coord_reply_workdays")
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_REPLY_WORKDAYS:
            raise FormError({"coord_reply_workdays": f"答复时限须为 1 至 {MAX_REPLY_WORKDAYS} 个工作日"})
        due = end_of_day(calendar_for(ctx.session).add(today, int(raw)))
        row = documents.take_number(ctx.session, "coordination_letter", ctx.now,
                                    subject=f"coordination:{request.id}", title=f"关于{request.title}的协调函",
                                    by=ctx.actor)
        request.letter_number, request.reply_due, request.status = row.number, due, CoordinationStatus.LETTER
        request.reply_rows = [CoordinationReply(unit_code=c, status=CoUnitStatus.PENDING) for c in request.units]
        notify_groups(ctx.session, [unit_group(c) for c in request.units], "task",
                      f"协调函 {row.number}：{request.title}", request.problem, link("coordination", request.id),
                      ctx.now)
        out |= {"coord_reply_units": list(request.units), "coord_reply_due": iso_local(due)}
    elif route == "meeting":
        try:
            day = as_date(ctx.data.get("coord_meeting_date"))
        except ValueError:
            day = None
        if day is None or day < today:
            raise FormError({"coord_meeting_date": "请填写专题协调会日期（不早于今天）"})
        request.meeting_at, request.status = at_local(day, 9), CoordinationStatus.MEETING
        request.meeting_place = text(ctx, "coord_meeting_place")[:200] or None
        notify_groups(ctx.session, [unit_group(c) for c in request.units], "info",
                      f"专题协调会：{request.title}", f"{day.isoformat()} {request.meeting_place or ''}",
                      link("coordination", request.id), ctx.now)
        out["coord_meeting_due"] = iso_local(end_of_day(day + timedelta(days=3)))
    else:
        topic = Topic(title=request.title[:100], background=request.problem, proposal=request.office_comment or "",
                      related_units=list(request.units), urgency="normal", unit_code=request.unit_code or "minzheng",
                      proposer=request.requested_by, status=TopicStatus.ACCEPTED, instance_id=ctx.instance_id,
                      created_at=ctx.now, updated_at=ctx.now)
        ctx.session.add(topic)
        ctx.session.flush()
        request.topic_id, request.status, request.closed_at = topic.id, CoordinationStatus.REFERRED, ctx.now
    return out


@registry.action(
    "coordination.record_answer",
    title="记录协调函答复",
    description="被协调单位答复协调函。",
    reads=("coordination_id", "coord_unit", "coord_answer"),
)
def record_answer(ctx: ActionContext) -> None:
    body = text(ctx, "coord_answer")
    if not body:
        raise FormError({"coord_answer": "请填写答复意见"})
    request = _request(ctx, CoordinationStatus.LETTER)
    unit = text(ctx, "coord_unit")
    reply = next((r for r in request.reply_rows if r.unit_code == unit), None)
    if reply is None:
        raise FormError({"coord_answer": "本单位不在协调函的主送单位中"})
    reply.status, reply.body, reply.answered_by, reply.answered_at = CoUnitStatus.ANSWERED, body, ctx.actor, ctx.now


@registry.action(
    "coordination.remind",
    title="催办协调函答复",
    description="答复截止前一个工作日，催办尚未答复的被协调单位。",
    reads=("coordination_id",),
)
def remind(ctx: ActionContext) -> None:
    request = _request(ctx, CoordinationStatus.LETTER)
    for reply in request.reply_rows:
        if reply.status == CoUnitStatus.PENDING:
            notify(ctx.session, unit_group(reply.unit_code), "reminder", f"请答复协调函：{request.letter_number}",
                   request.title, link("coordination", request.id), ctx.now)


@registry.action(
    "coordination.close_letter",
    title="协调函答复截止",
    description="答复时限届满仍未答复的单位记为未反馈，告知办公室；不影响协调事项办结。",
    reads=("coordination_id",),
)
def close_letter(ctx: ActionContext) -> None:
    request = _request(ctx, CoordinationStatus.LETTER)
    silent = [r.unit_code for r in request.reply_rows if r.status == CoUnitStatus.PENDING]
    for reply in request.reply_rows:
        if reply.status == CoUnitStatus.PENDING:
            reply.status = CoUnitStatus.SILENT
    if silent:
        notify(ctx.session, "office", "supervision", f"协调函逾期未答复：{request.title}",
               "、".join(silent), link("coordination", request.id), ctx.now)
        for code in silent:
            notify(ctx.session, unit_group(code), "supervision", f"协调函逾期未答复：{request.letter_number}",
                   request.title, link("coordination", request.id), ctx.now)


@registry.action(
    "coordination.conclude",
    title="记录协调结果",
    description="办公室汇总各单位答复，记录协调结果，告知提出单位。",
    reads=("coordination_id", "coord_result"),
)
def conclude(ctx: ActionContext) -> None:
    result = text(ctx, "coord_result")
    if not result:
        raise FormError({"coord_result": "请填写协调结果"})
    request = _request(ctx, CoordinationStatus.LETTER)
    request.result, request.status, request.closed_at = result, CoordinationStatus.CONCLUDED, ctx.now
    if request.unit_code:
        notify(ctx.session, unit_group(request.unit_code), "info", f"协调结果：{request.title}", result,
               link("coordination", request.id), ctx.now)


@registry.action(
    "coordination.record_meeting",
    title="记录专题协调会",
    description="记录专题协调会的参会单位和会议纪要；会议议定的事项进入督办台账（来源：协调）。",
    reads=("coordination_id", "coord_participants", "coord_minutes", "coord_items"),
    returns=("coord_item_ids",),
)
def record_meeting(ctx: ActionContext) -> dict[str, Any]:
    minutes = text(ctx, "coord_minutes")
    if not minutes:
        raise FormError({"coord_minutes": "请填写会议纪要"})
    participants = _units(ctx, "coord_participants", required=True)
    request = _request(ctx, CoordinationStatus.MEETING)
    drafts = check_item_rows(ctx.session, ctx.data.get("coord_items") or [], "coord_items", local_today(ctx.now))
    request.participants, request.minutes = participants, minutes
    request.minutes_number = documents.take_number(
        ctx.session, "coordination_minutes", ctx.now, subject=f"coordination:{request.id}",
        title=f"{request.title}专题协调会纪要", by=ctx.actor).number
    year = local_today(ctx.now).year
    items = [create_sourced_item(
        ctx.session, number=f"XT-{year}-{request.id:03d}-{n:02d}", content=d.content, lead_unit=d.lead_unit,
        co_units=d.co_units, deadline=d.deadline, source=ItemSource.COORDINATION,
        source_ref=f"专题协调会：{request.title}", now=ctx.now, key_item=d.key_item, co_deadline=d.co_deadline)
        for n, d in enumerate(drafts, start=1)]
    for item in items:
        notify(ctx.session, unit_group(item.lead_unit), "task", f"专题协调会议定事项：{item.number}", item.content,
               link("resolutions", item.id), ctx.now)
    return {"coord_item_ids": [item.id for item in items]}


@registry.action(
    "coordination.finish",
    title="协调事项办结",
    description="专题协调会议定的事项全部办结后，协调事项办结。",
    reads=("coordination_id",),
)
def finish(ctx: ActionContext) -> None:
    request = _request(ctx, CoordinationStatus.MEETING)
    request.status, request.closed_at = CoordinationStatus.CONCLUDED, ctx.now
    request.result = request.result or "专题协调会议定事项已全部办结。"
