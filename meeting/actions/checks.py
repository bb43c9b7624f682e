"""家庭经济状况核对 (the ``household_check`` process and its called ``household_check_answer``): a town's 民政办 or
the 核对 office asks with the household's signed 授权书 (refused without it); the published decision chooses the
provider departments and items; each provider answers in its own typed form, or 无记录 / 无法核实 with a reason,
within its working-day deadline — 催办ed before it, and recorded as 未反馈 at it, the check going on; the 核对报告
is assembled, reviewed by the 核对 office and returned to the requester.

Identity numbers and the phone are kept on the check only; the process data carries them masked.
"""

from __future__ import annotations

from typing import Any

from engine.actions import ActionContext
from engine.errors import ActionError, FormError
from meeting import check_report, checks, idcard
from meeting.actions._common import link, load, need_id, text
from meeting.actions._registry import registry
from meeting.actions.assistance import starter
from meeting.directory import groups_of
from meeting.models import CheckAnswer, HouseholdCheck
from meeting.notify import notify_groups
from meeting.privacy import mask_phone
from meeting.rules import load_rules
from meeting.statuses import AnswerStatus, CheckStatus
from meeting.timeutil import iso_local, local_today
from meeting.workdays import add_workdays

AUTHORIZATION_MISSING = "未上传申请人及家庭成员签字的授权书，不能发起核对"


def _check(ctx: ActionContext, *statuses: CheckStatus) -> HouseholdCheck:
    check = load(ctx.session, HouseholdCheck, need_id(ctx, "check_id"), "核对")
    if statuses:
        check.require(*statuses)
    return check


def _answer(ctx: ActionContext, *statuses: AnswerStatus) -> tuple[CheckAnswer, HouseholdCheck]:
    row = load(ctx.session, CheckAnswer, need_id(ctx, "answer_id"), "核对反馈")
    if statuses:
        row.require(*statuses)
    return row, load(ctx.session, HouseholdCheck, row.check_id, "核对")


def requester(ctx: ActionContext, username: str | None) -> tuple[str | None, str]:
    """(the town, the group the report goes back to): the town's 民政办, or the 核对 office."""
    groups = groups_of(ctx.session, username) if username else []
    for g in groups:
        parts = g.split(":")
        if len(parts) == 3 and parts[0] == "town" and parts[2] == "mzb":
            return parts[1], g
    if checks.CHECK_OFFICE in groups:
        return None, checks.CHECK_OFFICE
    raise FormError({"__all__": "只有镇（街办）民政办或区核对办公室可以发起家庭经济状况核对"})


@registry.action(
    "check.register",
    title="登记核对申请",
    description="登记被核对家庭（申请人和家庭成员，身份证号按国家标准校验）和救助类别；未上传签字授权书的不予发起。"
                "身份证号和电话只在核对记录中保存。",
    reads=("check_aid_type", "applicant_name", "applicant_id_number", "applicant_phone", "applicant_address",
           "household_members", "authorization"),
    returns=("check_id", "check_number", "requester_group", "applicant_id_number", "applicant_phone",
             "household_members"),
)
def register(ctx: ActionContext) -> dict[str, Any]:
    who = starter(ctx)
    town, group = requester(ctx, who)
    errors: dict[str, str] = {}
    aid_type = text(ctx, "check_aid_type")
    if aid_type not in checks.CHECK_AID_TYPES:
        errors["check_aid_type"] = "请选择救助类别"
    name = text(ctx, "applicant_name")[:100]
    if not name:
        errors["applicant_name"] = "此项必填"
    number = idcard.normalise(text(ctx, "applicant_id_number"))
    why = idcard.problem(number, local_today(ctx.now)) if number else "此项必填"
    if why:
        errors["applicant_id_number"] = why
    phone = text(ctx, "applicant_phone")[:32]
    digits = phone.replace("-", "").replace(" ", "")
    if phone and not (digits.isdigit() and 7 <= len(digits) <= 12):
        errors["applicant_phone"] = "联系电话应为7至12位数字"
    authorization = text(ctx, "authorization")
    if not authorization:
        errors["authorization"] = AUTHORIZATION_MISSING
    members = [m for m in (ctx.data.get("household_members") or []) if isinstance(m, dict)]
    if errors:
        raise FormError(errors)
    check = HouseholdCheck(
        number=checks.next_number(ctx.session, ctx.now), town_code=town, requester_group=group, requested_by=who,
        aid_type=aid_type, applicant_name=name, id_number=number, phone=phone or None,
        address=text(ctx, "applicant_address")[:200], members=members, authorization_id=authorization,
        status=CheckStatus.CHECKING, instance_id=ctx.instance_id, created_at=ctx.now)
    ctx.session.add(check)
    ctx.session.flush()
    ctx.set_business_key(check.number)
    return {"check_id": check.id, "check_number": check.number, "requester_group": group,
            "applicant_id_number": idcard.mask(number), "applicant_phone": mask_phone(phone),
            "household_members": checks.masked_members(members)}


@registry.action(
    "check.items",
    title="按规则确定核对部门和项目",
    description="按已发布的决策表“家庭经济状况核对项目”（household_check_items），由救助类别确定核对部门和核对项目，"
                "每个部门一件反馈，反馈时限按设置的工作日数。",
    reads=("check_id",),
    returns=("answer_ids",),
)
def items(ctx: ActionContext) -> dict[str, Any]:
    check = _check(ctx, CheckStatus.CHECKING)
    version, asks = checks.providers_for(ctx.session, check.aid_type)
    check.decision_version = version
    rows = checks.open_answers(ctx.session, check, asks, ctx.now)
    for row in rows:
        notify_groups(ctx.session, [f"unit:{row.provider}"], "task", f"家庭经济状况核对：{check.number}",
                      f"核对项目：{'、'.join(row.items)}", link("checks", check.id), ctx.now)
    return {"answer_ids": [r.id for r in rows]}


