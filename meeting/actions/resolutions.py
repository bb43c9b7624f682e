"""议定事项落实: assignment, 催办 and 督办 (co-units included), the escalation ladder and its 督办函, reports and
extensions under the office's rules, verification, and 销号 (重点事项 with 佐证材料 and the convener's approval)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from engine.actions import ActionContext
from engine.errors import ActionError, FormError
from meeting import supervision
from meeting.actions._common import (
    approve_or_return,
    comment_required,
    decision,
    link,
    load,
    need_id,
    text,
    unit_group,
)
from meeting.actions._registry import registry
from meeting.directory import current_code, lead_unit_code
from meeting.models import ExtensionRequest, ProgressReport, ResolutionItem, SupervisionLetter
from meeting.notify import notify
from meeting.rules import SupervisionRules, load_rules
from meeting.statuses import ExtensionStatus, ItemSource, LetterStatus
from meeting.timeutil import as_date, end_of_day, format_day, iso_local, local_today
from meeting.workdays import calendar_for

PETITION_EXTENSION_APPROVERS = "unit:xinfang"  # 区信访局


def _item(ctx: ActionContext) -> ResolutionItem:
    item = load(ctx.session, ResolutionItem, need_id(ctx, "resolution_id"), "议定事项")
    item.check_open()
    return item


def _headline(item: ResolutionItem) -> str:
    return supervision.headline(item)


def _report(
    ctx: ActionContext, item: ResolutionItem, kind: str, unit: str | None, body: str, attachment: str | None = None
) -> None:
    ctx.session.add(ProgressReport(resolution_id=item.id, unit_code=unit, kind=kind, body=body,
                                   attachment=attachment, author=ctx.actor, created_at=ctx.now))


@registry.action(
    "resolution.start",
    title="交办议定事项",
    description="开始落实一项议定事项：取出牵头单位、配合单位及各自的配合时限、办理时限和是否重点事项。",
    reads=("resolution_id",),
    returns=("lead_unit", "co_units", "co_deadlines", "co_remind_workdays", "deadline", "key_item",
             "extension_approvers"),
)
def start(ctx: ActionContext) -> dict[str, Any]:
    item = _item(ctx)
    item.start()
    # Called per item from the meeting (or a major issue): the instance is the caller's, so its business key
    # stays the meeting's.
    item.instance_id = ctx.instance_id
    rules = load_rules(ctx.session)
    for co in item.co_unit_links:
        if co.deadline is None:
            co.deadline = supervision.default_co_deadline(ctx.session, item, ctx.now, rules)
    return {"lead_unit": item.lead_unit, "co_units": item.co_units,
            "co_deadlines": {co.unit_code: iso_local(co.deadline or item.deadline) for co in item.co_unit_links},
            "co_remind_workdays": rules.co_remind_workdays,
            "deadline": iso_local(item.deadline), "key_item": bool(item.key_item),
            "extension_approvers": extension_approvers(item)}


def extension_approvers(item: ResolutionItem) -> str:
    """Who approves an extension of the item: the convener; for a 信访 item 区信访局, as the 信访工作条例 has the
    信访 agency side approve extending the statutory limit."""
    return PETITION_EXTENSION_APPROVERS if item.source == ItemSource.PETITION else "convener"


@registry.action(
    "resolution.remind",
    title="催办",
    description="办理时限前三天提醒牵头单位（黄灯）。",
    reads=("resolution_id",),
)
def remind(ctx: ActionContext) -> None:
    item = _item(ctx)
    changed = ctx.session.scalar(
        select(ExtensionRequest.decided_at)
        .where(ExtensionRequest.resolution_id == item.id, ExtensionRequest.status == ExtensionStatus.APPROVED)
        .order_by(ExtensionRequest.decided_at.desc()).limit(1))
    if supervision.reminded_for_this_deadline(item, changed):
        return  # implement was entered again (extension refused): one reminder per deadline
    supervision.remind_lead(ctx.session, item, ctx.now)


@registry.action(
    "resolution.supervise",
    title="督办",
    description="逾期未办结（红灯）时每周督办牵头单位，并报召集人和办公室；按督办升级规则逐周升级为督办函、报负责人。",
    reads=("resolution_id",),
    returns=("rung", "letter_id", "letter_due"),
)
def supervise(ctx: ActionContext) -> dict[str, Any]:
    item = _item(ctx)
    done = supervision.escalate(ctx.session, item, ctx.now)
    if done is None or done.letter is None:
        # a task re-entered while overdue (rework, extension) re-arms its timer: one 督办 per occurrence
        return {"rung": done.rung.value if done else "none", "letter_id": None, "letter_due": None}
    return {"rung": done.rung.value, "letter_id": done.letter.id,
            "letter_due": iso_local(done.letter.sign_due or ctx.now)}


def _letter(ctx: ActionContext) -> SupervisionLetter:
    return load(ctx.session, SupervisionLetter, need_id(ctx, "letter_id"), "督办函")


@registry.action(
    "resolution.sign_letter",
    title="签发督办函",
    description="召集人签发督办函，或写明理由暂不发函。",
    reads=("letter_id", "letter_decision", "letter_comment"),
)
def sign_letter(ctx: ActionContext) -> None:
    choice = decision(ctx, "letter_decision", ("sign", "hold"))
    comment = text(ctx, "letter_comment")
    if choice == "hold":
        comment = comment_required(ctx, "letter_comment", "暂不发函时请写明理由")
    supervision.sign_letter(ctx.session, _letter(ctx), choice == "sign", ctx.actor, ctx.now, comment or None)


@registry.action(
    "resolution.issue_letter",
    title="发出督办函",
    description="签发的督办函从发文登记取得文号，生成公文并发给责任单位主要负责人；暂不发函的记录在案。",
    reads=("letter_id",),
)
def issue_letter(ctx: ActionContext) -> None:
    from meeting.letters import issue  # the document module imports the GB/T 9704 helpers, only needed here

    letter = _letter(ctx)
    if letter.status == LetterStatus.ISSUED and letter.number is None:
        issue(ctx.session, letter, ctx.now, ctx.actor, ctx.instance_id)


@registry.action(
    "resolution.lapse_letter",
    title="督办函逾期未签发",
    description="签发期限届满仍未签发的督办函记为逾期未签发，并告知办公室和召集人。",
    reads=("letter_id",),
)
def lapse_letter(ctx: ActionContext) -> None:
    supervision.lapse_letter(ctx.session, _letter(ctx), ctx.now)


# ---------------------------------------------------------------------------------------------- extensions
def extension_refusal(ctx: ActionContext, item: ResolutionItem, rules: SupervisionRules) -> dict[str, str]:
    """Why the office's rules refuse an extension request now, by field; empty when they allow it."""
    cal = calendar_for(ctx.session)
    last_day = cal.add(local_today(item.deadline), rules.extension_grace_workdays) \
        if rules.extension_grace_workdays else local_today(item.deadline)
    if ctx.now > end_of_day(last_day):
        when = "办理时限" if not rules.extension_grace_workdays else \
            f"办理时限后{rules.extension_grace_workdays}个工作日（{last_day.isoformat()}）"
        return {"report_action": f"延期须在{when}届满前申请；办理时限{format_day(item.deadline)}已过，"
                                 f"请报告落实结果并说明逾期原因。"}
    used = ctx.session.scalar(select(func.count()).select_from(ExtensionRequest).where(
        ExtensionRequest.resolution_id == item.id,
        ExtensionRequest.status.in_((ExtensionStatus.APPROVED, ExtensionStatus.PENDING)))) or 0
    if item.source == ItemSource.PETITION:  # the statutory limits of 信访, not the office's rules
        if used >= rules.petition_extension_max_count:
            return {"report_action": f"本信访事项已延期{used}次，信访事项最多延期{rules.petition_extension_max_count}次，"
                                     f"不能再申请延期。"}
        return {}
    if used >= rules.extension_max_count:
        return {"report_action": f"本事项已延期{used}次，每项最多延期{rules.extension_max_count}次，不能再申请延期。"}
    return {}


