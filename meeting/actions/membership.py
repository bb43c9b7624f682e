"""成员单位调整: a unit proposes a change of its membership, office and convener review, the district decides."""

from __future__ import annotations

from typing import Any

from engine.actions import ActionContext
from engine.errors import ActionError, FormError
from meeting.actions._common import (
    comment_required,
    decision,
    link,
    load,
    need_id,
    optional_id,
    text,
    unit_group,
)
from meeting.actions._registry import registry
from meeting.directory import groups_of
from meeting.models import CHANGE_KINDS, MembershipChange, Unit
from meeting.notify import notify, notify_groups
from meeting.statuses import ChangeStatus

KIND_NAMES = {"join": "增加成员单位", "leave": "退出", "rename": "职能或名称变更"}


def _check_proposal(ctx: ActionContext, kind: str, unit: Unit | None) -> dict[str, str]:
    if unit is None or not unit.active:
        return {"change_unit": "该单位不在单位名录中"}
    is_member = unit.kind == "member"
    if kind == "join" and is_member:
        return {"change_unit": f"{unit.name}已是成员单位"}
    if kind in ("leave", "rename") and not is_member:
        return {"change_unit": f"{unit.name}不是成员单位"}
    if kind == "join" and not text(ctx, "new_duties"):
        return {"new_duties": "增加成员单位时请填写其职责分工"}
    if kind == "rename" and not (text(ctx, "new_unit_name") or text(ctx, "new_duties")):
        return {"new_unit_name": "职能或名称变更时请填写新名称或新的职责分工"}
    # The rules: a change is proposed by the unit concerned (the office may file one for any unit).
    initiator = text(ctx, "initiator")
    own_unit = text(ctx, "initiator_unit")
    if own_unit and own_unit != unit.code and "office" not in groups_of(ctx.session, initiator):
        return {"change_unit": "成员单位调整由所在单位提出，只能为本单位申请"}
    return {}


@registry.action(
    "membership.save",
    title="保存成员单位调整申请",
    description="保存单位因职能变化提出的成员调整申请；退回修改后再次提交时更新同一申请。",
    reads=("change_kind", "change_unit", "new_unit_name", "new_duties", "change_reason", "change_id",
           "initiator", "initiator_unit"),
    returns=("change_id",),
)
def save(ctx: ActionContext) -> dict[str, Any]:
    kind = decision(ctx, "change_kind", CHANGE_KINDS)
    code = text(ctx, "change_unit")
    errors: dict[str, str] = {}
    if not code:
        errors["change_unit"] = "请选择涉及单位"
    if not text(ctx, "change_reason"):
        errors["change_reason"] = "请写明调整理由"
    if not errors:
        errors = _check_proposal(ctx, kind, ctx.session.get(Unit, code))
    if errors:
        raise FormError(errors)
    change_id = optional_id(ctx, "change_id")
    if change_id is None:
        change = MembershipChange(proposed_by=ctx.actor or text(ctx, "initiator") or None,
                                  instance_id=ctx.instance_id, created_at=ctx.now, status=ChangeStatus.SUBMITTED)
        ctx.session.add(change)
    else:
        change = load(ctx.session, MembershipChange, change_id, "成员单位调整申请")
        change.resubmit()
    change.kind, change.unit_code, change.reason = kind, code, text(ctx, "change_reason")
    change.new_unit_name = text(ctx, "new_unit_name") or None
    change.new_duties = text(ctx, "new_duties") or None
    ctx.session.flush()
    ctx.set_business_key(change.key)
    return {"change_id": change.id}


# Which review step a completion belongs to: (decision field, comment field, status when forwarded).
REVIEW_STEPS = {
    "office_review": ("office_decision", "office_comment", ChangeStatus.FORWARDED),
    "convener_review": ("convener_decision", "convener_comment", ChangeStatus.REPORTED),
}


@registry.action(
    "membership.review",
    title="审核成员单位调整",
    description="办公室审核后呈报召集人，召集人审核后报区政府研究；退回须写明意见。",
    reads=("change_id", "office_decision", "office_comment", "convener_decision", "convener_comment"),
)
def review(ctx: ActionContext) -> None:
    step = REVIEW_STEPS.get(ctx.task_bpmn_id)
    if step is None:
        raise ActionError(f"环节“{ctx.task_bpmn_id}”不是成员单位调整的审核环节。")
    decision_field, comment_field, forwarded = step
    choice = decision(ctx, decision_field, ("forward", "return"))
    comment = text(ctx, comment_field)
    if choice == "return":
        comment = comment_required(ctx, comment_field, "退回时请写明意见")
    change = load(ctx.session, MembershipChange, need_id(ctx, "change_id"), "成员单位调整申请")
    change.review_comment = comment or None
    if choice == "forward":
        change.status = forwarded
        return
    if decision_field == "office_decision":
        change.status = ChangeStatus.RETURNED
        target = unit_group(change.unit_code)
    else:
        # Back to the office, which reviews the proposal again.
        change.status = ChangeStatus.SUBMITTED
        target = "office"
    notify(ctx.session, target, "returned", f"成员单位调整申请被退回：{KIND_NAMES[change.kind]}", comment,
           link("membership", change.id), ctx.now)


@registry.action(
    "membership.decide",
    title="记录区政府研究结果",
    description="区政府同意或不同意成员单位调整，结果通知申请单位和办公室。",
    reads=("change_id", "membership_decision"),
)
def decide(ctx: ActionContext) -> None:
    choice = decision(ctx, "membership_decision", ("approve", "reject"))
    change = load(ctx.session, MembershipChange, need_id(ctx, "change_id"), "成员单位调整申请")
    change.decide(approved=choice == "approve", at=ctx.now)
    verdict = "同意" if choice == "approve" else "不同意"
    notify_groups(ctx.session, [unit_group(change.unit_code), "office"], "decision",
                  f"区政府{verdict}成员单位调整：{KIND_NAMES[change.kind]}", change.reason,
                  link("membership", change.id), ctx.now)
