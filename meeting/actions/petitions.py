"""信访转办 (区信访局, seed 三): 区信访局 refers a 信访件; the office assigns the responsible unit(s) or, for a major
matter, puts it before the joint meeting; the unit investigates and reports its 处理意见 as a supervised item with
来源 信访 (the resolution_item process: reminders, 督办, the ladder, one extension under the statutory limits);
信访局 reviews the 处理意见; the reply to the petitioner is recorded, on time or not.

The statutory limits are settings (meeting/rules.py): 60 days to conclude, one extension of up to 30 days.
The petitioner's name and phone are sensitive form fields: kept on the referral only, never in the process data
or the audit log (engine/sensitive.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engine.actions import ActionContext
from engine.errors import FormError
from meeting import documents
from meeting.actions._common import comment_required, decision, link, load, need_id, text, unit_group
from meeting.actions._registry import registry
from meeting.items import assignable_units, create_sourced_item
from meeting.models import PetitionReferral, ProgressReport, ResolutionItem, Topic
from meeting.notify import notify, notify_groups
from meeting.rules import load_rules
from meeting.statuses import ItemSource, PetitionStatus, TopicStatus
from meeting.timeutil import as_date, end_of_day, iso_local, local_today

XINFANG = "unit:xinfang"
ROUTES = ("assign", "escalate", "request")
DECISIONS = {"approve": "同意", "reject": "不同意", "instruct": "作出指示"}
REPLY_METHODS = {"written": "书面答复", "in_person": "当面答复", "phone": "电话答复"}


def _petition(ctx: ActionContext, *statuses: PetitionStatus) -> PetitionReferral:
    petition = load(ctx.session, PetitionReferral, need_id(ctx, "petition_id"), "信访件")
    if statuses:
        petition.require(*statuses)
    return petition


def latest_opinion(session: Any, resolution_id: int | None) -> str:
    """The responsible unit's 处理意见: its latest result (or rework) report on the item."""
    if resolution_id is None:
        return ""
    body = session.scalar(select(ProgressReport.body).where(
        ProgressReport.resolution_id == resolution_id, ProgressReport.kind.in_(("result", "rework")))
        .order_by(ProgressReport.created_at.desc(), ProgressReport.id.desc()).limit(1))
    return body or ""


@registry.action(
    "petition.register",
    title="登记信访转办件",
    description="登记区信访局转来的信访件，按信访工作条例的办理时限（默认60日）确定期限；信访人联系方式只在信访件中保存。",
    reads=("petition_number", "petition_title", "petition_content", "petitioner_name", "petitioner_phone",
           "petition_received_on", "petition_attachment"),
    returns=("petition_id", "petition_due"),
)
def register(ctx: ActionContext) -> dict[str, Any]:
    errors = {f: "此项必填" for f in ("petition_number", "petition_title", "petition_content", "petitioner_name")
              if not text(ctx, f)}
    try:
        received = as_date(ctx.data.get("petition_received_on"))
    except ValueError:
        received = None
    if received is None:
        errors["petition_received_on"] = "请填写有效日期"
    elif received > local_today(ctx.now):
        errors["petition_received_on"] = "受理日期不能晚于今天"
    number = text(ctx, "petition_number")[:64]
    if number and ctx.session.scalar(select(PetitionReferral.id).where(PetitionReferral.number == number)):
        errors["petition_number"] = f"信访件{number}已登记"
    if errors:
        raise FormError(errors)
    assert received is not None
    rules = load_rules(ctx.session)
    petition = PetitionReferral(
        number=number, title=text(ctx, "petition_title")[:200], content=text(ctx, "petition_content"),
        petitioner_name=text(ctx, "petitioner_name")[:100], petitioner_phone=text(ctx, "petitioner_phone")[:32] or None,
        received_on=received, due_at=end_of_day(received + timedelta(days=rules.petition_limit_days)),
        attachment_id=text(ctx, "petition_attachment") or None, review_count=0, status=PetitionStatus.REFERRED,
        instance_id=ctx.instance_id, referred_by=ctx.actor, created_at=ctx.now)
    ctx.session.add(petition)
    ctx.session.flush()
    notify(ctx.session, "office", "task", f"信访转办件：{petition.number}", petition.title,
           link("petitions", petition.id), ctx.now)
    # The contact fields are sensitive (processes/README.md): the referral row is the one place they are kept.
    return {"petition_id": petition.id, "petition_due": iso_local(petition.due_at)}


