"""督办 in Chromium: the office's manual 督办 on an overdue item's page (refused without a 督办意见, the text kept;
then recorded in the history and counted), and a unit liaison's 本单位议定事项 exported to Excel and read back.

Serves its own app (a waitress thread on a fresh SQLite file, bench.world's monitoring scenario) so that the
data can be driven through the service layer with a ManualClock. Screenshots land in ``test-results/``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select
from web_support import LiveApp, live_app

from bench.world import Scenario, monitoring_scenario
from browser.pages import sign_in
from engine.clock import ManualClock
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import ResolutionItem, SupervisionEvent

DOWNLOAD = re.compile(r"request failed: \S+/(my/)?resolutions/export\.xlsx\S* \(net::ERR_ABORTED\)")
REFUSED = re.compile(r"HTTP 422: \S+/resolutions/\d+/supervise")  # the refusal the test provokes on purpose


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApp, Scenario]]:
    clock = ManualClock(DEMO_START)
    path = tmp_path_factory.mktemp("supervision-browser")
    with live_app(f"sqlite:///{path}/supervision.db", clock) as app:
        yield app, monitoring_scenario(Walkthrough(app.db, app.service, clock))


@pytest.fixture
def signed_in(page: Page, console_errors: list[str], world: tuple[LiveApp, Scenario]) -> Iterator[Page]:
    page.set_viewport_size({"width": 1366, "height": 900})
    yield page
    assert [e for e in console_errors if not (DOWNLOAD.fullmatch(e) or REFUSED.fullmatch(e))] == []


def test_office_supervises_an_overdue_item_by_hand(signed_in: Page, world: tuple[LiveApp, Scenario],
                                                   results_dir: Path) -> None:
    live, _ = world
    page = signed_in
    with live.db.sessions() as s:
        item = s.scalar(select(ResolutionItem).where(ResolutionItem.content.contains("追加拨付")))
    assert item is not None
    sign_in(page, live.url, "office")
    page.goto(f"{live.url}/resolutions/{item.id}")
    expect(page.locator("#item-overdue")).to_be_visible()
    manual_rows = page.locator("#item-history tr[data-manual=true]")
    before = manual_rows.count()
    # No 督办意见: refused, the page says why and nothing is recorded.
    page.select_option("#m-unit", "caizheng")
    page.click("#manual-supervise")
    expect(page.locator("#manual-errors")).to_contain_text("请填写督办意见")
    expect(manual_rows).to_have_count(before)
    # With the opinion: recorded, counted, shown in the history.
    page.fill("#m-opinion", "请于明日前报送备用金拨付进度。")
    page.click("#manual-supervise")
    expect(page.locator(".alert-success")).to_contain_text("督办")
    expect(manual_rows).to_have_count(before + 1)
    expect(manual_rows.last).to_contain_text("请于明日前报送备用金拨付进度。")
    page.screenshot(path=str(results_dir / "supervision-item.png"), full_page=True)
    with live.db.sessions() as s:
        events = list(s.scalars(select(SupervisionEvent).where(SupervisionEvent.resolution_id == item.id,
                                                               SupervisionEvent.manual)))
    assert [e.opinion for e in events][-1] == "请于明日前报送备用金拨付进度。"


def test_unit_exports_its_own_items_and_reads_them_back(signed_in: Page, world: tuple[LiveApp, Scenario],
                                                        results_dir: Path) -> None:
    live, _ = world
    page = signed_in
    sign_in(page, live.url, "renshe")
    page.click("#nav-my-items")
    expect(page.locator("#ledger-heading")).to_contain_text("区人社局")
    rows = page.locator("#ledger-table tbody tr[data-item-id]")
    shown = rows.evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert len(shown) >= 3
    page.screenshot(path=str(results_dir / "supervision-my-items.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#export-xlsx")
    sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    assert sheet["A1"].value == "汉滨区社会救助联席会议议定事项督办台账（区人社局）"
    assert sheet["A2"].value == "制表单位：区人社局"
    header = [c.value for c in sheet[3]]
    assert header[:4] == ["序号", "编号", "来源", "议定事项"]
    table = list(sheet.iter_rows(min_row=4, values_only=True))
    assert [r[1] for r in table] == shown
    deadline = header.index("现时限")
    assert all(isinstance(r[deadline], datetime) for r in table)
