"""The 会议纪要 .docx laid out after GB/T 9704-2012, rendered the way a clerk would print it: LibreOffice turns it
into a PDF (``soffice --headless --convert-to pdf``) and poppler reads the last page back (``pdftotext -bbox``).

What is checked on the PDF: an even number of pages; the 版记 on the last page, its last rule at the foot of the
type area (GB/T 9704 §10: the 版记 sits at the foot of the last even page); the 印发 line on one line with the
印发机关 one character in from the left edge of the type area and the 印发日期 one character in from the right.
Needs the Debian packages libreoffice-writer-nogui, fonts-noto-cjk and poppler-utils (``make install`` installs
them as root); without them the test says so and is skipped.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from meeting.gbt9704 import TYPE_HEIGHT, TYPE_WIDTH
from meeting.minutes_doc import ISSUER, MinutesContent, build_minutes_docx

MISSING = [tool for tool in ("soffice", "pdftotext", "pdfinfo") if shutil.which(tool) is None]
pytestmark = pytest.mark.skipif(bool(MISSING), reason=(
    f"{'、'.join(MISSING)} not installed: the minutes' print layout is checked with LibreOffice and poppler "
    "(apt-get install libreoffice-writer-nogui fonts-noto-cjk poppler-utils; `make install` does it as root)"))

PT_PER_MM = 72 / 25.4
LEFT = 28 * PT_PER_MM  # left margin
TOP = 37 * PT_PER_MM
ONE_CHAR = 14.0  # 4号
ISSUE_DAY = "2026年6月11日"


def _content(paragraphs: int, items: int) -> MinutesContent:
    body = "\n".join("会议听取了区财政局关于统筹社会救助资金预算的汇报，研究了低保家庭就业援助衔接问题，"
                     "要求各成员单位按照职责分工抓好落实，确保困难群众基本生活得到有效保障。" for _ in range(paragraphs))
    return MinutesContent(
        number="汉救联纪〔2026〕3号", meeting_title="2026年第一次社会救助联席会议", meeting_day="2026年6月8日",
        place="区民政局三楼会议室", presider="召集人（区民政局主要负责人）", summary="会议形成一致意见如下。",
        body=body,
        items=[(f"HY-2026-01-{i:02d}", "完成社会救助资金预算编制并报区政府。", "区财政局", "区民政局", "2026年7月8日")
               for i in range(1, items + 1)],
        majors=["医疗救助一站式结算"],
        present=[f"区财政局 副局长 张{i}" for i in range(12)] + ["区人社局 办公室主任 王五（代会）"],
        leave=["区统计局"], attending=["老城街道办 副主任 李四"], unanswered=["区残联"],
        issue_day=ISSUE_DAY, draft=False, report=["区政府分管领导", "区政府办公室"], distribute="各成员单位",
        cc=["区委办公室"])


def _render(tmp_path: Path, name: str, content: MinutesContent) -> Path:
    docx = tmp_path / f"{name}.docx"
    docx.write_bytes(build_minutes_docx(content))
    profile = tmp_path / "lo-profile"  # a private profile: runs never share LibreOffice's lock
    subprocess.run(["soffice", f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(docx)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / f"{name}.pdf"
    assert pdf.exists()
    return pdf


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def _words(pdf: Path, page: int) -> list[tuple[float, float, float, float, str]]:
    """(xMin, yMin, xMax, yMax, text) of every word on one page."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout
    pattern = r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
    return [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in re.findall(pattern, html)]


@pytest.mark.parametrize(("paragraphs", "items"), [(1, 3), (6, 6)], ids=["short", "long"])
def test_the_colophon_sits_at_the_foot_of_the_last_even_page_with_the_issue_line_on_one_line(
        tmp_path: Path, paragraphs: int, items: int) -> None:
    pdf = _render(tmp_path, f"minutes-{paragraphs}", _content(paragraphs, items))
    pages = _pages(pdf)
    assert pages % 2 == 0, f"{pages} pages: the last page must be even"
    words = _words(pdf, pages)
    issuer = [w for w in words if w[4] == ISSUER]
    assert len(issuer) == 1, words
    x_min, y_min, _x_max, y_max, _ = issuer[0]
    # The 印发 line: 印发机关 one character in from the left of the type area ...
    assert abs(x_min - (LEFT + ONE_CHAR)) < 3, x_min
    # ... and its date on the same line, ending one character in from the right (the date may come as several
    # words: 2026 / 年 / 6 / 月 / 11 / 日印发).
    same_line = [w for w in words if abs(w[1] - y_min) < 2 and w is not issuer[0]]
    assert "".join(w[4] for w in sorted(same_line)) == f"{ISSUE_DAY}印发", same_line
    right = max(w[2] for w in same_line)
    assert abs(right - (LEFT + TYPE_WIDTH - ONE_CHAR)) < 4, right
    # At the foot of the type area: the 印发 line is the lowest text but the page number.
    bottom = TOP + TYPE_HEIGHT
    assert bottom - 30 < y_max <= bottom + 3, (y_max, bottom)
    below = [w for w in words if w[1] > y_max and not re.fullmatch(r"[—\d]+", w[4])]
    assert below == [], below
    # The 抄送 line is right above it, in the same 版记.
    cc = [w for w in words if w[4].startswith("抄送：")]
    assert cc and 0 < y_min - cc[0][1] < 40, cc
