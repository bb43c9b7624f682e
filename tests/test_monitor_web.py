"""The convener's view over real HTTP (waitress): dashboard figures against the database, the ledger's filters,
exports read back, saved filters shared with a group, the JSON API, instances with their diagram state and
drill-down, suspend / resume / cancel with reasons in the audit trail, the heatmap, and who may see what."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from pathlib import Path
from statistics import mean
from urllib.parse import quote

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, select
from web_support import LiveApp, live_app

from bench.world import SECOND_TITLE, Scenario, monitoring_scenario
from engine.activity import Counts, heatmap, scope_states, totals
from engine.clock import SHANGHAI, ManualClock
from engine.models import ActivityTokens, AuditEvent, HumanTask, Instance, ProcessModel
from meeting.accounts import create_token
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import ResolutionItem, SavedFilter, Unit, User

OPEN = ("in_progress", "reported", "returned")


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveApp, Scenario]]:
    clock = ManualClock(DEMO_START)
    path = tmp_path_factory.mktemp("monitor")
    with live_app(f"sqlite:///{path}/monitor.db", clock) as app:
        yield app, monitoring_scenario(Walkthrough(app.db, app.service, clock))


@pytest.fixture(scope="module")
def live(world: tuple[LiveApp, Scenario]) -> LiveApp:
    return world[0]


@pytest.fixture(scope="module")
def scenario(world: tuple[LiveApp, Scenario]) -> Scenario:
    return world[1]


def _items(live: LiveApp) -> list[ResolutionItem]:
    with live.db.sessions() as s:
        return list(s.scalars(select(ResolutionItem)))


def _row_numbers(html: str) -> list[str]:
    return re.findall(r'<tr data-item-id="\d+" data-number="([^"]+)"', html)


def _attr(html: str, element_id: str, attr: str) -> str:
    m = re.search(rf'id="{re.escape(element_id)}"[^>]*?{attr}="([^"]*)"', html, re.S)
    assert m, f"#{element_id}[{attr}] not found"
    return unescape(m.group(1))


# ---------------------------------------------------------------------------------------------- dashboard
def test_dashboard_figures_match_the_database(live: LiveApp) -> None:
    now = live.clock.now()
    items = [i for i in _items(live) if i.status != "draft"]
    open_items = [i for i in items if i.status in OPEN]
    month_start = now.astimezone(SHANGHAI).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    closed = [i for i in items if i.status == "closed"]
    expected = {
        "open": len(open_items),
        "due-soon": sum(1 for i in open_items if now <= i.deadline <= now + timedelta(days=3)),
        "overdue": sum(1 for i in open_items if i.deadline < now),
        "closed-month": sum(1 for i in closed if i.closed_at >= month_start),
    }
    # The scenario was built for these: four open (one yellow, one red), three closed this month (区教体局's, and
    # the first meeting's two late items: its minutes went out for comments first, which moved them into July).
    assert expected == {"open": 4, "due-soon": 1, "overdue": 1, "closed-month": 3}
    html = live.client("convener").get("/monitor").text
    for key, value in expected.items():
        assert _attr(html, f"kpi-{key}", "data-value") == str(value), key
    avg = round(mean((i.closed_at - i.created_at).total_seconds() / 86400 for i in closed), 1)
    assert _attr(html, "kpi-avg-days", "data-value") == str(avg)
    # Per lead unit: open / overdue / closed, as in the database.
    for code in {i.lead_unit for i in items}:
        mine = [i for i in items if i.lead_unit == code]
        row = re.search(rf'<tr data-unit="{code}">(.*?)</tr>', html, re.S)
        assert row, code
        cells = dict(re.findall(r'data-col="(\w+)">(\d+)<', row.group(1)))
        assert cells == {"open": str(sum(i.status in OPEN for i in mine)),
                         "overdue": str(sum(i.status in OPEN and i.deadline < now for i in mine)),
                         "closed": str(sum(i.status == "closed" for i in mine))}, code
    # Charts are fed through JSON blocks (no inline script), per unit and per month.
    block = re.search(r'<script type="application/json" id="chart-trend">(.*?)</script>', html, re.S)
    assert block
    trend = json.loads(block.group(1))
    assert sum(trend["series"][1]["data"]) == len(closed)
    assert "<script>" not in html


def test_scorecards_and_printable_bulletin(live: LiveApp) -> None:
    b = live.client("district")
    html = b.get("/monitor/units?from=2026-01-01&to=2026-12-31").text
    row = re.search(r'<tr data-unit="caizheng">(.*?)</tr>', html, re.S)
    assert row
    cells = dict(re.findall(r'data-col="(\w+)">([^<]*)<', row.group(1)))
    # 区财政局 leads two items: the first meeting's (closed on time) and the overdue one.
    assert cells["assigned"] == "2" and cells["closed"] == "1" and cells["rate"] == "50.0%"
    assert cells["overdue_open"] == "1" and cells["closed_late"] == "0"
    report = b.get("/monitor/units/report?from=2026-01-01&to=2026-12-31")
    assert report.status_code == 200
    assert "关于议定事项落实情况的通报" in report.text and 'id="overdue-table"' in report.text
    assert "追加拨付临时救助备用金" in report.text and 'data-print' in report.text
    assert re.search(r"dist/monitor(\.[0-9a-f]{8})?\.css", report.text)  # the print stylesheet
    bad = b.get("/monitor/units?from=2026-13-01")
    assert bad.status_code == 200 and "日期格式应为" in bad.text


def test_the_printed_report_lists_at_most_its_share_of_overdue_items_and_counts_the_rest(
        live: LiveApp, scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    import web.views.monitor as monitor_view
    from meeting.monitoring import overdue_count, overdue_items

    with live.db.sessions() as s:
        now = live.service.now()
        assert len(overdue_items(s, now)) == overdue_count(s, now) == 1 and overdue_items(s, now, 0) == []
    b = live.client("office")
    assert 'id="overdue-more"' not in b.get("/monitor/units/report").text
    monkeypatch.setattr(monitor_view, "OVERDUE_LISTED", 0)
    report = b.get("/monitor/units/report").text
    assert "另有1项逾期未办结事项，详见督办台账。" in report


def test_an_invited_guest_department_shows_its_contact_to_the_office(live: LiveApp, scenario: Scenario) -> None:
    from meeting.models import Attendance, Unit

    with live.db.transaction() as s:
        s.add(Unit(code="hongshizi", name="区红十字会", kind="guest", sort=900, active=True,
                   contact_name="张明", contact_phone="0915-3212345"))
        s.flush()
        s.add(Attendance(meeting_id=scenario.second_meeting_id, unit_code="hongshizi", invited=True))
    page = live.client("office").get(f"/meetings/{scenario.second_meeting_id}").text
    row = page.split('data-unit="hongshizi"', 1)[1].split("</li>", 1)[0]
    assert "列席" in row and "联系人：张明 0915-3212345" in row  # whom to phone for its reply
    member = live.client("caizheng").get(f"/meetings/{scenario.second_meeting_id}").text
    assert "0915-3212345" not in member  # a contact for the office, not for every reader


# ---------------------------------------------------------------------------------------------- ledger
def test_ledger_filters_and_sort(live: LiveApp, scenario: Scenario) -> None:
    b = live.client("office")
    items = {i.number: i for i in _items(live) if i.status != "draft"}
    now = live.clock.now()

    def numbers(query: str) -> list[str]:
        r = b.get("/resolutions?" + query)
        assert r.status_code == 200
        return _row_numbers(r.text)

    assert sorted(numbers("")) == sorted(items)
    assert numbers("light=red") == [n for n, i in items.items() if i.status in OPEN and i.deadline < now]
    assert set(numbers("lead=zhujian")) == {n for n, i in items.items() if i.lead_unit == "zhujian"}
    assert set(numbers("co=minzheng")) == {n for n, i in items.items() if "minzheng" in i.co_units}
    assert set(numbers("unit=minzheng")) == {n for n, i in items.items()
                                             if i.lead_unit == "minzheng" or "minzheng" in i.co_units}
    assert set(numbers("status=closed")) == {n for n, i in items.items() if i.status == "closed"}
    assert set(numbers(f"meeting={scenario.second_meeting_id}")) == {
        n for n, i in items.items() if i.meeting_id == scenario.second_meeting_id}
    local_days = {n: i.deadline.astimezone(SHANGHAI).date() for n, i in items.items()}
    start, end = sorted(local_days.values())[1], sorted(local_days.values())[-2]
    assert set(numbers(f"due_from={start}&due_to={end}")) == {n for n, d in local_days.items() if start <= d <= end}
    by_deadline = [n for n, _ in sorted(items.items(), key=lambda kv: (kv[1].deadline, kv[1].id))]
    assert numbers("") == by_deadline
    assert numbers("sort=-deadline") == by_deadline[::-1]
    assert numbers("q=%E4%BD%8F%E6%88%BF") == [n for n, i in items.items() if "住房" in i.content]
    # A bad value is reported and ignored, never an error page.
    r = b.get("/resolutions?light=purple&due_from=yesterday")
    assert r.status_code == 200 and 'id="filter-errors"' in r.text and "督办灯无效" in r.text
    # Chosen columns only.
    html = b.get("/resolutions?col=number&col=deadline").text
    assert re.findall(r'<th data-col="(\w+)"', html) == ["number", "deadline"]


def test_exports_hold_exactly_the_filtered_rows(live: LiveApp) -> None:
    b = live.client("convener")
    query = "status=open&sort=-deadline&col=number&col=content&col=lead&col=co&col=deadline&col=light&col=status"
    api = b.get("/api/resolutions?" + query).json()["resolutions"]
    page_numbers = _row_numbers(b.get("/resolutions?" + query).text)
    assert [r["number"] for r in api] == page_numbers and len(page_numbers) == 4
    light_names = {"green": "正常", "yellow": "即将到期", "red": "已逾期"}
    status_names = {"in_progress": "落实中", "reported": "已报告", "returned": "退回整改"}
    expected = [["编号", "议定事项", "牵头单位", "配合单位", "现时限", "督办灯", "办理状态"]] + [
        [r["number"], ("'" + r["content"]) if r["content"][0] in "=+-@" else r["content"], r["lead_unit_name"],
         "、".join(r["co_unit_names"]), r["deadline_date"], light_names[r["light"]], status_names[r["status"]]]
        for r in api]

    x = b.get("/resolutions/export.xlsx?" + query)
    assert x.status_code == 200 and x.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in x.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(x.content)).active
    # Title and 制表单位 / 截至日期 above the header row; dates are date cells.
    assert sheet["A1"].value == "汉滨区社会救助联席会议议定事项督办台账" and sheet["A2"].value.startswith("制表单位")
    got = [["" if v is None else v.date().isoformat() if hasattr(v, "date") else v for v in row]
           for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert got == expected
    # The item whose text starts with "-" is not a formula in the spreadsheet.
    assert any(str(row[1]).startswith("'-追加拨付") for row in got[1:])
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)

    c = b.get("/resolutions/export.csv?" + query)
    assert c.status_code == 200 and c.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(c.content.decode("utf-8-sig"))))
    assert rows == expected


def test_saved_filter_shared_with_a_group(live: LiveApp) -> None:
    convener, office, district = live.client("convener"), live.client("office"), live.client("district")
    r = convener.post("/resolutions/filters", {"name": "财政局逾期事项", "query": "lead=caizheng&light=red",
                                              "col": ["number", "content", "deadline"], "share": "office"},
                      token_from="/resolutions")
    assert r.status_code == 302
    with live.db.sessions() as s:
        saved = s.scalar(select(SavedFilter).where(SavedFilter.name == "财政局逾期事项"))
        assert saved is not None
        assert (saved.owner, saved.query, saved.columns, saved.shared_with_group) == (
            "convener", "lead=caizheng&light=red", ["number", "content", "deadline"], "office")
    # The office sees it, and opening it shows the same rows and columns as the owner sees.
    listing = office.get("/resolutions").text
    assert f'data-filter-id="{saved.id}"' in listing and "财政局逾期事项" in listing
    mine, theirs = convener.get(f"/resolutions?saved={saved.id}").text, office.get(f"/resolutions?saved={saved.id}").text
    assert _row_numbers(mine) == _row_numbers(theirs) == _row_numbers(convener.get("/resolutions?lead=caizheng&light=red").text)
    assert len(_row_numbers(theirs)) == 1
    assert re.findall(r'<th data-col="(\w+)"', theirs) == ["number", "content", "deadline"]
    # Its export is the same row.
    sheet = load_workbook(io.BytesIO(office.get(f"/resolutions/export.xlsx?saved={saved.id}").content)).active
    assert [row[0] for row in sheet.iter_rows(min_row=4, values_only=True)] == _row_numbers(theirs)
    # Not shared with the district leader: not listed, and 403 when asked for.
    assert f'data-filter-id="{saved.id}"' not in district.get("/resolutions").text
    assert district.get(f"/resolutions?saved={saved.id}").status_code == 403
    # Only the owner deletes; sharing with a group one is not in is refused.
    assert office.post(f"/resolutions/filters/{saved.id}/delete", token_from="/resolutions").status_code == 403
    r = district.post("/resolutions/filters", {"name": "x", "query": "", "share": "unit:caizheng"},
                      token_from="/resolutions")
    assert r.status_code == 302 and "只能共享给" in district.get("/resolutions").text
    with live.db.sessions() as s:
        assert s.scalar(select(SavedFilter).where(SavedFilter.name == "x")) is None
    assert convener.post(f"/resolutions/filters/{saved.id}/delete", token_from="/resolutions").status_code == 302
    with live.db.sessions() as s:
        assert s.get(SavedFilter, saved.id) is None


def test_api_resolutions_filters_and_permissions(live: LiveApp) -> None:
    b = live.client("district")
    r = b.get("/api/resolutions?light=red")
    assert r.status_code == 200
    body = r.json()
    assert body["count"] == 1 and body["resolutions"][0]["lead_unit"] == "caizheng"
    assert body["resolutions"][0]["light"] == "red" and body["resolutions"][0]["days_left"] < 0
    assert b.get("/api/resolutions?status=nonsense").status_code == 400
    liaison = live.client("caizheng")
    r = liaison.get("/api/resolutions")
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("application/json")
    assert live.client().get("/api/resolutions").status_code == 401
    with live.db.transaction() as s:
        user = s.scalar(select(User).where(User.username == "convener"))
        token = create_token(s, user, "test", live.clock.now())
    import requests

    r = requests.get(live.url + "/api/resolutions?lead=zhujian", headers={"Authorization": f"Bearer {token}"},
                     timeout=10)
    assert r.status_code == 200 and [x["lead_unit"] for x in r.json()["resolutions"]] == ["zhujian"]
    spec = live.client().get("/api/openapi.json").json()
    assert "/api/resolutions" in spec["paths"] and "Resolution" in spec["components"]["schemas"]


# ---------------------------------------------------------------------------------------------- permissions
@pytest.mark.parametrize("path", ["/monitor", "/resolutions", "/resolutions/export.xlsx", "/resolutions/export.csv",
                                  "/monitor/units", "/monitor/units/report", "/instances", "/instances/heatmap"])
def test_a_unit_liaison_may_not_monitor(live: LiveApp, path: str) -> None:
    assert live.client("caizheng").get(path).status_code == 403


def test_who_sees_what(live: LiveApp, scenario: Scenario) -> None:
    liaison, district, office = live.client("caizheng"), live.client("district"), live.client("office")
    inst = scenario.second_meeting_instance
    for path in (f"/instances/{inst}", f"/instances/{inst}/diagram/joint_meeting.bpmn", "/instances/models/1/diagram.bpmn"):
        assert liaison.get(path).status_code == 403
        assert district.get(path).status_code == 403
        assert office.get(path).status_code == 200
    assert district.get("/monitor").status_code == 200
    # Nav links follow the roles.
    assert 'id="nav-monitor"' not in liaison.get("/tasks").text
    assert 'id="nav-instances"' not in district.get("/tasks").text
    assert 'id="nav-monitor"' in district.get("/tasks").text and 'id="nav-instances"' in office.get("/tasks").text
    # A unit reads the items it leads or co-operates on, not the others.
    own, other = scenario.items["caizheng"], scenario.items["jiaoti"]
    assert liaison.get(f"/resolutions/{own}").status_code == 200
    assert liaison.get(f"/resolutions/{scenario.items['zhujian']}").status_code == 200  # co-operating unit
    assert liaison.get(f"/resolutions/{other}").status_code == 403
    # Meetings: the members attended; a town that was not there may not read it or its minutes.
    town = live.client("wuli")
    assert liaison.get(f"/meetings/{scenario.second_meeting_id}").status_code == 200
    assert town.get(f"/meetings/{scenario.second_meeting_id}").status_code == 403
    assert town.get(f"/meetings/{scenario.second_meeting_id}/minutes.docx").status_code == 403
    assert live.client("laocheng").get(f"/meetings/{scenario.second_meeting_id}").status_code == 200  # 列席
    # Only the convener and administrators suspend, resume or cancel.
    r = office.post(f"/instances/{scenario.spare_instance}/suspend", {"reason": "x"}, token_from="/instances")
    assert r.status_code == 403
    r = district.post(f"/instances/{scenario.spare_instance}/cancel", {"reason": "x"}, token_from="/monitor")
    assert r.status_code == 403
    with live.db.sessions() as s:
        assert s.get(Instance, scenario.spare_instance).status == "running"


# ---------------------------------------------------------------------------------------------- instances
def test_instance_list_filters(live: LiveApp, scenario: Scenario) -> None:
    b = live.client("convener")

    def ids(query: str) -> set[str]:
        return set(re.findall(r'data-instance-id="([0-9a-f]+)"', b.get("/instances?" + query).text))

    with live.db.sessions() as s:
        rows = list(s.scalars(select(Instance)))
    assert ids("") == {r.id for r in rows}
    assert ids("process=joint_meeting") == {r.id for r in rows if r.process_key == "joint_meeting"}
    assert ids("process=joint_meeting&status=completed") == {scenario.first_meeting_instance}
    assert ids("status=running&process=joint_meeting") == {scenario.second_meeting_instance}
    assert ids("starter=fupin") == {r.id for r in rows if r.started_by == "fupin"}
    assert ids("starter=" + quote("扶贫局联络")) == {r.id for r in rows if r.started_by == "fupin"}  # by name
    assert ids("starter=" + quote("_%")) == set()  # typed wildcards are plain text
    assert ids("version=1") == {r.id for r in rows}
    assert ids("version=2") == set()
    key = next(r.business_key for r in rows if r.id == scenario.second_meeting_instance)
    assert key and scenario.second_meeting_instance in ids(f"key={key}")
    assert ids("from=2030-01-01") == set()


def test_instance_page_marks_steps_and_drills_into_call_activities(live: LiveApp, scenario: Scenario) -> None:
    b = live.client("office")
    html = b.get(f"/instances/{scenario.second_meeting_instance}").text
    assert _attr(html, "instance-diagram", "data-active") == "implement_items"
    completed = _attr(html, "instance-diagram", "data-completed").split(",")
    assert {"draft_plan", "approve_plan", "confirm_attendance", "record_outcome", "issue_minutes"} <= set(completed)
    assert json.loads(_attr(html, "instance-diagram", "data-counts"))["implement_items"] == {"active": 4, "completed": 1}
    assert _attr(html, "instance-diagram", "data-bpmn-url").endswith("/diagram/joint_meeting.bpmn")
    calls = re.findall(r'<tr data-scope-id="([^"]+)" data-state="(\w+)">.*?<a href="([^"]+)">([^<]+)</a>', html, re.S)
    assert sorted(state for _, state, _, _ in calls) == ["active", "active", "active", "active", "completed"]
    # The overdue item: its own diagram, the lead unit's step active; its co-unit stayed silent past its own
    # deadline (recorded 未反馈), so the join waits only for the lead unit.
    url = next(u for _, _, u, title in calls if "追加拨付" in title)
    sub = b.get(unescape(url)).text
    assert set(_attr(sub, "instance-diagram", "data-active").split(",")) == {"implement", "join"}
    assert _attr(sub, "instance-diagram", "data-bpmn-url").endswith("/diagram/resolution_item.bpmn")
    assert "remind_timer" in _attr(sub, "instance-diagram", "data-completed")  # 催办 fired
    assert b.get(unescape(_attr(sub, "instance-diagram", "data-bpmn-url"))).text.startswith("<?xml")
    # The reported item waits for the office's verification; its audit trail holds what the unit submitted.
    url = next(u for _, _, u, title in calls if "就业技能培训" in title)
    sub = b.get(unescape(url)).text
    assert _attr(sub, "instance-diagram", "data-active") == "verify"
    assert "培训 3 期 150 人。" in sub and "落实情况" in sub  # submitted data with its field label
    # The closed item is marked completed.
    done = next(u for _, state, u, _ in calls if state == "completed")
    sub = b.get(unescape(done)).text
    assert _attr(sub, "instance-diagram", "data-active") == ""
    assert "close_item" in _attr(sub, "instance-diagram", "data-completed").split(",")
    assert b.get(f"/instances/{scenario.second_meeting_instance}/calls/not-a-scope").status_code == 404


def test_suspend_resume_cancel_need_a_reason_and_are_audited(live: LiveApp, scenario: Scenario) -> None:
    b = live.client("convener")
    inst = scenario.spare_instance
    path = f"/instances/{inst}"
    r = b.post(f"{path}/suspend", {"reason": "  "}, token_from=path)
    assert r.status_code == 302 and "请填写原因" in b.get(path).text

    def status() -> str:
        with live.db.sessions() as s:
            return s.get(Instance, inst).status

    assert status() == "running"
    assert b.post(f"{path}/suspend", {"reason": "议题材料待补充"}, token_from=path).status_code == 302
    assert status() == "suspended"
    # A suspended instance takes no work.
    with live.db.sessions() as s:
        task_id = s.scalar(select(HumanTask.id).where(HumanTask.instance_id == inst, HumanTask.state == "READY"))
    r = live.client("office").post(f"/tasks/{task_id}/claim", token_from="/tasks")
    assert r.status_code == 409 and "挂起" in r.text
    assert b.post(f"{path}/resume", {"reason": "材料已补充"}, token_from=path).status_code == 302
    assert status() == "running"
    assert b.post(f"{path}/cancel", {"reason": "议题已合并办理"}, token_from=path).status_code == 302
    assert status() == "cancelled"
    r = b.post(f"{path}/resume", {"reason": "再试"}, token_from=path)
    assert r.status_code == 302 and "不能恢复" in b.get(path).text
    with live.db.sessions() as s:
        events = [(e.action, e.actor, e.comment) for e in s.scalars(
            select(AuditEvent).where(AuditEvent.instance_id == inst, AuditEvent.action.in_(
                ("suspend", "resume", "cancel"))).order_by(AuditEvent.id))]
        tokens = list(s.scalars(select(ActivityTokens).where(ActivityTokens.instance_id == inst)))
    assert events == [("suspend", "convener", "议题材料待补充"), ("resume", "convener", "材料已补充"),
                      ("cancel", "convener", "议题已合并办理")]
    assert tokens and all(t.active == 0 for t in tokens)  # a cancelled instance holds no tokens
    page = b.get(path).text
    for reason in ("议题材料待补充", "材料已补充", "议题已合并办理"):
        assert reason in page
    assert _attr(page, "instance-status", "data-status") == "cancelled"


# ---------------------------------------------------------------------------------------------- heatmap
def test_heatmap_is_one_aggregate_query_that_matches_every_workflow(live: LiveApp) -> None:
    with live.db.sessions() as s:
        models = {m.key: m for m in s.scalars(select(ProcessModel))}
        instances = list(s.scalars(select(Instance)))
    # The truth, the slow way: every instance's workflow, counted per (process, activity).
    truth: dict[tuple[str, str], Counts] = {}
    for inst in instances:
        wf = live.service.workflow(inst.id)
        for key, c in totals(scope_states(wf, inst.process_key, models[inst.process_key].called)).items():
            t = truth.setdefault(key, Counts())
            active = c.active if inst.status in ("running", "suspended") else 0
            t.active, t.completed, t.failed = t.active + active, t.completed + c.completed, t.failed + c.failed
    statements: list[str] = []

    def count(conn, cursor, statement, *args) -> None:  # noqa: ANN001
        statements.append(statement)

    for key in ("joint_meeting", "resolution_item", "topic_proposal"):
        model = models[key]
        with live.db.sessions() as s:
            event.listen(live.db.read_engine, "before_cursor_execute", count)
            try:
                heat = heatmap(s, model)
            finally:
                event.remove(live.db.read_engine, "before_cursor_execute", count)
        expected = {bpmn: c for (proc, bpmn), c in truth.items() if proc == key}
        assert {k: c.as_dict() for k, c in heat.items() if c.as_dict()} == {
            k: c.as_dict() for k, c in expected.items() if c.as_dict()}, key
        on_projection = [st for st in statements if "wf_activity" in st]
        assert len(on_projection) == 1 and "GROUP BY" in on_projection[0] and "wf_instance" not in on_projection[0]
        statements.clear()
    with live.db.sessions() as s:
        heat = heatmap(s, models["resolution_item"])
    # Second meeting: implement open for three items; co_input open for the two co-units of A (C's co-unit let
    # its own deadline pass and was recorded 未反馈).
    assert heat["implement"].active == 3 and heat["co_input"].active == 2 and heat["verify"].active == 1
    assert heat["close_item"].completed == 4  # three of the first meeting, one of the second


def test_heatmap_page_shows_the_counts(live: LiveApp) -> None:
    b = live.client("convener")
    with live.db.sessions() as s:
        model = s.scalar(select(ProcessModel).where(ProcessModel.key == "resolution_item"))
        heat = heatmap(s, model)
    html = b.get(f"/instances/heatmap?model={model.id}").text
    counts = json.loads(_attr(html, "heatmap-diagram", "data-counts"))
    assert counts == {k: c.as_dict() for k, c in heat.items() if c.as_dict()}
    row = re.search(r'<tr data-activity="implement">(.*?)</tr>', html, re.S)
    assert row and 'data-col="active">3<' in row.group(1)
    holders = b.get(f"/instances/heatmap?model={model.id}&activity=implement").text
    assert "HY-2026-02" in holders or SECOND_TITLE[:4] in holders
    assert b.get("/instances/heatmap?model=999999").status_code == 404


# ---------------------------------------------------------------------------------------------- meetings
def test_meeting_page_serves_the_issued_minutes(live: LiveApp, scenario: Scenario, tmp_path: Path) -> None:
    from docx import Document

    b = live.client("renshe")
    page = b.get(f"/meetings/{scenario.second_meeting_id}")
    assert page.status_code == 200 and 'id="minutes-download"' in page.text
    r = b.get(f"/meetings/{scenario.second_meeting_id}/minutes.docx")
    assert r.status_code == 200 and r.content.startswith(b"PK")
    doc = Document(io.BytesIO(r.content))
    text = [p.text for p in doc.paragraphs]
    assert "汉滨区社会救助联席会议纪要" in text and "汉救联纪〔2026〕2号" in text
    assert any(t.startswith("列席：") and "老城街道办" in t for t in text)
    assert any(t.startswith("请假：") and "区审计局" in t for t in text)
    table = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    assert table[0] == ["序号", "议定事项", "牵头单位", "配合单位", "完成时限"] and len(table) == 6
    # The same bytes were attached to the meeting's instance when the minutes were issued.
    with live.db.sessions() as s:
        units = dict(s.execute(select(Unit.code, Unit.name)).all())
    assert units["caizheng"] in {row[2] for row in table}
    attachment = re.search(r'href="(/attachments/[0-9a-f]+)" id="minutes-attachment"', page.text)
    assert attachment and b.get(attachment.group(1)).content == r.content
