"""The 核对报告 as a document after GB/T 9704 (meeting/gbt9704.py): the household (identity numbers masked), a table
of each provider's findings, the providers that answered 无记录 or 无法核实 and why, those that did not answer
(未反馈), and the 核对 office's opinion. Built from the report stored with the check, so it reads the same each
time it is downloaded."""

from __future__ import annotations

from typing import Any

from meeting.gbt9704 import OfficialDocument
from meeting.letters import cn_date
from meeting.models import HouseholdCheck
from meeting.statuses import AnswerStatus

ISSUER = "汉滨区民政局核对办公室"


def build_report(check: HouseholdCheck) -> bytes:
    report: dict[str, Any] = check.report or {}
    doc = OfficialDocument(title=f"家庭经济状况核对报告（{check.number}）", author=ISSUER)
    doc.title("家庭经济状况核对报告")
    doc.paragraph(f"核对编号：{check.number}。救助类别：{check.aid_type}。申请人：{report.get('applicant_name', '')}"
                  f"（身份证号{report.get('id_number', '')}），家庭住址：{report.get('address', '')}。"
                  f"申请日期：{report.get('requested_on', '')}，报告生成日期：{report.get('assembled_on', '')}。")
    members = report.get("members") or []
    if members:
        doc.paragraph("家庭成员：" + "；".join(f"{m['name']}（{m.get('relation', '')}，{m.get('id_number', '')}）"
                                           for m in members) + "。")
    doc.heading("一、各部门核对情况")
    rows = []
    for i, p in enumerate(report.get("providers") or [], start=1):
        detail = "；".join(f"{label}：{text}" for label, text in p.get("findings") or [])
        if p.get("reason"):
            detail = (detail + "；" if detail else "") + f"理由：{p['reason']}"
        rows.append([str(i), p["name"], "、".join(p.get("items") or []), AnswerStatus.label_of(p["status"]), detail or "—"])
    doc.table(["序号", "核对部门", "核对项目", "结果", "核对情况"], rows or [["—", "—", "—", "—", "—"]],
              widths_mm=(12, 28, 34, 20, 62))
    doc.heading("二、未反馈的部门")
    silent = report.get("silent") or []
    doc.paragraph("、".join(silent) + "在反馈期限内未反馈，已记为“未反馈”。" if silent else "各核对部门均已在期限内反馈。")
    doc.heading("三、核对意见")
    doc.paragraph(check.review_comment or "（待核对办公室审核）")
    when = check.reviewed_at or check.created_at
    doc.signature(ISSUER, cn_date(when))
    return doc.to_bytes()
