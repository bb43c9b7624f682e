"""交办事项, 信访件 and 协调事项 over real HTTP: the start page offers the three processes to whom may start them,
the API starts one with its registration fields, the record pages show the 来文 and 批示 (and the petitioner only
masked) to the monitors and the units concerned, and the ledger filters by 来源."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from web_support import LiveApp, live_app

from engine.clock import ManualClock
from engine.models import AuditEvent
from meeting import demo_matters
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import AssignedMatter, CoordinationRequest, PetitionReferral, ResolutionItem
from meeting.privacy import CONTACT_VIEW


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    clock = ManualClock(DEMO_START)
    path = tmp_path_factory.mktemp("matters")
    with live_app(f"sqlite:///{path}/matters.db", clock) as app:
        demo_matters.run(Walkthrough(app.db, app.service, clock))
        yield app


def _ids(live: LiveApp) -> tuple[int, int, int]:
    with live.db.sessions() as s:
        return (s.scalars(select(AssignedMatter.id).order_by(AssignedMatter.id)).first() or 0,
                s.scalars(select(PetitionReferral.id)).one(), s.scalars(select(CoordinationRequest.id)).one())


def test_start_page_offers_each_process_to_its_starters(live: LiveApp) -> None:
    office = live.client("office").get("/start").text
    assert "交办事项" in office and "跨部门协调" in office
    assert "信访转办" in live.client("xinfang").get("/start").text
    unit = live.client("caizheng").get("/start").text
    assert "跨部门协调" in unit and "交办事项" not in unit and "信访转办" not in unit


def test_the_api_starts_an_assigned_matter_with_its_registration_fields(live: LiveApp) -> None:
    office = live.client("office")
    office.get("/start")  # the session's CSRF token, sent as X-CSRFToken as the pages' scripts do
    headers = {"X-CSRFToken": office.last_token}
    fields = {"matter_title": "核查低保边缘家庭", "source_org": "区委办公室", "source_kind": "letter",
              "instruction_text": "请于月底前完成核查。", "received_on": "2026-06-01", "time_limit": "2026-06-01"}
    bad = office.http.post(f"{live.url}/api/processes/assigned_matter/start",
                           json={"variables": {**fields, "time_limit": "2026-05-01"}}, headers=headers, timeout=30)
    assert bad.status_code == 422 and bad.json()["errors"]["time_limit"] == "交办时限不能早于收文日期"
    good = office.http.post(f"{live.url}/api/processes/assigned_matter/start", json={"variables": fields},
                           headers=headers, timeout=30)
    assert good.status_code == 201, good.text
    with live.db.sessions() as s:
        numbers = list(s.scalars(select(AssignedMatter.number).order_by(AssignedMatter.id)))
    assert numbers == ["汉救联收〔2026〕1号", "汉救联收〔2026〕2号"]
    inbox = office.get("/tasks").text  # the office's 拟办 names the matter, its 来源 and 收文号
    assert "交办事项：核查低保边缘家庭" in inbox and "汉救联收〔2026〕2号" in inbox


def test_record_pages_show_the_source_and_mask_the_petitioner(live: LiveApp) -> None:
    matter, petition, coordination = _ids(live)
    page = live.client("convener").get(f"/matters/{matter}")
    assert page.status_code == 200
    assert "汉政办阅〔2026〕8号" in page.text and "王副区长" in page.text and "汉救联办〔2026〕1号" in page.text
    shown = live.client("xinfang").get(f"/petitions/{petition}")
    assert shown.status_code == 200 and "138****5678" in shown.text and "张**" in shown.text
    assert "13812345678" not in shown.text and "张三丰" not in shown.text
    assert live.client("caizheng").get(f"/petitions/{petition}").status_code == 403
    assert live.client("renshe").get(f"/coordination/{coordination}").status_code == 200
    assert live.client("jiaoti").get(f"/coordination/{coordination}").status_code == 403
    assert live.client("designer").get(f"/matters/{matter}").status_code == 403


def test_the_ledger_filters_by_source(live: LiveApp) -> None:
    with live.db.sessions() as s:
        numbers = dict(s.execute(select(ResolutionItem.source, ResolutionItem.number)).all())
    office = live.client("office")
    petitions = office.get("/resolutions?source=petition&status=closed").text
    assert numbers["petition"] in petitions and numbers["assigned"] not in petitions
    assert 'id="f-source"' in petitions
    api = office.get("/api/resolutions?source=assigned&status=closed").json()
    assert [row["number"] for row in api["resolutions"]] == [numbers["assigned"]]


def test_dashboard_and_scorecards_count_each_source(live: LiveApp) -> None:
    office = live.client("office")
    board = office.get("/monitor").text
    assert '<tr data-source="assigned">' in board and '<tr data-source="petition">' in board
    page = office.get("/monitor/units?from=2026-01-01&to=2026-12-31&source=petition").text
    petitions = page.split('id="scorecards"')[1].split("</table>")[0]
    assert '<tr data-unit="minzheng">' in petitions and '<tr data-unit="caizheng">' not in petitions
    assert office.get("/monitor/units?source=nonsense").status_code == 200  # refused filter shown, not a 500
    report = office.get("/monitor/units/report?from=2026-01-01&to=2026-12-31&source=petition").text
    assert 'id="bulletin-source"' in report and "信访" in report


def test_handlers_may_see_the_petitioner_and_each_view_is_logged(live: LiveApp) -> None:
    _, petition, _ = _ids(live)
    xinfang = live.client("xinfang")
    assert 'id="reveal-contact"' in xinfang.get(f"/petitions/{petition}").text
    shown = xinfang.post(f"/petitions/{petition}/contact", token_from=f"/petitions/{petition}")
    assert shown.status_code == 200 and "13812345678" in shown.text and "张三丰" in shown.text
    assert 'id="contact-revealed"' in shown.text
    with live.db.sessions() as s:
        views = list(s.scalars(select(AuditEvent.actor).where(AuditEvent.action == CONTACT_VIEW)))
    assert views == ["xinfang"]
    office = live.client("office")
    assert 'id="reveal-contact"' in office.get(f"/petitions/{petition}").text
    district = live.client("district")  # reads the case, is not one of its handlers
    assert 'id="reveal-contact"' not in district.get(f"/petitions/{petition}").text
    assert district.post(f"/petitions/{petition}/contact", token_from=f"/petitions/{petition}").status_code == 403
    assert live.client("designer").post(f"/petitions/{petition}/contact",
                                        token_from="/tasks").status_code == 403


def test_item_pages_of_each_source_name_it(live: LiveApp) -> None:
    with live.db.sessions() as s:
        items = list(s.scalars(select(ResolutionItem)))
    office = live.client("office")
    for item in items:
        page = office.get(f"/resolutions/{item.id}")
        assert page.status_code == 200, item.number
        assert item.number in page.text and (item.source_ref or "") in page.text
    minzheng = live.client("minzheng").get("/my/resolutions").text  # 本单位议定事项: the 交办 and 信访 items
    assert all(i.number in minzheng for i in items if i.lead_unit == "minzheng")
