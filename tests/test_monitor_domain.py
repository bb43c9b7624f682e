"""The monitoring read side on SQLite and PostgreSQL: the activity-token projection and heatmaps (also across
versions of a called process), the ledger's filters and their indexes, spreadsheet-safe cells, the dashboard
and scorecard figures, and the 会议纪要 document attached when the minutes are issued."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from docx import Document
from sqlalchemy import event, select

from bench.world import first_meeting, walkthrough
from engine.activity import Counts, bundled_model, heatmap, scope_states, totals
from engine.db import Database
from engine.loader import SourceFile
from engine.models import ActivityTokens, Attachment, Instance, ProcessModel
from meeting.demo import DEMO_START, Walkthrough
from meeting.ledger import LedgerFilter, ledger_rows, safe_cell
from meeting.minutes_doc import TITLE
from meeting.models import Minutes, ResolutionItem
from meeting.monitoring import dashboard, scorecards
from meeting.runtime import PROCESSES_DIR


@pytest.fixture
def demo(database: Database) -> Walkthrough:
    """The demo meeting (bench.world.first_meeting), run to the end: every item closed."""
    w = walkthrough(database)
    first_meeting(w)
    return w


def _truth(w: Walkthrough) -> dict[tuple[str, str], Counts]:
    out: dict[tuple[str, str], Counts] = {}
    with w.db.sessions() as s:
        instances = [(i.id, i.process_key, i.status, i.model.called) for i in s.scalars(select(Instance))]
    for instance_id, key, status, called in instances:
        for k, c in totals(scope_states(w.service.workflow(instance_id), key, called)).items():
            t = out.setdefault(k, Counts())
            t.active += c.active if status in ("running", "suspended") else 0
            t.completed += c.completed
    return out


def test_projection_matches_the_workflows_and_follows_versions(demo: Walkthrough) -> None:
    w = demo
    truth = _truth(w)
    with w.db.sessions() as s:
        models = {m.key: m for m in s.scalars(select(ProcessModel))}
        for key in ("joint_meeting", "resolution_item", "major_issue", "topic_proposal"):
            heat = heatmap(s, models[key])
            assert {k: c.completed for k, c in heat.items()} == {
                b: c.completed for (p, b), c in truth.items() if p == key}, key
            assert all(c.active == 0 for c in heat.values())  # everything finished
        ri = heatmap(s, models["resolution_item"])
        # Three items closed; one reminded (催办) and supervised (督办); one extension asked and approved.
        assert ri["close_item"].completed == 3 and ri["supervise"].completed == 1
        assert ri["approve_extension"].completed == 1 and ri["co_input"].completed == 2
        meeting_heat = heatmap(s, models["joint_meeting"])
        # 16 units replied; 区残联 never did, and the reply deadline closed the round (截止回执).
        assert meeting_heat["confirm_attendance"].completed == 16
        assert meeting_heat["close_attendance"].completed == 1 and meeting_heat["sign_in"].completed == 1
        assert bundled_model(s, models["joint_meeting"], "resolution_item").id == models["resolution_item"].id

    # A new version of resolution_item: running meetings keep the version they bundled.
    source = (PROCESSES_DIR / "resolution_item.bpmn").read_text(encoding="utf-8")
    changed = source.replace('name="核验落实结果"', 'name="核验落实结果并销号"', 1)
    assert changed != source
    w.clock.advance(timedelta(minutes=1))
    [result] = w.service.deploy([SourceFile("resolution_item.bpmn", changed.encode())])
    assert result.created and result.model.version == 2
    with w.db.sessions() as s:
        old = s.scalar(select(ProcessModel).where(ProcessModel.key == "resolution_item", ProcessModel.version == 1))
        jm = s.scalar(select(ProcessModel).where(ProcessModel.key == "joint_meeting"))
        assert bundled_model(s, jm, "resolution_item").version == 1
        assert heatmap(s, result.model) == {}
        assert heatmap(s, old)["close_item"].completed == 3

    # Cancelling an instance takes its tokens away and keeps its history.
    instance = w.start("caizheng", "topic_proposal")
    with w.db.sessions() as s:
        rows = {r.bpmn_id: r.active for r in s.scalars(select(ActivityTokens).where(
            ActivityTokens.instance_id == instance))}
    assert rows["propose"] == 1
    w.service.cancel(instance, w.actor("admin"), "重复发起")
    with w.db.sessions() as s:
        rows = {r.bpmn_id: r.active for r in s.scalars(select(ActivityTokens).where(
            ActivityTokens.instance_id == instance))}
    assert rows and set(rows.values()) == {0}


def test_ledger_dashboard_scorecards_and_minutes_document(demo: Walkthrough) -> None:
    w = demo
    now = w.clock.now()
    with w.db.sessions() as s:
        items = list(s.scalars(select(ResolutionItem)))
        assert {r.item.number for r in ledger_rows(s, LedgerFilter.parse({"status": "closed"}), now)} == {
            i.number for i in items}
        assert [r.item.lead_unit for r in ledger_rows(s, LedgerFilter.parse({"co": "weijian"}), now)] == ["yibao"]
        assert ledger_rows(s, LedgerFilter.parse({"light": "red"}), now) == []
        board = dashboard(s, now)
        assert (board.open, board.overdue, board.due_soon) == (0, 0, 0)
        assert sum(board.closed_per_month) == 3 and sum(board.created_per_month) == 3
        # The three items are registered on the meeting day; the minutes are issued 3.5 days later (the first
        # comment round runs to its deadline). 区财政局's is closed on the day of issue (3.5 days); 区人社局's
        # (overdue) and 区医保局's (extended) are both closed after the clock moves 18 + 3 days more (24.5 days
        # each): (3.5 + 24.5 + 24.5) / 3 = 17.5 days.
        assert board.avg_days_to_close == 17.5
        cards = {c.code: c for c in scorecards(s, now, date(2026, 1, 1), date(2026, 12, 31))}
        # 区人社局 closed after its deadline (督办 fired): one overdue, closed late.
        assert cards["renshe"].closed_late == 1 and cards["renshe"].close_rate == 1.0
        assert cards["caizheng"].overdue == 0
        assert scorecards(s, now, date(2025, 1, 1), date(2025, 12, 31)) == []

    # The 会议纪要 document was generated and attached when the minutes were issued.
    with w.db.sessions() as s:
        minutes = s.scalar(select(Minutes))
        assert minutes.status == "issued" and minutes.document_id
        row = s.get(Attachment, minutes.document_id)
        assert row.instance_id is not None and row.file_name.endswith(".docx")
        content = row.content
    doc = Document(io.BytesIO(content))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[2] == TITLE == "汉滨区社会救助联席会议纪要"
    assert "汉救联纪〔2026〕1号" in paragraphs
    present = next(p for p in paragraphs if p.startswith("出席："))
    assert "区财政局" in present and "区统计局" not in present
    assert next(p for p in paragraphs if p.startswith("请假：")) == "请假：区统计局"
    assert next(p for p in paragraphs if p.startswith("列席：")) == "列席：无"
    assert next(p for p in paragraphs if p.startswith("未回复：")) == "未回复：区残联"
    assert "区人社局 办公室主任 王五（代会）" in present
    assert next(p for p in paragraphs if p.startswith("报：")) == "报：区政府分管领导，区政府办公室。"
    assert next(p for p in paragraphs if p.startswith("送：")) == "送：各成员单位。"
    cc = next(p for p in paragraphs if p.startswith("抄送："))
    assert cc == "抄送：区委办公室。"  # chosen for this document, not the 2020 notice's list
    assert any(p.endswith("印发") and "汉滨区社会救助联席会议办公室" in p for p in paragraphs)
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows]
    assert rows[0] == ["序号", "议定事项", "牵头单位", "配合单位", "完成时限"]
    assert [r[2] for r in rows[1:]] == ["区财政局", "区人社局", "区医保局"]
    assert rows[1][3] == "区民政局" and rows[2][3] == "区统计局"  # 区统计局: the co-unit that stays silent
    section = doc.sections[0]
    assert round(section.top_margin.mm) == 37 and round(section.left_margin.mm) == 28
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297


# ---------------------------------------------------------------------------------------------- pure helpers
@pytest.mark.parametrize("value", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\tx", "\r=x"])
def test_spreadsheet_cells_never_start_a_formula(value: str) -> None:
    assert safe_cell(value) == "'" + value
    assert safe_cell("落实" + value) == "落实" + value
    assert safe_cell(3) == 3


def test_filter_query_string_round_trip() -> None:
    flt = LedgerFilter.parse({"lead": "caizheng", "light": "red", "due_from": "2026-07-01", "sort": "-deadline",
                              "col": ["number", "content"], "bogus": "1"})
    assert flt.errors == {}
    assert flt.query_string() == "lead=caizheng&light=red&due_from=2026-07-01&sort=-deadline&col=number&col=content"
    assert LedgerFilter.parse({"lead": "x' OR 1=1", "status": "done", "due_to": "7/1"}).errors == {
        "lead": "单位代码无效", "status": "办理状态无效", "due_to": "日期格式应为 YYYY-MM-DD"}


def test_ledger_filters_use_indexes(sqlite_db: Database) -> None:
    """The ledger answers from indexes: SQLite's plan of each filter's query, with its real parameters, names the
    index, and never scans resolution_items without one."""
    cases = {
        "lead=caizheng": "ix_resolution_items_lead_deadline",  # the filter and the deadline sort in one
        "meeting=1": "ix_resolution_items_meeting_id",
        "co=minzheng": "ix_resolution_co_units_unit_code",
        "light=red": "ix_resolution_items_deadline",  # overdue: a deadline range, walked in the sort's order
        "due_from=2026-07-01&due_to=2026-07-31&sort=-deadline": "ix_resolution_items_deadline",
        "sort=-deadline": "ix_resolution_items_deadline",
    }
    plans: list[str] = []

    def explain(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT") and "resolution_items" in statement:
            rows = conn.connection.dbapi_connection.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            plans.append(" | ".join(row[3] for row in rows))

    event.listen(sqlite_db.read_engine, "before_cursor_execute", explain)
    try:
        for query, index in cases.items():
            plans.clear()
            with sqlite_db.sessions() as s:
                ledger_rows(s, LedgerFilter.parse(dict(p.split("=") for p in query.split("&"))), DEMO_START)
            plan = plans[0]
            assert index in plan, (query, plan)
            scans = [step for step in plan.split(" | ") if step.startswith("SCAN resolution_items")]
            assert all("INDEX" in step for step in scans), (query, plan)
    finally:
        event.remove(sqlite_db.read_engine, "before_cursor_execute", explain)
