"""交办事项 and 信访 in Chromium, as the issue's "done when" reads: the office registers a 区政府 批示件 on the start
page, proposes two units, the convener decides seeing the 来文 and 批示 and assigns it; the units work and the item
climbs the ladder (driven through the service layer with a ManualClock); it is closed, the office drafts the
办理情况报告, the convener signs it and the district leader receives it. A 信访 referral is answered within its
limit, every step in the browser too, and the ledger filtered by 来源 shows each.

Serves its own app (a waitress thread on a fresh SQLite file). Screenshots land in ``test-results/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from web_support import LiveApp, live_app

import engine.models  # noqa: F401 - the tables create_all adds
from browser.pages import sign_in, submit_task
from engine.clock import ManualClock
from engine.db import Database
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import AssignedMatter, PetitionReferral, ResolutionItem
from meeting.statuses import MatterStatus, PetitionStatus, Rung
from meeting.timeutil import at_local


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    path = tmp_path_factory.mktemp("matters-browser")
    with live_app(f"sqlite:///{path}/matters.db", ManualClock(DEMO_START)) as app:
        yield app


def _task(w: Walkthrough, username: str, bpmn_id: str) -> str:
    return w.task(username, bpmn_id).id


def _enter(page: Page, field: str, value: str) -> None:
    """A value into a task form's field as a person enters it: a choice's radio button, a list's option, or text."""
    radio = page.locator(f"#f-{field}-{value}")
    if radio.count():
        radio.check()
    elif page.locator(f"select#f-{field}").count():
        page.select_option(f"#f-{field}", value)
    else:
        page.fill(f"#f-{field}", value)


