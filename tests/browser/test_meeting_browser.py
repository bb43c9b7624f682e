"""The joint meeting through the browser: the right people, each in their own browser context, do their part
in turn on the real pages; plus the 403, 422 and CSRF pages, the task page's diagram, and narrow screens.

The server runs with a clock that the tests may move forward (``served_app.advance_clock``) and a timer worker
run once under the same clock (``served_app.fire_timers``), so the meeting day comes without waiting.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy import select

from engine.clock import SHANGHAI
from engine.db import Database
from engine.models import HumanTask, Instance
from meeting import directory
from meeting.accounts import create_token
from meeting.models import Meeting, Minutes, ResolutionItem, Topic, Unit, User

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
INBOX_URL = re.compile(r"/tasks(\?.*)?$")
TASK_URL = re.compile(r"/tasks/[0-9a-f-]{36}$")


@dataclass
class Person:
    """One signed-in user with their own browser context and page."""

    username: str
    context: BrowserContext
    page: Page
    errors: list[str] = field(default_factory=list)
    expected_errors: list[str] = field(default_factory=list)

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.errors if not any(x in e for x in self.expected_errors)]

    # -- inbox -----------------------------------------------------------------------------------------------
    def inbox(self, tab: str = "mine", by_link: bool = False) -> None:
        """The inbox tab ``tab``: by its URL, or (``by_link``) from 我的待办 through the tab link."""
        self.page.goto("/tasks" if by_link else f"/tasks?tab={tab}")
        if by_link and tab != "mine":
            self.page.locator(f"#tab-{tab}").click()
        expect(self.page.locator(f"#tab-{tab}")).to_have_class(re.compile(r"\bactive\b"))

    def open_task(self, key: str, subject: str | None = None, tab: str = "claimable",
                  by_link: bool = False) -> str:
        """Open the task ``key`` (BPMN id) from an inbox tab, picking the row that mentions ``subject``."""
        self.inbox(tab, by_link)
        row = self.page.locator(f'tr[data-task-key="{key}"]', has_text=subject).first
        expect(row, f"{self.username}: no {key} row {subject or ''} in {tab}").to_be_visible()
        task_id = row.get_attribute("data-task-id") or ""
        row.get_by_role("link").click()
        expect(self.page).to_have_url(re.compile(f"/tasks/{task_id}$"))
        return task_id

    def claim(self) -> None:
        self.page.locator("#claim-button").click()
        expect(self.page.locator(".alert-success")).to_contain_text("已签收")
        expect(self.page.locator("#unclaim-button")).to_be_visible()

    def submit(self) -> None:
        """Press 提交 and expect to land back in the inbox with the "办理" message."""
        self.page.locator("#submit-button").click()
        try:
            expect(self.page).to_have_url(INBOX_URL, timeout=10_000)
        except AssertionError as exc:
            said = self.page.locator("#form-errors, .invalid-feedback, #error-message").all_inner_texts()
            raise AssertionError(f"{self.username}: submitting {self.page.url} failed: {said}") from exc
        expect(self.page.locator(".alert-success")).to_contain_text("已办理")

    def do(self, key: str, fill: Callable[[Page], None], subject: str | None = None) -> str:
        """Sign for the task in 本单位待签收, fill its form and submit it."""
        task_id = self.open_task(key, subject)
        self.claim()
        fill(self.page)
        self.submit()
        return task_id

    def do_mine(self, key: str, fill: Callable[[Page], None], subject: str | None = None,
                shows: tuple[str, ...] = ()) -> str:
        """A personal task: in 我的待办, nothing to sign for; the page shows ``shows`` (what is being decided)
        before the form is filled and submitted. (The inbox reopens on the tab chosen last, so 我的待办 by name.)"""
        self.page.goto("/tasks?tab=mine")
        expect(self.page.locator("#tab-mine")).to_have_class(re.compile(r"\bactive\b"))
        task_id = self.open_task(key, subject, tab="mine")
        expect(self.page.locator("#claim-button")).to_have_count(0)
        expect(self.page.locator("#unclaim-button")).to_have_count(0)
        for text in shows:
            expect(self.page.locator(".jm-subject").filter(has_text=text).first).to_be_visible()
        fill(self.page)
        self.submit()
        return task_id


@pytest.fixture
def person(new_context: Callable[..., BrowserContext], login: Callable[..., None],
           error_watcher: Callable[..., list[str]]) -> Iterator[Callable[..., Person]]:
    """``person("office")``: a fresh browser context (1366×768), signed in."""
    people: list[Person] = []

    def make(username: str, viewport: dict[str, int] | None = None) -> Person:
        context = new_context(viewport=viewport or DESKTOP, locale="zh-CN",
                              timezone_id="Asia/Shanghai")
        page = context.new_page()
        who = Person(username, context, page)
        error_watcher(page, who.errors)
        login(page, username)
        people.append(who)
        return who

    yield make
    problems = {p.username: p.unexpected_errors() for p in people if p.unexpected_errors()}
    assert problems == {}, f"console or HTTP errors: {problems}"


@pytest.fixture
def clock(served_app: Any) -> Iterator[Any]:
    """The served app, whose clock this test may move; back to real time afterwards."""
    yield served_app
    served_app.reset_clock()


@pytest.fixture
def db(served_app: Any) -> Iterator[Database]:
    """The served SQLite database, opened in this process (reads, and API tokens)."""
    database = Database(served_app.database_url)
    yield database
    database.dispose()


def server_today(served_app: Any) -> date:
    return (datetime.now(SHANGHAI) + served_app.clock_offset()).date()


def unique(title: str) -> str:
    return f"{title}（{uuid.uuid4().hex[:6]}）"


# -- form fillers --------------------------------------------------------------------------------------------
def propose(page: Page, title: str) -> None:
    page.locator("#f-title").fill(title)
    page.locator("#f-background").fill(f"{title}的背景情况：涉及全区约 1200 户救助对象。")
    page.locator("#f-proposal").fill("建议联席会议研究资金统筹方案。")
    page.locator("#f-related_units-minzheng").check()
    page.locator("#f-urgency-normal").check()


def start_proposal(who: Person) -> str:
    """议题征集 from /start: lands on the proposer's own 提出议题 task page. Returns the task id."""
    who.page.goto("/start")
    card = who.page.locator('form[data-start^="topic_proposal:"]')
    expect(card).to_contain_text("议题征集")
    card.get_by_role("button", name="发起").click()
    expect(who.page).to_have_url(TASK_URL)
    expect(who.page.locator("#task-title")).to_have_text("提出议题")
    expect(who.page.locator(".alert-success")).to_contain_text("已发起")
    return who.page.url.rsplit("/", 1)[1]


