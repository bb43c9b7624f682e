"""议定事项落实: assignment, 催办 and 督办, reports and extensions, co-operating input, verification, 销号."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from engine.actions import ActionContext
from engine.errors import ActionError, FormError
from meeting.actions._common import comment_required, decision, link, load, need_id, text, unit_group
from meeting.actions._registry import registry
from meeting.directory import lead_unit_code, unit_name
from meeting.models import ExtensionRequest, ProgressReport, ResolutionItem
from meeting.notify import notify, notify_groups
from meeting.statuses import ExtensionStatus
from meeting.timeutil import as_date, end_of_day, format_day, iso_local, local_today

SUPERVISE_PERIOD = timedelta(days=7)  # the P7D of the overdue timers in processes/resolution_item.bpmn


def _item(ctx: ActionContext) -> ResolutionItem:
    item = load(ctx.session, ResolutionItem, need_id(ctx, "resolution_id"), "议定事项")
    item.check_open()
    return item


def _headline(item: ResolutionItem) -> str:
    return f"{item.number} {item.content[:40]}"


def _report(
    ctx: ActionContext, item: ResolutionItem, kind: str, unit: str | None, body: str, attachment: str | None = None
) -> None:
    ctx.session.add(ProgressReport(resolution_id=item.id, unit_code=unit, kind=kind, body=body,
                                   attachment=attachment, author=ctx.actor, created_at=ctx.now))


@registry.action(
    "resolution.start",
    title="交办议定事项",
    description="开始落实一项议定事项，取出牵头单位、配合单位和办理时限。",
    reads=("resolution_id",),
    returns=("lead_unit", "co_units", "deadline"),
)
def start(ctx: ActionContext) -> dict[str, Any]:
    item = _item(ctx)
    item.start()
    # Called per item from the meeting (or a major issue): the instance is the caller's, so its business key
    # stays the meeting's.
    item.instance_id = ctx.instance_id
    return {"lead_unit": item.lead_unit, "co_units": item.co_units, "deadline": iso_local(item.deadline)}


@registry.action(
    "resolution.remind",
    title="催办",
    description="办理时限前三天提醒牵头单位（黄灯）。",
    reads=("resolution_id",),
)
def remind(ctx: ActionContext) -> None:
    item = _item(ctx)
    if _reminded_for_this_deadline(ctx, item):
        return  # implement was entered again (extension refused): one reminder per deadline
    item.reminded_at = ctx.now
    notify(ctx.session, unit_group(item.lead_unit), "reminder", f"催办：{_headline(item)}",
           f"办理时限为{format_day(item.deadline)}，请抓紧落实并报告结果。", link("resolutions", item.id), ctx.now)


def _reminded_for_this_deadline(ctx: ActionContext, item: ResolutionItem) -> bool:
    """A reminder was sent after the deadline last changed (an approved extension sets a new one)."""
    if item.reminded_at is None:
        return False
    changed = ctx.session.scalar(
        select(ExtensionRequest.decided_at)
        .where(ExtensionRequest.resolution_id == item.id, ExtensionRequest.status == ExtensionStatus.APPROVED)
        .order_by(ExtensionRequest.decided_at.desc()).limit(1))
    return changed is None or item.reminded_at > changed


@registry.action(
    "resolution.supervise",
    title="督办",
    description="逾期未办结（红灯）时督办牵头单位，并报召集人和办公室。",
    reads=("resolution_id",),
)
def supervise(ctx: ActionContext) -> None:
    item = _item(ctx)
    if _supervised_this_week(ctx, item):
        return  # a task re-entered while overdue (rework, extension) re-arms its timer: one 督办 per occurrence
    item.supervised_at = ctx.now
    item.supervise_count += 1
    lead = unit_name(ctx.session, item.lead_unit)
    body = f"牵头单位{lead}，办理时限{format_day(item.deadline)}，已逾期（第{item.supervise_count}次督办）。"
    notify_groups(ctx.session, [unit_group(item.lead_unit), "office", "convener"], "supervision",
                  f"督办：{_headline(item)}", body, link("resolutions", item.id), ctx.now)


def _supervised_this_week(ctx: ActionContext, item: ResolutionItem) -> bool:
    """A 督办 was already sent for the current occurrence of ``R/deadline/P7D`` (the deadline, then every 7 days).

    The overdue timers on 落实并报告, 审批延期申请 and 按意见整改 share that cycle; a timer armed when its task
    opens after the deadline fires at once for the occurrence already past, which another task's timer may have
    covered."""
    if item.supervised_at is None or ctx.now < item.deadline:
        return False
    weeks = (ctx.now - item.deadline) // SUPERVISE_PERIOD
    return item.supervised_at >= item.deadline + weeks * SUPERVISE_PERIOD


def _request_extension(ctx: ActionContext, item: ResolutionItem) -> None:
    errors: dict[str, str] = {}
    requested = None
    try:
        requested = as_date(ctx.data.get("requested_deadline"))
    except ValueError:
        errors["requested_deadline"] = "请填写有效日期"
    current = local_today(item.deadline)
    if requested is None:
        errors.setdefault("requested_deadline", "申请延期时请填写申请延至的日期")
    elif requested <= current:
        errors["requested_deadline"] = f"申请延至的日期须晚于当前办理时限（{current.isoformat()}）"
    elif requested < local_today(ctx.now):
        errors["requested_deadline"] = "申请延至的日期不能早于今天"
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
    description="牵头单位报告落实结果或申请延期；按核验意见整改后再次报告。",
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


@registry.action(
    "resolution.decide_extension",
    title="审批延期申请",
    description="召集人同意或不同意延期；同意则改定办理时限，不同意须写明意见；结果通知牵头单位。",
    reads=("resolution_id", "extension_approved", "extension_comment"),
    returns=("deadline",),
)
def decide_extension(ctx: ActionContext) -> dict[str, Any]:
    approved = ctx.data.get("extension_approved")
    if not isinstance(approved, bool):
        raise FormError({"extension_approved": "请选择是否同意延期"})
    comment = text(ctx, "extension_comment")
    if not approved:
        comment = comment_required(ctx, "extension_comment", "不同意延期时请写明意见")
    item = _item(ctx)
    request = ctx.session.scalar(
        select(ExtensionRequest)
        .where(ExtensionRequest.resolution_id == item.id, ExtensionRequest.status == ExtensionStatus.PENDING)
        .order_by(ExtensionRequest.requested_at.desc(), ExtensionRequest.id.desc())
    )
    if request is None:
        raise ActionError(f"议定事项{item.number}没有待审批的延期申请。")
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


@registry.action(
    "resolution.record_input",
    title="记录配合单位意见",
    description="记录配合单位的配合落实情况。",
    reads=("resolution_id", "co_unit", "co_opinion"),
)
def record_input(ctx: ActionContext) -> None:
    body = comment_required(ctx, "co_opinion", "请填写配合落实情况")
    item = _item(ctx)
    unit = text(ctx, "co_unit")
    if unit not in item.co_units:
        raise ActionError(f"单位“{unit}”不是议定事项{item.number}的配合单位。")
    _report(ctx, item, "input", unit, body)


@registry.action(
    "resolution.verify",
    title="核验落实结果",
    description="办公室核验落实结果：同意办结销号，或退回整改（须写明意见并通知牵头单位）。",
    reads=("resolution_id", "verify_decision", "verify_comment"),
)
def verify(ctx: ActionContext) -> None:
    choice = decision(ctx, "verify_decision", ("accept", "return"))
    comment = text(ctx, "verify_comment")
    if choice == "return":
        comment = comment_required(ctx, "verify_comment", "退回整改时请写明核验意见")
    item = _item(ctx)
    _report(ctx, item, "verify", lead_unit_code(ctx.session), comment or "核验通过，同意办结销号。")
    if choice == "return":
        item.send_back()
        notify(ctx.session, unit_group(item.lead_unit), "returned", f"退回整改：{_headline(item)}", comment,
               link("resolutions", item.id), ctx.now)


@registry.action(
    "resolution.close",
    title="办结销号",
    description="议定事项办结销号。",
    reads=("resolution_id",),
)
def close(ctx: ActionContext) -> None:
    item = _item(ctx)
    item.close(ctx.now)
    notify(ctx.session, unit_group(item.lead_unit), "info", f"已办结销号：{_headline(item)}", "",
           link("resolutions", item.id), ctx.now)
