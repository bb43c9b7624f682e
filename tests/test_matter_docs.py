"""The documents of 交办, 协调 (meeting/matter_docs.py): the 办理情况报告 back to the 交办机关, the 协调函 and the
专题协调会纪要, downloaded from the record pages over HTTP by the monitors and the units concerned only; their
content (文号, 主送, 抄送 / 报 / 分送, body, items); and one printed through LibreOffice as a clerk would."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select
from web_support import LiveApp, live_app

from engine.clock import ManualClock
from meeting import demo_matters, matter_docs
from meeting.demo import DEMO_START, Walkthrough
from meeting.gbt9704 import TYPE_HEIGHT, TYPE_WIDTH
from meeting.models import AssignedMatter, CoordinationRequest

MEETING_TITLE = "低保与医疗救助衔接"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    clock = ManualClock(DEMO_START)
    path = tmp_path_factory.mktemp("matter_docs")
    with live_app(f"sqlite:///{path}/docs.db", clock) as app:
        w = Walkthrough(app.db, app.service, clock)
        demo_matters.run(w)  # a matter reported back; a 协调函 with one unit silent
        w.start("caizheng", "coordination_request", form_values={
            "coord_title": MEETING_TITLE, "coord_problem": "医疗救助对象名单与低保名单不同步。",
            "coord_units": ["yibao", "minzheng"]})
        w.do("office", "decide_coordination", {"coord_route": "meeting", "coord_meeting_date": w.today(2),
                                               "coord_meeting_place": "区民政局三楼会议室"})
        w.do("office", "hold_meeting", {
            "coord_participants": ["caizheng", "yibao", "minzheng"], "coord_minutes": "会议研究了名单同步问题。",
            "coord_items": [{"content": "建立低保与医疗救助名单按月同步机制", "lead_unit": "yibao",
                             "co_units": ["minzheng"], "deadline": w.today(20)}]})
        yield app


def _ids(live: LiveApp) -> tuple[int, int, int]:
    with live.db.sessions() as s:
        matter = s.scalars(select(AssignedMatter.id)).one()
        letter = s.scalars(select(CoordinationRequest.id).where(CoordinationRequest.route == "letter")).one()
        meeting = s.scalars(select(CoordinationRequest.id).where(CoordinationRequest.route == "meeting")).one()
    return matter, letter, meeting


def _text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def _download(live: LiveApp, user: str, path: str) -> bytes:
    got = live.client(user).get(path)
    assert got.status_code == 200, (user, path, got.status_code)
    assert got.headers["Content-Type"].startswith("application/vnd.openxmlformats-officedocument")
    assert "attachment;" in got.headers["Content-Disposition"]
    return got.content


def test_the_report_goes_back_to_the_source_with_its_number(live: LiveApp) -> None:
    matter, _, _ = _ids(live)
    text = _text(_download(live, "district", f"/matters/{matter}/report.docx"))
    assert "汉滨区社会救助联席会议办公室文件" in text and "汉救联办〔2026〕1号" in text
    assert "关于做好困难群众冬春救助办理情况的报告" in text
    assert "\n区政府办公室：" in text  # 主送 the 交办机关
    assert "汉政办阅〔2026〕8号" in text and "王副区长批示" in text and "冬春救助资金已全部发放到户。" in text
    assert "抄送：联席会议召集人，区民政局，区财政局。" in text
    assert "汉滨区社会救助联席会议办公室\t2026年6月1日印发" in text


def test_the_coordination_letter_is_addressed_to_the_units_named(live: LiveApp) -> None:
    _, letter, _ = _ids(live)
    text = _text(_download(live, "renshe", f"/coordination/{letter}/letter.docx"))
    assert "汉滨区社会救助联席会议协调函" in text and "汉救联协〔2026〕1号" in text
    assert "关于临时救助与就业援助衔接的协调函" in text
    assert "\n区财政局、区人社局：" in text
    assert "区民政局提出：救助对象就业援助信息不共享。" in text
    assert re.search(r"于2026年6月\d+日前书面反馈联席会议办公室", text)
    assert "抄送：区民政局，联席会议召集人。" in text


def test_the_coordination_minutes_list_who_came_and_the_items(live: LiveApp) -> None:
    _, _, meeting = _ids(live)
    text = _text(_download(live, "yibao", f"/coordination/{meeting}/minutes.docx"))
    assert "汉滨区社会救助联席会议专题协调会纪要" in text and "汉救联协纪〔2026〕1号" in text
    assert "在区民政局三楼会议室召开专题协调会，研究低保与医疗救助衔接问题。区财政局提出" in text
    assert "建立低保与医疗救助名单按月同步机制" in text and "区医保局" in text
    assert "出席：区财政局，区医保局，区民政局" in text
    assert "报：区政府分管领导，联席会议召集人。" in text and "分送：区财政局，区医保局，区民政局。" in text


def test_only_the_monitors_and_the_units_concerned_download(live: LiveApp) -> None:
    matter, letter, meeting = _ids(live)
    cases = {f"/matters/{matter}/report.docx": (("office", "convener", "district", "minzheng", "caizheng"),
                                                ("renshe", "admin", "designer", "xinfang")),
             f"/coordination/{letter}/letter.docx": (("office", "minzheng", "caizheng", "renshe"),
                                                     ("jiaoti", "admin", "yibao")),
             f"/coordination/{meeting}/minutes.docx": (("convener", "caizheng", "yibao", "minzheng"),
                                                       ("renshe", "admin"))}
    for path, (allowed, refused) in cases.items():
        for user in allowed:
            assert live.client(user).get(path).status_code == 200, (user, path)
        for user in refused:
            assert live.client(user).get(path).status_code == 403, (user, path)
    # No document before its number: the meeting-route request has no 协调函, the letter one no 纪要.
    assert live.client("office").get(f"/coordination/{meeting}/letter.docx").status_code == 404
    assert live.client("office").get(f"/coordination/{letter}/minutes.docx").status_code == 404
    assert live.client("office").get("/matters/999/report.docx").status_code == 404


def test_the_record_pages_link_the_documents(live: LiveApp) -> None:
    matter, letter, meeting = _ids(live)
    assert 'id="doc-report"' in live.client("district").get(f"/matters/{matter}").text
    assert 'id="doc-report"' not in live.client("admin").get(f"/matters/{matter}").text  # reads, no documents
    page = live.client("renshe").get(f"/coordination/{letter}").text
    assert 'id="doc-letter"' in page and 'id="doc-minutes"' not in page
    assert 'id="doc-minutes"' in live.client("yibao").get(f"/coordination/{meeting}").text


PRINT_TOOLS = [tool for tool in ("soffice", "pdftotext", "pdfinfo") if shutil.which(tool) is None]


@pytest.mark.skipif(bool(PRINT_TOOLS), reason=f"{'、'.join(PRINT_TOOLS)} not installed (see test_minutes_layout.py)")
def test_the_letter_prints_with_the_colophon_at_the_foot_of_an_even_page(live: LiveApp, tmp_path: Path) -> None:
    _, letter, _ = _ids(live)
    docx = tmp_path / "letter.docx"
    docx.write_bytes(_download(live, "office", f"/coordination/{letter}/letter.docx"))
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo-profile", "--headless", "--convert-to",
                    "pdf", "--outdir", str(tmp_path), str(docx)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / "letter.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]
    assert pages % 2 == 0, pages
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(pages), "-l", str(pages), str(pdf), "-"],
                          check=True, capture_output=True, text=True).stdout
    words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', html)]
    [issuer] = [w for w in words if w[4] == matter_docs.OFFICE]
    left, top, one_char = 28 * 72 / 25.4, 37 * 72 / 25.4, 14.0
    assert abs(issuer[0] - (left + one_char)) < 3, issuer  # 印发机关 one character in
    same_line = sorted(w for w in words if abs(w[1] - issuer[1]) < 2 and w is not issuer)
    assert "".join(w[4] for w in same_line).endswith("印发"), same_line
    assert abs(max(w[2] for w in same_line) - (left + TYPE_WIDTH - one_char)) < 4  # 印发日期 one character in
    assert top + TYPE_HEIGHT - 30 < issuer[3] <= top + TYPE_HEIGHT + 3, issuer  # at the foot of the type area
    assert any(w[4].startswith("抄送：") for w in words)
