"""What a task of a town's case is about, in words: the case (personal data masked: the case page shows it to the
case's handlers, and logs the view) and, on a department's task, the part it handles."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from meeting import cases
from meeting.models import AssistanceCase, CaseHandling
from meeting.statuses import CaseKind, CaseSource, CaseStatus, HandlingStatus, Satisfaction
from meeting.timeutil import format_day, format_minute

Row = tuple[str, int, str, str, list[tuple[str, str]]]


def department_name(code: str, units: dict[str, str]) -> str:
    return "镇（街办）民政办" if code == cases.MZB else units.get(code, code)


def case_details(session: Session, case: AssistanceCase, units: dict[str, str]) -> list[tuple[str, str]]:
    hidden = cases.masked(case)
    rows = [("案件编号", case.number), ("类别", CaseKind.label_of(case.kind)), ("来源", CaseSource.label_of(case.source)),
            ("镇（街办）", units.get(case.town_code, case.town_code)), ("申请人", case.applicant_name),
            ("身份证号", hidden["id_number"] or "—"), ("联系电话", hidden["phone"] or "—"),
            ("家庭住址", case.address or "—"), ("村（社区）", case.village or "—")]
    if case.household_size:
        rows.append(("家庭人口", str(case.household_size)))
    if case.aid_types:
        rows.append(("申请救助类别", "、".join(case.aid_types)))
    rows.append(("困难情况", case.circumstances))
    if case.missing_materials:
        rows.append(("一次性告知所缺材料", case.missing_materials))
        if case.materials_due_at:
            rows.append(("补齐期限", format_day(case.materials_due_at)))
    if case.verify_due_at:
        rows.append(("现场核实时限", format_minute(case.verify_due_at)))
    if case.findings:
        rows.append(("核实情况", case.findings))
    if case.advance_amount:
        rows.append(("先行救助", f"{case.advance_amount}元"))
    handled = session.scalars(select(CaseHandling).where(CaseHandling.case_id == case.id)
                              .order_by(CaseHandling.round, CaseHandling.id)).all()
    for h in handled:
        rows.append((f"{h.aid_type}（{department_name(h.department, units)}）", handling_summary(h)))
    rows.append(("状态", CaseStatus.label_of(case.status)))
    if case.inform_summary:
        rows.append(("告知申请人", case.inform_summary))
    if case.satisfaction:
        rows.append(("回访", Satisfaction.label_of(case.satisfaction)))
    return rows


def handling_summary(h: CaseHandling) -> str:
    words = HandlingStatus.label_of(h.status)
    if h.status == HandlingStatus.RETURNED and h.return_reason:
        return f"{words}：{h.return_reason}"
    if h.status == HandlingStatus.DONE and h.result:
        amount = f"（{h.amount}元）" if h.amount else ""
        return f"{words}：{h.result}{amount}"
    return f"{words}，办理时限 {format_day(h.due_at)}"


def case_subjects(session: Session, ctx: dict[str, Any], units: dict[str, str]) -> list[Row]:
    out: list[Row] = []
    hid = ctx.get("handling_id")
    if isinstance(hid, int) and (h := session.get(CaseHandling, hid)) is not None:
        out.append(("handling", h.id, "本部门办理事项", f"{h.aid_type}（{department_name(h.department, units)}）", [
            ("转办类别", h.aid_type), ("签收时限", format_minute(h.sign_due_at)),
            ("办理时限（工作日）", f"{h.limit_days}个工作日，至{format_day(h.due_at)}"),
            ("状态", HandlingStatus.label_of(h.status))]))
        ctx = {**ctx, "case_id": h.case_id}
    cid = ctx.get("case_id")
    if isinstance(cid, int) and (c := session.get(AssistanceCase, cid)) is not None:
        out.append(("case", c.id, CaseKind.label_of(c.kind), f"{c.number} {c.applicant_name}",
                    case_details(session, c, units)))
    return out


def case_titles(session: Session, ids: set[int]) -> dict[int, str]:
    """Inbox titles: the case, its applicant and the identity number masked."""
    if not ids:
        return {}
    return {c.id: f"{CaseKind.label_of(c.kind)}：{c.number} {c.applicant_name}（{cases.masked(c)['id_number'] or '—'}）"
            for c in session.scalars(select(AssistanceCase).where(AssistanceCase.id.in_(ids)))}
