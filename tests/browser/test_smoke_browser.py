"""Smoke tests of the built front end: the bundles are served, and the viewer draws a real process diagram."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import Page, Route, expect

ROOT = Path(__file__).resolve().parents[2]
DIAGRAM = ROOT / "processes" / "topic_proposal.bpmn"

VIEWER_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/dist/app.css">
  <link rel="stylesheet" href="/static/dist/viewer.css">
  <title>流程图</title>
</head>
<body>
  <main class="container py-3">
    <h1>议题征集</h1>
    <div id="diagram" data-bpmn-viewer data-bpmn-url="/__test__/diagram.bpmn"
         data-active="screen" data-completed="start,merge_propose,propose,Flow_propose_screen"
         data-counts='{"screen": {"active": 2, "completed": 5}, "propose": {"completed": 7}}'></div>
    <p class="mt-3">
      <span class="light-green">正常</span> <span class="light-yellow">临期</span>
      <span class="light-red">超期</span> <span class="light-closed">已办结</span>
    </p>
  </main>
  <script src="/static/dist/app.js"></script>
  <script src="/static/dist/viewer.js"></script>
</body>
</html>
"""


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/static/dist/app.css", "text/css"),
        ("/static/dist/app.js", "javascript"),
        ("/static/dist/viewer.js", "javascript"),
        ("/static/dist/viewer.css", "text/css"),
        ("/static/dist/charts.js", "javascript"),
    ],
)
def test_bundles_are_served(base_url: str, path: str, content_type: str) -> None:
    with urllib.request.urlopen(base_url + path, timeout=10) as resp:
        body = resp.read()
        assert resp.status == 200
        assert content_type in resp.headers["Content-Type"]
    assert len(body) > 1000, f"{path} is only {len(body)} bytes"


def test_manifest_lists_the_bundles(base_url: str) -> None:
    with urllib.request.urlopen(base_url + "/static/dist/manifest.json", timeout=10) as resp:
        manifest = json.load(resp)
    assert {"app.css", "app.js", "viewer.css", "viewer.js", "charts.js"} <= manifest.keys()


def _serve_diagram(page: Page) -> None:
    def fulfill(route: Route) -> None:
        route.fulfill(status=200, content_type="application/xml; charset=utf-8", body=DIAGRAM.read_bytes())

    page.route("**/__test__/diagram.bpmn", fulfill)


def test_viewer_renders_process_state(
    page: Page, base_url: str, console_errors: list[str], results_dir: Path
) -> None:
    _serve_diagram(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(base_url + "/static/dist/manifest.json")  # any same-origin URL, so fetch() is same-origin
    page.set_content(VIEWER_PAGE, wait_until="load")

    container = page.locator("#diagram")
    expect(container).to_have_attribute("data-rendered", "true", timeout=15_000)
    assert container.get_attribute("data-render-error") is None
    assert container.get_attribute("data-missing-elements") is None

    screen = page.locator('g.djs-element[data-element-id="screen"]')
    expect(screen).to_have_class(re.compile(r"\bjm-active\b"))
    expect(page.locator('g.djs-element[data-element-id="propose"]')).to_have_class(
        re.compile(r"\bjm-completed\b")
    )
    expect(page.locator(".djs-overlay-jm-count .jm-count-active")).to_have_text("2")
    # fitted: the whole participant is inside the visible container
    box = page.locator('g.djs-element[data-element-id="Participant_topic_proposal"]').bounding_box()
    frame = container.bounding_box()
    assert box and frame
    assert box["x"] >= frame["x"] - 1 and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1

    page.screenshot(path=str(results_dir / "viewer.png"), full_page=True)
    assert console_errors == []


def test_viewer_reports_a_failed_load(page: Page, base_url: str) -> None:
    page.route("**/__test__/missing.bpmn", lambda route: route.fulfill(status=404, body="not found"))
    page.goto(base_url + "/static/dist/manifest.json")
    page.set_content(VIEWER_PAGE.replace("diagram.bpmn", "missing.bpmn"), wait_until="load")
    container = page.locator("#diagram")
    expect(container).to_have_attribute("data-render-error", "HTTP 404 for /__test__/missing.bpmn")
    expect(container.get_by_role("alert")).to_contain_text("流程图加载失败")


def test_viewer_under_strict_csp(page: Page, base_url: str, console_errors: list[str]) -> None:
    """The bundles need neither inline scripts nor inline style attributes in markup."""
    csp = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
           "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'")
    _serve_diagram(page)
    page.route(
        "**/__test__/viewer.html",
        lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=VIEWER_PAGE,
                                    headers={"Content-Security-Policy": csp}),
    )
    page.goto(base_url + "/__test__/viewer.html")
    expect(page.locator("#diagram")).to_have_attribute("data-rendered", "true", timeout=15_000)
    expect(page.locator('g.djs-element[data-element-id="screen"]')).to_have_class(
        re.compile(r"\bjm-active\b")
    )
    assert console_errors == []


EDITOR_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/static/dist/app.css">
  <title>议定事项</title>
