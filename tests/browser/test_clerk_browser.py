"""A clerk's day in Chromium, at 1366×768 and 390×844: the inbox answers a clerk's questions, the task page puts
the context first and keeps the history to what concerns the task, forms show the fields the choice needs, unit
pickers are ticked boxes, notifications stand out by kind and lead somewhere, the 409 page says who and keeps
what was typed, charts without data say so; axe-core finds no serious or critical violation on any of them.

This module serves its own app (a waitress thread, the monitoring world of bench/world.py on a fresh SQLite
file); the empty-dashboard test uses the session's server (a fresh demo database with no meeting yet).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from web_support import LiveApp

from bench.world import Scenario
from browser.axe_support import axe_available, describe, violations
from engine.models import HumanTask
from meeting.notify import notify

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
LOGIN_NAMES = re.compile(r"\b(caizheng|renshe|minzheng|zhujian|jiaoti|yibao|office|convener|district)\b")


@pytest.fixture(scope="module")
def world(monitoring_world: tuple[LiveApp, Scenario]) -> tuple[LiveApp, Scenario]:
    return monitoring_world


class Clerk:
    """One signed-in person in their own context (CSP bypassed only so that axe can be injected)."""

    def __init__(self, browser: Browser, base: str, username: str, viewport: dict[str, int]) -> None:
        self.base, self.viewport = base, viewport
        self.context: BrowserContext = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True,
                                                           timezone_id="Asia/Shanghai")
        self.page: Page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        # A refused form (422) or a conflict (409) is the page under test; its status is no script error.
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     and not m.text.startswith("Failed to load resource") else None)
        self.goto("/login")
        self.page.fill("#username", username)
        self.page.fill("#password", "demo123")
        self.page.click("button[type=submit]")
        self.page.wait_for_url(lambda url: "/login" not in url)

    def goto(self, path: str) -> None:
        self.page.goto(self.base + path)
        self.page.wait_for_function("""() => [...document.querySelectorAll('[data-bpmn-viewer], [data-echarts]')]
            .every((el) => el.hasAttribute('data-rendered') || el.hasAttribute('data-render-error'))""")

    def accessible(self) -> None:
        if axe_available():
            found = violations(self.page)
            assert not found, "\n".join(describe(self.page.url, found))

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors


@pytest.fixture
def clerk(browser: Browser, world: tuple[LiveApp, Scenario]) -> Iterator[Any]:
    made: list[Clerk] = []

    def make(username: str, viewport: dict[str, int] = DESKTOP, base: str | None = None) -> Clerk:
        c = Clerk(browser, base or world[0].url, username, viewport)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def _open_task(app: LiveApp, bpmn_id: str, group: str, state: str = "READY") -> HumanTask:
    with app.db.sessions() as s:
        for t in s.scalars(select(HumanTask).where(HumanTask.bpmn_id == bpmn_id, HumanTask.state == state)
                           .order_by(HumanTask.created_at)):
            if group in (t.candidate_groups or []):
                return t
    raise LookupError(f"no {state} {bpmn_id} for {group}")


# ---------------------------------------------------------------------------------------------- the inbox
@WIDTHS
def test_inbox_answers_what_which_unit_from_where_how_urgent(clerk: Any, viewport: dict[str, int]) -> None:
    c = clerk("caizheng", viewport)
    c.goto("/tasks?tab=claimable")
    table = c.page.locator("#task-table")
    for header in ("期限", "事项", "步骤", "来源", "紧急", "业务编号"):
        expect(table.locator("thead th", has_text=header)).to_have_count(1)
    row = table.locator('tr[data-task-key="implement"]').first
    expect(row).to_contain_text("牵头：区财政局")
    expect(row).to_contain_text("会议纪要")
    expect(row.locator('td[data-label="业务编号"]')).to_have_text(re.compile(r"^HY-\d{4}-\d{2}-\d{2}$"))
    assert not LOGIN_NAMES.search(table.inner_text())
    search = c.page.locator('input[type="search"][name="q"]')
    assert search.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the placeholder is cut off"
    c.accessible()
    # The tab and the sort chosen last are where the inbox opens next time.
    c.goto("/tasks?tab=done&sort=created")
    c.goto("/tasks")
    expect(c.page.locator("#tab-done")).to_have_attribute("aria-current", "page")
    c.page.locator("#tab-claimable").click()
    expect(c.page.locator('select[name="sort"]')).to_have_value("created")


# ---------------------------------------------------------------------------------------------- the task page
@WIDTHS
def test_a_finished_meeting_task_fits_in_two_screens_with_its_own_history(
        clerk: Any, world: tuple[LiveApp, Scenario], viewport: dict[str, int]) -> None:
    task = _open_task(world[0], "confirm_attendance", "unit:caizheng", "COMPLETED")
    c = clerk("caizheng", viewport)
    c.goto(f"/tasks/{task.id}")
    page = c.page
    expect(page.locator("#task-done")).to_contain_text("由您办理")
    expect(page.locator("#done-light")).to_have_text("按期办理")  # judged by when it was done, not by today
    # typed text keeps its line breaks on the task page too (the rule lives in the bundle every page loads)
    assert page.evaluate("getComputedStyle(document.querySelector('.jm-pre')).whiteSpace") == "pre-wrap"
    history = page.locator("#history > li")
    expect(history.first).to_be_visible()
    text = page.locator("#history").inner_text()
    assert "区人社局联络员" not in text and "区住建局联络员" not in text  # no other unit's reply
    assert "定时触发" not in text
    expect(page.locator("#history-all")).to_have_count(0)  # the whole instance is not the unit's to read
    if viewport is DESKTOP:
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height <= 2 * viewport["height"], f"the page is {height} px tall"
    # The diagram opens on the step at its drawn size (readable), not shrunk to the whole process.
    scale = page.evaluate("document.querySelector('#task-diagram').__jmViewer.get('canvas').zoom()")
    assert 0.9 <= scale <= 1.1, scale
    expect(page.locator('g.djs-element[data-element-id="confirm_attendance"]')).to_be_visible()
    c.accessible()


@WIDTHS
def test_supervisors_read_the_whole_history_one_click_away(
        clerk: Any, world: tuple[LiveApp, Scenario], viewport: dict[str, int]) -> None:
    task = _open_task(world[0], "confirm_attendance", "unit:caizheng", "COMPLETED")
    c = clerk("office", viewport)
    c.goto(f"/tasks/{task.id}")
    scoped = c.page.locator("#history > li").count()
    c.page.locator("#history-all").click()
    expect(c.page.locator("#history-title")).to_have_text("全部经过")
    assert c.page.locator("#history > li").count() > scoped
    expect(c.page.locator("#history")).to_contain_text("区人社局联络员")
    c.accessible()
    c.page.locator("#history-scoped").click()
    expect(c.page.locator("#history > li")).to_have_count(scoped)


def test_the_diagram_goes_full_screen_and_back(clerk: Any, world: tuple[LiveApp, Scenario]) -> None:
    task = _open_task(world[0], "implement", "unit:caizheng")
    c = clerk("caizheng")
    c.goto(f"/tasks/{task.id}")
    page = c.page
    expect(page.locator('g.djs-element[data-element-id="implement"]')).to_have_class(re.compile(r"\bjm-active\b"))
    page.locator('[data-viewer-action="fullscreen"]').click()
    page.wait_for_function("document.fullscreenElement && document.fullscreenElement.id === 'task-diagram'")
    page.evaluate("document.exitFullscreen()")  # what Esc does (headless Chromium leaves the key to the page)
    page.wait_for_function("!document.fullscreenElement")
    page.locator('[data-viewer-action="fit"]').click()
    assert page.evaluate("document.querySelector('#task-diagram').__jmViewer.get('canvas').zoom()") < 0.9


# ---------------------------------------------------------------------------------------------- forms
def _tab_to(page: Page, selector: str, most: int = 6) -> None:
    """Tab until ``selector`` has the focus (a date input takes a Tab per part): a keyboard user gets there."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
    raise AssertionError(f"{selector} is not reached by Tab")


