"""Towns' cases over real HTTP: the window registers through the start page; the case list and page show the
applicant's 身份证号 and phone masked to everyone; a town sees only its own cases and a department those routed to it;
the case's handlers may show the personal data (a POST with CSRF), each view logged for the office; figures by town
and department."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from web_support import LiveApp, live_app

from engine.clock import ManualClock
from engine.models import AuditEvent, Instance
from meeting import demo_cases
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import AssistanceCase, Notification, PersonalDataView

ID_NUMBER, MASKED_ID = "11010519491231002X", "1101**********002X"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    clock = ManualClock(DEMO_START)
    path = tmp_path_factory.mktemp("cases")
    with live_app(f"sqlite:///{path}/cases.db", clock) as app:
        demo_cases.run(Walkthrough(app.db, app.service, clock))
        yield app


def _case_id(live: LiveApp) -> int:
    with live.db.sessions() as s:
        return s.scalars(select(AssistanceCase.id).where(AssistanceCase.kind == "referral")).one()


def test_the_window_sees_its_towns_cases_masked(live: LiveApp) -> None:
    page = live.client("wuli_window").get("/cases/")
    assert page.status_code == 200
    assert "五里镇受〔2026〕1号" in page.text and MASKED_ID in page.text and "138****5678" in page.text
    assert ID_NUMBER not in page.text and "13812345678" not in page.text


def test_the_export_streams_the_visible_cases_masked(live: LiveApp) -> None:
    export = live.client("wuli_window").get("/cases/export.csv")
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
    text = export.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("案件编号,类别") and len(lines) == 3  # the application and the urgent case
    assert MASKED_ID in lines[1] and "138****5678" in lines[1] and ID_NUMBER not in text and "13812345678" not in text
    assert "139****5678" in lines[2] and "13912345678" not in text
    other = live.client("laocheng_window").get("/cases/export.csv").content.decode("utf-8-sig")
    assert other.strip().splitlines() == [lines[0]]


def test_identity_number_and_phone_are_kept_on_the_case_only(live: LiveApp) -> None:
    """Sensitive start-form fields: never in an audit row, a notification or the stored workflow state."""
    with live.db.sessions() as s:
        instance_id = s.scalars(select(AssistanceCase.instance_id).where(AssistanceCase.kind == "referral")).one()
        audit = [repr(e.data) for e in s.scalars(select(AuditEvent))]
        notes = [f"{n.title} {n.body}" for n in s.scalars(select(Notification))]
        states = list(s.scalars(select(Instance.state)))
    stored = "\n".join([*audit, *notes, *states])
    assert instance_id and ID_NUMBER not in stored and "13812345678" not in stored and "13912345678" not in stored
    assert "（已脱敏）" in "\n".join(audit)


def test_another_town_sees_nothing_of_it(live: LiveApp) -> None:
    other = live.client("laocheng_window")
    assert "五里镇受〔2026〕1号" not in other.get("/cases/").text
    assert other.get(f"/cases/{_case_id(live)}").status_code == 403
    assert other.post(f"/cases/{_case_id(live)}/personal", token_from="/cases/").status_code == 403


def test_a_department_sees_the_cases_routed_to_it_only(live: LiveApp) -> None:
    assert "五里镇受〔2026〕1号" in live.client("renshe").get("/cases/").text  # returned it, still its history
    assert "五里镇受〔2026〕1号" not in live.client("jiaoti").get("/cases/").text
    assert live.client("jiaoti").get(f"/cases/{_case_id(live)}").status_code == 403


def test_a_handler_shows_the_personal_data_and_the_view_is_logged(live: LiveApp) -> None:
    case_id = _case_id(live)
    handler = live.client("zonggonghui")
    page = handler.get(f"/cases/{case_id}")
    assert page.status_code == 200 and MASKED_ID in page.text and 'id="reveal-personal"' in page.text
    with live.db.sessions() as s:
        before = len(s.scalars(select(PersonalDataView.id)).all())
    shown = handler.post(f"/cases/{case_id}/personal", token_from=f"/cases/{case_id}")
    assert shown.status_code == 200 and ID_NUMBER in shown.text and "13812345678" in shown.text
    with live.db.sessions() as s:
        views = s.scalars(select(PersonalDataView).order_by(PersonalDataView.id)).all()
    assert len(views) == before + 1 and views[-1].actor == "zonggonghui" and views[-1].subject_id == case_id
    log = live.client("office").get("/cases/access-log")
    assert log.status_code == 200 and "区总工会联络员" in log.text and "五里镇受〔2026〕1号" in log.text


def test_the_convener_reads_the_case_but_not_its_personal_data(live: LiveApp) -> None:
    case_id = _case_id(live)
    convener = live.client("convener")
    page = convener.get(f"/cases/{case_id}")
    assert page.status_code == 200 and MASKED_ID in page.text and 'id="reveal-personal"' not in page.text
    assert convener.post(f"/cases/{case_id}/personal", token_from=f"/cases/{case_id}").status_code == 403
    assert convener.get("/cases/access-log").status_code == 403


def test_a_reveal_without_csrf_is_refused(live: LiveApp) -> None:
    refused = live.client("wuli_window").http.post(f"{live.url}/cases/{_case_id(live)}/personal", timeout=30)
    assert refused.status_code in (400, 403)


def test_figures_by_town_and_department(live: LiveApp) -> None:
    page = live.client("office").get("/cases/stats")
    assert page.status_code == 200
    town_row = page.text.split('id="stats-towns"')[1].split("</table>")[0]
    assert "五里镇" in town_row
    departments = page.text.split('id="stats-departments"')[1].split("</table>")[0]
    assert "区人社局" in departments and "镇（街办）民政办" in departments and "区总工会" in departments
    assert live.client("wuli_window").get("/cases/stats").status_code == 200
    assert live.client("caizheng").get("/cases/stats").status_code == 403


def test_the_dashboard_counts_the_towns_cases(live: LiveApp) -> None:
    page = live.client("convener").get("/monitor")
    assert page.status_code == 200
    card = page.text.split('id="town-cases"')[1].split("</section>")[0]
    assert 'data-kpi="total"' in card
    total = card.split('data-kpi="total"')[1].split('jm-kpi-value">')[1].split("<")[0]
    returned = card.split('data-kpi="returned"')[1].split('jm-kpi-value">')[1].split("<")[0]
    assert (total, returned) == ("2", "1")  # the application and the urgent case; one 非本部门职责 return


@pytest.mark.parametrize("username", ["wuli_window", "wuli_mzb", "wuli_team", "office", "xinfang"])
def test_the_start_page_never_gives_two_inputs_one_id(live: LiveApp, username: str) -> None:
    """A town's window starts 一门受理 and 救急难, both asking for the applicant: one form is shown whole, the other
    as a link that opens it, so each label names one input."""
    client = live.client(username)
    for path in ["/start", *[f"/start?open={key}" for key in re.findall(r'data-open-start="([^"]+)"',
                                                                        client.get("/start").text)]]:
        page = client.get(path)
        ids = re.findall(r'\sid="([^"]+)"', page.text)
        assert page.status_code == 200 and len(ids) == len(set(ids)), (path, sorted(i for i in ids if ids.count(i) > 1))


def test_the_window_opens_the_urgent_form_from_its_link(live: LiveApp) -> None:
    client = live.client("wuli_window")
    first = client.get("/start").text
    assert first.count('id="f-applicant_name"') == 1 and 'data-open-start="urgent_assistance:start"' in first
    urgent = client.get("/start?open=urgent_assistance:start").text
    form = urgent.split('data-start="urgent_assistance:start"')[1].split("</form>")[0]
    assert 'id="f-applicant_name"' in form and 'id="f-case_source"' in form
    assert 'data-open-start="assistance_referral:start"' in urgent
