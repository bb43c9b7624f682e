"""交办事项 (区委、区政府交办, seed 一(五)): 收文登记, the office's 拟办, the convener's decision, the 办理情况报告.

A matter assigned directly becomes one supervised item with 来源 交办 and runs the resolution_item process (deadlines,
催办, 督办, the ladder, extension, 销号) like any item of the minutes; a matter put on the agenda becomes an accepted
topic waiting for the next (or an ad hoc) meeting, and once the items the meeting agreed on it are all closed the
same 办理情况报告 goes back to the source (``matter.agenda_check``, looked at daily by the process).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case, func, select

from engine.actions import ActionContext
from engine.errors import FormError
from meeting import documents
from meeting.actions._common import comment_required, decision, link, load, need_id, text, unit_group
from meeting.actions._registry import registry
from meeting.items import assignable_units, create_sourced_item
from meeting.models import AssignedMatter, ResolutionItem, Topic
from meeting.notify import notify, notify_groups
from meeting.statuses import ItemSource, MatterStatus, ResolutionStatus, TopicStatus
from meeting.timeutil import as_date, end_of_day, local_today

documents.declare_kind("receipt", "收文登记", "汉救联收〔{year}〕{seq}号")
# 汉救联报 is the 阶段性落实情况报告's series (meeting/issued_docs.py); a pattern may belong to one kind only.
documents.declare_kind("matter_report", "办理情况报告", "汉救联办〔{year}〕{seq}号")

SOURCE_KINDS = {"instruction": "批示件", "letter": "来文"}
ROUTES = ("assign", "agenda")


def _matter(ctx: ActionContext, *statuses: MatterStatus) -> AssignedMatter:
    matter = load(ctx.session, AssignedMatter, need_id(ctx, "matter_id"), "交办事项")
    if statuses:
        matter.require(*statuses)
    return matter


def _day(ctx: ActionContext, key: str) -> date | None:
    try:
        return as_date(ctx.data.get(key))
    except ValueError:
        raise FormError({key: "日期格式应为 YYYY-MM-DD"}) from None


def item_number(receipt_seq: int, year: int) -> str:
    """JB-2026-003: the item a 交办事项 became, numbered after its 收文 sequence."""
    return f"JB-{year}-{receipt_seq:03d}"


@registry.action(
    "matter.register",
    title="交办事项收文登记",
    description="登记区委、区政府交办的来文或批示件，按年度顺序编收文号。",
    reads=("matter_title", "source_org", "source_kind", "source_number", "instruction_text", "instruction_leader",
           "received_on", "time_limit", "matter_attachment"),
    returns=("matter_id", "matter_number"),
)
def register(ctx: ActionContext) -> dict[str, Any]:
    errors = {f: "此项必填" for f in ("matter_title", "source_org", "instruction_text") if not text(ctx, f)}
    kind = text(ctx, "source_kind") or "instruction"
    if kind not in SOURCE_KINDS:
        errors["source_kind"] = "请选择来文类型"
    received, limit = _day(ctx, "received_on"), _day(ctx, "time_limit")
    if received is None:
        errors["received_on"] = "此项必填"
    elif received > local_today(ctx.now):
        errors["received_on"] = "收文日期不能晚于今天"
    if limit is None:
        errors["time_limit"] = "此项必填"
    elif received is not None and limit < received:
        errors["time_limit"] = "交办时限不能早于收文日期"
    if errors:
        raise FormError(errors)
    assert received is not None and limit is not None
    matter = AssignedMatter(
        number="", title=text(ctx, "matter_title")[:200], source_org=text(ctx, "source_org")[:100], source_kind=kind,
        source_number=text(ctx, "source_number")[:100] or None, instruction=text(ctx, "instruction_text"),
        instruction_leader=text(ctx, "instruction_leader")[:100] or None, received_on=received, time_limit=limit,
        attachment_id=text(ctx, "matter_attachment") or None, proposed_co=[], needs_meeting=False,
        status=MatterStatus.REGISTERED, instance_id=ctx.instance_id, created_by=ctx.actor, created_at=ctx.now)
    ctx.session.add(matter)
    ctx.session.flush()
    row = documents.take_number(ctx.session, "receipt", ctx.now, subject=f"matter:{matter.id}", title=matter.title,
                                by=ctx.actor)
    matter.number = row.number
    return {"matter_id": matter.id, "matter_number": row.number}


@registry.action(
    "matter.propose",
    title="提出拟办意见",
    description="办公室提出拟牵头、配合单位、完成时限和是否需提交联席会议研究。",
    reads=("matter_id", "proposed_lead", "proposed_co", "proposed_deadline", "needs_meeting", "proposal_comment"),
)
def propose(ctx: ActionContext) -> None:
    matter = _matter(ctx, MatterStatus.REGISTERED, MatterStatus.PROPOSED)
    units = assignable_units(ctx.session)
    lead = text(ctx, "proposed_lead")
    co = [c for c in dict.fromkeys(str(c) for c in (ctx.data.get("proposed_co") or [])) if c != lead]
    deadline = _day(ctx, "proposed_deadline")
    errors: dict[str, str] = {}
    if lead not in units:
        errors["proposed_lead"] = "请选择可承办的牵头单位"
    unknown = [c for c in co if c not in units]
    if unknown:
        errors["proposed_co"] = f"单位“{'、'.join(unknown)}”不能承办事项"
    today = local_today(ctx.now)
    if deadline is None:
        errors["proposed_deadline"] = "此项必填"
    elif deadline < today:
        errors["proposed_deadline"] = f"完成时限不能早于今天（{today.isoformat()}）"
    elif deadline > matter.time_limit:
        errors["proposed_deadline"] = f"完成时限不能晚于交办时限（{matter.time_limit.isoformat()}）"
    if errors:
        raise FormError(errors)
    matter.proposed_lead, matter.proposed_co, matter.proposed_deadline = lead, co, deadline
    matter.needs_meeting = text(ctx, "needs_meeting") == "yes"
    matter.proposal_comment = text(ctx, "proposal_comment") or None
    matter.status = MatterStatus.PROPOSED


@registry.action(
    "matter.decide",
    title="审定交办方式",
    description="召集人决定直接交办（生成来源为“交办”的督办事项）或提交联席会议研究（列入议题库）。",
    reads=("matter_id", "matter_decision", "matter_decision_comment"),
    returns=("matter_item_ids",),
)
def decide(ctx: ActionContext) -> dict[str, Any]:
    choice = decision(ctx, "matter_decision", ROUTES)
    matter = _matter(ctx, MatterStatus.PROPOSED)
    lead, deadline = matter.proposed_lead, matter.proposed_deadline
    assert lead is not None and deadline is not None  # set by matter.propose
    matter.decision, matter.decision_comment = choice, text(ctx, "matter_decision_comment") or None
    matter.decided_by, matter.decided_at = ctx.actor, ctx.now
    if choice == "agenda":
        topic = Topic(title=matter.title[:100], background=matter.instruction, proposal=matter.proposal_comment or "",
                      related_units=list(matter.proposed_co), urgency="normal", unit_code=lead, proposer=ctx.actor,
                      status=TopicStatus.ACCEPTED, instance_id=ctx.instance_id, created_at=ctx.now,
                      updated_at=ctx.now)
        ctx.session.add(topic)
        ctx.session.flush()
        matter.topic_id, matter.status = topic.id, MatterStatus.AGENDA
        notify(ctx.session, "office", "info", f"交办事项提交联席会议研究：{matter.title}",
               f"{matter.number}已列入议题库，待下次联席会议审议。", link("matters", matter.id), ctx.now)
        return {"matter_item_ids": []}
    held = documents.number_of(ctx.session, "receipt", f"matter:{matter.id}")
    seq, year = (held.seq, held.year) if held is not None else (matter.id, local_today(ctx.now).year)
    # The item reads as the matter; its 来文 and 批示 stay on the matter, shown beside the item's tasks.
    item = create_sourced_item(
        ctx.session, number=item_number(seq, year), content=matter.title, lead_unit=lead,
        co_units=list(matter.proposed_co), deadline=end_of_day(deadline), source=ItemSource.ASSIGNED,
        source_ref=f"{matter.source_org}{matter.source_number or matter.number}", now=ctx.now)
    matter.resolution_id, matter.status = item.id, MatterStatus.ASSIGNED
    notify_groups(ctx.session, [unit_group(lead)] + [unit_group(c) for c in matter.proposed_co], "task",
                  f"交办事项：{item.number}", item.content, link("resolutions", item.id), ctx.now)
    return {"matter_item_ids": [item.id]}


@registry.action(
    "matter.items_closed",
    title="交办事项办结",
    description="交办的事项办结销号后，请办公室起草报交办机关的办理情况报告。",
    reads=("matter_id",),
)
def items_closed(ctx: ActionContext) -> None:
    matter = _matter(ctx, MatterStatus.ASSIGNED)
    matter.status = MatterStatus.REPORTING
    notify(ctx.session, "office", "task", f"交办事项已办结，请起草办理情况报告：{matter.title}",
           matter.number, link("matters", matter.id), ctx.now)


@registry.action(
    "matter.agenda_check",
    title="查看会议议定事项",
    description="提交联席会议研究的交办事项：会议就该议题议定的事项全部办结销号后，请办公室起草报交办机关的办理情况报告。",
    reads=("matter_id",),
    returns=("matter_agenda_done",),
)
def agenda_check(ctx: ActionContext) -> dict[str, Any]:
    matter = _matter(ctx, MatterStatus.AGENDA)
    if not agenda_items_closed(ctx.session, matter):
        return {"matter_agenda_done": "no"}
    matter.status = MatterStatus.REPORTING
    notify(ctx.session, "office", "task", f"交办事项经联席会议研究议定的事项已办结，请起草办理情况报告：{matter.title}",
           matter.number, link("matters", matter.id), ctx.now)
    return {"matter_agenda_done": "yes"}


def agenda_items_closed(session: Any, matter: AssignedMatter) -> bool:
    """Whether the meeting decided the matter's topic and every item it agreed on it is closed (销号): at least
    one item, none still a draft of unissued minutes, none open. One grouped query on the items' topic index."""
    if matter.topic_id is None:
        return False
    topic_status = session.scalar(select(Topic.status).where(Topic.id == matter.topic_id))
    if topic_status != TopicStatus.RESOLVED:
        return False
    total, closed = session.execute(
        select(func.count(ResolutionItem.id),
               func.sum(case((ResolutionItem.status == ResolutionStatus.CLOSED, 1), else_=0)))
        .where(ResolutionItem.topic_id == matter.topic_id)).one()
    return bool(total) and int(closed or 0) == int(total)