def _request_extension(ctx: ActionContext, item: ResolutionItem) -> None:
    rules = load_rules(ctx.session)
    errors = extension_refusal(ctx, item, rules)
    if errors:
        raise FormError(errors)
    requested = None
    try:
        requested = as_date(ctx.data.get("requested_deadline"))
    except ValueError:
        errors["requested_deadline"] = "请填写有效日期"
    current = local_today(item.deadline)
    if item.source == ItemSource.PETITION:
        bound, limit = current + timedelta(days=rules.petition_extension_max_days), \
            f"信访事项每次延期最多{rules.petition_extension_max_days}天"
    else:
        bound, limit = calendar_for(ctx.session).add(current, rules.extension_max_workdays), \
            f"每次延期最多{rules.extension_max_workdays}个工作日"
    if requested is None:
        errors.setdefault("requested_deadline", "申请延期时请填写申请延至的日期")
    elif requested <= current:
        errors["requested_deadline"] = f"申请延至的日期须晚于当前办理时限（{current.isoformat()}）"
    elif requested < local_today(ctx.now):
        errors["requested_deadline"] = "申请延至的日期不能早于今天"
    elif requested > bound:
        errors["requested_deadline"] = f"{limit}，申请延至的日期不能晚于{bound.isoformat()}"
    if not text(ctx, "extension_reason"):
        errors["extension_reason"] = "申请延期时请写明理由"
    if errors or requested is None:
        raise FormError(errors)
    ctx.session.add(ExtensionRequest(resolution_id=item.id, requested_deadline=end_of_day(requested),
                                     reason=text(ctx, "extension_reason"), status=ExtensionStatus.PENDING,
                                     requested_by=ctx.actor, requested_at=ctx.now))