def choose(value: str) -> Callable[[Page], None]:
    """A filler that picks the radio ``#f-<field>-<value>`` (``choose("screen_decision-accept")``)."""

    def fill(page: Page) -> None:
        page.locator(f"#f-{value}").check()

    return fill


# -- API (bearer tokens) for the units not driven through pages ----------------------------------------------
def api(base_url: str, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    req = urllib.request.Request(base_url + path, method=method, data=data, headers=headers)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp)


def tokens_for(db: Database, usernames: list[str]) -> dict[str, str]:
    with db.transaction() as s:
        users = {u.username: u for u in s.scalars(select(User).where(User.username.in_(usernames)))}
        now = datetime.now(SHANGHAI)
        return {name: create_token(s, users[name], "browser-test", now) for name in usernames}


def confirm_through_api(base_url: str, token: str, unit: str) -> None:
    tasks = api(base_url, token, "GET", "/api/tasks?view=open")["tasks"]
    mine = [t for t in tasks if t["task_key"] == "confirm_attendance"]
    assert len(mine) == 1, (unit, [t["task_key"] for t in tasks])
    done = api(base_url, token, "POST", f"/api/tasks/{mine[0]['id']}/complete",
               {"attendance": "attend", "attendee_name": f"{unit}分管负责人"})
    assert done["status"] in ("running", "waiting", "completed"), done


# -- 1. the whole meeting ------------------------------------------------------------------------------------
def fire_all_timers(clock: Any) -> int:
    """The timer worker until nothing more is due (a closed reply round makes the meeting timer due)."""
    fired = total = clock.fire_timers()
    while fired:
        fired = clock.fire_timers()
        total += fired
    return total


