"""来源 (会议纪要 / 交办 / 协调 / 信访) filters the dashboard's headline figures and the 督办通报 (the printable one and
the issued .docx), not only the ledger: items of each source are put in directly, the figures are read over HTTP
and from the document, and the filtered aggregates use an index."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from docx import Document
from sqlalchemy import select
from web_support import LiveApp, live_app

from engine.clock import ManualClock
from meeting.demo import DEMO_START, Walkthrough
from meeting.items import create_sourced_item
from meeting.models import Bulletin, ResolutionItem
from meeting.monitoring import dashboard
from meeting.statuses import ResolutionStatus

# (number, source, lead unit, days to the deadline, closed): 2 petition items (one overdue), 1 assigned (closed),
# 1 coordination (due in 2 days).
ITEMS = [("XF-1", "petition", "minzheng", -3, False), ("XF-2", "petition", "renshe", 20, False),
         ("JB-1", "assigned", "caizheng", 10, True), ("XT-1", "coordination", "yibao", 2, False)]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    clock = ManualClock(DEMO_START)
    path = tmp_path_factory.mktemp("sources")
    with live_app(f"sqlite:///{path}/sources.db", clock) as app:
        created = clock.now() - timedelta(days=10)
        with app.db.transaction() as s:
            for number, source, lead, days, closed in ITEMS:
                item = create_sourced_item(s, number=number, content=f"事项{number}", lead_unit=lead, co_units=[],
                                           deadline=clock.now() + timedelta(days=days), source=source,
                                           source_ref=None, now=created)
                if closed:
                    item.status, item.closed_at = ResolutionStatus.CLOSED, clock.now() - timedelta(hours=1)
        yield app


def _kpis(html: str) -> dict[str, str]:
    return dict(re.findall(r'id="kpi-([\w-]+)"[^>]*data-value="([^"]*)"', html))


def test_the_dashboard_headline_figures_follow_the_source(live: LiveApp) -> None:
    office = live.client("office")
    every = _kpis(office.get("/monitor").text)
    assert (every["open"], every["overdue"], every["due-soon"], every["closed-month"]) == ("3", "1", "1", "1")
    page = office.get("/monitor?source=petition").text
    petition = _kpis(page)
    assert (petition["open"], petition["overdue"], petition["due-soon"], petition["closed-month"]) == (
        "2", "1", "0", "0")
    assert petition["avg-days"] == ""  # none closed
    assert '<option value="petition" selected>' in page
    assert "/resolutions?status=open&amp;source=petition" in page  # the figures open the ledger so filtered
    assert '<tr data-source="assigned">' in page  # the table by 来源 still counts every source
    assigned = _kpis(office.get("/monitor?source=assigned").text)
    assert (assigned["open"], assigned["closed-month"], assigned["avg-days"]) == ("0", "1", "10.0")
    refused = office.get("/monitor?source=nonsense")
    assert refused.status_code == 200 and "来源无效" in refused.text and _kpis(refused.text)["open"] == "3"


def test_the_source_filter_is_an_indexed_query(live: LiveApp) -> None:
    with live.db.sessions() as s:
        board = dashboard(s, live.service.now(), source="coordination")
        assert (board.open, board.due_soon, [u.code for u in board.units]) == (1, 1, ["yibao"])
        stmt = select(ResolutionItem.lead_unit).where(ResolutionItem.source == "petition",
                                                      ResolutionItem.status != "draft")
        sql = str(stmt.compile(compile_kwargs={"literal_binds": True}))
        plan = " ".join(str(row[-1]) for row in s.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan


def test_the_printable_bulletin_lists_only_the_sources_overdue_items(live: LiveApp) -> None:
    office = live.client("office")
    petition = office.get("/monitor/units/report?from=2026-01-01&to=2026-12-31&source=petition").text
    assert "事项XF-1" in petition
    assigned = office.get("/monitor/units/report?from=2026-01-01&to=2026-12-31&source=assigned").text
    assert "事项XF-1" not in assigned and 'data-unit="caizheng"' in assigned


def test_the_issued_bulletin_is_filtered_by_its_source(live: LiveApp) -> None:
    w = Walkthrough(live.db, live.service, ManualClock(DEMO_START))
    w.start("office", "bulletin")
    w.do("office", "draft_bulletin", {"bulletin_as_of": w.today(), "bulletin_period_from": "2026-01-01",
                                      "bulletin_source": "petition", "bulletin_requirements": "请抓紧办理信访事项。"})
    w.do("convener", "approve_bulletin", {"bulletin_decision": "approve"})
    with live.db.sessions() as s:
        bulletin = s.scalars(select(Bulletin)).one()
        bulletin_id, figures = bulletin.id, bulletin.figures
    assert figures["source"] == "petition" and figures["assigned"] == 2 and figures["overdue"] == 1
    assert [u["code"] for u in figures["units"]] == ["minzheng", "renshe"]
    data = live.client("minzheng").get(f"/bulletins/{bulletin_id}/document.docx").content
    doc = Document(io.BytesIO(data))
    text = "\n".join([p.text for p in doc.paragraphs] + [c.text for t in doc.tables for r in t.rows for c in r.cells])
    assert "关于信访督办事项落实情况的通报" in text
    assert "联席会议共交办来源为“信访”的督办事项2项，已办结0项" in text
    assert "事项XF-1" in text and "区民政局" in text and "区财政局" not in text
    page = live.client("office").get(f"/bulletins/{bulletin_id}").text
    assert re.search(r'id="bulletin-source">\s*信访', page)


def test_a_bulletin_refuses_an_unknown_source(live: LiveApp) -> None:
    from engine.errors import FormError
    w = Walkthrough(live.db, live.service, ManualClock(DEMO_START))
    w.start("office", "bulletin")
    with pytest.raises(FormError) as info:
        w.do("office", "draft_bulletin", {"bulletin_as_of": w.today(), "bulletin_period_from": "2026-01-01",
                                          "bulletin_source": "rumour", "bulletin_requirements": "请抓紧。"})
    assert "bulletin_source" in info.value.errors
