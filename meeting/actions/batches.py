"""动态复核 (the ``household_batch`` process and its called ``household_batch_answer``): a town's 民政办 or the 核对
office re-checks every household on its rolls once a month; each provider gets one list for the whole batch
(download, fill in, upload as .xlsx) within its working-day deadline — silent rows are recorded as 未反馈 — and
the households whose records changed go to the requester's review."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from engine.actions import ActionContext
from engine.errors import FormError
from engine.models import Attachment
from meeting import check_batch, checks
from meeting.actions._common import link, load, need_id, text
from meeting.actions._registry import registry
from meeting.actions.assistance import starter
from meeting.actions.checks import requester
from meeting.models import HouseholdBatch
from meeting.notify import notify_groups
from meeting.rules import load_rules
from meeting.statuses import BatchStatus
from meeting.timeutil import iso_local
from meeting.workdays import add_workdays

MONTH = re.compile(r"^20\d\d-(0[1-9]|1[0-2])$")


def _scheduled_at(ctx: ActionContext) -> datetime:
    try:
        return datetime.fromisoformat(str(ctx.data.get("scheduled_at")))
    except ValueError:
        return ctx.now


def _batch(ctx: ActionContext, *statuses: BatchStatus) -> HouseholdBatch:
    batch = load(ctx.session, HouseholdBatch, need_id(ctx, "batch_id"), "动态复核")
    if statuses:
        batch.require(*statuses)
    return batch


@registry.action(
    "batch.open",
    title="生成动态复核清单",
    description="按月对本镇（街办）或全区在册家庭（已完成核对的家庭）开展动态复核：每个核对部门一份清单，每户一行。",
    reads=("batch_month", "schedule", "scheduled_at"),
    returns=("batch_id", "batch_number", "batch_providers", "requester_group"),
)
def open_batch(ctx: ActionContext) -> dict[str, Any]:
    who = starter(ctx)
    scheduled = bool(ctx.data.get("schedule"))
    # A scheduled start (the monthly 计划) re-checks the whole district for the 核对 office, for its month.
    town, group = (None, checks.CHECK_OFFICE) if scheduled else requester(ctx, who)
    month = text(ctx, "batch_month")
    if scheduled and not month:
        month = iso_local(_scheduled_at(ctx))[:7]
    if not MONTH.match(month):
        raise FormError({"batch_month": "请按“2026-06”的格式填写复核月份"})
    batch = HouseholdBatch(number=check_batch.next_number(ctx.session, ctx.now), town_code=town, month=month,
                           requester_group=group, started_by=who, status=BatchStatus.CHECKING,
                           instance_id=ctx.instance_id, created_at=ctx.now)
    ctx.session.add(batch)
    ctx.session.flush()
    codes = check_batch.providers(ctx.session)
    if not check_batch.fan_out(ctx.session, batch, codes):
        if not scheduled:
            raise FormError({"batch_month": "没有已完成核对的在册家庭，无需复核"})
        codes = []  # nothing on the rolls this month: the batch closes at once, no provider is asked
    ctx.set_business_key(batch.number)
    return {"batch_id": batch.id, "batch_number": batch.number, "batch_providers": codes, "requester_group": group}


@registry.action(
    "batch.provider_open",
    title="下发部门复核清单",
    description="向核对部门下发本批次的复核清单，确定反馈期限（工作日）。",
    reads=("batch_id", "batch_provider"),
    returns=("batch_group", "batch_due"),
)
def provider_open(ctx: ActionContext) -> dict[str, Any]:
    batch = _batch(ctx, BatchStatus.CHECKING)
    provider = text(ctx, "batch_provider")
    due = add_workdays(ctx.session, ctx.now, load_rules(ctx.session).check_answer_workdays)
    notify_groups(ctx.session, [f"unit:{provider}"], "task", f"动态复核清单：{batch.number}",
                  f"{batch.month}月动态复核，共{batch.households}户，请下载清单填写后上传。",
                  link("checks/batches", batch.id), ctx.now)
    return {"batch_group": f"unit:{provider}", "batch_due": iso_local(due)}


@registry.action(
    "batch.import",
    title="上传复核结果",
    description="核对部门上传填写后的复核清单（.xlsx）：每户“本次核对情况”留空或填“无变化”的为无变化，填“无记录”的为无记录，"
                "其他为变化后的情况；有变化的家庭提交镇（街办）审核。",
    reads=("batch_id", "batch_provider", "batch_file"),
    returns=("batch_rows_answered", "batch_rows_changed"),
)
def import_answers(ctx: ActionContext) -> dict[str, Any]:
    batch = _batch(ctx, BatchStatus.CHECKING)
    attachment_id = text(ctx, "batch_file")
    if not attachment_id:
        raise FormError({"batch_file": "请上传填写后的复核清单（.xlsx）"})
    attachment = load(ctx.session, Attachment, attachment_id, "附件")
    answered, changed = check_batch.import_xlsx(ctx.session, batch, text(ctx, "batch_provider"), attachment.content)
    return {"batch_rows_answered": answered, "batch_rows_changed": changed}


@registry.action(
    "batch.lapse",
    title="复核清单记为未反馈",
    description="反馈期限届满仍未上传的，清单中各户记为“未反馈”，复核照常进行。",
    reads=("batch_id", "batch_provider"),
)
def lapse(ctx: ActionContext) -> None:
    batch = _batch(ctx, BatchStatus.CHECKING)
    check_batch.lapse(ctx.session, batch.id, text(ctx, "batch_provider"))


@registry.action(
    "batch.close",
    title="汇总复核结果",
    description="各部门反馈或期限届满后汇总：记录有变化的家庭，提交申请方审核。",
    reads=("batch_id",),
    returns=("batch_changed",),
)
def close(ctx: ActionContext) -> dict[str, Any]:
    batch = _batch(ctx, BatchStatus.CHECKING)
    changed = check_batch.close(ctx.session, batch)
    if changed:
        notify_groups(ctx.session, [batch.requester_group], "task", f"动态复核发现变化：{batch.number}",
                      f"{changed}户家庭的核对情况有变化，请审核。", link("checks/batches", batch.id), ctx.now)
    else:
        batch.closed_at = ctx.now
    return {"batch_changed": changed}


@registry.action(
    "batch.review",
    title="审核复核变化",
    description="申请方审核有变化的家庭，写明处理意见（如启动重新核定）。",
    reads=("batch_id", "review_comment"),
)
def review(ctx: ActionContext) -> None:
    batch = _batch(ctx, BatchStatus.REVIEWING)
    comment = text(ctx, "review_comment")
    if not comment:
        raise FormError({"review_comment": "请写明审核意见"})
    batch.review_comment, batch.status, batch.closed_at = comment, BatchStatus.CLOSED, ctx.now