@registry.action(
    "petition.assign",
    title="交办信访件",
    description="办公室确定责任单位（牵头、配合）交办；重大信访事项提交联席会议研究（列入议题库）。",
    reads=("petition_id", "petition_route", "petition_lead", "petition_co", "petition_assign_comment"),
    returns=("petition_item_ids", "petition_lead"),
)
def assign(ctx: ActionContext) -> dict[str, Any]:
    route = decision(ctx, "petition_route", ROUTES)
    petition = _petition(ctx, PetitionStatus.REFERRED)
    if route == "request":
        if petition.decided_at is not None:
            raise FormError({"petition_route": "区政府已作出决定，请按决定交责任单位办理"})
        petition.status = PetitionStatus.REQUESTING
        return {"petition_item_ids": [], "petition_lead": ""}
    if route == "escalate":
        comment = comment_required(ctx, "petition_assign_comment", "提交联席会议研究时请写明理由")
        topic = Topic(title=petition.title[:100], background=f"信访件{petition.number}：{petition.content}",
                      proposal=comment, related_units=[], urgency="urgent", unit_code="xinfang",
                      proposer=ctx.actor, status=TopicStatus.ACCEPTED, instance_id=ctx.instance_id,
                      created_at=ctx.now, updated_at=ctx.now)
        ctx.session.add(topic)
        ctx.session.flush()
        petition.topic_id, petition.status, petition.closed_at = topic.id, PetitionStatus.ESCALATED, ctx.now
        notify_groups(ctx.session, [XINFANG, "convener"], "info", f"信访件提交联席会议研究：{petition.number}",
                      comment, link("petitions", petition.id), ctx.now)
        return {"petition_item_ids": [], "petition_lead": ""}
    units = assignable_units(ctx.session)
    lead = text(ctx, "petition_lead")
    co = [c for c in dict.fromkeys(str(c) for c in (ctx.data.get("petition_co") or [])) if c != lead]
    if lead not in units:
        raise FormError({"petition_lead": "交办时请选择可承办的责任单位"})
    unknown = [c for c in co if c not in units]
    if unknown:
        raise FormError({"petition_co": f"单位“{'、'.join(unknown)}”不能承办事项"})
    item = create_sourced_item(
        ctx.session, number=f"XF-{local_today(ctx.now).year}-{petition.id:03d}", content=petition.title,
        lead_unit=lead, co_units=co, deadline=petition.due_at, source=ItemSource.PETITION,
        source_ref=petition.number, now=ctx.now)
    petition.lead_unit, petition.resolution_id, petition.status = lead, item.id, PetitionStatus.HANDLING
    notify_groups(ctx.session, [unit_group(lead)] + [unit_group(c) for c in co], "task",
                  f"信访转办事项：{item.number}", petition.title, link("resolutions", item.id), ctx.now)
    return {"petition_item_ids": [item.id], "petition_lead": lead}


@registry.action(
    "petition.save_request",
    title="起草信访事项请示",
    description="重大信访事项由办公室起草报区政府的请示。",
    reads=("petition_id", "petition_request_title", "petition_request_body"),
)
def save_request(ctx: ActionContext) -> None:
    errors = {f: "此项必填" for f in ("petition_request_title", "petition_request_body") if not text(ctx, f)}
    if errors:
        raise FormError(errors)
    petition = _petition(ctx, PetitionStatus.REQUESTING)
    petition.request_title = text(ctx, "petition_request_title")[:200]
    petition.request_body = text(ctx, "petition_request_body")


@registry.action(
    "petition.sign_request",
    title="签发信访事项请示",
    description="召集人签发请示（按年度顺序编文号，与联席会议的请示同一登记）或退回修改（须写明意见）。",
    reads=("petition_id", "petition_sign_decision", "petition_sign_comment"),
)
def sign_request(ctx: ActionContext) -> None:
    choice = decision(ctx, "petition_sign_decision", ("approve", "return"))
    petition = _petition(ctx, PetitionStatus.REQUESTING)
    if choice == "return":
        comment = comment_required(ctx, "petition_sign_comment", "退回修改时请写明意见")
        notify(ctx.session, "office", "returned", f"信访事项请示被退回修改：{petition.number}", comment,
               link("petitions", petition.id), ctx.now)
        return
    row = documents.take_number(ctx.session, "request", ctx.now, subject=f"petition:{petition.id}",
                                title=petition.request_title or petition.title, by=ctx.actor)
    petition.request_number, petition.request_signed_by = row.number, ctx.actor


@registry.action(
    "petition.record_decision",
    title="记录区政府对信访事项的决定",
    description="区政府分管领导阅处请示后作出决定；办公室据此交责任单位办理。",
    reads=("petition_id", "petition_decision", "petition_decision_text"),
)
def record_decision(ctx: ActionContext) -> None:
    choice = decision(ctx, "petition_decision", tuple(DECISIONS))
    words = text(ctx, "petition_decision_text")
    if choice in ("reject", "instruct") and not words:
        raise FormError({"petition_decision_text": "不同意或作出指示时请填写决定或指示内容"})
    petition = _petition(ctx, PetitionStatus.REQUESTING)
    if not petition.request_number:
        raise FormError({"petition_decision": "请示尚未签发"})
    petition.decision, petition.decision_text = choice, words or None
    petition.decided_by, petition.decided_at = ctx.actor, ctx.now
    petition.status = PetitionStatus.REFERRED  # back to the office, to assign as decided
    notify_groups(ctx.session, ["office", XINFANG], "decision",
                  f"区政府决定（{DECISIONS[choice]}）：信访件{petition.number}", words,
                  link("petitions", petition.id), ctx.now)


