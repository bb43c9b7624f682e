"""家庭经济状况核对 in Chromium, as the issue's "done when" reads: 五里镇's 民政办 requests a check for one household on
the start page with the signed 授权书; 区住建局 answers in its own form (a typed list, one property a line); the
other providers answer but 区总工会 stays silent past its deadline; the 核对 office reviews the report in the
browser; the check page lists every finding and the silent provider, the identity numbers masked.

Serves its own app (a waitress thread on a fresh SQLite file, ManualClock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from web_support import LiveApp, live_app

from engine.clock import ManualClock
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import HouseholdCheck
from meeting.statuses import CheckStatus

ID_NUMBER, MASKED_ID = "610902198001010019", "6109**********0019"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    path = tmp_path_factory.mktemp("checks-browser")
    with live_app(f"sqlite:///{path}/checks.db", ManualClock(DEMO_START)) as app:
        yield app


def _login(page: Page, base: str, username: str) -> None:
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "demo123")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def test_a_town_requests_a_check_five_answer_one_stays_silent(page: Page, console_errors: list[str], live: LiveApp,
                                                             results_dir: Path) -> None:
    w = Walkthrough(live.db, live.service, live.clock)
    page.set_viewport_size({"width": 1366, "height": 900})
    _login(page, live.url, "wuli_mzb")
    page.goto(live.url + "/start")
    form = page.locator('form[data-start="household_check:start"]')
    form.locator('input[name="check_aid_type"][value="最低生活保障"]').check()
    form.locator("#f-applicant_name").fill("张三")
    form.locator("#f-applicant_id_number").fill(ID_NUMBER)
    form.locator("#f-applicant_address").fill("五里镇安岭村三组")
    form.locator("#f-household_members").fill("李芳，610902198205050020，配偶")
    form.locator("button[type=submit]").click()  # no 授权书: refused, nothing typed is lost
    expect(page.locator("body")).to_contain_text("未上传申请人及家庭成员签字的授权书")
    form = page.locator('form[data-start="household_check:start"]')
    expect(form.locator("#f-applicant_name")).to_have_value("张三")
    form.locator("#f-authorization").set_input_files(files=[{"name": "授权书.pdf", "mimeType": "application/pdf",
                                                             "buffer": b"%PDF-1.4 signed"}])
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/start" not in url)

    _login(page, live.url, "zhujian")
    page.goto(f"{live.url}/tasks/{w.task('zhujian', 'answer_zhujian').id}")
    expect(page.locator("body")).to_contain_text(MASKED_ID)
    page.locator('input[name="answer_outcome"][value="found"]').check()
    page.locator("#f-zj_properties").fill("五里镇安岭村三组12号，86.5，自住")
    page.locator("#f-zj_fund_balance").fill("12000")
    with page.expect_navigation():
        page.click("#submit-button")
    expect(page.locator("#form-errors")).to_have_count(0)

    w.do("gongan", "answer_gongan", {"answer_outcome": "found", "ga_vehicles": "陕G12345，五菱宏光，30000"})
    w.do("renshe", "answer_renshe", {"answer_outcome": "no_record", "answer_reason": "未查询到就业和社保记录。"})
    w.do("weijian", "answer_weijian", {"answer_outcome": "found", "wj_household_size": 2})
    w.do("canlian", "answer_canlian", {"answer_outcome": "found", "cl_disabled": "李芳，肢体残疾，三级"})
    live.clock.advance(timedelta(days=15))  # 区总工会 stays silent past its deadline
    live.service.fire_due_timers(limit=1000)

    _login(page, live.url, "hedui")
    page.goto(f"{live.url}/tasks/{w.task('hedui', 'review_report').id}")
    expect(page.locator("body")).to_contain_text("未反馈")
    page.locator("#f-review_comment").fill("经核对，该户有机动车辆一辆，区总工会未反馈。")
    with page.expect_navigation():
        page.click("#submit-button")
    with live.db.sessions() as s:
        check = s.scalars(select(HouseholdCheck)).one()
    assert check.status == CheckStatus.RETURNED

    _login(page, live.url, "wuli_mzb")
    page.goto(f"{live.url}/checks/{check.id}")
    answers = page.locator("#check-answers")
    for text in ("区住建局", "86.5", "陕G12345", "无记录", "三级", "区总工会", "未反馈"):
        expect(answers).to_contain_text(text)
    expect(page.locator("#report-silent")).to_contain_text("区总工会")
    expect(page.locator("#check-details")).to_contain_text(MASKED_ID)
    expect(page.locator("body")).not_to_contain_text(ID_NUMBER)
    page.screenshot(path=str(results_dir / "household-check.png"), full_page=True)
    assert [e.split(":")[0] for e in console_errors] == ["HTTP 422"], console_errors  # the refused start only