</head>
<body>
  <nav class="navbar navbar-expand-lg navbar-dark jm-topbar">
    <div class="container">
      <a class="navbar-brand" href="#">社会救助联席会议</a>
      <button class="navbar-toggler" type="button" data-bs-toggle="collapse" data-bs-target="#nav"
              aria-controls="nav" aria-expanded="false" aria-label="菜单">
        <span class="navbar-toggler-icon"></span>
      </button>
      <div class="collapse navbar-collapse" id="nav">
        <ul class="navbar-nav"><li class="nav-item"><a class="nav-link active" href="#">待办</a></li>
          <li class="nav-item"><a class="nav-link" href="#">议定事项</a></li></ul>
      </div>
    </div>
  </nav>
  <main class="container">
    <h1>会议议定事项</h1>
    <form method="post" action="/__test__/submit" data-confirm="确定提交议定事项？">
      <table class="table" data-items-editor data-field="items" data-units="#units" data-topics="topics"
             data-initial='[{"content": "落实低保扩面", "lead_unit": "minzheng", "co_units": ["caizheng"],
                             "deadline": "2026-04-30", "topic_id": 3}]'><tbody></tbody></table>
      <button type="submit" class="btn btn-primary">提交</button>
    </form>
    <table class="table table-stack mt-4">
      <thead><tr><th>事项</th><th>牵头单位</th><th>状态</th></tr></thead>
      <tbody><tr><td data-label="事项">落实低保扩面</td><td data-label="牵头单位">区民政局</td>
        <td data-label="状态"><span class="light-red">超期</span></td></tr></tbody>
    </table>
  </main>
  <script type="application/json" id="units">
    [["成员单位", [["minzheng", "区民政局"], ["caizheng", "区财政局"], ["renshe", "区人社局"]]],
     ["镇（街道）", [["xinchengjie", "新城街道"]]]]
  </script>
  <script type="application/json" id="topics">[{"id": 3, "title": "低保扩面"}]</script>
  <script src="/static/dist/app.js"></script>
</body>
</html>
"""


def test_items_editor_confirm_and_narrow_layout(
    page: Page, base_url: str, console_errors: list[str], results_dir: Path
) -> None:
    posted: list[str] = []

    def submit(route: Route) -> None:
        posted.append(route.request.post_data or "")
        route.fulfill(status=200, content_type="text/html; charset=utf-8", body="<p id=done>ok</p>")

    page.route("**/__test__/submit", submit)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base_url + "/static/dist/manifest.json")
    page.set_content(EDITOR_PAGE, wait_until="load")

    rows = page.locator("table[data-items-editor] tr[data-item-row]")
    expect(rows).to_have_count(1)
    page.get_by_role("button", name="添加事项").click()
    expect(rows).to_have_count(2)
    second = rows.nth(1)
    second.locator('[data-item-key="content"]').fill("开展临时救助专项督查")
    second.locator('[data-item-key="lead_unit"]').select_option("renshe")
    second.locator('[data-item-key="co_units"]').select_option(["minzheng", "caizheng"])
    second.locator('[data-item-key="deadline"]').fill("2026-05-15")
    page.get_by_role("button", name="添加事项").click()
    expect(rows).to_have_count(3)
    rows.nth(2).get_by_role("button", name="删除").click()
    expect(rows).to_have_count(2)

    page.screenshot(path=str(results_dir / "items-editor-390.png"), full_page=True)
    # stacked cards at 390 px: nothing wider than the viewport
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.once("dialog", lambda d: d.dismiss())
    page.get_by_role("button", name="提交").click()
    page.wait_for_timeout(200)
    assert posted == []

    page.once("dialog", lambda d: d.accept())
    page.get_by_role("button", name="提交").click()
    expect(page.locator("#done")).to_be_visible()
    items = json.loads(parse_qs(posted[0])["items"][0])
    # Besides a date, a deadline may be a number of 工作日; the co-units' own deadline and 重点事项 are optional.
    rest = {"deadline_workdays": "", "co_deadline": "", "key_item": False}
    assert items == [
        {"content": "落实低保扩面", "lead_unit": "minzheng", "co_units": ["caizheng"], "deadline": "2026-04-30",
         "topic_id": 3, **rest},
        {"content": "开展临时救助专项督查", "lead_unit": "renshe", "co_units": ["minzheng", "caizheng"],
         "deadline": "2026-05-15", "topic_id": None, **rest},
    ]
    assert console_errors == []


CHART_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/dist/app.css"><title>统计</title></head>
<body><main class="container">
  <div id="chart" class="jm-chart" data-echarts="by-unit"></div>
  <script type="application/json" id="by-unit">
    {"xAxis": {"type": "category", "data": ["区民政局", "区财政局"]}, "yAxis": {"type": "value"},
     "series": [{"type": "bar", "data": [5, 3]}]}
  </script>
</main><script src="/static/dist/charts.js"></script></body></html>
"""


def test_charts_render_from_json_block(page: Page, base_url: str, console_errors: list[str]) -> None:
    page.goto(base_url + "/static/dist/manifest.json")
    page.set_content(CHART_PAGE, wait_until="load")
    chart = page.locator("#chart")
    expect(chart).to_have_attribute("data-rendered", "true")
    expect(chart.locator("svg text", has_text="区财政局")).to_have_count(1)
    assert console_errors == []