@WIDTHS
def test_fields_follow_the_choice_and_the_whole_task_goes_by_keyboard(
        clerk: Any, world: tuple[LiveApp, Scenario], viewport: dict[str, int]) -> None:
    task = _open_task(world[0], "implement", "unit:zhujian")
    c = clerk("zhujian", viewport)
    c.goto(f"/tasks/{task.id}")
    page = c.page
    if page.locator("#claim-button").count():  # 签收 by keyboard too
        page.locator("#claim-button").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#unclaim-button")).to_be_visible()
    expect(page.locator("#f-report_action-report")).to_be_checked()  # the obvious choice is made
    expect(page.locator('[data-field-id="result_body"]')).to_be_visible()
    expect(page.locator('[data-field-id="extension_reason"]')).to_be_hidden()
    expect(page.locator("#f-_comment")).to_have_count(0)  # one comment box: the form's own text
    c.accessible()
    # By keyboard: to the choice, arrow to 申请延期, on to the date and the reason, Enter submits.
    page.locator("#f-report_action-report").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#f-report_action-extend")).to_be_checked()
    expect(page.locator('[data-field-id="result_body"]')).to_be_hidden()
    expect(page.locator('[data-field-id="extension_reason"]')).to_be_visible()
    _tab_to(page, "#f-requested_deadline")  # the hidden branch is skipped: the date comes next
    _tab_to(page, "#f-extension_reason")
    page.keyboard.type("涉及多个部门，需延长时限。")
    _tab_to(page, "#submit-button")
    page.keyboard.press("Enter")
    # No date given: the server asks for it and nothing typed is lost; the other branch stays out of sight.
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#f-extension_reason")).to_have_value("涉及多个部门，需延长时限。")
    expect(page.locator('[data-field-id="result_body"]')).to_be_hidden()
    c.accessible()


