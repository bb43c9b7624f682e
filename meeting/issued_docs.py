"""督办通报 (第N期) and 阶段性落实情况报告 as documents after GB/T 9704 (meeting/gbt9704.py), from the snapshot kept
with each (meeting/snapshot.py). Numbers come from the document register: the 通报's 期号 (kind ``bulletin``,
``2026年第3期``) and the report's 文号 (kind ``interim``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from meeting import documents
from meeting.gbt9704 import OfficialDocument
from meeting.models import Bulletin, InterimReport
from meeting.snapshot import cn_day, source_label, summary_sentence
from meeting.timeutil import local_today

OFFICE = "汉滨区社会救助联席会议办公室"
BULLETIN_MARK = "汉滨区社会救助联席会议督办通报"
BULLETIN_TITLE = "关于议定事项落实情况的通报"
# 抄报 the 负责人 (区政府分管领导) and 区政府办 (office practice); the body is addressed to the member units.
BULLETIN_REPORT_TO = "区政府分管领导，区政府办公室。"
INTERIM_COPY_TO = "联席会议召集人，联席会议各成员单位。"

documents.declare_kind("bulletin", "督办通报", "{year}年第{seq}期")
documents.declare_kind("interim", "阶段性落实情况报告", "汉救联报〔{year}〕{seq}号")


def _units_table(doc: OfficialDocument, figures: dict[str, Any]) -> None:
    rows = [[str(i), u["name"], str(u["assigned"]), str(u["closed"]), f"{u['rate']}%", str(u["overdue"])]
            for i, u in enumerate(figures["units"], start=1)]
    if rows:
        doc.table(["序号", "牵头单位", "交办", "办结", "办结率", "逾期"], rows, widths_mm=(16, 52, 20, 20, 26, 22),
                  center_columns=(0, 2, 3, 4, 5))


def _co_table(doc: OfficialDocument, figures: dict[str, Any]) -> None:
    rows = [[str(i), c["name"], str(c["assigned"]), str(c["answered"]), str(c["on_time"]), str(c["silent"])]
            for i, c in enumerate(figures["co_units"], start=1)]
    if rows:
        doc.table(["序号", "配合单位", "配合事项", "已反馈", "按时反馈", "未反馈"], rows,
                  widths_mm=(16, 50, 22, 22, 24, 22), center_columns=(0, 2, 3, 4, 5))


def _overdue_table(doc: OfficialDocument, figures: dict[str, Any]) -> None:
    rows = [[item["number"], item["content"], item["lead"], item["deadline"], str(item["days"])]
            for item in figures["overdue_items"]]
    if rows:
        doc.table(["编号", "议定事项", "牵头单位", "完成时限", "逾期天数"], rows, widths_mm=(34, 50, 24, 30, 18),
                  center_columns=(0, 3, 4))
    else:
        doc.paragraph("截至目前，无逾期未办结事项。")


def bulletin_docx(bulletin: Bulletin, issued: datetime) -> bytes:
    figures = bulletin.figures
    day = cn_day(local_today(issued))
    doc = OfficialDocument(title=f"督办通报 {bulletin.number or ''}", author=OFFICE)
    doc.masthead(BULLETIN_MARK, number=bulletin.number or "（未编期号）")
    label = source_label(figures)
    doc.title(f"关于{label}督办事项落实情况的通报" if label else BULLETIN_TITLE)
    doc.addressee("各成员单位：")
    doc.paragraph(summary_sentence(figures) + "现将有关情况通报如下。")
    doc.heading("一、各单位落实情况")
    doc.paragraph("（一）牵头单位")
    _units_table(doc, figures)
    doc.paragraph("（二）配合单位")
    _co_table(doc, figures)
    doc.heading("二、逾期未办结事项")
    _overdue_table(doc, figures)
    doc.heading("三、表扬和批评")
    doc.paragraph(bulletin.praise or "本期无通报表扬的单位。")
    doc.paragraph(bulletin.criticism or "本期无通报批评的单位。")
    doc.heading("四、下步要求")
    for para in [p for p in bulletin.requirements.splitlines() if p.strip()] or ["请各单位对照台账抓紧落实。"]:
        doc.paragraph(para.strip())
    doc.signature(OFFICE, day)
    doc.colophon([("抄报", BULLETIN_REPORT_TO)], issuer=OFFICE, date=day)
    return doc.to_bytes()


def interim_docx(report: InterimReport, issued: datetime) -> bytes:
    figures = report.figures
    day = cn_day(local_today(issued))
    doc = OfficialDocument(title=report.number or report.title, author=OFFICE)
    doc.masthead(OFFICE + "文件", number=report.number or "")
    doc.title(report.title)
    doc.addressee("区人民政府：")
    for para in [p for p in report.body.splitlines() if p.strip()]:
        doc.paragraph(para.strip())
    doc.heading("附：各牵头单位落实情况统计")
    _units_table(doc, figures)
    doc.heading("配合单位反馈情况")
    _co_table(doc, figures)
    doc.heading("逾期未办结事项")
    _overdue_table(doc, figures)
    doc.signature(OFFICE, day)
    doc.colophon([("抄送", INTERIM_COPY_TO)], issuer=OFFICE, date=day)
    return doc.to_bytes()


def interim_title(as_of: date) -> str:
    return f"关于截至{cn_day(as_of)}联席会议议定事项落实情况的报告"


def interim_body(figures: dict[str, Any]) -> str:
    """The first draft the office edits: the summary, the overdue items and what is done about them."""
    lines = [summary_sentence(figures)]
    overdue = figures["overdue_items"]
    if overdue:
        names = "、".join(dict.fromkeys(item["lead"] for item in overdue))
        lines.append(f"逾期未办结事项涉及{names}，联席会议办公室已按规定催办、督办，对逾期较长的事项已发督办函或"
                     f"报请区政府分管领导约谈。")
    else:
        lines.append("各项议定事项均在办理时限内推进，无逾期未办结事项。")
    lines.append("下一步，联席会议办公室将继续按月调度各牵头单位落实进展，督促配合单位按时反馈，确保议定事项按期办结。")
    lines.append("特此报告。")
    return "\n".join(lines)