@registry.action(
    "answer.open",
    title="开始部门核对",
    description="确定反馈部门、反馈期限和到期前催办的时间。",
    reads=("answer_id",),
    returns=("answer_group", "answer_provider", "answer_due", "answer_remind", "answer_items"),
)
def open_answer(ctx: ActionContext) -> dict[str, Any]:
    row, _check = _answer(ctx, AnswerStatus.PENDING)
    remind = add_workdays(ctx.session, row.due_at, -load_rules(ctx.session).check_remind_workdays)
    return {"answer_group": f"unit:{row.provider}", "answer_provider": row.provider,
            "answer_due": iso_local(row.due_at), "answer_remind": iso_local(min(remind, row.due_at)),
            "answer_items": "、".join(row.items or [])}


@registry.action(
    "answer.submit",
    title="反馈核对结果",
    description="核对部门按本部门的核对项目反馈结果；无记录或无法核实的写明理由。",
    reads=("answer_id", "answer_outcome", "answer_reason", *check_report.ALL_FINDING_IDS),
)
def submit(ctx: ActionContext) -> None:
    row, _check = _answer(ctx, AnswerStatus.PENDING)
    outcome = text(ctx, "answer_outcome")
    if outcome not in check_report.OUTCOMES:
        raise FormError({"answer_outcome": "请选择核对结果"})
    findings = check_report.findings_of(row.provider, ctx.data)
    reason = text(ctx, "answer_reason")
    if outcome == "found" and not findings:
        raise FormError({"answer_outcome": "请填写核对到的情况，或选择“无记录”或“无法核实”"})
    if outcome != "found" and not reason:
        raise FormError({"answer_reason": "选择“无记录”或“无法核实”时请写明理由"})
    row.status = check_report.OUTCOMES[outcome]
    row.findings = findings if outcome == "found" else None
    row.reason = reason or None
    row.answered_at, row.answered_by = ctx.now, ctx.actor
    row.on_time = ctx.now <= row.due_at
    row.workdays = checks.took_workdays(ctx.session, row, ctx.now)


@registry.action(
    "answer.remind",
    title="核对催办",
    description="反馈期限前仍未反馈的，催办核对部门。",
    reads=("answer_id",),
)
def remind(ctx: ActionContext) -> None:
    row, check = _answer(ctx)
    if row.status != AnswerStatus.PENDING:
        return
    row.reminded_at = ctx.now
    notify_groups(ctx.session, [f"unit:{row.provider}"], "reminder", f"家庭经济状况核对催办：{check.number}",
                  f"请于{iso_local(row.due_at)[:10]}前反馈核对结果。", link("checks", check.id), ctx.now)


@registry.action(
    "answer.silent",
    title="记为未反馈",
    description="反馈期限届满仍未反馈的，记为“未反馈”，核对继续进行，核对报告列明未反馈的部门。",
    reads=("answer_id",),
)
def silent(ctx: ActionContext) -> None:
    row, check = _answer(ctx, AnswerStatus.PENDING)
    row.status, row.on_time = AnswerStatus.SILENT, False
    row.workdays = checks.took_workdays(ctx.session, row, ctx.now)
    notify_groups(ctx.session, [f"unit:{row.provider}", checks.CHECK_OFFICE, check.requester_group], "supervision",
                  f"核对部门逾期未反馈：{check.number}", "已记为“未反馈”，核对继续进行，纳入部门反馈情况统计。",
                  link("checks", check.id), ctx.now)


@registry.action(
    "check.assemble",
    title="生成核对报告",
    description="汇总各部门的核对结果，列明无记录、无法核实和未反馈的部门，生成核对报告交核对办公室审核。",
    reads=("check_id",),
)
def assemble(ctx: ActionContext) -> None:
    check = _check(ctx, CheckStatus.CHECKING)
    check.report = check_report.assemble(ctx.session, check, ctx.now)
    check.status = CheckStatus.REVIEWING


@registry.action(
    "check.review",
    title="审核核对报告",
    description="核对办公室审核核对报告，写明核对意见后出具。",
    reads=("check_id", "review_comment"),
)
def review(ctx: ActionContext) -> None:
    check = _check(ctx, CheckStatus.REVIEWING)
    comment = text(ctx, "review_comment")
    if not comment:
        raise FormError({"review_comment": "请写明核对意见"})
    check.review_comment, check.reviewed_by, check.reviewed_at = comment, ctx.actor, ctx.now


@registry.action(
    "check.return",
    title="核对报告反馈申请方",
    description="核对报告出具后反馈发起核对的镇（街办）民政办或核对办公室，随核对记录保存。",
    reads=("check_id",),
)
def return_report(ctx: ActionContext) -> None:
    check = _check(ctx, CheckStatus.REVIEWING)
    if check.reviewed_at is None:
        raise ActionError("核对报告尚未审核。")
    check.status, check.closed_at = CheckStatus.RETURNED, ctx.now
    notify_groups(ctx.session, [check.requester_group], "info", f"核对报告已出具：{check.number}",
                  "请查看核对报告。", link("checks", check.id), ctx.now)