@WIDTHS
def test_units_are_ticked_in_groups_and_found_by_name(clerk: Any, viewport: dict[str, int]) -> None:
    c = clerk("fupin", viewport)
    c.goto("/start")
    c.page.locator('form[data-start^="topic_proposal:"]').get_by_role("button", name="发起").click()
    expect(c.page.locator("#task-title")).to_have_text("提出议题")
    picker = c.page.locator("#f-related_units")
    for group in ("成员单位", "镇街"):
        expect(picker.locator("legend", has_text=group)).to_be_visible()
    picker.locator("[data-unit-search]").fill("财政")
    expect(picker.locator(".form-check:visible")).to_have_count(1)
    picker.locator("#f-related_units-caizheng").check()
    picker.locator("[data-unit-search]").fill("")
    expect(picker.locator(".form-check:visible").first).to_be_visible()
    expect(c.page.locator("#f-urgency-normal")).to_be_checked()
    c.accessible()


# ---------------------------------------------------------------------------------------------- notifications
@WIDTHS
def test_notifications_stand_out_by_kind_link_and_filter(clerk: Any, viewport: dict[str, int]) -> None:
    c = clerk("caizheng", viewport)
    c.goto("/notifications")
    page = c.page
    supervision = page.locator('li[data-kind="supervision"]').first
    reminder = page.locator('li[data-kind="reminder"]').first
    expect(supervision).to_be_visible()
    colour = "el => getComputedStyle(el).borderLeftColor"
    assert supervision.evaluate(colour) != reminder.evaluate(colour)
    expect(supervision.locator("svg.jm-note-icon").first).to_be_attached()
    expect(supervision.locator("a[href^='/resolutions/']").first).to_be_visible()
    expect(page.locator(".jm-done-tag").first).to_be_visible()  # an old 新待办 says its task is done
    c.accessible()
    page.locator('#note-filter a[data-filter="supervision"]').click()
    kinds = set(page.locator("#notifications > li").evaluate_all("els => els.map(e => e.dataset.kind)"))
    assert kinds == {"supervision"}
    if page.locator("#mark-all-read").is_enabled():
        page.locator("#mark-all-read").click()
        expect(page).to_have_url(re.compile(r"kind=supervision"))
    expect(page.locator("#unread-count")).to_have_count(0)
    expect(page.locator("#mark-all-read")).to_be_disabled()


@WIDTHS
def test_many_at_once_read_as_one_digest(clerk: Any, world: tuple[LiveApp, Scenario], viewport: dict[str, int]) -> None:
    app = world[0]
    with app.db.transaction() as s:  # five new tasks for one unit in one command, as a meeting's items bring
        for n in range(5):
            notify(s, "unit:jiaoti", "task", f"新待办：落实并报告（第{n + 1}项）", "请及时办理。", None, app.service.now())
    c = clerk("jiaoti", viewport)
    c.goto("/notifications?kind=task")
    digest = c.page.locator("li[data-digest]").first
    expect(digest).to_be_visible()
    n = int(digest.get_attribute("data-digest") or 0)
    assert n >= 4
    expect(digest.locator(".jm-digest > li").first).to_be_hidden()
    digest.locator("summary").click()
    expect(digest.locator(".jm-digest > li")).to_have_count(n)
    c.accessible()


