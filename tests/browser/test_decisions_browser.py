"""A designer opens the shipped routing rule 协同办理分派规则 in the dmn-js decision-table editor, sends 教育救助 to
区人社局 instead of 区教体局, and deploys; the change waits for 发布审批, and once an approver has published it the
engine's evaluation routes 教育救助 to ``renshe`` (while a caller pinned to the old version still gets ``jiaoti``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from engine.db import Database
from meeting.runtime import build_service

EDITOR = "#jm-decision"
CELL = '[data-element-id="OutputEntry_04_department"]'
CELL_TEXT = """async () => {
  const { xml } = await window.JmDecisions.current.modeler.saveXML();
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const entry = [...doc.getElementsByTagName('outputEntry')].find((e) => e.getAttribute('id') === 'OutputEntry_04_department');
  return entry ? entry.textContent.trim() : null;
}"""


def evaluate(database_url: str, version: int | None = None) -> tuple[int, list[dict[str, object]]]:
    db = Database(database_url)
    try:
        result = build_service(db).decisions.evaluate("assistance_routing", {"aid_type": "教育救助"}, version)
        return result.version, result.rows
    finally:
        db.dispose()


def test_a_designer_changes_a_cell_and_the_published_version_routes_anew(
    page: Page, browser: Browser, base_url: str, served_app, login: Callable[..., None],  # type: ignore[no-untyped-def]
    console_errors: list[str], results_dir: Path,
) -> None:
    before, rows = evaluate(served_app.database_url)
    assert rows == [{"department": "jiaoti", "limit_days": 10}]

    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, "designer")
    page.goto(f"{base_url}/designer/")
    page.locator('[data-open-decision="assistance_routing"]').click()
    expect(page.locator(EDITOR)).to_have_attribute("data-ready", "true", timeout=20_000)
    expect(page.locator(CELL)).to_contain_text("jiaoti")

    page.locator(CELL).click()
    page.keyboard.press("Control+A")
    page.keyboard.type('"renshe"')
    page.wait_for_function(f"async () => (await ({CELL_TEXT})()) === '\"renshe\"'", timeout=10_000)
    page.screenshot(path=str(results_dir / "decision-edited.png"), full_page=True)

    page.once("dialog", lambda d: d.accept())
    page.locator('[data-jm-action="deploy"]').click()
    expect(page.locator(f"{EDITOR}[data-result]")).to_have_attribute("data-result", "submitted", timeout=20_000)
    version = int(page.locator(EDITOR).get_attribute("data-deployed-version") or "0")
    assert version == before + 1
    assert evaluate(served_app.database_url)[1][0]["department"] == "jiaoti"  # pending: not used yet

    approver = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    try:
        review = approver.new_page()
        login(review, "approver")
        review.goto(f"{base_url}/reviews/")
        review.locator(f'#pending-decisions tr[data-decision="assistance_routing"][data-version="{version}"] a').click()
        expect(review.locator('tr[data-rule="Rule_04"]')).to_have_attribute("data-change", "changed")
        review.locator("#publish").click()
        review.wait_for_url(re.compile(r"/reviews/$"))
        expect(review.locator(".alert-success")).to_contain_text(f"第 {version} 版")
    finally:
        approver.close()

    assert evaluate(served_app.database_url) == (version, [{"department": "renshe", "limit_days": 10}])
    assert evaluate(served_app.database_url, before)[1] == [{"department": "jiaoti", "limit_days": 10}]
    assert console_errors == []


def test_a_bad_cell_is_reported_in_chinese_on_its_cell_and_nothing_is_deployed(
    page: Page, base_url: str, served_app, login: Callable[..., None],  # type: ignore[no-untyped-def]
    console_errors: list[str],
) -> None:
    versions_before = len(_versions(served_app.database_url))
    login(page, "designer")
    page.goto(f"{base_url}/designer/")
    page.locator('[data-open-decision="assistance_routing"]').click()
    expect(page.locator(EDITOR)).to_have_attribute("data-ready", "true", timeout=20_000)
    cell = '[data-element-id="OutputEntry_05_limit_days"]'
    page.locator(cell).click()
    page.keyboard.press("Control+A")
    page.keyboard.type("__import__('os')")
    page.wait_for_function("""async () => (await window.JmDecisions.current.modeler.saveXML()).xml
        .includes("__import__")""", timeout=10_000)

    page.locator('[data-jm-action="check"]').click()
    expect(page.locator(EDITOR)).to_have_attribute("data-result", "checked", timeout=20_000)
    problem = page.locator('.jm-problem-item[data-element="OutputEntry_05_limit_days"]')
    expect(problem).to_contain_text("不允许")
    expect(problem.locator(".jm-problem-where")).to_contain_text("OutputEntry_05_limit_days")
    expect(page.locator(f"{cell}.jm-problem-cell")).to_have_count(1)

    page.once("dialog", lambda d: d.accept())
    page.locator('[data-jm-action="deploy"]').click()
    expect(page.locator(EDITOR)).to_have_attribute("data-result", "refused", timeout=20_000)
    expect(page.locator("[data-jm-status]")).to_contain_text("未部署")
    assert len(_versions(served_app.database_url)) == versions_before
    assert [e for e in console_errors if not e.startswith("HTTP 422: ")] == []  # the refused deploy answers 422


def _versions(database_url: str) -> list[object]:
    db = Database(database_url)
    try:
        return list(build_service(db).decisions.versions("assistance_routing"))
    finally:
        db.dispose()
