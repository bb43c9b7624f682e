"""Household checks over real HTTP (the demo's check: five departments answer, 区总工会 stays silent): the list and
the check page show 身份证号 masked; another town sees nothing; a provider asked sees it and may show the personal
data (a POST with CSRF, logged); the report downloads as a .docx naming the silent department; the providers'
statistics page and the scorecards show the answers."""

from __future__ import annotations

import io
from collections.abc import Iterator

import docx
import openpyxl
import pytest
from sqlalchemy import select
from web_support import LiveApp, live_app

from engine.clock import ManualClock
from engine.models import Attachment
from meeting import demo_checks
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import CheckAnswer, HouseholdBatch, HouseholdCheck, PersonalDataView

ID_NUMBER, MASKED_ID = "610902198001010019", "6109**********0019"
MEMBER, MASKED_MEMBER = "610902198205050020", "6109**********0020"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    clock = ManualClock(DEMO_START)
    path = tmp_path_factory.mktemp("checks")
    with live_app(f"sqlite:///{path}/checks.db", clock) as app:
        demo_checks.run(Walkthrough(app.db, app.service, clock))
        yield app


def _check_id(live: LiveApp) -> int:
    with live.db.sessions() as s:
        return s.scalars(select(HouseholdCheck.id)).one()


def test_the_town_sees_its_check_masked(live: LiveApp) -> None:
    page = live.client("wuli_mzb").get("/checks/")
    assert page.status_code == 200 and "核〔2026〕1号" in page.text and MASKED_ID in page.text
    assert ID_NUMBER not in page.text
    show = live.client("wuli_mzb").get(f"/checks/{_check_id(live)}")
    assert show.status_code == 200 and MASKED_MEMBER in show.text and MEMBER not in show.text
    assert "未反馈" in show.text and "区总工会" in show.text and "核对报告已出具" in show.text


def test_another_town_and_an_unasked_unit_see_nothing(live: LiveApp) -> None:
    for user in ("laocheng_window", "jiaoti"):
        client = live.client(user)
        assert "核〔2026〕1号" not in client.get("/checks/").text
        assert client.get(f"/checks/{_check_id(live)}").status_code == 403


def test_a_provider_shows_the_personal_data_and_the_view_is_logged(live: LiveApp) -> None:
    check_id = _check_id(live)
    provider = live.client("zhujian")
    page = provider.get(f"/checks/{check_id}")
    assert page.status_code == 200 and 'id="reveal-personal"' in page.text and ID_NUMBER not in page.text
    shown = provider.post(f"/checks/{check_id}/personal", token_from=f"/checks/{check_id}")
    assert shown.status_code == 200 and ID_NUMBER in shown.text and MEMBER in shown.text
    with live.db.sessions() as s:
        view = s.scalars(select(PersonalDataView).order_by(PersonalDataView.id.desc())).first()
    assert view is not None and (view.actor, view.subject, view.subject_id) == ("zhujian", "household_check", check_id)
    log = live.client("office").get("/cases/access-log")
    assert log.status_code == 200 and "核〔2026〕1号" in log.text


def test_the_convener_sees_the_check_but_not_the_personal_data(live: LiveApp) -> None:
    check_id = _check_id(live)
    convener = live.client("convener")
    page = convener.get(f"/checks/{check_id}")
    assert page.status_code == 200 and 'id="reveal-personal"' not in page.text
    assert convener.post(f"/checks/{check_id}/personal", token_from=f"/checks/{check_id}").status_code == 403


def test_the_report_downloads_as_a_document(live: LiveApp) -> None:
    got = live.client("hedui").get(f"/checks/{_check_id(live)}/report.docx")
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    document = docx.Document(io.BytesIO(got.content))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = "\n".join(c.text for t in document.tables for row in t.rows for c in row.cells)
    assert "家庭经济状况核对报告" in text and "区总工会在反馈期限内未反馈" in text and MASKED_ID in text
    assert ID_NUMBER not in text + cells and "区住建局" in cells and "五里镇安岭村四组8号" in cells


def test_provider_statistics_on_their_page_the_scorecards_and_the_bulletin(live: LiveApp) -> None:
    page = live.client("hedui").get("/checks/stats")
    assert page.status_code == 200 and 'id="check-provider-stats"' in page.text
    assert 'data-unit="zonggonghui"' in page.text and "区总工会" in page.text
    assert live.client("renshe").get("/checks/stats").status_code == 403
    cards = live.client("convener").get("/monitor/units", params={"from": "2026-01-01", "to": "2026-12-31"})
    assert cards.status_code == 200 and 'id="check-provider-stats"' in cards.text and "区总工会" in cards.text
    bulletin = live.client("office").get("/monitor/units/report", params={"from": "2026-01-01", "to": "2026-12-31"})
    assert bulletin.status_code == 200 and 'id="check-provider-stats"' in bulletin.text