def test_a_district_instruction_is_assigned_supervised_closed_and_reported_back(
        page: Page, console_errors: list[str], live: LiveApp, results_dir: Path) -> None:
    w = Walkthrough(live.db, live.service, live.clock)
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, live.url, "office")
    page.goto(live.url + "/start")
    form = page.locator('form[data-start="assigned_matter:start"]')
    form.locator("#f-matter_title").fill("做好困难群众冬春救助")
    form.locator("#f-source_org").fill("区政府办公室")
    form.locator("#f-source_number").fill("汉政办阅〔2026〕8号")
    form.locator("#f-instruction_text").fill("请民政局牵头，财政局配合，确保资金到位。")
    form.locator("#f-instruction_leader").fill("王副区长")
    form.locator("#f-received_on").fill(w.today())
    form.locator("#f-time_limit").fill(w.today(30))
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/start" not in url)
    page.goto(f"{live.url}/tasks/{_task(w, 'office', 'propose_handling')}")
    expect(page.locator("#task-title")).to_contain_text("拟办")
    expect(page.locator('[data-subject="matter"]')).to_contain_text("汉救联收〔2026〕1号")
    page.select_option("#f-proposed_lead", "minzheng")
    page.check("#f-proposed_co-caizheng")
    page.fill("#f-proposed_deadline", w.today(20))
    submit_task(page)

    sign_in(page, live.url, "convener")
    page.goto(f"{live.url}/tasks/{_task(w, 'convener', 'decide_handling')}")
    matter = page.locator('[data-subject="matter"]')
    expect(matter).to_contain_text("王副区长")
    expect(matter).to_contain_text("请民政局牵头，财政局配合，确保资金到位。")
    expect(matter).to_contain_text("区财政局")
    page.screenshot(path=str(results_dir / "matter-decide.png"), full_page=True)
    page.check("#f-matter_decision-assign")
    submit_task(page)

    # The units work; the item goes past its deadline and climbs the ladder, then it is closed.
    with live.db.sessions() as s:
        item = s.scalars(select(ResolutionItem).where(ResolutionItem.source == "assigned")).one()
    w.do("caizheng", "co_input", {"co_opinion": "资金已拨付。"}, resolution_id=item.id)
    live.clock.advance(item.deadline - live.clock.now() + timedelta(minutes=1))
    live.service.fire_due_timers()
    with live.db.sessions() as s:
        assert s.get(ResolutionItem, item.id).escalation == Rung.NOTICE  # type: ignore[union-attr]
    w.do("minzheng", "implement", {"report_action": "report", "result_body": "资金已全部发放到户。"},
         resolution_id=item.id)
    w.do("office", "verify", {"verify_decision": "accept"}, resolution_id=item.id)

    sign_in(page, live.url, "office")
    page.goto(f"{live.url}/tasks/{_task(w, 'office', 'draft_report')}")
    page.fill("#f-matter_report_body", "冬春救助资金已全部发放到户。")
    submit_task(page)
    sign_in(page, live.url, "convener")
    page.goto(f"{live.url}/tasks/{_task(w, 'convener', 'sign_report')}")
    expect(page.locator('[data-subject="matter"]')).to_contain_text("冬春救助资金已全部发放到户。")
    page.check("#f-matter_report_decision-approve")
    submit_task(page)
    sign_in(page, live.url, "district")
    page.goto(f"{live.url}/tasks/{_task(w, 'district', 'receive_report')}")
    expect(page.locator('[data-subject="matter"]')).to_contain_text("汉救联办〔2026〕1号")
    page.fill("#f-matter_receipt_comment", "已阅。")
    submit_task(page)
    with live.db.sessions() as s:
        assert s.scalars(select(AssignedMatter.status)).one() == MatterStatus.CLOSED

    # A 信访 referral: 区信访局 refers it, the office assigns it, the unit reports, the office verifies, 信访局
    # approves the 处理意见 and the unit records the reply to the petitioner, within the statutory limit.
    sign_in(page, live.url, "xinfang")
    page.goto(live.url + "/start")
    form = page.locator('form[data-start="petition_referral:start"]')
    for field, value in (("petition_number", "XF2026-0601"), ("petition_title", "低保待遇停发"),
                         ("petition_content", "反映低保待遇被停发。"), ("petitioner_name", "张三丰"),
                         ("petitioner_phone", "13812345678"), ("petition_received_on", w.today())):
        form.locator(f"#f-{field}").fill(value)
    form.locator("button[type=submit]").click()
    page.wait_for_url(lambda url: "/start" not in url)
    steps: list[tuple[str, str, dict[str, str]]] = [
        ("office", "assign_petition", {"petition_route": "assign", "petition_lead": "minzheng"}),
        ("minzheng", "implement", {"report_action": "report", "result_body": "经核查，停发符合规定。"}),
        ("office", "verify", {"verify_decision": "accept"}),
        ("xinfang", "review_opinion", {"petition_review": "approve"}),
        ("minzheng", "record_reply", {"reply_on": w.today(), "reply_method": "written",
                                      "reply_summary": "已出具书面答复意见。"}),
    ]
    for username, bpmn_id, values in steps:
        sign_in(page, live.url, username)
        page.goto(f"{live.url}/tasks/{_task(w, username, bpmn_id)}")
        for field, value in values.items():
            _enter(page, field, value)
        submit_task(page)
    with live.db.sessions() as s:
        petition = s.scalars(select(PetitionReferral)).one()
        assert (petition.status, petition.on_time) == (PetitionStatus.ANSWERED, True)
        assert petition.reply_on is not None and at_local(petition.reply_on, 0) <= petition.due_at
    sign_in(page, live.url, "office")
    for source, number in (("assigned", item.number), ("petition", "XF-")):
        page.goto(f"{live.url}/resolutions?status=closed")
        page.select_option("#f-source", source)
        with page.expect_navigation():
            page.locator("#f-source").evaluate("el => el.form.submit()")
        assert f"source={source}" in page.url
        rows = page.locator("#ledger-table tbody tr[data-item-id]")
        expect(rows).to_have_count(1)
        assert (rows.first.get_attribute("data-number") or "").startswith(number)
        page.screenshot(path=str(results_dir / f"ledger-source-{source}.png"), full_page=True)
    assert console_errors == []


@pytest.mark.parametrize("key", ["assigned_matter", "petition_referral", "coordination_request"])
def test_the_designer_opens_each_diagram_without_lint_problems(
        page: Page, console_errors: list[str], base_url: str, login: Callable[..., None], served_app: Any,
        key: str) -> None:
    """The session's served app (``flask init --demo``) deployed the three diagrams; the modeler draws each and its
    lint finds nothing."""
    db = Database(served_app.database_url)  # the designer's drafts table (as test_designer_browser's stopgap)
    try:
        db.create_all()
    finally:
        db.dispose()
    login(page, "designer")
    page.goto(f"{base_url}/designer/")
    page.locator(f'[data-open-latest="{key}"]').click()
    expect(page.locator("#jm-modeler")).to_have_attribute("data-ready", "true", timeout=20_000)
    expect(page.locator(".bjsl-button")).to_have_text(re.compile(r"没有问题|\b0 个错误"))
    assert page.evaluate("() => window.JmModeler.current.modeler.get('elementRegistry').getAll().length") > 20
    assert console_errors == []