@registry.action(
    "resolution.record_report",
    title="记录落实报告",
    description="牵头单位报告落实结果或申请延期（按延期规则）；按核验意见整改后再次报告。",
    reads=("resolution_id", "report_action", "result_body", "attachment", "requested_deadline",
           "extension_reason", "rework_body"),
)
def record_report(ctx: ActionContext) -> None:
    item = _item(ctx)
    # The rework task reuses this hook; it is told apart by its own field (report_action is still in the data).
    if ctx.task_bpmn_id == "rework" or text(ctx, "rework_body"):
        body = comment_required(ctx, "rework_body", "请填写整改落实情况")
        _report(ctx, item, "rework", item.lead_unit, body, text(ctx, "attachment") or None)
        item.report()
        return
    action = decision(ctx, "report_action", ("report", "extend"))
    if action == "extend":
        _request_extension(ctx, item)
        return
    body = comment_required(ctx, "result_body", "报告落实结果时请填写落实情况")
    _report(ctx, item, "result", item.lead_unit, body, text(ctx, "attachment") or None)
    item.report()


def pending_extension(ctx: ActionContext, item: ResolutionItem) -> ExtensionRequest:
    request = ctx.session.scalar(
        select(ExtensionRequest)
        .where(ExtensionRequest.resolution_id == item.id, ExtensionRequest.status == ExtensionStatus.PENDING)
        .order_by(ExtensionRequest.requested_at.desc(), ExtensionRequest.id.desc())
    )
    if request is None:
        raise ActionError(f"议定事项{item.number}没有待审批的延期申请。")
    return request


@registry.action(
    "resolution.decide_extension",
    title="审批延期申请",
    description="召集人（信访事项为区信访局）同意或不同意延期；同意则改定办理时限，不同意须写明意见；结果通知牵头单位。",
    reads=("resolution_id", "extension_decision", "extension_comment"),
    returns=("deadline",),
)
def decide_extension(ctx: ActionContext) -> dict[str, Any]:
    approved = decision(ctx, "extension_decision", ("approve", "refuse")) == "approve"
    comment = text(ctx, "extension_comment")
    if not approved:
        comment = comment_required(ctx, "extension_comment", "不同意延期时请写明意见")
    item = _item(ctx)
    request = pending_extension(ctx, item)
    request.decide(approved, ctx.actor, ctx.now, comment or None)
    if approved:
        if item.original_deadline is None:
            item.original_deadline = item.deadline
        item.deadline = request.requested_deadline
        title = f"延期申请已同意：{_headline(item)}"
        body = f"办理时限延至{format_day(item.deadline)}。{comment}"
    else:
        title = f"延期申请未同意：{_headline(item)}"
        body = f"办理时限仍为{format_day(item.deadline)}。{comment}"
    notify(ctx.session, unit_group(item.lead_unit), "decision", title, body, link("resolutions", item.id), ctx.now)
    return {"deadline": iso_local(item.deadline)}


# ---------------------------------------------------------------------------------------------- co-units
@registry.action(
    "resolution.record_input",
    title="记录配合单位意见",
    description="记录配合单位的配合落实情况。",
    reads=("resolution_id", "co_unit", "co_opinion"),
)
def record_input(ctx: ActionContext) -> None:
    body = comment_required(ctx, "co_opinion", "请填写配合落实情况")
    item = _item(ctx)
    unit = _co_unit(ctx, item)
    if unit not in item.co_units and unit != item.lead_unit:
        raise ActionError(f"单位“{unit}”不是议定事项{item.number}的配合单位。")
    if unit in item.co_units:
        supervision.answer_co(item, unit, ctx.now)
    _report(ctx, item, "input", unit, body)