# ---------------------------------------------------------------------------------------------- words
def test_the_409_page_says_who_and_keeps_the_typed_values(clerk: Any, world: tuple[LiveApp, Scenario]) -> None:
    task = _open_task(world[0], "verify", "office")
    first, second = clerk("office"), clerk("office")
    for c in (first, second):
        c.goto(f"/tasks/{task.id}")
    for c, comment in ((first, "材料齐全。"), (second, "我核验过了。")):
        c.page.locator("#f-verify_decision-accept").check()
        c.page.locator("#f-verify_comment").fill(comment)
    first.page.locator("#submit-button").click()
    expect(first.page.locator(".alert-success")).to_contain_text("已办理")
    second.page.locator("#submit-button").click()
    page = second.page
    expect(page.locator("#conflict h1")).to_contain_text("您已于")
    dl = page.locator(".jm-submitted")
    expect(dl).to_contain_text("核验意见")
    expect(dl).to_contain_text("办结销号")
    expect(dl).to_contain_text("我核验过了。")
    body = page.locator("main").inner_text()
    assert "accept" not in body and "_comment" not in body and "office" not in body and "409" not in body
    second.accessible()


def test_no_engine_words_on_the_heatmap_or_in_the_designer(clerk: Any) -> None:
    c = clerk("convener")
    c.goto("/instances/heatmap")
    text = c.page.locator("main").inner_text()
    assert "令牌" not in text and not re.search(r"\bv\d+\b", text) and "joint_meeting" not in text
    expect(c.page.locator("main")).to_contain_text("在办")
    c.accessible()
    d = clerk("designer")
    d.goto("/designer/topic_proposal/v1")
    d.page.wait_for_selector(".bts-toggle-mode", timeout=15_000)
    expect(d.page.locator(".bts-toggle-mode")).to_contain_text("流程模拟")
    body = d.page.locator("body").inner_text()
    assert "Token Simulation" not in body and "No Issues" not in body


# ---------------------------------------------------------------------------------------------- empty states
@WIDTHS
def test_charts_without_data_say_so(clerk: Any, base_url: str, viewport: dict[str, int]) -> None:
    c = clerk("convener", viewport, base=base_url)  # the session's fresh demo database: no meeting yet
    c.goto("/monitor")
    charts = c.page.locator("[data-echarts]")
    assert charts.count() >= 1
    for i in range(charts.count()):
        expect(charts.nth(i)).to_have_attribute("data-empty-chart", "true")
        expect(charts.nth(i)).to_contain_text("暂无数据")
    expect(c.page.locator("[data-echarts] svg path")).to_have_count(0)  # no fake proportions
    c.accessible()


# ---------------------------------------------------------------------------------------------- the ledger on a phone
def test_the_ledger_on_a_phone_keeps_lead_deadline_light_and_status_in_view(clerk: Any) -> None:
    c = clerk("convener", PHONE)
    c.goto("/resolutions")
    row = c.page.locator("#ledger-table tbody tr[data-item-id]").first
    for col in ("lead", "deadline", "light", "status"):
        cell = row.locator(f'td[data-col="{col}"]')
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 1, (col, box)
    width = c.page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"] + 1, f"the ledger scrolls sideways ({width} px)"
    c.accessible()


@WIDTHS
def test_a_liaison_reads_the_units_own_items_with_lights_and_deadlines(clerk: Any, viewport: dict[str, int]) -> None:
    c = clerk("caizheng", viewport)
    c.goto("/my/resolutions")
    rows = c.page.locator("#ledger-table tbody tr[data-item-id]")
    expect(rows.first).to_be_visible()
    for col in ("lead", "deadline", "light", "status"):
        cell = rows.first.locator(f'td[data-col="{col}"]')
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box is not None and box["x"] + box["width"] <= viewport["width"] + 1, (col, box)
    for i in range(rows.count()):  # only items the unit leads or co-operates on
        expect(rows.nth(i)).to_contain_text("区财政局")
    c.accessible()
