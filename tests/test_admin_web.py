"""The administration pages over real HTTP: the first sign-in with a one-time password, the idle timeout, the
three administrators' pages kept apart, the import from Excel, the audit log and its export."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import Workbook
from web_support import Browser, LiveApp, live_app

from bench.world import T0
from engine.clock import ManualClock


class WallClock:
    """The idle-timeout clock of the app under test, moved by the test."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    path: Path = tmp_path_factory.mktemp("admin")
    with live_app(f"sqlite:///{path}/admin.db", ManualClock(T0)) as app:
        app.app.config["IDLE_CLOCK"] = WallClock()
        yield app


def issued_password(html: str) -> str:
    found = re.search(r'id="issued-password">([^<]+)<', html)
    assert found, html[:2000]
    return found.group(1)


def sign_in(live: LiveApp, username: str, password: str) -> tuple[Browser, str]:
    b = Browser(live.url)
    r = b.post("/login", {"username": username, "password": password}, token_from="/login")
    assert r.status_code == 302, r.text[:500]
    return b, r.headers["Location"]


def test_a_new_person_changes_the_one_time_password_before_anything_else(live: LiveApp) -> None:
    admin = live.client("sysadmin")
    r = admin.post("/admin/people/new", {"username": "wang.fang", "display_name": "王芳", "unit_code": "caizheng",
                                         "post": "科员", "phone": "0915-3211234", "email": "", "is_liaison": "1"},
                   token_from="/admin/people/new")
    assert r.status_code == 200 and "王芳" in r.text
    one_time = issued_password(r.text)

    person, first = sign_in(live, "wang.fang", one_time)
    assert first.endswith("/account/password")
    assert person.get("/tasks", allow_redirects=False).headers["Location"].endswith("/account/password")
    assert person.http.get(live.url + "/api/tasks", timeout=10).status_code == 403
    weak = person.post("/account/password", {"current": one_time, "password": "short", "confirm": "short"},
                       token_from="/account/password")
    assert weak.status_code == 422 and "密码至少 8 位" in weak.text
    done = person.post("/account/password", {"current": one_time, "password": "Caishui#2026",
                                             "confirm": "Caishui#2026"})
    assert done.status_code == 302
    assert person.get("/tasks").status_code == 200
    sign_in(live, "wang.fang", "Caishui#2026")


def test_an_idle_session_ends(live: LiveApp) -> None:
    b = live.client("office")
    assert b.get("/tasks", allow_redirects=False).status_code == 200
    clock: WallClock = live.app.config["IDLE_CLOCK"]
    clock.now += 29 * 60
    assert b.get("/tasks", allow_redirects=False).status_code == 200  # activity restarts the count
    clock.now += 31 * 60
    r = b.get("/tasks", allow_redirects=False)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    assert "已自动退出" in b.get("/login").text


def test_the_three_administrators_each_keep_to_their_duty(live: LiveApp) -> None:
    sysadmin, secadmin, auditor = (live.client(n) for n in ("sysadmin", "secadmin", "auditor"))
    ops = live.client("admin")
    person = re.search(r'href="/admin/people/(\d+)">区统计局联络员', sysadmin.get("/admin/people?q=tongji").text)
    assert person
    url = f"/admin/people/{person.group(1)}"
    assert sysadmin.post(url + "/roles", {"role": "office"}, token_from=url).status_code == 403
    assert secadmin.post(url + "/password", token_from=url).status_code == 403
    assert auditor.post(url + "/roles", {"role": "office"}, token_from=url).status_code == 403
    assert ops.get("/admin/people").status_code == 403  # the operations role administers nothing here
    assert ops.get("/admin/audit").status_code == 403
    assert sysadmin.get("/admin/audit").status_code == 403

    both = secadmin.post(url + "/roles", {"role": ["sysadmin", "auditor"]}, token_from=url)
    assert both.status_code == 422 and "三员分立" in both.text
    assert secadmin.post(url + "/roles", {"role": ["check"], "extra": "town:laocheng:window"},
                         token_from=url).status_code == 302
    page = secadmin.get(url).text
    assert 'value="town:laocheng:window" id="role-town-laocheng-window" checked' in page

    assert sysadmin.post("/admin/policy", {"min_length": "10"}, token_from="/admin/policy").status_code == 403
    bad = secadmin.post("/admin/policy", {"min_length": "4", "min_classes": "3", "history": "5",
                                          "max_age_days": "90", "warn_days": "14", "idle_minutes": "30"},
                        token_from="/admin/policy")
    assert bad.status_code == 422 and "8–64" in bad.text


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    book.active.append(["用户名*", "姓名*", "单位（代码或名称）", "职务", "电话", "电子邮箱", "联络员（是/否）"])
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_import_checks_every_row_first_and_creates_everyone_or_nobody(live: LiveApp) -> None:
    admin = live.client("sysadmin")
    template = admin.get("/admin/people/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    rows: list[list[object]] = [[f"imp{i}", f"导入{i}", "区医保局", "", "", "", "否"] for i in range(5)]
    rows[2][6] = "也许"
    admin.get("/admin/people/import")
    checked = admin.post("/admin/people/import", files={"file": ("people.xlsx", workbook(rows))})
    assert checked.status_code == 422 and "第4行“联络员”" in checked.text and 'id="confirm-import"' not in checked.text
    rows[2][6] = "是"
    checked = admin.post("/admin/people/import", files={"file": ("people.xlsx", workbook(rows))})
    assert checked.status_code == 200 and "全部 5 行检查通过" in checked.text
    payload = re.search(r'name="rows" value="([^"]+)"', checked.text)
    assert payload
    import html

    done = admin.post("/admin/people/import/confirm", {"rows": html.unescape(payload.group(1)),
                                                       "filename": "people.xlsx"})
    assert done.status_code == 200 and done.text.count("data-password") == 5
    assert "imp4" in admin.get("/admin/people?unit=yibao").text


def test_the_auditor_reads_and_exports_every_administrative_change(live: LiveApp) -> None:
    auditor = live.client("auditor")
    page = auditor.get("/admin/audit?scope=admin").text
    for label in ("新增人员", "修改本人密码", "调整角色与群组", "批量导入人员"):
        assert label in page, label
    export = auditor.get("/admin/audit.csv?scope=admin")
    assert export.status_code == 200 and export.text.startswith("\ufeff序号")
    assert "王芳" in export.text and "admin." not in export.text
    assert "导出审计日志" in auditor.get("/admin/audit?action=admin.audit.export").text


def test_the_audit_export_runs_no_formula(live: LiveApp) -> None:
    from meeting import admin_audit

    with live.db.transaction() as s:
        admin_audit.record(s, "admin.user.update", actor="sysadmin", at=live.service.now(), target="user:x",
                           summary='=HYPERLINK("http://evil.example","点此")', data={})
        admin_audit.record(s, "admin.user.update", actor="sysadmin", at=live.service.now(), target="user:y",
                           summary="\t-1+1", data={})
    import csv
    import io

    export = live.client("auditor").get("/admin/audit.csv?scope=admin").text
    cells = [cell for row in csv.reader(io.StringIO(export.lstrip("\ufeff"))) for cell in row]
    assert """'=HYPERLINK("http://evil.example","点此")""" in cells and "'\t-1+1" in cells
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
