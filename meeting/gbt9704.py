"""党政机关公文格式 (GB/T 9704-2012) for python-docx: the page, the 版头, the body and the 版记 of any document the
joint meeting issues (会议纪要, 请示, 督办函, 通报, 报告 …).

How to use it::

    from meeting.gbt9704 import OfficialDocument

    doc = OfficialDocument(title="汉救联纪〔2026〕3号", author="汉滨区社会救助联席会议办公室")
    doc.masthead("汉滨区社会救助联席会议纪要", number="汉救联纪〔2026〕3号")  # red 发文机关标志, 发文字号, red rule
    doc.title("关于……的请示")                    # 2号小标宋, centred (a 纪要 has none: its 标志 is the title)
    doc.addressee("区人民政府：")                  # 主送机关, flush left
    doc.paragraph("正文……")                        # 3号仿宋, first line two characters in
    doc.heading("一、议定事项")                      # 一级 黑体; level=2 楷体; level=3 仿宋 bold
    doc.table(["序号", "事项"], [["1", "……"]], widths_mm=(12, 144))
    doc.name_list("出席", ["区财政局 副局长 张三"])  # label in 黑体, wrapped lines aligned after the colon
    doc.signature("汉滨区民政局", "2026年6月1日")     # 发文机关署名 and 成文日期, right, four characters in
    doc.annotation("联系人：李四，电话：1234567")    # 附注, in parentheses, two characters in
    doc.colophon([("抄送", "区委办公室。")], issuer="汉滨区社会救助联席会议办公室", date="2026年6月8日")
    data: bytes = doc.to_bytes()

The page (§5): A4, type area 156 × 225 mm (top 37 mm, bottom 35 mm, left 28 mm, right 26 mm), 22 lines of 28
characters of 3号仿宋 (fixed line pitch; a small negative character spacing makes 28 characters fit, as a 文字
grid would). Page numbers "— 1 —" in 4号 宋体 below the type area, odd pages right and even pages left, one
character in (§7.5).

The 版记 (§7.4, §10) sits at the foot of the last even page: it is a table floated to the bottom of the type area
(so it stays there whatever the text above it), with the thick first and last rules and thin rules between its
lines, the 抄送 lines (and 报 / 送 when a document has them), and the 印发 line whose two cells put the 印发机关 at
the left and the 印发日期 at the right, each one character in, on one line. Where the text ends decides the page:
the document counts the lines it has written (the same arithmetic a typesetter does with a fixed pitch) and, when
the text ends on an odd page or leaves too little room, starts the 版记 on the next even page.

Fonts are named as the standard names them (仿宋_GB2312, 黑体, 楷体_GB2312, 方正小标宋简体, 宋体); a machine
without them substitutes (LibreOffice with fonts-noto-cjk uses Noto Serif/Sans CJK), which keeps the metrics of a
CJK em square, so the layout and the line count hold.
"""

from __future__ import annotations

import io
import math
import unicodedata
from typing import Any

from docx import Document
from docx.enum.section import WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK, WD_LINE_SPACING, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

FANGSONG, HEITI, KAITI, XBS, SONG = "仿宋_GB2312", "黑体", "楷体_GB2312", "方正小标宋简体", "宋体"
SIZE_1, SIZE_2, SIZE_3, SIZE_4, SIZE_SMALL4 = Pt(26), Pt(22), Pt(16), Pt(14), Pt(12)
TYPE_WIDTH_MM, TYPE_HEIGHT_MM = 156, 225
TYPE_WIDTH, TYPE_HEIGHT = Mm(TYPE_WIDTH_MM).pt, Mm(TYPE_HEIGHT_MM).pt
LINES_PER_PAGE, CHARS_PER_LINE = 22, 28
LINE_PITCH = Pt(28.9)  # 225 mm / 22 lines, rounded down so that 22 lines always fit
# Twentieths of a point taken from each character so that 28 characters of 3号 fill the 156 mm line.
CHAR_SPACING = -5
TABLE_PITCH = Pt(20)  # 小四 in tables
CELL_MARGIN = Pt(5.4)  # Word's default left and right cell margins (108 twips)
RED = RGBColor(0xC0, 0x00, 0x00)
RED_HEX, BLACK_HEX = "C00000", "000000"
# Rules in eighths of a point: 版头 red rule, 版记 thick (0.35 mm) and thin (0.25 mm) rules.
RED_RULE, THICK_RULE, THIN_RULE = 12, 8, 6


