"""The convener's view in Chromium: dashboard figures against the data, a ledger filter and its Excel export, the
instance diagram with the active step and the drill-down, the heatmap's counts, the 会议纪要 download.

This module serves its own app (a waitress thread on a fresh SQLite file) so that the demo-style data can be
driven through the service layer with a ManualClock; ``base_url`` points at it. Screenshots of the dashboard,
the ledger and an instance page are kept in ``test-results/`` (monitor-*.png).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
from playwright.sync_api import Page, expect
from sqlalchemy import select
from web_support import LiveApp, live_app

from bench.world import SECOND_MINUTES, Scenario, monitoring_scenario
from browser.pages import sign_in
from engine.activity import heatmap
from engine.clock import ManualClock
from engine.models import ProcessModel
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import ResolutionItem

OPEN = ("in_progress", "reported", "returned")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApp, Scenario]]:
    clock = ManualClock(DEMO_START)
    path = tmp_path_factory.mktemp("monitor-browser")
    with live_app(f"sqlite:///{path}/monitor.db", clock) as app:
        yield app, monitoring_scenario(Walkthrough(app.db, app.service, clock))


class At:
    """Absolute URLs of this module's server (the session's ``base_url`` serves another database)."""

    def __init__(self, page: Page, base: str) -> None:
        self.page, self.base = page, base

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)


@pytest.fixture
def convener(page: Page, console_errors: list[str], world: tuple[LiveApp, Scenario]) -> Iterator[At]:
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, world[0].url, "convener")
    yield At(page, world[0].url)
    # A link that answers with a file (Content-Disposition: attachment) is reported as an aborted navigation.
    downloads = re.compile(r"request failed: \S+/(resolutions/export\.xlsx|meetings/\d+/minutes\.docx)\S* \(net::ERR_ABORTED\)")
    assert [e for e in console_errors if not downloads.fullmatch(e)] == []


def test_dashboard_numbers_match_the_data(convener: At, world: tuple[LiveApp, Scenario], results_dir: Path) -> None:
    live, _ = world
    at = convener
    page = at.page
    now = live.clock.now()
    with live.db.sessions() as s:
        items = list(s.scalars(select(ResolutionItem).where(ResolutionItem.status != "draft")))
    open_items = [i for i in items if i.status in OPEN]
    expected = {
        "#kpi-open": len(open_items),
        "#kpi-due-soon": sum(1 for i in open_items if now <= i.deadline <= now + timedelta(days=3)),
        "#kpi-overdue": sum(1 for i in open_items if i.deadline < now),
    }
    at.goto("/monitor")
    for selector, value in expected.items():
        expect(page.locator(f"{selector} .jm-kpi-value")).to_have_text(str(value))
    expect(page.locator("#lights [data-light=red] [data-count]")).to_have_text(str(expected["#kpi-overdue"]))
    # The three charts render (SVG) from their JSON blocks.
    expect(page.locator("[data-echarts][data-rendered=true]")).to_have_count(3)
    assert page.locator("[data-echarts=chart-by-unit] svg path").count() > 5
    # The per-unit table agrees with the data: 区财政局 leads one overdue item.
    row = page.locator("#unit-table tr[data-unit=caizheng]")
    expect(row.locator("[data-col=overdue]")).to_have_text("1")
    page.screenshot(path=str(results_dir / "monitor-dashboard.png"), full_page=True)
    # The red figure leads to the ledger filtered on it.
    page.click("#kpi-overdue")
    expect(page.locator("#ledger-table tbody tr[data-item-id]")).to_have_count(expected["#kpi-overdue"])


def test_ledger_filter_and_excel_export_agree(convener: At, world: tuple[LiveApp, Scenario],
                                              results_dir: Path) -> None:
    live, _ = world
    at = convener
    page = at.page
    at.goto("/resolutions")
    page.select_option("#f-status", "open")
    page.select_option("#f-sort", "-deadline")
    page.click("#apply-filter")
    page.wait_for_url(re.compile(r"status=open"))
    rows = page.locator("#ledger-table tbody tr[data-item-id]")
    with live.db.sessions() as s:
        expected = [i.number for i in s.scalars(select(ResolutionItem).where(ResolutionItem.status.in_(OPEN))
                                                 .order_by(ResolutionItem.deadline.desc()))]
    expect(rows).to_have_count(len(expected))
    shown = rows.evaluate_all("rows => rows.map(r => r.dataset.number)")
    assert shown == expected
    contents = page.locator("#ledger-table tbody td[data-col=content]").all_inner_texts()
    page.screenshot(path=str(results_dir / "monitor-ledger.png"), full_page=True)
    with page.expect_download() as info:
        page.click("#export-xlsx")
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    # The page's default columns: the export writes the clerk's full set under a title and 制表单位 / 截至日期.
    table = list(sheet.iter_rows(min_row=3, values_only=True))
    number, content = table[0].index("编号"), table[0].index("议定事项")
    assert table[0][0] == "序号"
    assert [r[number] for r in table[1:]] == shown
    assert [str(r[content]).removeprefix("'") for r in table[1:]] == contents


def test_instance_diagram_marks_the_active_step(convener: At, world: tuple[LiveApp, Scenario],
                                                results_dir: Path) -> None:
    _, scenario = world
    at = convener
    page = at.page
    at.goto(f"/instances/{scenario.second_meeting_instance}")
    diagram = page.locator("#instance-diagram[data-rendered=true]")
    expect(diagram).to_have_count(1)
    active = page.locator('#instance-diagram g.djs-element[data-element-id="implement_items"]')
    expect(active).to_have_class(re.compile(r"\bjm-active\b"))
    expect(page.locator('#instance-diagram g.djs-element[data-element-id="issue_minutes"]')).to_have_class(
        re.compile(r"\bjm-completed\b"))
    expect(page.locator('#instance-diagram g.djs-element[data-element-id="compile_report"]')).not_to_have_class(
        re.compile(r"jm-(active|completed)"))
    badge = page.locator('#instance-diagram .djs-overlays[data-container-id="implement_items"] .jm-count-active')
    expect(badge).to_have_text("4")
    page.screenshot(path=str(results_dir / "monitor-instance.png"))
    # Drill down: the overdue item's own diagram, with the lead unit's step active.
    page.locator("#call-table a", has_text="追加拨付").click()
    expect(page.locator("#instance-diagram[data-rendered=true]")).to_have_count(1)
    expect(page.locator('#instance-diagram g.djs-element[data-element-id="implement"]')).to_have_class(
        re.compile(r"\bjm-active\b"))
    expect(page.locator('#instance-diagram g.djs-element[data-element-id="verify"]')).not_to_have_class(
        re.compile(r"jm-active"))
    expect(page.locator("#scope-state")).to_have_attribute("data-state", "active")
    page.screenshot(path=str(results_dir / "monitor-instance-call.png"), full_page=True)


def test_heatmap_shows_the_right_counts(convener: At, world: tuple[LiveApp, Scenario], results_dir: Path) -> None:
    live, _ = world
    at = convener
    page = at.page
    with live.db.sessions() as s:
        model = s.scalar(select(ProcessModel).where(ProcessModel.key == "resolution_item"))
        counts = heatmap(s, model)
    at.goto(f"/instances/heatmap?model={model.id}")
    expect(page.locator("#heatmap-diagram[data-rendered=true]")).to_have_count(1)
    for bpmn_id, c in counts.items():
        overlay = page.locator(f'#heatmap-diagram .djs-overlays[data-container-id="{bpmn_id}"]')
        if c.active:
            expect(overlay.locator(".jm-count-active")).to_have_text(str(c.active))
        if c.completed:
            expect(overlay.locator(".jm-count-completed")).to_have_text(str(c.completed))
    # What the scenario holds: three items at 落实并报告, one waiting for 核验, four closed.
    expect(page.locator('.djs-overlays[data-container-id="implement"] .jm-count-active')).to_have_text("3")
    expect(page.locator('.djs-overlays[data-container-id="verify"] .jm-count-active')).to_have_text("1")
    expect(page.locator('.djs-overlays[data-container-id="close_item"] .jm-count-completed')).to_have_text("4")
    page.screenshot(path=str(results_dir / "monitor-heatmap.png"), full_page=True)


def test_minutes_document_downloads_from_the_meeting_page(convener: At, world: tuple[LiveApp, Scenario]) -> None:
    _, scenario = world
    at = convener
    page = at.page
    at.goto(f"/meetings/{scenario.second_meeting_id}")
    with page.expect_download() as info:
        page.click("#minutes-download")
    doc = Document(info.value.path())
    paragraphs = [p.text for p in doc.paragraphs]
    assert "汉滨区社会救助联席会议纪要" in paragraphs and SECOND_MINUTES in paragraphs
    for label in ("出席：", "请假：", "列席：", "抄送："):
        assert any(p.startswith(label) for p in paragraphs), label
    assert len(doc.tables[0].rows) == 1 + 5


@pytest.mark.parametrize("width", [1366, 1100])
def test_top_bar_items_stay_whole_when_the_bar_is_full(convener: At, width: int) -> None:
    """The convener has the most menus and an unread count: a full bar moves whole items to a second line
    instead of breaking 待办 into 待 / 办, and the language selector still shows its label."""
    convener.page.set_viewport_size({"width": width, "height": 768})
    convener.goto("/monitor")
    broken = convener.page.evaluate("""() => [...document.querySelectorAll('.jm-topbar .nav-link, #nav-account')]
        .filter(el => {
          const s = getComputedStyle(el);
          const line = parseFloat(s.lineHeight) || parseFloat(s.fontSize) * 1.5;
          return el.getBoundingClientRect().height > line + parseFloat(s.paddingTop) + parseFloat(s.paddingBottom) + 2;
        }).map(el => el.textContent.trim())""")
    assert broken == []
    select = convener.page.locator(".jm-topbar select[name=lang]")
    assert select.evaluate("el => el.scrollWidth <= el.clientWidth + 1")