def test_a_provider_answers_in_its_own_form_in_the_browser(live: LiveApp) -> None:
    """The provider's task shows the household masked and its items; the typed list is typed one row a line."""
    w = Walkthrough(live.db, live.service, live.clock)
    demo_checks.request(w, "临时救助", "周八")
    task = w.task("zhujian", "answer_zhujian")
    client = live.client("zhujian")
    page = client.get(f"/tasks/{task.id}")
    assert page.status_code == 200 and "周八" in page.text and "房产、交易、出租、公积金" in page.text
    assert MASKED_ID in page.text and ID_NUMBER not in page.text
    assert 'name="zj_properties"' in page.text and "每行一项：房屋地址" in page.text
    assert client.post(f"/tasks/{task.id}/claim", token_from=f"/tasks/{task.id}").status_code in (200, 302)
    bad = client.post(f"/tasks/{task.id}", data={"answer_outcome": "found", "zj_properties": "安岭村1号，八十平方"},
                      token_from=f"/tasks/{task.id}")
    assert bad.status_code in (200, 400, 422) and "应为数字" in bad.text
    done = client.post(f"/tasks/{task.id}", token_from=f"/tasks/{task.id}", data={
        "answer_outcome": "found", "zj_properties": "安岭村1号，80，自住\n安岭村2号，45.5，出租", "zj_fund_balance": "3000"})
    assert done.status_code in (200, 302)
    with live.db.sessions() as s:
        check = s.scalars(select(HouseholdCheck).where(HouseholdCheck.applicant_name == "周八")).one()
        answer = next(a for a in s.scalars(select(CheckAnswer).where(CheckAnswer.check_id == check.id))
                      if a.provider == "zhujian")
    assert answer.findings == {"zj_properties": [{"address": "安岭村1号", "area": 80, "state": "自住"},
                                                 {"address": "安岭村2号", "area": 45.5, "state": "出租"}],
                               "zj_fund_balance": 3000}


def test_the_batch_page_and_a_providers_list(live: LiveApp) -> None:
    with live.db.sessions() as s:
        batch = s.scalars(select(HouseholdBatch)).one()
    town = live.client("wuli_mzb").get(f"/checks/batches/{batch.id}")
    assert town.status_code == 200 and batch.number in town.text and 'data-provider="gongan"' in town.text
    assert f"/checks/batches/{batch.id}/gongan.xlsx" not in town.text  # the lists are the providers' own
    assert live.client("laocheng_window").get(f"/checks/batches/{batch.id}").status_code == 403
    gongan = live.client("gongan")
    assert f"/checks/batches/{batch.id}/gongan.xlsx" in gongan.get(f"/checks/batches/{batch.id}").text
    assert gongan.get(f"/checks/batches/{batch.id}/renshe.xlsx").status_code == 403
    got = gongan.get(f"/checks/batches/{batch.id}/gongan.xlsx")
    assert got.status_code == 200 and got.headers["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(openpyxl.load_workbook(io.BytesIO(got.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[1][:6] == ("序号", "户主姓名", "身份证号", "家庭住址", "上次核对情况", "本次核对情况")
    assert rows[2][1] == "陈明" and rows[2][2] == ID_NUMBER
    with live.db.sessions() as s:
        view = s.scalars(select(PersonalDataView).order_by(PersonalDataView.id.desc())).first()
    assert view is not None and (view.actor, view.subject, view.purpose) == ("gongan", "household_batch", "下载动态复核清单")


def test_a_town_requests_a_check_in_the_browser_with_the_signed_authorization(live: LiveApp) -> None:
    client = live.client("wuli_mzb")
    form = {"process_key": "household_check", "start_event": "start", "check_aid_type": "医疗救助",
            "applicant_name": "吴九", "applicant_id_number": ID_NUMBER, "applicant_address": "五里镇五里村",
            "household_members": "吴小九，610902201008080030，子"}
    refused = client.post("/start", data=form, token_from="/start")
    assert refused.status_code == 422 and "未上传申请人及家庭成员签字的授权书，不能发起核对" in refused.text
    with live.db.sessions() as s:
        assert s.scalar(select(HouseholdCheck.id).where(HouseholdCheck.applicant_name == "吴九")) is None
    started = client.post("/start", data=form, token_from="/start",
                          files={"authorization": ("授权书.pdf", b"%PDF-1.4 signed", "application/pdf")})
    assert started.status_code in (200, 302), started.text[:500]
    with live.db.sessions() as s:
        check = s.scalars(select(HouseholdCheck).where(HouseholdCheck.applicant_name == "吴九")).one()
        attachment = s.get(Attachment, check.authorization_id)
        providers = set(s.scalars(select(CheckAnswer.provider).where(CheckAnswer.check_id == check.id)))
    assert attachment is not None and attachment.instance_id == check.instance_id
    assert providers == {"weijian", "renshe", "gongan"}
    assert check.members == [{"name": "吴小九", "id_number": "610902201008080030", "relation": "子"}]
