"""更新成员名录: apply a membership change the district approved."""

from __future__ import annotations

from engine.actions import ActionContext
from meeting.actions._common import link, load, need_id
from meeting.actions._registry import registry
from meeting.directory import apply_membership_change
from meeting.models import MembershipChange
from meeting.notify import notify


@registry.action(
    "directory.apply_membership_change",
    title="更新成员名录",
    description="按区政府研究确定的结果更新成员单位名录。",
    reads=("change_id",),
)
def apply_change(ctx: ActionContext) -> None:
    change = load(ctx.session, MembershipChange, need_id(ctx, "change_id"), "成员单位调整申请")
    change.check_approved()
    unit = apply_membership_change(ctx.session, change)
    notify(ctx.session, "office", "info", f"成员名录已更新：{unit.name}", change.reason,
           link("membership", change.id), ctx.now)
