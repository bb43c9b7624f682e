"""Household checks over real HTTP (the demo's check: five departments answer, 区总工会 stays silent): the list and
the check page show 身份证号 masked; another town sees nothing; a provider asked sees it and may show the personal
data (a POST with CSRF, logged); the report downloads as a .docx naming the silent department; the providers'
statistics page and the scorecards show the answers."""

from __future__ import annotations

import io
from collections.abc import Iterator

import docx
import pytest
from sqlalchemy import select
from web_support import LiveApp, live_app

from engine.clock import ManualClock
from meeting import demo_checks
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import HouseholdCheck, PersonalDataView

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


def test_provider_statistics_on_their_page_and_the_scorecards(live: LiveApp) -> None:
    page = live.client("hedui").get("/checks/stats")
    assert page.status_code == 200 and 'id="check-provider-stats"' in page.text
    assert 'data-unit="zonggonghui"' in page.text and "区总工会" in page.text
    assert live.client("renshe").get("/checks/stats").status_code == 403
    cards = live.client("convener").get("/monitor/units", params={"from": "2026-01-01", "to": "2026-12-31"})
    assert cards.status_code == 200 and 'id="check-provider-stats"' in cards.text and "区总工会" in cards.text