def text_width(text: str, size: float, spacing: float = CHAR_SPACING / 20) -> float:
    """Width in points of one line of ``text`` at ``size``: CJK and full-width characters take an em, others half."""
    width = 0.0
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in ("W", "F", "A") and ord(ch) > 0x2000
        width += (size if wide else size / 2) + spacing
    return width


def line_count(text: str, size: float, width: float, first_indent: float = 0.0) -> int:
    """How many lines ``text`` takes in a column ``width`` points wide (at least one)."""
    if not text:
        return 1
    total = text_width(text, size)
    first = width - first_indent
    if total <= first:
        return 1
    # A line may not start with closing punctuation: the typesetter then carries one character over, so a line
    # that is all but full is counted as spilling (the count may be one high, never low).
    return 1 + math.ceil((total - first + size * 0.6) / width)


def set_font(run: Any, family: str, size: Pt, bold: bool = False, color: RGBColor | None = None,
             spacing: int | None = None) -> None:
    """Font of a run (or a style) for Latin and East Asian text alike."""
    run.font.name = family
    run.font.size = size
    run.font.bold = bold
    if color is not None:
        run.font.color.rgb = color
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), family)
    if spacing:
        el = OxmlElement("w:spacing")
        el.set(qn("w:val"), str(spacing))
        rpr.append(el)


# Elements that follow w:pBdr, and w:framePr, in a paragraph's properties (the schema's order, which LibreOffice
# needs to read them).
_AFTER_PBDR = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap", "w:overflowPunct",
               "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN", "w:bidi", "w:adjustRightInd", "w:snapToGrid",
               "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
               "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl", "w:divId",
               "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
_AFTER_FRAMEPR = ("w:widowControl", "w:numPr", "w:suppressLineNumbers", "w:pBdr", *_AFTER_PBDR)


def rule(p: Paragraph, side: str, color: str, size_eighths: int) -> None:
    """A horizontal rule along one side of a paragraph (版头分隔线)."""
    ppr = p._p.get_or_add_pPr()
    borders = ppr.find(qn("w:pBdr"))
    if borders is None:
        borders = OxmlElement("w:pBdr")
        ppr.insert_element_before(borders, *_AFTER_PBDR)
    line = OxmlElement(f"w:{side}")
    for key, value in (("w:val", "single"), ("w:sz", str(size_eighths)), ("w:space", "1"), ("w:color", color)):
        line.set(qn(key), value)
    borders.append(line)


def _page_number(footer: Any, align: WD_ALIGN_PARAGRAPH) -> None:
    """"— N —" in 4号宋体, one character in from the outer edge."""
    p: Paragraph = footer.paragraphs[0]
    p.alignment = align
    if align == WD_ALIGN_PARAGRAPH.RIGHT:
        p.paragraph_format.right_indent = SIZE_4
    else:
        p.paragraph_format.left_indent = SIZE_4
    set_font(p.add_run("— "), SONG, SIZE_4)
    run = p.add_run()
    set_font(run, SONG, SIZE_4)
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
    set_font(p.add_run(" —"), SONG, SIZE_4)


def _cell_borders(cell: Any, **sides: int) -> None:
    """Borders of one table cell: ``top=8`` etc. in eighths of a point; sides not named have none."""
    tcpr = cell._tc.get_or_add_tcPr()
    borders = OxmlElement("w:tcBorders")
    for side in ("top", "left", "bottom", "right"):
        el = OxmlElement(f"w:{side}")
        size = sides.get(side)
        el.set(qn("w:val"), "single" if size else "nil")
        if size:
            el.set(qn("w:sz"), str(size))
            el.set(qn("w:space"), "0")
            el.set(qn("w:color"), BLACK_HEX)
        borders.append(el)
    tcpr.append(borders)


