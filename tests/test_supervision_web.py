"""督办 over real HTTP (waitress) on the monitoring world (bench.world: the demo meeting with its 督办函, 月报,
阶段性报告 and 督办通报, then a second meeting with open items): the item page with its history and the office's
manual 督办 (refusal keeps what was typed), 本单位议定事项 for a unit liaison, the ledger export as a clerk sends it,
the documents' archive with who may read what, and the working-day settings with the office's warning."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlalchemy import select
from web_support import LiveApp, live_app

from bench.world import Scenario, monitoring_scenario
from engine.clock import ManualClock
from meeting.demo import DEMO_START, Walkthrough
from meeting.ledger import COLUMNS, EXPORT_COLUMNS, LEDGER_TITLE
from meeting.models import ResolutionCoUnit, ResolutionItem, SupervisionEvent, SupervisionLetter


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApp, Scenario]]:
    clock = ManualClock(DEMO_START)
    path = tmp_path_factory.mktemp("supervision")
    with live_app(f"sqlite:///{path}/supervision.db", clock) as app:
        yield app, monitoring_scenario(Walkthrough(app.db, app.service, clock))


@pytest.fixture(scope="module")
def live(world: tuple[LiveApp, Scenario]) -> LiveApp:
    return world[0]


def _item(live: LiveApp, content_part: str) -> ResolutionItem:
    with live.db.sessions() as s:
        item = s.scalar(select(ResolutionItem).where(ResolutionItem.content.contains(content_part)))
    assert item is not None
    return item


def test_item_page_shows_the_ladder_the_history_and_the_silent_co_unit(live: LiveApp) -> None:
    jobs = _item(live, "就业援助台账")
    html = live.client("office").get(f"/resolutions/{jobs.id}").text
    kinds = re.findall(r'<tr data-kind="(\w+)" data-manual="(\w+)"', html)
    assert ("letter", "false") in kinds and ("supervise", "true") in kinds and ("remind", "false") in kinds
    assert 'data-unit="tongji" data-status="silent"' in html  # the co-unit recorded 未反馈
    assert re.search(r'data-letter-status="issued">汉救联督〔2026〕1号', html)
    assert 'id="item-rung" data-rung="letter"' in html and 'id="item-key"' in html
    assert 'id="manual-supervision"' not in html  # closed: nobody left to 催办 or 督办


def test_manual_supervision_is_refused_without_an_opinion_and_keeps_what_was_typed(live: LiveApp) -> None:
    item = _item(live, "追加拨付")  # overdue in the second meeting
    page = f"/resolutions/{item.id}"
    office = live.client("office")
    html = office.get(page).text
    assert 'id="manual-supervision"' in html and f'data-days="{_overdue(html)}"' in html
    r = office.post(f"{page}/supervise", {"unit": "caizheng", "opinion": "  "}, token_from=page)
    assert r.status_code == 422 and "请填写督办意见" in r.text
    r = office.post(f"{page}/supervise", {"unit": "caizheng", "opinion": "x" * 2001}, token_from=page)
    assert r.status_code == 422 and "x" * 2001 in r.text  # what was typed is shown again
    before = _item(live, "追加拨付").supervise_count
    r = office.post(f"{page}/supervise", {"unit": "caizheng", "opinion": "请于明日报送预算拨付进度。"}, token_from=page)
    assert r.status_code == 302
    assert _item(live, "追加拨付").supervise_count == before + 1
    with live.db.sessions() as s:
        event = s.scalars(select(SupervisionEvent).where(SupervisionEvent.resolution_id == item.id,
                                                         SupervisionEvent.manual)).first()
    assert event is not None and event.opinion == "请于明日报送预算拨付进度。" and event.actor == "office"
    # A unit may read the page but not supervise; the CSRF token is required.
    caizheng = live.client("caizheng")
    assert 'id="manual-supervision"' not in caizheng.get(page).text
    assert caizheng.post(f"{page}/supervise", {"unit": "caizheng", "opinion": "x"}, token_from=page).status_code == 403
    assert office.post(f"{page}/remind", {"unit": "caizheng"}, csrf=False).status_code == 400


def _overdue(html: str) -> str:
    m = re.search(r'id="item-overdue" data-days="(\d+)"', html)
    assert m, "逾期天数 missing"
    return m.group(1)


def test_unit_liaison_lists_its_own_items_and_exports_them(live: LiveApp) -> None:
    renshe = live.client("renshe")
    html = renshe.get("/my/resolutions").text
    shown = set(re.findall(r'<tr data-item-id="\d+" data-number="([^"]+)"', html))
    with live.db.sessions() as s:
        lead = set(s.scalars(select(ResolutionItem.number).where(ResolutionItem.lead_unit == "renshe",
                                                                 ResolutionItem.status != "draft")))
        co = set(s.scalars(select(ResolutionItem.number).join(ResolutionCoUnit).where(
            ResolutionCoUnit.unit_code == "renshe", ResolutionItem.status != "draft")))
    assert shown == lead | co and co - lead  # led and co-operated
    assert "本单位议定事项" in html and 'id="saved-filters"' not in html
    # Another unit's filter in the query string does not widen the list.
    assert set(re.findall(r'data-number="([^"]+)"', renshe.get("/my/resolutions?unit=caizheng&lead=caizheng").text)) \
        <= lead | co
    sheet = load_workbook(io.BytesIO(renshe.get("/my/resolutions/export.xlsx").content)).active
    assert sheet["A1"].value == f"{LEDGER_TITLE}（区人社局）"
    assert {row[1] for row in sheet.iter_rows(min_row=4, values_only=True)} == shown
    assert live.client("district").get("/my/resolutions").status_code == 403


def test_ledger_export_is_a_document_a_clerk_could_send(live: LiveApp) -> None:
    r = live.client("office").get("/resolutions/export.xlsx")
    assert r.status_code == 200
    book = load_workbook(io.BytesIO(r.content))
    sheet = book.active
    assert sheet["A1"].value == LEDGER_TITLE
    assert "A1:" in " ".join(str(m) for m in sheet.merged_cells.ranges)
    assert sheet["A2"].value == "制表单位：汉滨区社会救助联席会议办公室"
    assert any(str(c.value or "").startswith("截至日期：2026年") for c in sheet[2])
    header = [c.value for c in sheet[3]]
    assert header == [COLUMNS[c] for c in EXPORT_COLUMNS]
    assert header[:3] == ["序号", "编号", "来源"] and "原时限" in header and "逾期天数" in header
    rows = list(sheet.iter_rows(min_row=4))
    assert [row[0].value for row in rows] == list(range(1, len(rows) + 1))
    deadline = header.index("现时限")
    assert all(isinstance(row[deadline].value, datetime) and row[deadline].number_format == "yyyy-mm-dd"
               for row in rows)
    source = header.index("来源")
    assert any("（汉救联纪〔2026〕" in str(row[source].value) for row in rows)
    status = header.index("办理状态")
    assert {row[status].fill.fgColor.rgb[-6:] for row in rows} <= {"F8CBAD", "FFE699", "C6E0B4", "E7E6E6"}
    assert sheet.page_setup.orientation == "landscape" and sheet.print_title_rows in ("3:3", "$3:$3")
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToWidth == 1


CALC = Path("/usr/lib/libreoffice/program/libsclo.so")


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext") and CALC.exists()),
                    reason="LibreOffice Calc and poppler not installed (apt-get install libreoffice-calc-nogui "
                           "poppler-utils; `make install` does it as root)")
def test_ledger_export_prints_on_a4_landscape_in_readable_type(live: LiveApp, tmp_path: Path) -> None:
    """Printed as a clerk prints it (LibreOffice Calc → PDF): A4 landscape, every column on the page, and the
    body's characters at least 7 pt tall — fitting 17 columns to the width must not shrink them out of reach."""
    xlsx = tmp_path / "ledger.xlsx"
    xlsx.write_bytes(live.client("office").get("/resolutions/export.xlsx").content)
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(xlsx)], check=True, capture_output=True, timeout=180)
    bbox = subprocess.run(["pdftotext", "-bbox", str(tmp_path / "ledger.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout
    page = re.search(r'<page width="([\d.]+)" height="([\d.]+)"', bbox)
    assert page and float(page[1]) > float(page[2]) and abs(float(page[1]) - 841.9) < 2  # A4 landscape
    words = [(w, float(y1) - float(y0)) for y0, y1, w in
             re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]+)</word>', bbox)]
    text = " ".join(w for w, _ in words)
    assert "已办结" in text and "落实中" in text  # the last column (办理状态) is on the page too
    body = [h for w, h in words if w.startswith("HY-")]
    assert body and min(body) >= 7.0, f"the item numbers print {min(body):.1f} pt tall"


def test_documents_archive_and_who_may_read_them(live: LiveApp) -> None:
    office, unit, other = live.client("office"), live.client("renshe"), live.client("designer")
    listing = office.get("/bulletins").text
    assert "2026年第1期" in listing
    assert "2026年第1期" in unit.get("/bulletins").text  # issued to the member units
    page = unit.get("/bulletins/1").text
    assert "区政府分管领导，区政府办公室" in page and 'id="figures-co-units"' in page
    body = "\n".join(p.text for p in Document(io.BytesIO(unit.get("/bulletins/1/document.docx").content)).paragraphs)
    assert "2026年第1期" in body and "各成员单位：" in body and "抄报：区政府分管领导，区政府办公室。" in body
    assert other.get("/bulletins/1").status_code == 403
    report = office.get("/interim/1").text
    assert "汉救联报〔2026〕1号" in report and 'id="figures-units"' in report
    assert unit.get("/interim/1").status_code == 403
    assert "汉救联报〔2026〕1号" in "\n".join(
        p.text for p in Document(io.BytesIO(live.client("district").get("/interim/1/document.docx").content)).paragraphs)
    rounds = office.get("/progress").text
    assert re.search(r'<tr data-round-id="1">.*?<td class="text-end">2</td><td class="text-end">2</td>', rounds, re.S)
    with live.db.sessions() as s:
        letter = s.scalar(select(SupervisionLetter).where(SupervisionLetter.number.is_not(None)))
    assert letter is not None
    letter_text = "\n".join(p.text for p in Document(io.BytesIO(
        unit.get(f"/letters/{letter.id}/document.docx").content)).paragraphs)
    assert "区人社局主要负责人：" in letter_text and letter.number in letter_text
    assert live.client("caizheng").get(f"/letters/{letter.id}/document.docx").status_code == 403


def test_working_days_are_entered_by_the_administrator_and_the_office_is_warned(live: LiveApp) -> None:
    office, admin = live.client("office"), live.client("sysadmin")
    assert "2027年的法定节假日和调休安排尚未录入" in office.get("/tasks").text
    assert 'id="workday-warning"' not in live.client("renshe").get("/tasks").text  # units do not set deadlines
    r = admin.post("/admin/workdays", {"day": "2027-01-01", "kind": "holiday", "name": "元旦", "year": "2027"},
                   token_from="/admin/workdays?year=2027")
    assert r.status_code == 302
    assert 'data-day="2027-01-01" data-workday="false"' in admin.get("/admin/workdays?year=2027").text
    r = admin.post("/admin/workdays", {"day": "2027-02-30", "kind": "holiday", "name": "x", "year": "2027"},
                   token_from="/admin/workdays?year=2027")
    assert r.status_code == 422 and "请填写日期" in r.text
    r = admin.post("/admin/workdays/confirm", {"year": "2027", "source": ""}, token_from="/admin/workdays?year=2027")
    assert r.status_code == 422
    r = admin.post("/admin/workdays/confirm", {"year": "2027", "source": "国办发明电〔2026〕7号"},
                   token_from="/admin/workdays?year=2027")
    assert r.status_code == 302
    assert 'id="workday-warning"' not in office.get("/tasks").text
    assert office.get("/admin/workdays").status_code == 403