@registry.action(
    "matter.save_report",
    title="起草办理情况报告",
    description="办公室起草报交办机关的办理情况报告。",
    reads=("matter_id", "matter_report_body"),
)
def save_report(ctx: ActionContext) -> None:
    body = text(ctx, "matter_report_body")
    if not body:
        raise FormError({"matter_report_body": "此项必填"})
    matter = _matter(ctx, MatterStatus.REPORTING)
    matter.report_body = body


@registry.action(
    "matter.sign_report",
    title="审签办理情况报告",
    description="召集人审签办理情况报告（按年度顺序编文号），或退回修改（须写明意见）。",
    reads=("matter_id", "matter_report_decision", "matter_report_comment"),
)
def sign_report(ctx: ActionContext) -> None:
    choice = decision(ctx, "matter_report_decision", ("approve", "return"))
    matter = _matter(ctx, MatterStatus.REPORTING)
    if choice == "return":
        comment = comment_required(ctx, "matter_report_comment", "退回修改时请写明意见")
        notify(ctx.session, "office", "returned", f"办理情况报告被退回修改：{matter.title}", comment,
               link("matters", matter.id), ctx.now)
        return
    row = documents.take_number(ctx.session, "matter_report", ctx.now, subject=f"matter:{matter.id}",
                                title=f"关于{matter.title}办理情况的报告", by=ctx.actor)
    matter.report_number, matter.report_signed_by, matter.report_signed_at = row.number, ctx.actor, ctx.now
    matter.status = MatterStatus.SIGNED


@registry.action(
    "matter.send_report",
    title="报送交办机关",
    description="把审签后的办理情况报告报送交办机关（区政府）。",
    reads=("matter_id",),
)
def send_report(ctx: ActionContext) -> None:
    matter = _matter(ctx, MatterStatus.SIGNED)
    matter.status = MatterStatus.SENT
    notify(ctx.session, "district", "task", f"办理情况报告（{matter.report_number}）：{matter.title}",
           matter.report_body or "", link("matters", matter.id), ctx.now)


@registry.action(
    "matter.receive_report",
    title="接收办理情况报告",
    description="交办机关接收办理情况报告，交办事项办结。",
    reads=("matter_id", "matter_receipt_comment"),
)
def receive_report(ctx: ActionContext) -> None:
    matter = _matter(ctx, MatterStatus.SENT)
    matter.receipt_comment = text(ctx, "matter_receipt_comment") or None
    matter.received_back_by, matter.received_back_at = ctx.actor, ctx.now
    matter.status, matter.closed_at = MatterStatus.CLOSED, ctx.now
