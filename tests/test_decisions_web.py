"""Decision tables in the designer and in 发布审批, over real HTTP on a SQLite file: the list, the editor page,
check and deploy (pending until another person publishes), the review page, downloads served as attachments,
a new decision from the template, CSRF and who may do what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from web_support import Browser, LiveApp, live_app

from bench.world import T0
from engine.clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (ROOT / "processes" / "assistance_routing.dmn").read_text(encoding="utf-8")
EDUCATION_TO_RENSHE = SHIPPED.replace('<text>"jiaoti"</text>', '<text>"renshe"</text>')


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    path = tmp_path_factory.mktemp("decisions_web")
    with live_app(f"sqlite:///{path}/decisions.db", ManualClock(T0)) as app:
        yield app


def post_json(b: Browser, path: str, body: dict[str, object], token: bool = True) -> requests.Response:
    headers = {"X-CSRFToken": b.last_token} if token else {}
    return b.http.post(b.base + path, json=body, headers=headers, allow_redirects=False, timeout=30)


def test_the_shipped_decision_is_deployed_and_listed(live: LiveApp) -> None:
    result = live.service.decisions.evaluate("assistance_routing", {"aid_type": "医疗救助"})
    assert (result.version, result.rows) == (1, [{"department": "yibao", "limit_days": 10}])
    designer = live.client("designer")
    page = designer.get("/designer/").text
    assert 'data-decision="assistance_routing"' in page and "协同办理分派规则" in page
    editor = designer.get("/designer/decisions/assistance_routing/v1")
    assert editor.status_code == 200 and 'id="jm-decision-config"' in editor.text and "decisions." in editor.text
    xml = designer.get("/designer/decisions/assistance_routing/v1.dmn")
    assert xml.headers["Content-Disposition"].startswith("attachment")
    assert xml.headers["Content-Type"].startswith("text/plain") and "sandbox" in xml.headers["Content-Security-Policy"]
    assert xml.text == SHIPPED
    assert designer.get("/designer/decisions/nothing/v1").status_code == 404


def test_check_reports_bad_cells_in_chinese_with_element_ids(live: LiveApp) -> None:
    designer = live.client("designer")
    designer.get("/designer/decisions/assistance_routing/v1")
    bad = SHIPPED.replace('<text>"renshe"</text>', "<text>__import__('os').system('id')</text>")
    r = post_json(designer, "/designer/decisions/check", {"xml": bad})
    assert r.status_code == 200
    [problem] = r.json()["problems"]
    assert problem["element"] == "OutputEntry_06_department" and problem["line"] and "不允许" in problem["message"]
    assert post_json(designer, "/designer/decisions/check", {"xml": SHIPPED}).json() == {"ok": True, "problems": []}
    r = post_json(designer, "/designer/decisions/assistance_routing/deploy", {"xml": bad})
    assert r.status_code == 422 and r.json()["problems"][0]["element"] == "OutputEntry_06_department"
    other = SHIPPED.replace('decision id="assistance_routing"', 'decision id="other_rule"')
    r = post_json(designer, "/designer/decisions/assistance_routing/deploy", {"xml": other})
    assert r.status_code == 422 and "决策标识" in r.json()["problems"][0]["message"]
    assert post_json(designer, "/designer/decisions/check", {"xml": SHIPPED}, token=False).status_code == 400  # CSRF


def test_a_designers_version_waits_for_another_person_to_publish_it(live: LiveApp) -> None:
    designer = live.client("designer")
    designer.get("/designer/decisions/assistance_routing/v1")
    r = post_json(designer, "/designer/decisions/assistance_routing/deploy", {"xml": EDUCATION_TO_RENSHE})
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["status"], body["version"]) == ("pending", 2)
    assert live.service.decisions.evaluate("assistance_routing", {"aid_type": "教育救助"}).rows[0]["department"] \
        == "jiaoti"  # pending: not used
    again = post_json(designer, "/designer/decisions/assistance_routing/deploy", {"xml": EDUCATION_TO_RENSHE})
    assert (again.status_code, again.json()["version"]) == (200, 2)  # the same table: the pending version
    assert designer.get("/reviews/").status_code == 403
    assert designer.post("/reviews/decisions/assistance_routing/v2/publish", token_from="/designer/").status_code \
        == 403

    approver = live.client("approver")
    listing = approver.get("/reviews/").text
    assert 'id="pending-decisions"' in listing and 'data-decision="assistance_routing" data-version="2"' in listing
    review = approver.get("/reviews/decisions/assistance_routing/v2").text
    assert re.search(r'data-rule="Rule_04" data-change="changed"', review)
    assert 'data-rule="Rule_05" data-change' not in review
    assert approver.get("/reviews/decisions/assistance_routing/v2.dmn").text == EDUCATION_TO_RENSHE
    r = approver.post("/reviews/decisions/assistance_routing/v2/publish", {"comment": "同意"})
    assert r.status_code == 302
    result = live.service.decisions.evaluate("assistance_routing", {"aid_type": "教育救助"})
    assert (result.version, result.rows) == (2, [{"department": "renshe", "limit_days": 10}])
    assert live.service.decisions.evaluate("assistance_routing", {"aid_type": "教育救助"}, version=1).rows[0][
        "department"] == "jiaoti"
    assert approver.post("/reviews/decisions/assistance_routing/v2/publish", {}).status_code == 409
    page = designer.get("/designer/").text
    assert re.search(r'data-version="2">\s*<td[^>]*data-status="published"', page)


def test_a_rejection_needs_a_reason(live: LiveApp) -> None:
    designer = live.client("designer")
    designer.get("/designer/decisions/assistance_routing/v1")
    changed = SHIPPED.replace("<text>15</text>", "<text>12</text>")
    version = post_json(designer, "/designer/decisions/assistance_routing/deploy", {"xml": changed}).json()["version"]
    approver = live.client("approver")
    r = approver.post(f"/reviews/decisions/assistance_routing/v{version}/reject", {"comment": " "},
                      token_from=f"/reviews/decisions/assistance_routing/v{version}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/reviews/decisions/assistance_routing/v{version}")
    r = approver.post(f"/reviews/decisions/assistance_routing/v{version}/reject", {"comment": "时限不对"})
    assert r.status_code == 302
    assert [m.status for m in live.service.decisions.versions("assistance_routing")][0] == "rejected"


def test_a_new_decision_starts_from_the_template(live: LiveApp) -> None:
    designer = live.client("designer")
    r = designer.post("/designer/decisions/new", {"key": "aid_check", "name": "核对分派"}, token_from="/designer/")
    assert r.status_code == 200 and "核对分派" in r.text
    config = re.search(r'<script type="application/json" id="jm-decision-config">(.*?)</script>', r.text, re.S)
    assert config is not None and "aid_check" in config.group(1)
    assert not live.service.decisions.versions("aid_check")  # nothing stored until deployed
    taken = designer.post("/designer/decisions/new", {"key": "assistance_routing", "name": "重复"},
                          token_from="/designer/")
    assert taken.status_code == 422 and "已被使用" in taken.text
    assert designer.post("/designer/decisions/new", {"key": "1bad", "name": "x"},
                         token_from="/designer/").status_code == 422
    assert designer.post("/designer/decisions/new", {"key": "x", "name": "x"}, csrf=False).status_code == 400


def test_only_designers_edit_and_only_approvers_review(live: LiveApp) -> None:
    office = live.client("office")
    assert office.get("/designer/decisions/assistance_routing/v1").status_code == 403
    assert office.get("/reviews/decisions/assistance_routing/v1").status_code == 403
    anonymous = live.client()
    r = anonymous.get("/designer/decisions/assistance_routing/v1", allow_redirects=False)
    assert r.status_code == 302 and "/login" in r.headers["Location"]
