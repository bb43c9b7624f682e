"""Going live in the browser, on a fresh install without demo data (its own server, not the session's demo one).

The README's production path: ``flask init --admin … --secadmin … --auditor …`` prints one-time passwords; the
system administrator signs in, sets a password, imports the 17 member units' liaisons from .xlsx (a first file with
two bad rows is refused whole, with both rows named); a liaison signs in, sets a password and finishes a task; the
audit administrator reads every one of those changes. Then a liaison change hands a held task over, and the
security administrator cannot give one person two administrator roles.
"""

from __future__ import annotations

import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import Browser, BrowserContext, Page, expect

ROOT = Path(__file__).resolve().parents[2]
APP = "tests.browser.clock_app"
MEMBER_UNITS = ("xuanchuan", "minzheng", "fagai", "fupin", "weijian", "yibao", "zhujian", "jiaoti", "caizheng",
                "renshe", "jingmao", "xinfang", "shenji", "tongji", "gongan", "zonggonghui", "canlian")
HEADER = ["用户名*", "姓名*", "单位（代码或名称）", "职务", "电话", "电子邮箱", "联络员（是/否）"]


@dataclass
class Fresh:
    url: str
    passwords: dict[str, str]  # one-time passwords printed by init, then those of the imported people
    contexts: list[BrowserContext] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fresh]:
    tmp = tmp_path_factory.mktemp("golive")
    clock = tmp / "clock-offset"
    clock.write_text("0")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'live.db'}", "SECRET_KEY": "go-live-test",
           "JM_CLOCK_OFFSET_FILE": str(clock), "PYTHONUNBUFFERED": "1"}
    init = subprocess.run([sys.executable, "-m", "flask", "--app", APP, "init", "--admin", "wangwei",
                           "--secadmin", "lina", "--auditor", "zhaomin"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)
    assert init.returncode == 0, init.stderr
    passwords = dict(re.findall(r"已创建\S+ (\w+)，一次性密码：(\S+)（", init.stdout))
    assert set(passwords) == {"wangwei", "lina", "zhaomin"}, init.stdout
    port = _free_port()
    log = (tmp / "waitress.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "waitress", "--host", "127.0.0.1", f"--port={port}", "--call",
                             f"{APP}:create_app"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/login", timeout=2).close()
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, (tmp / "waitress.log").read_text()
            time.sleep(0.1)
    try:
        yield Fresh(url, passwords)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def open_page(fresh: Fresh, browser: Browser) -> Page:
    context = browser.new_context(base_url=fresh.url, locale="zh-CN")
    fresh.contexts.append(context)
    return context.new_page()


def first_sign_in(fresh: Fresh, browser: Browser, username: str, new_password: str) -> Page:
    """Sign in with the one-time password: the password page comes first; afterwards the inbox."""
    page = open_page(fresh, browser)
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", fresh.passwords[username])
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/account/password$"))
    expect(page.locator("#change-reason")).to_contain_text("一次性密码")
    page.goto("/tasks")  # nothing else opens before the password is changed
    expect(page).to_have_url(re.compile(r"/account/password$"))
    page.fill("#current", fresh.passwords[username])
    page.fill("#password", new_password)
    page.fill("#confirm", new_password)
    page.click("#save-password")
    expect(page.locator(".alert-success")).to_contain_text("密码已修改")
    fresh.passwords[username] = new_password
    return page


def liaison_sheet(bad: bool) -> bytes:
    book = Workbook()
    book.active.append(HEADER)
    for i, code in enumerate(MEMBER_UNITS):
        book.active.append([f"{code}.ll", f"联络员{i + 1:02d}", code, "科员", f"0915-32{i:05d}", "", "是"])
    if bad:
        book.active["C4"] = "区不存在局"  # row 4
        book.active["A12"] = "fagai.ll"  # row 12: the user name of row 4
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(page: Page, tmp: Path, data: bytes) -> None:
    path = tmp / "liaisons.xlsx"
    path.write_bytes(data)
    page.goto("/admin/people/import")
    page.set_input_files("#file", str(path))
    page.click("#check-file")


def test_a_fresh_install_goes_live(fresh: Fresh, browser: Browser, tmp_path: Path) -> None:
    admin = first_sign_in(fresh, browser, "wangwei", "Xitong#2026a")
    expect(admin.locator("#nav-admin")).to_have_text("系统管理")

    upload(admin, tmp_path, liaison_sheet(bad=True))
    problems = admin.locator("#import-problems li")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_have_text("第4行“单位”：名录中没有在用的“区不存在局”")
    expect(problems.nth(1)).to_have_text("第12行“用户名”：与第4行重复")
    expect(admin.locator("#confirm-import")).to_have_count(0)
    admin.goto("/admin/people?q=.ll")
    expect(admin.locator("#people-empty")).to_be_visible()  # nothing was created

    upload(admin, tmp_path, liaison_sheet(bad=False))
    expect(admin.locator("#import-ready")).to_contain_text("全部 17 行检查通过")
    admin.click("#confirm-import")
    created = admin.locator("#import-created tbody tr")
    expect(created).to_have_count(17)
    for row in created.all():
        name = row.get_attribute("data-username") or ""
        fresh.passwords[name] = row.locator("[data-password]").inner_text().strip()
    admin.goto("/admin/units")
    expect(admin.locator('#units-table tr[data-code="caizheng"]')).to_contain_text("联络员09")

    liaison = first_sign_in(fresh, browser, "caizheng.ll", "Caizheng#2026a")
    liaison.goto("/start")
    liaison.locator('form[data-start^="topic_proposal:"]').get_by_role("button", name="发起").click()
    expect(liaison.locator("#task-title")).to_have_text("提出议题")
    liaison.locator("#f-title").fill("低保边缘家庭医疗救助")
    liaison.locator("#f-background").fill("部分低保边缘家庭因病支出型贫困，现行政策覆盖不足。")
    liaison.locator("#f-proposal").fill("建议联席会议研究医疗救助衔接办法。")
    liaison.locator("#f-urgency-normal").check()
    liaison.locator("#submit-button").click()
    expect(liaison.locator(".alert-success")).to_contain_text("已办理")

    auditor = first_sign_in(fresh, browser, "zhaomin", "Shenji#2026a")
    auditor.goto("/admin/audit?scope=admin")
    table = auditor.locator("#audit-table")
    expect(table).to_contain_text("批量导入人员")
    expect(table).to_contain_text("从 Excel 导入人员 17 名")
    expect(table).to_contain_text("新增人员 联络员09（caizheng.ll），区财政局")
    expect(table).to_contain_text("联络员09（caizheng.ll）修改了本人密码")
    expect(table).to_contain_text("初始化系统管理员 wangwei")
    expect(auditor.locator('#audit-table tr[data-action="admin.user.create"]')).to_have_count(20)
    auditor.goto("/admin/audit?actor=caizheng.ll&scope=business")
    expect(auditor.locator('#audit-table tr[data-action="complete"]')).to_contain_text("提出议题")
    with auditor.expect_download() as download:
        auditor.click("#export-audit")
    assert download.value.suggested_filename == "audit-log.csv"


def test_a_liaison_change_hands_over_the_held_task(fresh: Fresh, browser: Browser) -> None:
    liaison = open_page(fresh, browser)
    liaison.goto("/login")
    liaison.fill("#username", "caizheng.ll")
    liaison.fill("#password", fresh.passwords["caizheng.ll"])
    liaison.click("button[type=submit]")
    liaison.goto("/start")
    liaison.locator('form[data-start^="topic_proposal:"]').get_by_role("button", name="发起").click()
    expect(liaison.locator("#task-title")).to_have_text("提出议题")  # started, held, not yet submitted

    admin = open_page(fresh, browser)
    admin.goto("/login")
    admin.fill("#username", "wangwei")
    admin.fill("#password", fresh.passwords["wangwei"])
    admin.click("button[type=submit]")
    admin.goto("/admin/liaisons?unit=caizheng")
    expect(admin.locator("#previous")).to_contain_text("已签收待办 1 件")
    admin.fill("#new_username", "caizheng.wang")
    admin.fill("#l-name", "王财")
    admin.fill("#l-phone", "0915-3288888")
    admin.fill("#note", "原联络员调任，工作已交接。")
    admin.check("#deactivate_previous")
    admin.click("#record-liaison")
    fresh.passwords["caizheng.wang"] = admin.locator("#issued-password").inner_text().strip()
    admin.click("#back")
    expect(admin.locator("#liaison-history")).to_contain_text("王财")
    admin.goto("/admin/units/caizheng")
    expect(admin.locator("#unit-history")).to_contain_text("区财政局联络员由联络员09变更为王财")

    new = first_sign_in(fresh, browser, "caizheng.wang", "Wangcai#2026a")
    new.goto("/tasks")
    expect(new.locator('tr[data-task-key="propose"]')).to_have_count(1)


def test_one_person_cannot_hold_two_administrator_roles(fresh: Fresh, browser: Browser) -> None:
    secadmin = first_sign_in(fresh, browser, "lina", "Anquan#2026a")
    secadmin.goto("/admin/people?q=zhaomin")
    secadmin.locator("#people-table a", has_text="审计管理员").click()
    secadmin.check("#role-sysadmin")
    secadmin.click("#save-roles")
    expect(secadmin.locator("#form-errors")).to_contain_text("三员分立：同一人不能同时担任系统管理员、审计管理员")
    secadmin.goto("/admin/roles")
    expect(secadmin.locator('#roles-table tr[data-role="sysadmin"]')).not_to_contain_text("审计管理员")
