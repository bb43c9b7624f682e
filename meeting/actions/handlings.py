"""A department's part of a town's case (the ``assistance_handling`` process, called once per department and aid
type): 签收 within a working day or return it as 非本部门职责 with a reason; handle it within the routing rule's
limit. A late 签收 is 催办ed, a late result 督办ed (the office and the town are told), and a department still silent
some working days past its limit has its part closed as 逾期未办结 — recorded, counted, and never holding the case.
"""

from __future__ import annotations

from typing import Any

from engine.actions import ActionContext
from engine.errors import FormError
from meeting import cases
from meeting.actions._common import comment_required, decision, link, load, need_id, text
from meeting.actions._registry import registry
from meeting.models import AssistanceCase, CaseHandling
from meeting.notify import notify_groups
from meeting.roles import town_group
from meeting.rules import load_rules
from meeting.statuses import HandlingStatus
from meeting.timeutil import iso_local
from meeting.workdays import add_workdays

OUTCOMES = {"granted": "予以救助", "refused": "不予救助", "referred": "已纳入其他渠道办理"}


def _handling(ctx: ActionContext, *statuses: HandlingStatus) -> tuple[CaseHandling, AssistanceCase]:
    row = load(ctx.session, CaseHandling, need_id(ctx, "handling_id"), "部门办理事项")
    if statuses:
        row.require(*statuses)
    return row, load(ctx.session, AssistanceCase, row.case_id, "案件")


@registry.action(
    "handling.open",
    title="开始部门办理",
    description="确定办理部门（民政事项为镇（街办）民政办）、签收期限、办理期限和逾期未办结的期限。",
    reads=("handling_id",),
    returns=("handling_group", "handling_sign_due", "handling_due", "handling_final_due", "handling_aid_type"),
)
def open_handling(ctx: ActionContext) -> dict[str, Any]:
    row, case = _handling(ctx, HandlingStatus.SIGNING)
    final = add_workdays(ctx.session, row.due_at, load_rules(ctx.session).case_lapse_workdays)
    return {"handling_group": cases.handling_group(case, row.department), "handling_aid_type": row.aid_type,
            "handling_sign_due": iso_local(row.sign_due_at), "handling_due": iso_local(row.due_at),
            "handling_final_due": iso_local(final)}


@registry.action(
    "handling.sign",
    title="签收或退回",
    description="办理部门签收案件，或以“非本部门职责”退回并写明理由（退回窗口重新分派）。",
    reads=("handling_id", "sign_decision", "return_reason"),
)
def sign(ctx: ActionContext) -> None:
    choice = decision(ctx, "sign_decision", ("sign", "return"))
    row, case = _handling(ctx, HandlingStatus.SIGNING)
    if choice == "return":
        row.return_reason = comment_required(ctx, "return_reason", "退回时请写明不属于本部门职责的理由")
        row.status, row.done_at, row.done_by = HandlingStatus.RETURNED, ctx.now, ctx.actor
        return
    row.status, row.signed_at, row.signed_by = HandlingStatus.HANDLING, ctx.now, ctx.actor


@registry.action(
    "handling.done",
    title="办理结果",
    description="办理部门在时限内办结，记录办理结果（予以救助的写明金额或措施）。",
    reads=("handling_id", "handling_outcome", "handling_amount", "handling_result"),
)
def done(ctx: ActionContext) -> None:
    outcome = text(ctx, "handling_outcome")
    if outcome not in OUTCOMES:
        raise FormError({"handling_outcome": "请选择办理结果"})
    result = comment_required(ctx, "handling_result", "请写明办理情况")
    amount = ctx.data.get("handling_amount")
    if amount is not None and (not isinstance(amount, int) or amount < 0):
        raise FormError({"handling_amount": "金额应为不小于0的整数（元）"})
    row, _case = _handling(ctx, HandlingStatus.HANDLING)
    row.outcome, row.amount, row.result = outcome, amount, result
    row.status, row.done_at, row.done_by = HandlingStatus.DONE, ctx.now, ctx.actor
    row.on_time = ctx.now <= row.due_at


def _tell(ctx: ActionContext, row: CaseHandling, case: AssistanceCase, kind: str, title: str, body: str) -> None:
    notify_groups(ctx.session, [cases.handling_group(case, row.department), "office",
                                town_group(case.town_code, "window")], kind, f"{title}：{case.number}", body,
                  link("cases", case.id), ctx.now)


@registry.action(
    "handling.sign_overdue",
    title="签收催办",
    description="办理部门超过签收时限未签收的，催办部门并告知办公室和窗口。",
    reads=("handling_id",),
)
def sign_overdue(ctx: ActionContext) -> None:
    row, case = _handling(ctx)
    if row.status == HandlingStatus.SIGNING:
        _tell(ctx, row, case, "reminder", "一门受理案件超时未签收", f"{row.aid_type}：请在今日内签收或退回。")


@registry.action(
    "handling.overdue",
    title="办理督办",
    description="办理部门超过办理时限未办结的，督办部门并告知办公室和窗口。",
    reads=("handling_id",),
)
def overdue(ctx: ActionContext) -> None:
    row, case = _handling(ctx)
    if row.status in (HandlingStatus.SIGNING, HandlingStatus.HANDLING):
        _tell(ctx, row, case, "supervision", "一门受理案件逾期未办结", f"{row.aid_type}：已超过办理时限，请抓紧办结。")


@registry.action(
    "handling.lapse",
    title="记为逾期未办结",
    description="超过办理时限若干工作日仍未办结的，记为“逾期未办结”并告知办公室和窗口，案件继续办理、不因此停滞。",
    reads=("handling_id",),
)
def lapse(ctx: ActionContext) -> None:
    row, case = _handling(ctx, HandlingStatus.SIGNING, HandlingStatus.HANDLING)
    row.status, row.done_at, row.on_time = HandlingStatus.LAPSED, ctx.now, False
    _tell(ctx, row, case, "supervision", "一门受理案件逾期未办结", f"{row.aid_type}：已记为逾期未办结，纳入通报。")