def _co_unit(ctx: ActionContext, item: ResolutionItem) -> str:
    """The co-operating unit a per-unit task stands for. A unit merged into another since the item began is
    answered for by the unit that took it over (its code in the item now; the instance keeps the old one)."""
    given = text(ctx, "co_unit")
    return given if given in item.co_units else current_code(ctx.session, given)


@registry.action(
    "resolution.remind_co",
    title="催办配合单位",
    description="配合时限前按工作日提醒配合单位。",
    reads=("resolution_id", "co_unit"),
)
def remind_co(ctx: ActionContext) -> None:
    item = _item(ctx)
    unit = _co_unit(ctx, item)
    if unit in item.co_units:  # merged into the lead unit: nobody left to remind as co-unit
        supervision.remind_co(ctx.session, item, unit, ctx.now)


@registry.action(
    "resolution.record_silent",
    title="记录配合单位未反馈",
    description="配合时限届满仍未反馈的配合单位记为未反馈，告知该单位并报办公室和召集人，牵头单位照常落实。",
    reads=("resolution_id", "co_unit"),
)
def record_silent(ctx: ActionContext) -> None:
    item = _item(ctx)
    unit = _co_unit(ctx, item)
    if unit in item.co_units:
        supervision.record_silent(ctx.session, item, unit, ctx.now)


# ---------------------------------------------------------------------------------------------- verification, 销号
@registry.action(
    "resolution.verify",
    title="核验落实结果",
    description="办公室核验落实结果：同意办结销号（重点事项须上传佐证材料，报召集人审批），或退回整改（须写明意见）。",
    reads=("resolution_id", "verify_decision", "verify_comment", "evidence"),
    returns=("closing_due",),
)
def verify(ctx: ActionContext) -> dict[str, Any]:
    choice = decision(ctx, "verify_decision", ("accept", "return"))
    comment = text(ctx, "verify_comment")
    if choice == "return":
        comment = comment_required(ctx, "verify_comment", "退回整改时请写明核验意见")
    item = _item(ctx)
    evidence = text(ctx, "evidence") or None
    if choice == "accept" and item.key_item and not evidence:
        raise FormError({"evidence": "重点事项销号须上传佐证材料"})
    if evidence:
        item.evidence_id = evidence
    _report(ctx, item, "verify", lead_unit_code(ctx.session), comment or "核验通过，同意办结销号。", evidence)
    if choice == "return":
        item.send_back()
        notify(ctx.session, unit_group(item.lead_unit), "returned", f"退回整改：{_headline(item)}", comment,
               link("resolutions", item.id), ctx.now)
        return {"closing_due": None}
    rules = load_rules(ctx.session)
    due = end_of_day(calendar_for(ctx.session).add(local_today(ctx.now), rules.closing_approval_workdays))
    return {"closing_due": iso_local(due) if item.key_item else None}


@registry.action(
    "resolution.approve_closing",
    title="审批重点事项销号",
    description="召集人审阅佐证材料后同意销号，或写明意见退回牵头单位补充。",
    reads=("resolution_id", "closing_decision", "closing_comment"),
)
def approve_closing(ctx: ActionContext) -> None:
    choice, comment = approve_or_return(ctx, "closing_decision", "closing_comment", "退回补充时请写明意见")
    item = _item(ctx)
    if item.evidence_id is None:
        raise ActionError(f"重点事项{item.number}没有佐证材料，不能销号。")
    _report(ctx, item, "closing", None, comment or "同意销号。")
    if choice == "return":
        item.send_back()
        notify(ctx.session, unit_group(item.lead_unit), "returned", f"销号退回补充：{_headline(item)}", comment,
               link("resolutions", item.id), ctx.now)


@registry.action(
    "resolution.close",
    title="办结销号",
    description="议定事项办结销号（重点事项须有佐证材料和召集人的同意）。",
    reads=("resolution_id",),
)
def close(ctx: ActionContext) -> None:
    item = _item(ctx)
    if item.key_item and item.evidence_id is None:
        raise ActionError(f"重点事项{item.number}没有佐证材料，不能销号。")
    item.close(ctx.now)
    notify(ctx.session, unit_group(item.lead_unit), "info", f"已办结销号：{_headline(item)}", "",
           link("resolutions", item.id), ctx.now)
