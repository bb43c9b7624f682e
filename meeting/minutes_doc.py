"""会议纪要 as a Word document laid out after GB/T 9704-2012 (党政机关公文格式) §10.3.

A4 with the standard type area (top 37 mm, bottom 35 mm, left 28 mm, right 26 mm), body in 3号仿宋 on a fixed
line pitch (22 lines a page), the 纪要标志 "汉滨区社会救助联席会议纪要" in red 小标宋 with a red rule below the
number, 一级标题 in 黑体, the 出席 / 请假 / 列席 lists (label in 3号黑体, names in 3号仿宋, wrapped lines aligned
after the colon), and the 版记 (抄送, 印发机关和印发日期) between rules at the end; page numbers "— 1 —" in
4号宋体, odd pages right and even pages left.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.attachments import store_attachment
from engine.models import Attachment
from meeting.models import Attendance, MajorIssue, Meeting, Minutes, ResolutionItem, Unit
from meeting.statuses import AttendanceReply, MinutesStatus
from meeting.timeutil import local_today

TITLE = "汉滨区社会救助联席会议纪要"
ISSUER = "汉滨区社会救助联席会议办公室"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

FANGSONG, HEITI, KAITI, XBS, SONG = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"
SIZE_2, SIZE_3, SIZE_4, SIZE_TABLE = Pt(22), Pt(16), Pt(14), Pt(12)
LINE_PITCH = Pt(28.9)  # 225 mm type area / 22 lines
RED = RGBColor(0xC0, 0x00, 0x00)
CHINESE_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class MinutesContent:
    """Everything the document says, read from the database in one place."""

    number: str
    meeting_title: str
    meeting_day: str
    place: str
    summary: str
    body: str
    items: list[tuple[str, str, str, str, str]]  # number, content, lead, co-units, deadline
    majors: list[str]
    present: list[str]
    leave: list[str]
    attending: list[str]  # 列席
    cc: list[str]
    issue_day: str
    draft: bool


def _cn_date(moment: datetime) -> str:
    day = local_today(moment)
    return f"{day.year}年{day.month}月{day.day}日"


def _who(name: str, person: str | None) -> str:
    return f"{name}（{person.strip()}）" if person and person.strip() else name


def minutes_content(session: Session, meeting_id: int, now: datetime) -> MinutesContent:
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise LookupError(f"meeting {meeting_id} not found")
    minutes = session.scalar(select(Minutes).where(Minutes.meeting_id == meeting_id))
    units = {u.code: u for u in session.scalars(select(Unit))}

    def name(code: str) -> str:
        return units[code].name if code in units else code

    present: list[str] = []
    leave: list[str] = []
    attending: list[str] = []
    rows = session.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id))
    for row in sorted(rows, key=lambda r: (units[r.unit_code].sort if r.unit_code in units else 999, r.unit_code)):
        if row.reply == AttendanceReply.ATTEND:
            (attending if row.invited else present).append(_who(name(row.unit_code), row.attendee_name))
        elif row.reply == AttendanceReply.LEAVE:
            leave.append(name(row.unit_code))
    items = []
    for item in session.scalars(select(ResolutionItem).where(ResolutionItem.meeting_id == meeting_id,
                                                             ResolutionItem.major_issue_id.is_(None))
                                .order_by(ResolutionItem.id)):
        items.append((item.number, item.content, name(item.lead_unit),
                      "、".join(name(c) for c in item.co_units) or "—", _cn_date(item.deadline)))
    majors = [m.title for m in session.scalars(select(MajorIssue).where(MajorIssue.meeting_id == meeting_id)
                                                .order_by(MajorIssue.id))]
    recipients = minutes.recipients if minutes is not None and minutes.recipients else [
        u.code for u in units.values() if u.kind == "cc" and u.active]
    cc = [name(c) for c in sorted((c for c in recipients if c in units and units[c].kind == "cc"),
                                  key=lambda c: units[c].sort)]
    issued = minutes.issued_at if minutes is not None and minutes.issued_at else None
    return MinutesContent(
        number=minutes.number if minutes is not None else "",
        meeting_title=meeting.title,
        meeting_day=_cn_date(meeting.meeting_at),
        place=meeting.place,
        summary=meeting.outcome_summary or "",
        body=minutes.body if minutes is not None else "",
        items=items, majors=majors, present=present, leave=leave, attending=attending, cc=cc,
        issue_day=_cn_date(issued or now),
        draft=minutes is None or minutes.status != MinutesStatus.ISSUED,
    )


# ---------------------------------------------------------------------------------------------- layout
def _font(run: object, family: str, size: Pt, bold: bool = False, color: RGBColor | None = None) -> None:
    run.font.name = family  # type: ignore[attr-defined]
    run.font.size = size  # type: ignore[attr-defined]
    run.font.bold = bold  # type: ignore[attr-defined]
    if color is not None:
        run.font.color.rgb = color  # type: ignore[attr-defined]
    rpr = run._element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), family)


def _para(doc: object, text: str = "", family: str = FANGSONG, size: Pt = SIZE_3, bold: bool = False,
          align: WD_ALIGN_PARAGRAPH | None = None, indent_chars: float = 0, hanging_chars: float = 0,
          color: RGBColor | None = None) -> Paragraph:
    p: Paragraph = doc.add_paragraph()  # type: ignore[attr-defined]
    fmt = p.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    fmt.line_spacing = LINE_PITCH
    fmt.space_before = fmt.space_after = Pt(0)
    if align is not None:
        p.alignment = align
    if indent_chars:
        fmt.first_line_indent = Pt(size.pt * indent_chars)
    if hanging_chars:
        fmt.left_indent = Pt(size.pt * hanging_chars)
        fmt.first_line_indent = Pt(-size.pt * (hanging_chars - indent_chars))
    if text:
        _font(p.add_run(text), family, size, bold, color)
    return p


def _rule(p: Paragraph, side: str, color: str, size_eighths: int) -> None:
    """A horizontal rule along one side of a paragraph (版头分隔线, 版记 lines)."""
    ppr = p._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.append(borders)
    line = OxmlElement(f"w:{side}")
    line.set(qn("w:val"), "single")
    line.set(qn("w:sz"), str(size_eighths))
    line.set(qn("w:space"), "1")
    line.set(qn("w:color"), color)
    borders.append(line)


def _page_number(footer: object, align: WD_ALIGN_PARAGRAPH) -> None:
    p: Paragraph = footer.paragraphs[0]  # type: ignore[attr-defined]
    p.alignment = align
    fmt = p.paragraph_format
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        fmt.right_indent = SIZE_4
    else:
        fmt.left_indent = SIZE_4
    _font(p.add_run("— "), SONG, SIZE_4)
    run = p.add_run()
    _font(run, SONG, SIZE_4)
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        elif text == "PAGE":
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = " PAGE "
        else:
            el = OxmlElement("w:t")
            el.text = text
        run._element.append(el)
    _font(p.add_run(" —"), SONG, SIZE_4)


def _name_list(doc: object, label: str, names: list[str]) -> None:
    """出席：… with wrapped lines aligned after the full-width colon (label is two characters)."""
    p = _para(doc, indent_chars=2, hanging_chars=5)
    _font(p.add_run(f"{label}："), HEITI, SIZE_3)
    _font(p.add_run("，".join(names) if names else "无"), FANGSONG, SIZE_3)


def build_minutes_docx(content: MinutesContent) -> bytes:
    doc = Document()
    _setup_page(doc, content)
    _masthead(doc, content)
    _body(doc, content)
    # 出席、请假、列席 (空一行，左空二字).
    _para(doc)
    _name_list(doc, "出席", content.present)
    _name_list(doc, "请假", content.leave)
    _name_list(doc, "列席", content.attending)
    _colophon(doc, content)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _setup_page(doc: Any, content: MinutesContent) -> None:
    """A4, GB/T 9704 margins, page numbers outside on odd and even pages."""
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(37), Mm(35)
    section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(28) - Pt(14)  # page number 7 mm below the type area
    section.start_type = WD_SECTION.NEW_PAGE
    doc.settings.odd_and_even_pages_header_footer = True
    _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
    _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
    normal = doc.styles["Normal"]
    _font(normal, FANGSONG, SIZE_3)
    doc.core_properties.title = f"{TITLE} {content.number}".strip()
    doc.core_properties.author = ISSUER


def _masthead(doc: Any, content: MinutesContent) -> None:
    """版头: 纪要标志, number, red rule."""
    for _ in range(2):
        _para(doc)
    _para(doc, TITLE, XBS, Pt(26), align=WD_ALIGN_PARAGRAPH.CENTER, color=RED).paragraph_format.line_spacing = Pt(40)
    _para(doc)
    number = _para(doc, (content.number or "（纪要编号）") + ("（草稿）" if content.draft else ""),
                   FANGSONG, SIZE_3, align=WD_ALIGN_PARAGRAPH.CENTER)
    _rule(number, "bottom", "C00000", 12)
    _para(doc)


def _body(doc: Any, content: MinutesContent) -> None:
    """主体: the opening sentence, summary and body, the items table, the major issues."""
    opening = (f"{content.meeting_day}，汉滨区社会救助联席会议在{content.place}召开{content.meeting_title}。"
               if content.place else f"{content.meeting_day}，汉滨区社会救助联席会议召开{content.meeting_title}。")
    _para(doc, opening, indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    for text in [content.summary, *content.body.splitlines()]:
        if text.strip():
            _para(doc, text.strip(), indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    heading = 0
    if content.items:
        _para(doc, f"{CHINESE_NUMERALS[heading]}、议定事项", HEITI, SIZE_3, indent_chars=2)
        heading += 1
        _items_table(doc, content)
        _para(doc, "以上事项由牵头单位负责落实，配合单位积极配合，并在完成时限内向联席会议办公室报送落实情况。",
              indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)
    if content.majors:
        _para(doc, f"{CHINESE_NUMERALS[heading]}、报区政府决定的重大问题", HEITI, SIZE_3, indent_chars=2)
        for index, title in enumerate(content.majors, start=1):
            _para(doc, f"{index}. {title}", indent_chars=2)


def _items_table(doc: Any, content: MinutesContent) -> None:
    """序号、议定事项、牵头单位、配合单位、完成时限."""
    table = doc.add_table(rows=1, cols=5)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    widths = (Mm(12), Mm(64), Mm(26), Mm(28), Mm(26))
    for cell, label, width in zip(table.rows[0].cells, ("序号", "议定事项", "牵头单位", "配合单位", "完成时限"),
                                  widths, strict=True):
        cell.width = width
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(cell.paragraphs[0].add_run(label), HEITI, SIZE_TABLE)
    for index, (_number, text, lead, co, deadline) in enumerate(content.items, start=1):
        cells = table.add_row().cells
        for cell, value, width in zip(cells, (str(index), text, lead, co, deadline), widths, strict=True):
            cell.width = width
            _font(cell.paragraphs[0].add_run(value), FANGSONG, SIZE_TABLE)
        cells[0].paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER


def _colophon(doc: Any, content: MinutesContent) -> None:
    """版记: 抄送 and the 印发 line between rules."""
    _para(doc)
    cc = _para(doc, size=SIZE_4, indent_chars=1, hanging_chars=4)
    _rule(cc, "top", "000000", 8)
    _font(cc.add_run("抄送："), FANGSONG, SIZE_4)
    _font(cc.add_run("，".join(content.cc) + "。" if content.cc else "无。"), FANGSONG, SIZE_4)
    printed = _para(doc, size=SIZE_4, indent_chars=1)
    _rule(printed, "top", "000000", 4)
    _rule(printed, "bottom", "000000", 8)
    printed.paragraph_format.tab_stops.add_tab_stop(Mm(156) - SIZE_4)
    _font(printed.add_run(f"{ISSUER}\t{content.issue_day}印发"), FANGSONG, SIZE_4)


def file_name(content: MinutesContent) -> str:
    return f"会议纪要{('-' + content.number) if content.number else ''}.docx"


def minutes_docx(session: Session, meeting_id: int, now: datetime) -> tuple[str, bytes]:
    content = minutes_content(session, meeting_id, now)
    return file_name(content), build_minutes_docx(content)


def attach_issued_minutes(session: Session, minutes: Minutes, now: datetime, instance_id: str | None) -> Attachment:
    """Generate the issued document and keep it as an attachment of the meeting's instance."""
    name, data = minutes_docx(session, minutes.meeting_id, now)
    row = store_attachment(session, "minutes", name, data, "system", now, instance_id)
    minutes.document_id = row.id
    return row