@registry.action(
    "petition.opinion_done",
    title="处理意见报信访局审核",
    description="责任单位的处理意见经办公室核验办结后，报区信访局审核。",
    reads=("petition_id",),
    returns=("petition_due",),
)
def opinion_done(ctx: ActionContext) -> dict[str, Any]:
    petition = _petition(ctx, PetitionStatus.HANDLING)
    item = load(ctx.session, ResolutionItem, petition.resolution_id, "信访事项")
    petition.due_at = item.deadline  # an approved extension moved it
    petition.status = PetitionStatus.REVIEW
    notify(ctx.session, XINFANG, "task", f"请审核信访件处理意见：{petition.number}", petition.title,
           link("petitions", petition.id), ctx.now)
    return {"petition_due": iso_local(petition.due_at)}


@registry.action(
    "petition.review",
    title="审核处理意见",
    description="区信访局审核责任单位的处理意见：同意的，由责任单位答复信访人；退回的须写明意见，责任单位重新办理。",
    reads=("petition_id", "petition_review", "petition_review_comment"),
)
def review(ctx: ActionContext) -> None:
    choice = decision(ctx, "petition_review", ("approve", "return"))
    petition = _petition(ctx, PetitionStatus.REVIEW)
    petition.review_count += 1
    if choice == "return":
        petition.review_comment = comment_required(ctx, "petition_review_comment", "退回时请写明审核意见")
        petition.status = PetitionStatus.HANDLING
        notify(ctx.session, unit_group(petition.lead_unit or ""), "returned",
               f"信访件处理意见被退回：{petition.number}", petition.review_comment,
               link("petitions", petition.id), ctx.now)
        return
    petition.review_comment = text(ctx, "petition_review_comment") or None
    petition.status = PetitionStatus.REPLYING


@registry.action(
    "petition.revise",
    title="重新提出处理意见",
    description="责任单位按信访局的审核意见重新办理，提出新的处理意见。",
    reads=("petition_id", "petition_revised_opinion"),
)
def revise(ctx: ActionContext) -> None:
    body = comment_required(ctx, "petition_revised_opinion", "请填写重新办理后的处理意见")
    petition = _petition(ctx, PetitionStatus.HANDLING)
    assert petition.resolution_id is not None
    ctx.session.add(ProgressReport(resolution_id=petition.resolution_id, unit_code=petition.lead_unit, kind="rework",
                                   body=body, author=ctx.actor, created_at=ctx.now))
    petition.status = PetitionStatus.REVIEW


@registry.action(
    "petition.record_reply",
    title="记录答复信访人",
    description="责任单位记录答复信访人的日期、方式和内容；是否在法定期限内答复一并记录。",
    reads=("petition_id", "reply_on", "reply_method", "reply_summary"),
)
def record_reply(ctx: ActionContext) -> None:
    method = decision(ctx, "reply_method", tuple(REPLY_METHODS))
    summary = comment_required(ctx, "reply_summary", "请填写答复内容")
    try:
        day = as_date(ctx.data.get("reply_on"))
    except ValueError:
        day = None
    if day is None or day > local_today(ctx.now):
        raise FormError({"reply_on": "请填写答复日期（不能晚于今天）"})
    petition = _petition(ctx, PetitionStatus.REPLYING)
    if day < petition.received_on:
        raise FormError({"reply_on": "答复日期不能早于信访局受理日期"})
    petition.reply_on, petition.reply_method, petition.reply_summary = day, method, summary
    petition.on_time = end_of_day(day) <= petition.due_at
    petition.status, petition.closed_at = PetitionStatus.ANSWERED, ctx.now
    notify(ctx.session, XINFANG, "info", f"信访件已答复信访人：{petition.number}",
           f"{REPLY_METHODS[method]}，{'在' if petition.on_time else '超过'}办理期限内。", link("petitions", petition.id),
           ctx.now)


@registry.action(
    "petition.overdue",
    title="信访事项逾期",
    description="办理期限届满仍未答复信访人：记为逾期，告知区信访局、办公室、召集人和责任单位。",
    reads=("petition_id",),
)
def overdue(ctx: ActionContext) -> None:
    petition = _petition(ctx)
    if petition.status == PetitionStatus.ANSWERED:
        return  # answered in the same instant
    petition.on_time = False
    groups = [XINFANG, "office", "convener"] + ([unit_group(petition.lead_unit)] if petition.lead_unit else [])
    notify_groups(ctx.session, groups, "supervision", f"信访事项逾期未答复：{petition.number}",
                  f"{petition.title}，办理期限{iso_local(petition.due_at)[:10]}已届满。", link("petitions", petition.id),
                  ctx.now)