def test_joint_meeting_through_the_browser(person: Callable[..., Person], clock: Any, db: Database,
                                           base_url: str, results_dir: Path) -> None:
    """One unit (区残联) never replies and one (区人社局) sends a substitute: the meeting still runs from the
    plan to the issued minutes and the report."""
    caizheng, office, convener = person("caizheng"), person("office"), person("convener")
    renshe, minzheng, district = person("renshe"), person("minzheng"), person("district")
    title = unique("统筹社会救助资金预算")

    # 征集议题: the office calls all member units for topics; 区财政局 sends one, 区人社局 has none, the others
    # stay silent until the deadline; then the office screens what came in.
    office.page.goto("/start")
    office.page.locator('form[data-start^="topic_call:"]').get_by_role("button", name="发起").click()
    expect(office.page.locator(".alert-success")).to_contain_text("已发起")
    if not TASK_URL.search(office.page.url):
        office.open_task("issue_call")
    office.claim()
    office.page.locator("#f-call_deadline").fill((server_today(clock) + timedelta(days=1)).isoformat())
    office.submit()

    def send_topic(page: Page) -> None:
        page.locator("#f-call_answer-topic").check()
        page.locator("#f-title").fill(title)
        page.locator("#f-background").fill(f"{title}的背景情况：涉及全区约 1200 户救助对象。")
        page.locator("#f-proposal").fill("建议联席会议研究资金统筹方案。")

    def no_topic(page: Page) -> None:
        page.locator("#f-call_answer-none").check()
        expect(page.locator("#f-title")).to_be_hidden()  # the topic's fields only when sending one

    caizheng.do("answer_call", send_topic)
    renshe.do("answer_call", no_topic)
    clock.advance_clock(timedelta(days=2))
    assert fire_all_timers(clock) >= 1
    office.do("screen_call", lambda p: p.locator("#f-accepted_topics").get_by_label(f"{title}（区财政局）").check())
    with db.sessions() as s:
        topic = s.scalar(select(Topic).where(Topic.title == title))
        assert topic is not None and topic.status == "accepted"
        topic_label = f"{title}（区财政局）"

    # 联席会议: the office starts 召开例会 and drafts the plan, the meeting a few days ahead.
    office.page.goto("/start")
    regular = office.page.locator('form[data-start="joint_meeting:start_regular"]')
    regular.get_by_role("button", name="发起").click()
    expect(office.page.locator(".alert-success")).to_contain_text("已发起")
    if not TASK_URL.search(office.page.url):
        office.open_task("draft_plan")
    office.claim()
    meeting_day = server_today(clock) + timedelta(days=3)
    meeting_title = unique("社会救助联席会议（浏览器）")
    page = office.page
    page.locator("#f-meeting_kind-regular").check()
    page.locator("#f-meeting_title").fill(meeting_title)
    page.locator("#f-meeting_date").fill(meeting_day.isoformat())  # the date picker's value
    expect(page.locator("#f-meeting_time")).to_have_value("09:00")
    page.locator("#f-meeting_time").fill("14:30")
    page.locator("#f-meeting_place").fill("区民政局三楼会议室")
    page.locator("#f-topic_ids").get_by_label(topic_label).check()
    page.locator("#f-invited_units-laocheng").check()
    page.locator("#f-guest_units").fill("区气象局、张三、0915-3211234")
    expect(page.locator("#f-meeting_date")).to_have_value(meeting_day.isoformat())
    office.submit()
    with db.sessions() as s:
        guest = s.scalar(select(Unit.code).where(Unit.name == "区气象局", Unit.kind == "guest"))
    assert guest is not None, "the typed-in department is kept in the directory"

    # 审定会议方案 is the convener's own: in 我的待办, showing the agenda and who is invited.
    convener.do_mine("approve_plan", choose("plan_decision-approve"), subject=meeting_title,
                     shows=(title, "老城街道办、区气象局", "14:30"))

    # 确认参会: two units through the pages, the other fifteen through the API with their own tokens.
    with db.sessions() as s:
        members = directory.member_unit_codes(s)
    assert len(members) == 17 and {"caizheng", "renshe"} <= set(members)

    def attend(name: str) -> Callable[[Page], None]:
        def fill(page: Page) -> None:
            page.locator("#f-attendance-attend").check()
            page.locator("#f-attendee_name").fill(name)

        return fill

    def substitute(page: Page) -> None:
        # the reply page shows the agenda and the invited units (what the unit is asked to come to)
        expect(page.locator(".jm-subject").filter(has_text="老城街道办、区气象局").first).to_be_visible()
        page.locator("#f-attendance-substitute").check()
        page.locator("#f-attendee_name").fill("王五")
        page.locator("#f-attendee_post").fill("办公室主任")

    caizheng.do("confirm_attendance", attend("财政局张副局长"), subject=meeting_title)
    renshe.do("confirm_attendance", substitute, subject=meeting_title)
    others = [m for m in members if m not in ("caizheng", "renshe", "canlian")]  # 区残联 never replies
    tokens = tokens_for(db, [*others, "laocheng"])
    for unit in [*others, "laocheng"]:
        confirm_through_api(base_url, tokens[unit], unit)

    # The meeting day comes: the reply deadline closes 区残联's reply as 未回复, the meeting timer fires.
    with db.sessions() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.title == meeting_title))
        assert meeting is not None and meeting.status == "convened"
        meeting_at = meeting.meeting_at
    clock.advance_clock(meeting_at - datetime.now(SHANGHAI) - clock.clock_offset() + timedelta(hours=1))
    assert fire_all_timers(clock) >= 1

    # 会议签到: prefilled from the replies; the office confirms who came and who presides.
    office.open_task("sign_in", meeting_title)
    office.claim()
    page = office.page
    expect(page.locator('#f-sign_in_sheet tr[data-unit="canlian"]')).to_contain_text("未回复")
    expect(page.locator('select[name="sign_in_sheet.canlian.status"]')).to_have_value("absent")
    expect(page.locator('select[name="sign_in_sheet.renshe.status"]')).to_have_value("substitute")
    expect(page.locator('input[name="sign_in_sheet.renshe.name"]')).to_have_value("王五")
    page.locator(f'select[name="sign_in_sheet.{guest}.status"]').select_option("present")
    page.locator(f'input[name="sign_in_sheet.{guest}.name"]').fill("张三")
    page.locator("#f-presider_name").fill("召集人（区民政局主要负责人）")
    page.screenshot(path=str(results_dir / "sign-in-1366.png"), full_page=True)
    office.submit()

    # 记录审议结果 with the items editor: two rows, one with a co-operating unit.
    today = server_today(clock)
    fiscal, jobs = "完成社会救助资金预算编制并报区政府。", "建立低保家庭就业援助台账，按月更新。"
    office.open_task("record_outcome", meeting_title)
    office.claim()
    page = office.page
    timer_entry = page.locator("#history > li", has_text="定时触发")
    expect(timer_entry).to_contain_text("系统")
    rows = page.locator("#f-resolution_items tr[data-item-row]")
    expect(rows).to_have_count(1)
    rows.nth(0).locator('[data-item-key="content"]').fill(fiscal)
    rows.nth(0).locator('[data-item-key="lead_unit"]').select_option("caizheng")
    rows.nth(0).locator('[data-item-key="co_units"]').select_option(["minzheng"])
    rows.nth(0).locator('[data-item-key="deadline"]').fill((today + timedelta(days=30)).isoformat())
    page.locator('[data-items-add="resolution_items"]').click()
    expect(rows).to_have_count(2)
    rows.nth(1).locator('[data-item-key="content"]').fill(jobs)
    rows.nth(1).locator('[data-item-key="lead_unit"]').select_option("renshe")
    rows.nth(1).locator('[data-item-key="deadline"]').fill((today + timedelta(days=20)).isoformat())
    page.locator("#f-outcome_summary").fill("会议听取了议题汇报，形成议定事项两项。")
    # the whole editor fits its card: no column (议题, 删除) hidden behind a horizontal scroll
    sizes = page.locator("#f-resolution_items").evaluate(
        "t => ({table: t.scrollWidth, box: t.parentElement.clientWidth})")
    assert sizes["table"] <= sizes["box"] + 1, sizes
    page.screenshot(path=str(results_dir / "record-outcome-1366.png"), full_page=True)
    office.submit()
    with db.sessions() as s:
        items = {r.lead_unit: r for r in s.scalars(select(ResolutionItem).where(
            ResolutionItem.meeting_id == meeting.id))}
    assert set(items) == {"caizheng", "renshe"}
    assert items["caizheng"].co_units == ["minzheng"] and items["renshe"].co_units == []

    # 会议纪要: drafted by the office and sent for comments; 区财政局 answers, the others stay silent until the
    # deadline (无意见); the convener signs seeing the comments, and the 文号 comes from the register.
    def minutes(page: Page) -> None:
        page.locator("#f-minutes_body").fill("会议议定事项及完成时限如下……")
        page.locator("#f-comment_deadline").fill((today + timedelta(days=2)).isoformat())
        expect(page.locator("#f-report_units-zhengfuban")).to_be_checked()  # 报 区政府办公室 by default
        page.locator("#f-copy_units-quweiban").check()

    office.do("draft_minutes", minutes, meeting_title)

    def comment(page: Page) -> None:
        expect(page.locator(".jm-subject").filter(has_text="纪要正文").first).to_contain_text("会议议定事项及完成时限")
        page.locator("#f-comment_answer-opinion").check()
        page.locator("#f-comment_text").fill("请写明预算报送时间。")

    caizheng.do("comment_minutes", comment, meeting_title)
    clock.advance_clock(timedelta(days=3))
    assert fire_all_timers(clock) >= 1
    convener.do_mine("approve_minutes", choose("minutes_decision-approve"), meeting_title,
                     shows=("请写明预算报送时间。", "期满未反馈（视为无意见）"))
    with db.sessions() as s:
        issued = s.scalar(select(Minutes).where(Minutes.meeting_id == meeting.id))
        assert issued is not None and issued.status == "issued"
        assert re.fullmatch(r"汉救联纪〔\d{4}〕\d+号", issued.number or ""), issued.number
    office.page.goto(f"/meetings/{meeting.id}")
    attendance = office.page.locator("#attendance")
    expect(attendance.locator('[data-unit="canlian"]')).to_contain_text("未回复")
    expect(attendance.locator('[data-unit="renshe"]')).to_contain_text("代会出席")
    expect(attendance.locator('[data-unit="renshe"]')).to_contain_text("办公室主任 王五")
    expect(attendance.locator(f'[data-unit="{guest}"]')).to_contain_text("列席")
    expect(office.page.locator("#meeting-presider")).to_contain_text("召集人（区民政局主要负责人）")
    office.page.screenshot(path=str(results_dir / "meeting-page-1366.png"), full_page=True)

    # 议定事项落实: lead units report, the co-operating unit gives its input, the office verifies each.
    def report(text: str) -> Callable[[Page], None]:
        def fill(page: Page) -> None:
            page.locator("#f-report_action-report").check()
            page.locator("#f-result_body").fill(text)

        return fill

    caizheng.do("implement", report("预算已编制并上报区政府。"), fiscal[:20])
    minzheng.do("co_input", lambda p: p.locator("#f-co_opinion").fill("已配合核定保障人数。"), fiscal[:20])
    renshe.do("implement", report("台账已建立，覆盖 320 户。"), jobs[:20])
    office.do("verify", choose("verify_decision-accept"), fiscal[:20])
    office.do("verify", choose("verify_decision-accept"), jobs[:20])
    with db.sessions() as s:
        statuses = {r.lead_unit: r.status for r in s.scalars(select(ResolutionItem).where(
            ResolutionItem.meeting_id == meeting.id))}
    assert statuses == {"caizheng": "closed", "renshe": "closed"}

    # 落实情况报告: compiled, approved, received by the district leader.
    office.do("compile_report", lambda p: p.locator("#f-report_body").fill("两项议定事项均已办结。"), meeting_title)
    convener.do_mine("approve_report", choose("report_decision-approve"), meeting_title)
    district.do_mine("receive_report", lambda p: p.locator("#f-receipt_comment").fill("很好，继续抓好落实。"),
                     meeting_title)

    district.inbox("done")
    received = district.page.locator('tr[data-task-key="receive_report"]', has_text=meeting_title)
    expect(received).to_contain_text("接收落实报告")
    with db.sessions() as s:
        instance = s.get(Instance, meeting.instance_id)
        assert instance is not None and instance.status == "completed"
        open_tasks = s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == meeting.instance_id,
                                                               HumanTask.state == "READY")).all()
        assert open_tasks == []


