"""Progress between meetings: rounds of 月报 as of a cut-off date, the 阶段性落实情况报告 to the district and the
督办通报 to the member units (each drafted by the office from the ledger, 审签 by the convener, numbered)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from engine.actions import ActionContext
from engine.attachments import store_attachment
from engine.errors import ActionError, FormError
from meeting import documents
from meeting.actions._common import (
    approve_or_return,
    comment_required,
    link,
    load,
    need_id,
    text,
    unit_group,
)
from meeting.actions._registry import registry
from meeting.directory import member_unit_codes, unit_name
from meeting.issued_docs import bulletin_docx, interim_body, interim_docx, interim_title
from meeting.models import Bulletin, InterimReport, ProgressReport, ProgressRound, ResolutionItem
from meeting.notify import notify, notify_groups
from meeting.rules import load_rules
from meeting.snapshot import praise_and_criticism, snapshot
from meeting.statuses import IssuedDocStatus, ItemSource, ResolutionStatus, RoundStatus
from meeting.timeutil import as_date, end_of_day, format_day, iso_local, local_today
from meeting.workdays import calendar_for

DRAFT_WORKDAYS, REVIEW_WORKDAYS, RECEIVE_WORKDAYS = 5, 3, 5
# Items a lead unit still works on (reported items wait for the office's check, not for more progress).
PROGRESS_STATUSES = (ResolutionStatus.IN_PROGRESS, ResolutionStatus.RETURNED)
ALL_SOURCES = "all"  # the 通报's 来源 choice for items of every source


def _due(ctx: ActionContext, workdays: int) -> str:
    return iso_local(end_of_day(calendar_for(ctx.session).add(local_today(ctx.now), workdays)))


def _day(ctx: ActionContext, key: str, default: date) -> date:
    try:
        return as_date(ctx.data.get(key)) or default
    except ValueError:
        raise FormError({key: "请填写有效日期（YYYY-MM-DD）"}) from None


# ---------------------------------------------------------------------------------------------- 月报
@registry.action(
    "progress.open_round",
    title="确定进展报送范围",
    description="以截止日期（默认当天）确定本轮进展报送：每项未办结的议定事项由其牵头单位报送一次。",
    reads=("cutoff",),
    returns=("round_id", "round_items", "round_leads", "round_due"),
)
def open_round(ctx: ActionContext) -> dict[str, Any]:
    cutoff = _day(ctx, "cutoff", local_today(ctx.now))
    rules = load_rules(ctx.session)
    due = end_of_day(calendar_for(ctx.session).add(local_today(ctx.now), rules.progress_due_workdays))
    items = list(ctx.session.execute(select(ResolutionItem.id, ResolutionItem.lead_unit)
                                     .where(ResolutionItem.status.in_(PROGRESS_STATUSES))
                                     .order_by(ResolutionItem.deadline, ResolutionItem.id)))
    rnd = ProgressRound(cutoff=cutoff, status=RoundStatus.OPEN, due_at=due, expected=len(items),
                        opened_by=ctx.actor, opened_at=ctx.now, instance_id=ctx.instance_id)
    ctx.session.add(rnd)
    ctx.session.flush()
    ctx.set_business_key(f"进展报送（截至{cutoff.isoformat()}）")
    return {"round_id": rnd.id, "round_items": [i for i, _ in items],
            "round_leads": {str(i): lead for i, lead in items}, "round_due": iso_local(due)}


@registry.action(
    "progress.record",
    title="记录落实进展",
    description="牵头单位报送议定事项截至截止日期的落实进展。",
    reads=("round_id", "resolution_id", "progress_body", "progress_attachment"),
)
def record(ctx: ActionContext) -> None:
    body = comment_required(ctx, "progress_body", "请填写落实进展")
    rnd = load(ctx.session, ProgressRound, need_id(ctx, "round_id"), "进展报送")
    item = load(ctx.session, ResolutionItem, need_id(ctx, "resolution_id"), "议定事项")
    ctx.session.add(ProgressReport(resolution_id=item.id, unit_code=item.lead_unit, kind="progress", body=body,
                                   attachment=text(ctx, "progress_attachment") or None, author=ctx.actor,
                                   created_at=ctx.now, round_id=rnd.id, as_of=rnd.cutoff))
    rnd.reported += 1


@registry.action(
    "progress.remind_round",
    title="催报落实进展",
    description="报送期满前一个工作日，提醒尚未报送的牵头单位。",
    reads=("round_id",),
)
def remind_round(ctx: ActionContext) -> None:
    rnd = load(ctx.session, ProgressRound, need_id(ctx, "round_id"), "进展报送")
    for unit in _missing_units(ctx, rnd):
        notify(ctx.session, unit_group(unit), "reminder", f"催报：截至{rnd.cutoff.isoformat()}的落实进展",
               f"请于{format_day(rnd.due_at)}前报送本单位牵头议定事项的落实进展。", "/tasks", ctx.now)


def _missing_units(ctx: ActionContext, rnd: ProgressRound) -> list[str]:
    reported = select(ProgressReport.resolution_id).where(ProgressReport.round_id == rnd.id)
    asked = ctx.data.get("round_items") or []
    rows = ctx.session.scalars(select(ResolutionItem.lead_unit).where(
        ResolutionItem.id.in_([int(i) for i in asked]), ResolutionItem.id.not_in(reported)).distinct())
    return sorted(rows)


@registry.action(
    "progress.close_round",
    title="汇总进展报送",
    description="报送完毕或期满时汇总本轮进展；期满未报送的单位记为未报送并告知办公室。",
    reads=("round_id", "round_items"),
)
def close_round(ctx: ActionContext) -> None:
    rnd = load(ctx.session, ProgressRound, need_id(ctx, "round_id"), "进展报送")
    if rnd.status == RoundStatus.CLOSED:
        return
    missing = _missing_units(ctx, rnd)
    rnd.status, rnd.closed_at = RoundStatus.CLOSED, ctx.now
    names = "、".join(unit_name(ctx.session, u) for u in missing)
    body = f"应报{rnd.expected}项，已报{rnd.reported}项。" + (f"未报送：{names}。" if missing else "全部按时报送。")
    notify(ctx.session, "office", "info", f"进展报送已汇总（截至{rnd.cutoff.isoformat()}）", body, "/progress", ctx.now)


# ---------------------------------------------------------------------------------------------- 阶段性报告
def _interim(ctx: ActionContext) -> InterimReport:
    return load(ctx.session, InterimReport, need_id(ctx, "interim_id"), "阶段性落实情况报告")


def _year_start(day: date) -> date:
    return date(day.year, 1, 1)


@registry.action(
    "interim.prepare",
    title="按台账生成阶段性报告",
    description="以截至日期（默认当天）的督办台账生成阶段性落实情况报告的初稿和统计表。",
    reads=("as_of",),
    returns=("interim_id", "interim_title", "interim_body", "interim_due"),
)
def prepare_interim(ctx: ActionContext) -> dict[str, Any]:
    as_of = _day(ctx, "as_of", local_today(ctx.now))
    start = _year_start(as_of)
    figures = snapshot(ctx.session, as_of, start)
    report = InterimReport(as_of=as_of, period_from=start, title=interim_title(as_of), body=interim_body(figures),
                           figures=figures, status=IssuedDocStatus.DRAFT, drafted_by=ctx.actor,
                           instance_id=ctx.instance_id, created_at=ctx.now)
    ctx.session.add(report)
    ctx.session.flush()
    ctx.set_business_key(f"阶段性报告（截至{as_of.isoformat()}）")
    return {"interim_id": report.id, "interim_title": report.title, "interim_body": report.body,
            "interim_due": _due(ctx, DRAFT_WORKDAYS)}


def _require(status: str, allowed: tuple[str, ...], refusal: str) -> None:
    if status not in allowed:
        raise ActionError(refusal)


@registry.action(
    "interim.save",
    title="保存阶段性报告",
    description="办公室修改报告标题和正文后报召集人审签。",
    reads=("interim_id", "interim_title", "interim_body"),
    returns=("review_due",),
)
def save_interim(ctx: ActionContext) -> dict[str, Any]:
    report = _interim(ctx)
    _require(report.status, (IssuedDocStatus.DRAFT, IssuedDocStatus.RETURNED), "阶段性报告已审签，不能再修改。")
    report.title = comment_required(ctx, "interim_title", "请填写报告标题")[:200]
    report.body = comment_required(ctx, "interim_body", "请填写报告正文")
    report.status = IssuedDocStatus.DRAFT
    return {"review_due": _due(ctx, REVIEW_WORKDAYS)}


@registry.action(
    "interim.review",
    title="审签阶段性报告",
    description="召集人同意报送，或写明意见退回修改。",
    reads=("interim_id", "interim_decision", "interim_comment"),
)
def review_interim(ctx: ActionContext) -> None:
    choice, comment = approve_or_return(ctx, "interim_decision", "interim_comment")
    report = _interim(ctx)
    _require(report.status, (IssuedDocStatus.DRAFT,), "阶段性报告不在待审签状态。")
    report.review_comment = comment or None
    if choice == "return":
        report.status = IssuedDocStatus.RETURNED
        notify(ctx.session, "office", "returned", f"阶段性报告退回修改：{report.title}", comment,
               link("interim", report.id), ctx.now)
    else:
        report.approved_by, report.approved_at = ctx.actor, ctx.now


@registry.action(
    "interim.issue",
    title="编号报送阶段性报告",
    description="审签后的阶段性报告从发文登记取得文号，生成公文，报送区政府分管领导。",
    reads=("interim_id",),
    returns=("receive_due",),
)
def issue_interim(ctx: ActionContext) -> dict[str, Any]:
    report = _interim(ctx)
    _require(report.status, (IssuedDocStatus.DRAFT,), "阶段性报告不在待报送状态。")
    if report.approved_by is None:
        raise ActionError("阶段性报告尚未经召集人审签，不能报送。")
    number = documents.take_number(ctx.session, "interim", ctx.now, subject=f"interim:{report.id}",
                                   title=report.title, by=report.approved_by)
    report.number, report.issued_at, report.status = number.number, ctx.now, IssuedDocStatus.ISSUED
    data = interim_docx(report, ctx.now)
    att = store_attachment(ctx.session, "document", f"阶段性落实情况报告-{report.number}.docx", data,
                           ctx.actor or "system", ctx.now, ctx.instance_id)
    report.document_id = att.id
    notify(ctx.session, "district", "issued", f"阶段性落实情况报告 {report.number}", report.title,
           link("interim", report.id), ctx.now)
    return {"receive_due": _due(ctx, RECEIVE_WORKDAYS)}


@registry.action(
    "interim.receive",
    title="接收阶段性报告",
    description="区政府分管领导阅知阶段性落实情况报告，可作批示。",
    reads=("interim_id", "interim_receipt"),
)
def receive_interim(ctx: ActionContext) -> None:
    report = _interim(ctx)
    _require(report.status, (IssuedDocStatus.ISSUED,), "阶段性报告尚未报送。")
    report.status, report.received_by, report.received_at = IssuedDocStatus.RECEIVED, ctx.actor, ctx.now
    report.receipt_comment = text(ctx, "interim_receipt") or None
    if report.receipt_comment:
        notify_groups(ctx.session, ["office", "convener"], "decision", f"区政府批示：{report.title}",
                      report.receipt_comment, link("interim", report.id), ctx.now)


# ---------------------------------------------------------------------------------------------- 督办通报
def _bulletin(ctx: ActionContext) -> Bulletin:
    return load(ctx.session, Bulletin, need_id(ctx, "bulletin_id"), "督办通报")


@registry.action(
    "bulletin.prepare",
    title="按台账生成督办通报",
    description="以当天的督办台账（本年度交办的事项）生成督办通报初稿：各单位落实情况、逾期事项和表扬、批评建议。",
    reads=(),
    returns=("bulletin_id", "bulletin_as_of", "bulletin_period_from", "bulletin_source", "bulletin_praise",
             "bulletin_criticism", "bulletin_requirements", "bulletin_due"),
)
def prepare_bulletin(ctx: ActionContext) -> dict[str, Any]:
    as_of = local_today(ctx.now)
    start = _year_start(as_of)
    figures = snapshot(ctx.session, as_of, start)
    praise, criticism = praise_and_criticism(figures)
    requirements = ("请各牵头单位对照督办台账，抓紧落实未办结事项，逾期事项于5个工作日内书面说明原因；"
                    "各配合单位按时反馈配合落实情况。")
    bulletin = Bulletin(as_of=as_of, period_from=start, praise=praise, criticism=criticism,
                        requirements=requirements, figures=figures, status=IssuedDocStatus.DRAFT,
                        drafted_by=ctx.actor, instance_id=ctx.instance_id, created_at=ctx.now)
    ctx.session.add(bulletin)
    ctx.session.flush()
    ctx.set_business_key(f"督办通报（{as_of.isoformat()}）")
    return {"bulletin_id": bulletin.id, "bulletin_as_of": as_of, "bulletin_period_from": start,
            "bulletin_source": ALL_SOURCES, "bulletin_praise": praise, "bulletin_criticism": criticism, "bulletin_requirements": requirements,
            "bulletin_due": _due(ctx, DRAFT_WORKDAYS)}


@registry.action(
    "bulletin.save",
    title="保存督办通报",
    description="办公室确定截至日期、统计起始日期和来源（按台账重新统计），写明表扬、批评和下步要求，报召集人审签。",
    reads=("bulletin_id", "bulletin_as_of", "bulletin_period_from", "bulletin_source", "bulletin_praise",
           "bulletin_criticism", "bulletin_requirements"),
    returns=("review_due",),
)
def save_bulletin(ctx: ActionContext) -> dict[str, Any]:
    bulletin = _bulletin(ctx)
    _require(bulletin.status, (IssuedDocStatus.DRAFT, IssuedDocStatus.RETURNED), "督办通报已审签，不能再修改。")
    as_of = _day(ctx, "bulletin_as_of", bulletin.as_of)
    start = _day(ctx, "bulletin_period_from", bulletin.period_from)
    errors = {}
    if as_of > local_today(ctx.now):
        errors["bulletin_as_of"] = "截至日期不能晚于今天"
    if start > as_of:
        errors["bulletin_period_from"] = "统计起始日期不能晚于截至日期"
    source = text(ctx, "bulletin_source") or ALL_SOURCES
    if source != ALL_SOURCES and source not in ItemSource.labels():
        errors["bulletin_source"] = "来源无效"
    if errors:
        raise FormError(errors)
    bulletin.as_of, bulletin.period_from = as_of, start
    bulletin.figures = snapshot(ctx.session, as_of, start, None if source == ALL_SOURCES else source)
    bulletin.praise, bulletin.criticism = text(ctx, "bulletin_praise"), text(ctx, "bulletin_criticism")
    bulletin.requirements = comment_required(ctx, "bulletin_requirements", "请填写下步要求")
    bulletin.status = IssuedDocStatus.DRAFT
    return {"review_due": _due(ctx, REVIEW_WORKDAYS)}


@registry.action(
    "bulletin.review",
    title="审签督办通报",
    description="召集人同意印发，或写明意见退回修改。",
    reads=("bulletin_id", "bulletin_decision", "bulletin_comment"),
)
def review_bulletin(ctx: ActionContext) -> None:
    choice, comment = approve_or_return(ctx, "bulletin_decision", "bulletin_comment")
    bulletin = _bulletin(ctx)
    _require(bulletin.status, (IssuedDocStatus.DRAFT,), "督办通报不在待审签状态。")
    bulletin.review_comment = comment or None
    if choice == "return":
        bulletin.status = IssuedDocStatus.RETURNED
        notify(ctx.session, "office", "returned", "督办通报退回修改", comment, link("bulletins", bulletin.id), ctx.now)
    else:
        bulletin.approved_by, bulletin.approved_at = ctx.actor, ctx.now


@registry.action(
    "bulletin.issue",
    title="印发督办通报",
    description="审签后的督办通报编定期号，生成公文并归档，印发各成员单位，抄报区政府分管领导和区政府办公室。",
    reads=("bulletin_id",),
)
def issue_bulletin(ctx: ActionContext) -> None:
    bulletin = _bulletin(ctx)
    _require(bulletin.status, (IssuedDocStatus.DRAFT,), "督办通报不在待印发状态。")
    if bulletin.approved_by is None:
        raise ActionError("督办通报尚未经召集人审签，不能印发。")
    row = documents.take_number(ctx.session, "bulletin", ctx.now, subject=f"bulletin:{bulletin.id}",
                                title=f"督办通报（截至{bulletin.as_of.isoformat()}）", by=bulletin.approved_by)
    bulletin.number, bulletin.issued_at, bulletin.status = row.number, ctx.now, IssuedDocStatus.ISSUED
    data = bulletin_docx(bulletin, ctx.now)
    att = store_attachment(ctx.session, "document", f"督办通报-{bulletin.number}.docx", data, ctx.actor or "system",
                           ctx.now, ctx.instance_id)
    bulletin.document_id = att.id
    title = f"督办通报 {bulletin.number}"
    body = f"截至{bulletin.as_of.isoformat()}的议定事项落实情况通报，请查阅并抓好落实。"
    groups = [unit_group(code) for code in member_unit_codes(ctx.session)] + ["district", "convener", "office"]
    notify_groups(ctx.session, groups, "issued", title, body, link("bulletins", bulletin.id), ctx.now)


def count_issued(session: Any, model: type[Bulletin] | type[InterimReport]) -> int:
    return session.scalar(select(func.count()).select_from(model).where(
        model.status.in_((IssuedDocStatus.ISSUED, IssuedDocStatus.RECEIVED)))) or 0