def _grid(table: Any, widths_mm: tuple[float, ...]) -> None:
    """Fixed column widths: the grid, not only the cells, since LibreOffice lays a table out by its grid."""
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, width in zip(grid.findall(qn("w:gridCol")), widths_mm, strict=True):
        col.set(qn("w:w"), str(int(Mm(width).twips)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths_mm, strict=True):
            cell.width = Mm(width)


class OfficialDocument:
    """A document being written after GB/T 9704-2012; keeps count of where its text ends (page and height)."""

    def __init__(self, title: str = "", author: str = "") -> None:
        self.doc: Any = Document()
        self.page = 1
        self.y = 0.0  # points used on the current page of the type area
        self._setup(title, author)

    # ------------------------------------------------------------------ the page
    def _setup(self, title: str, author: str) -> None:
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance = Mm(15)
        section.footer_distance = Mm(28) - Pt(14)  # the page number 7 mm below the type area
        section.start_type = WD_SECTION.NEW_PAGE
        self.doc.settings.odd_and_even_pages_header_footer = True
        _page_number(section.footer, WD_ALIGN_PARAGRAPH.RIGHT)
        _page_number(section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)
        set_font(self.doc.styles["Normal"], FANGSONG, SIZE_3)
        self.doc.core_properties.title = title
        self.doc.core_properties.author = author

    def _advance(self, lines: int, height: float) -> None:
        """Account for ``lines`` lines of ``height`` points flowing down the type area."""
        for _ in range(lines):
            if self.y + height > TYPE_HEIGHT + 0.5:
                self.page, self.y = self.page + 1, 0.0
            self.y += height

    def _block(self, height: float) -> None:
        """A block that does not split (a table row): it moves whole to the next page when it does not fit."""
        if self.y + height > TYPE_HEIGHT + 0.5:
            self.page, self.y = self.page + 1, 0.0
        self.y += height

    def lines_left(self) -> int:
        """Whole lines of the body pitch left on the current page."""
        return int((TYPE_HEIGHT - self.y + 0.5) // LINE_PITCH.pt)

    def page_break(self) -> None:
        p = self._para()
        p.add_run().add_break(WD_BREAK.PAGE)
        self.page, self.y = self.page + 1, 0.0

    # ------------------------------------------------------------------ paragraphs
    def _para(self, pitch: Pt = LINE_PITCH, align: WD_ALIGN_PARAGRAPH | None = None) -> Paragraph:
        p: Paragraph = self.doc.add_paragraph()
        fmt = p.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = pitch
        fmt.space_before = fmt.space_after = Pt(0)
        fmt.widow_control = False  # lines fill every page to the last one, as the count assumes
        if align is not None:
            p.alignment = align
        return p

    def text(self, text: str = "", family: str = FANGSONG, size: Pt = SIZE_3, bold: bool = False,
             align: WD_ALIGN_PARAGRAPH | None = None, indent_chars: float = 0, hanging_chars: float = 0,
             right_chars: float = 0, color: RGBColor | None = None, pitch: Pt = LINE_PITCH) -> Paragraph:
        """One paragraph of one run; the general form behind the named parts below."""
        p = self._para(pitch, align)
        fmt = p.paragraph_format
        first = size.pt * indent_chars
        if indent_chars:
            fmt.first_line_indent = Pt(first)
        if hanging_chars:
            fmt.left_indent = Pt(size.pt * hanging_chars)
            fmt.first_line_indent = Pt(-size.pt * (hanging_chars - indent_chars))
        if right_chars:
            fmt.right_indent = Pt(size.pt * right_chars)
        if text:
            set_font(p.add_run(text), family, size, bold, color, CHAR_SPACING if size == SIZE_3 else None)
        width = TYPE_WIDTH - size.pt * (hanging_chars + right_chars)
        lines = line_count(text, size.pt, width, first - size.pt * hanging_chars if hanging_chars else first)
        self._advance(lines, pitch.pt)
        return p

    def blank(self) -> None:
        self.text()

    def masthead(self, mark: str, number: str | None = None, note: str = "") -> None:
        """版头: the 发文机关标志 in red 小标宋 centred, the 发文字号 centred below it and a red rule (§7.2)."""
        self.blank()
        self.blank()
        self.text(mark, XBS, SIZE_1, align=WD_ALIGN_PARAGRAPH.CENTER, color=RED, pitch=Pt(2 * LINE_PITCH.pt))
        self.blank()
        p = self.text((number or "") + note, FANGSONG, SIZE_3, align=WD_ALIGN_PARAGRAPH.CENTER)
        rule(p, "bottom", RED_HEX, RED_RULE)
        self.blank()

    def title(self, text: str) -> None:
        """标题: 2号小标宋, centred, with an empty line after it (§7.3.1)."""
        self.text(text, XBS, SIZE_2, align=WD_ALIGN_PARAGRAPH.CENTER, pitch=Pt(2 * LINE_PITCH.pt) if
                  text_width(text, SIZE_2.pt) > TYPE_WIDTH else LINE_PITCH)
        self.blank()

    def addressee(self, text: str) -> None:
        """主送机关, flush left, ending with a full-width colon (§7.3.2)."""
        self.text(text if text.endswith("：") else text + "：")

    def paragraph(self, text: str) -> None:
        """A body paragraph: 3号仿宋, first line two characters in, justified."""
        self.text(text, indent_chars=2, align=WD_ALIGN_PARAGRAPH.JUSTIFY)

    def heading(self, text: str, level: int = 1) -> None:
        """结构层次序数 (§7.3.3): 一、 in 黑体, （一） in 楷体, 1. in 仿宋 bold."""
        family, bold = {1: (HEITI, False), 2: (KAITI, False)}.get(level, (FANGSONG, True))
        self.text(text, family, SIZE_3, bold, indent_chars=2)

    def name_list(self, label: str, names: list[str], separator: str = "，") -> None:
        """出席：… two characters in, with wrapped lines aligned after the colon."""
        p = self._para()
        fmt = p.paragraph_format
        hanging = len(label) + 1
        fmt.left_indent = Pt(SIZE_3.pt * (2 + hanging))
        fmt.first_line_indent = Pt(-SIZE_3.pt * hanging)
        body = separator.join(names) if names else "无"
        set_font(p.add_run(f"{label}："), HEITI, SIZE_3, spacing=CHAR_SPACING)
        set_font(p.add_run(body), FANGSONG, SIZE_3, spacing=CHAR_SPACING)
        width = TYPE_WIDTH - SIZE_3.pt * (2 + hanging)
        self._advance(line_count(f"{label}：{body}", SIZE_3.pt, width, -SIZE_3.pt * hanging), LINE_PITCH.pt)

    def signature(self, issuer: str, date: str) -> None:
        """发文机关署名 above the 成文日期, right-aligned four characters in (§7.3.5.2, without seal)."""
        self.blank()
        self.text(issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)
        self.text(date, align=WD_ALIGN_PARAGRAPH.RIGHT, right_chars=4)

    def annotation(self, text: str) -> None:
        """附注: in parentheses, two characters in, on the line after the 成文日期 (§7.3.6)."""
        inner = text.strip("（）() ")
        self.text(f"（{inner}）", indent_chars=2)

    def table(self, header: list[str], rows: list[list[str]], widths_mm: tuple[float, ...],
              center_columns: tuple[int, ...] = (0,)) -> None:
        """A grid in 小四: header in 黑体, rows in 仿宋; rows do not split across pages."""
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        _grid(table, widths_mm)
        widths = [Mm(w) for w in widths_mm]
        for index, values in enumerate([header, *rows]):
            cells = table.rows[0].cells if index == 0 else table.add_row().cells
            lines = 1
            for col, (cell, value, width) in enumerate(zip(cells, values, widths, strict=True)):
                cell.width = width
                para = cell.paragraphs[0]
                para.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
                para.paragraph_format.line_spacing = TABLE_PITCH
                if index == 0 or col in center_columns:
                    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
                set_font(para.add_run(value), HEITI if index == 0 else FANGSONG, SIZE_SMALL4)
                lines = max(lines, line_count(value, SIZE_SMALL4.pt, width.pt - 2 * CELL_MARGIN.pt))
            trpr = table.rows[index]._tr.get_or_add_trPr()
            trpr.append(OxmlElement("w:cantSplit"))
            self._block(lines * TABLE_PITCH.pt + 1.5)

    # ------------------------------------------------------------------ the 版记
    def colophon(self, lines: list[tuple[str, str]], issuer: str, date: str) -> None:
        """版记 at the foot of the last even page: ``lines`` such as ("抄送", "区委办公室，区政府办公室。"),
        then the 印发 line with the 印发机关 left and ``date`` + 印发 right, each one character in."""
        rows = [(label, text) for label, text in lines if text]
        needed = sum(line_count(f"{label}：{text}", SIZE_4.pt, TYPE_WIDTH - 2 * SIZE_4.pt, 0)
                     for label, text in rows) + 1
        if self.page % 2 == 1:
            self.page_break()
        if self.lines_left() < needed + 1:
            self.page_break()
            self.page_break()
        heights = [line_count(f"{label}：{text}", SIZE_4.pt, TYPE_WIDTH - 2 * SIZE_4.pt, 0) for label, text in rows]
        below = (sum(heights) + 1) * LINE_PITCH.pt
        for index, ((label, text), height) in enumerate(zip(rows, heights, strict=True)):
            p = self._colophon_line(below, height, THICK_RULE if index == 0 else THIN_RULE, hanging=len(label) + 1)
            set_font(p.add_run(f"{label}：{text}"), FANGSONG, SIZE_4)
            below -= height * LINE_PITCH.pt
        p = self._colophon_line(below, 1, THIN_RULE if rows else THICK_RULE, last=True)
        # One line: the 印发机关 from the left indent, the date against a right tab one character from the edge.
        p.paragraph_format.tab_stops.add_tab_stop(Pt(TYPE_WIDTH - SIZE_4.pt), WD_TAB_ALIGNMENT.RIGHT)
        set_font(p.add_run(f"{issuer}\t{date}印发"), FANGSONG, SIZE_4)
        # The frames are drawn on the page of the paragraph that follows them (their anchor).
        self._para()
        self._advance(needed + 1, LINE_PITCH.pt)

    def _colophon_line(self, below: float, lines: int, top: int, hanging: int = 0, last: bool = False
                       ) -> Paragraph:
        """One line (or wrapped lines) of the 版记 in a frame of its own, ``below`` points above the bottom of the
        type area: 4号仿宋, one character in from each edge (wrapped lines aligned after the colon), with the
        rule above it (the thick first rule or a thin one) and, for the last, the thick last rule below. One
        frame per line, placed by offset, because LibreOffice drops frames whose paragraphs differ in borders."""
        p = self._para()
        fmt = p.paragraph_format
        fmt.left_indent = Pt(SIZE_4.pt * (1 + hanging))
        fmt.first_line_indent = Pt(-SIZE_4.pt * hanging)
        fmt.right_indent = SIZE_4
        ppr = p._p.get_or_add_pPr()
        frame = OxmlElement("w:framePr")
        for key, value in (("w:w", str(int(Mm(TYPE_WIDTH_MM).twips))), ("w:h", str(int(lines * LINE_PITCH.twips))),
                           ("w:hRule", "exact"), ("w:wrap", "around"), ("w:vAnchor", "margin"),
                           ("w:hAnchor", "margin"), ("w:x", "0"), ("w:y", str(int((TYPE_HEIGHT - below) * 20)))):
            frame.set(qn(key), value)
        ppr.insert_element_before(frame, *_AFTER_FRAMEPR)
        rule(p, "top", BLACK_HEX, top)
        if last:
            rule(p, "bottom", BLACK_HEX, THICK_RULE)
        return p

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        self.doc.save(out)
        return out.getvalue()