# -- 2. another unit's task ----------------------------------------------------------------------------------
def test_another_units_task_is_forbidden(person: Callable[..., Person]) -> None:
    renshe = person("renshe")
    task_id = start_proposal(renshe)
    caizheng = person("caizheng")
    caizheng.expected_errors.append("HTTP 403")

    response = caizheng.page.goto(f"/tasks/{task_id}")
    assert response is not None and response.status == 403
    expect(caizheng.page.locator("h1")).to_have_text("无权访问（403）")
    expect(caizheng.page.locator("#error-message")).to_have_text("您无权查看此任务")
    expect(caizheng.page.locator("#task-form")).to_have_count(0)
    assert caizheng.page.request.get(f"/tasks/{task_id}/diagram.bpmn").status == 403
    # the owner still has it
    renshe.page.goto(f"/tasks/{task_id}")
    expect(renshe.page.locator("#task-form")).to_be_visible()


# -- 3. a bad value is shown next to its field ---------------------------------------------------------------
def test_form_errors_are_shown_inline_and_input_is_kept(person: Callable[..., Person], db: Database) -> None:
    caizheng = person("caizheng")
    caizheng.expected_errors.append("HTTP 422")
    task_id = start_proposal(caizheng)
    page = caizheng.page
    background = "背景：去年临时救助资金缺口较大。"
    page.locator("#f-background").fill(background)
    page.locator("#f-proposal").fill("建议统筹安排。")
    page.locator("#f-related_units-minzheng").check()
    page.locator("#f-related_units-renshe").check()
    page.locator("#f-urgency-urgent").check()

    # empty required title
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#submit-button").click()
    assert posted.value.status == 422
    expect(page.locator("#form-errors")).to_contain_text("表单有误")
    expect(page.locator("#error-title")).to_have_text("请填写“议题名称”")
    expect(page.locator("#f-title")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#f-background")).to_have_value(background)
    expect(page.locator("#f-proposal")).to_have_value("建议统筹安排。")
    expect(page.locator("#f-related_units-minzheng")).to_be_checked()
    expect(page.locator("#f-related_units-renshe")).to_be_checked()
    expect(page.locator("#f-urgency-urgent")).to_be_checked()

    # 101 characters: the browser stops at 100 (maxlength); without that guard the server says why
    title = page.locator("#f-title")
    expect(title).to_have_attribute("maxlength", "100")
    title.evaluate("el => el.removeAttribute('maxlength')")
    title.fill("救" * 101)
    page.locator("#f-background").fill(background + "（补充）")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#submit-button").click()
    assert posted.value.status == 422
    expect(page.locator("#error-title")).to_have_text("“议题名称”不能超过 100 个字")
    expect(page.locator("#f-background")).to_have_value(background + "（补充）")
    expect(page.locator("#error-background")).to_have_count(0)

    # corrected, it goes through
    page.locator("#f-title").fill(unique("临时救助资金统筹"))
    caizheng.submit()
    with db.sessions() as s:
        assert s.get(HumanTask, task_id).state == "COMPLETED"


# -- 4. CSRF -------------------------------------------------------------------------------------------------
def test_a_post_without_csrf_token_is_refused(person: Callable[..., Person], db: Database) -> None:
    caizheng = person("caizheng")
    caizheng.expected_errors.append("HTTP 400")
    task_id = start_proposal(caizheng)
    page = caizheng.page
    title = unique("无令牌提交")
    propose(page, title)
    page.locator('#task-form input[name="csrf_token"]').evaluate("el => el.remove()")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.locator("#submit-button").click()
    assert posted.value.status == 400
    expect(page.locator("#error-message")).to_have_text("页面已过期或请求缺少安全令牌，请刷新页面后重试。")
    expect(page.locator("h1")).to_contain_text("（400）")

    # the same without a browser form: the session cookie alone is not enough
    refused = page.request.post(f"/tasks/{task_id}", form={"title": title, "background": "x", "proposal": "y",
                                                           "urgency": "normal"})
    assert refused.status == 400 and "安全令牌" in refused.text()
    api_refused = page.request.post(f"/api/tasks/{task_id}/complete", data={"title": title})
    assert api_refused.status == 400 and api_refused.json()["error"] == "csrf"

    # nothing changed: the task still waits, with an empty form, and there is no such topic
    page.goto(f"/tasks/{task_id}")
    expect(page.locator("#task-form")).to_be_visible()
    expect(page.locator("#f-title")).to_have_value("")
    with db.sessions() as s:
        assert s.get(HumanTask, task_id).state == "READY"
        assert s.scalar(select(Topic).where(Topic.title == title)) is None


# -- 5. the diagram and the history on the task page ---------------------------------------------------------
def test_task_page_shows_the_current_step_and_history(person: Callable[..., Person]) -> None:
    caizheng, office = person("caizheng"), person("office")
    title = unique("医疗救助一站式结算")
    start_proposal(caizheng)
    propose(caizheng.page, title)
    caizheng.submit()

    office.open_task("screen", title)
    page = office.page
    expect(page.locator("[data-bpmn-viewer][data-rendered=true]")).to_have_count(1, timeout=15_000)
    viewer = page.locator("[data-bpmn-viewer]")
    assert viewer.get_attribute("data-render-error") is None
    screen_box = page.locator('g.djs-element[data-element-id="screen"]')
    expect(screen_box).to_have_class(re.compile(r"\bjm-active\b"))
    propose_box = page.locator('g.djs-element[data-element-id="propose"]')
    expect(propose_box).to_have_class(re.compile(r"\bjm-completed\b"))
    expect(propose_box).not_to_have_class(re.compile(r"\bjm-active\b"))
    history = page.locator("#history > li")
    expect(history).to_have_count(2)
    expect(history.nth(0)).to_contain_text("发起")
    expect(history.nth(1)).to_contain_text("办理 · 提出议题")
    expect(page.locator(".jm-subject")).to_contain_text(title)


# -- 6. phone and desktop ------------------------------------------------------------------------------------
def _no_horizontal_overflow(page: Page) -> None:
    sizes = page.evaluate("({scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth})")
    assert sizes["scroll"] <= sizes["inner"] + 1, f"{page.url} overflows: {sizes}"


@pytest.mark.parametrize(("viewport", "suffix"), [(DESKTOP, "1366"), (PHONE, "390")])
def test_inbox_and_task_page_fit_the_screen(person: Callable[..., Person], results_dir: Path,
                                            viewport: dict[str, int], suffix: str) -> None:
    caizheng = person("caizheng")
    title = unique("困难群众冬季取暖补贴发放")
    start_proposal(caizheng)
    propose(caizheng.page, title)
    caizheng.submit()

    office = person("office", viewport=viewport)
    page = office.page
    office.inbox("claimable")
    row = page.locator('tr[data-task-key="screen"]', has_text=title)
    expect(row).to_be_visible()
    _no_horizontal_overflow(page)
    # every column is on the screen, not scrolled away inside the table (rows become cards on a phone)
    for cell in row.locator("td").all():
        box = cell.bounding_box()
        inside = box is not None and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1
        assert inside, (cell.get_attribute("data-label"), box)
    page.screenshot(path=str(results_dir / f"inbox-{suffix}.png"), full_page=True)

    office.open_task("screen", title)
    expect(page.locator("[data-bpmn-viewer][data-rendered=true]")).to_have_count(1, timeout=15_000)
    _no_horizontal_overflow(page)
    page.screenshot(path=str(results_dir / f"task-{suffix}.png"), full_page=True)
    if suffix == "390":
        expect(page.locator(".navbar-toggler")).to_be_visible()
        expect(page.locator("#jm-nav")).not_to_be_visible()
        box = page.locator("#submit-button").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
