"""axe-core over every page of every role: no serious or critical violation (WCAG 2.1 A/AA and axe's best
practices).

The pages come from the URL map, so a new page is swept as soon as it exists: every GET route whose parameters
have a value for the role (its own task, its own item, …) and that answers that role with an HTML page; plus the
inbox tabs, the whole history of a task, the notification filters, a 404 page and the sign-in page. The world is
the monitoring one (bench.world: two meetings, items green to red, 催办 and 督办 sent). Every page is checked at
1366×768 and at 390×844 (``AXE_ALL=1`` adds a co-operating unit and a town). A page is not checked twice when its
main content and its frame (menu, skip link) have the structure (elements, classes, roles, states) of pages
already checked at that width: axe judges structure and styles, not the words.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser
from sqlalchemy import select
from web_support import LiveApp

from bench.world import Scenario
from browser.axe_support import axe_available, describe, violations
from engine.models import HumanTask, ProcessModel
from meeting.models import ResolutionItem, User
from meeting.runtime import actor_for

pytestmark = pytest.mark.skipif(not axe_available(), reason="axe-core is not installed (make install: npm ci)")

DESKTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
# Who signs in: one person of each role the system has (a user missing from the directory is skipped); with
# AXE_ALL=1 also a co-operating unit and a town, whose pages are the unit liaison's with other data.
ROLES = {"anonymous": None, "unit": "caizheng", "office": "office", "convener": "convener", "district": "district",
         "designer": "designer", "admin": "admin", "cc": "chaosong", "sysadmin": "sysadmin",
         "secadmin": "secadmin", "auditor": "auditor"}
if os.environ.get("AXE_ALL") == "1":
    ROLES.update({"co_unit": "minzheng", "town": "laocheng"})
FILE_ROUTE = re.compile(r"\.(bpmn|dmn|docx|xlsx|csv|json|xml)$|/attachments/")


@dataclass
class Sweep:
    live: LiveApp
    scenario: Scenario


@pytest.fixture(scope="module")
def sweep(monitoring_world: tuple[LiveApp, Scenario]) -> Sweep:
    return Sweep(*monitoring_world)


def _params(live: LiveApp, username: str | None) -> dict[str, str]:
    """URL parameter values that mean something to this user: a task and an item of theirs, their unit."""
    params = {"meeting_id": "1", "key": "topic_proposal", "version": "1", "scope_id": "none", "user_id": "1",
              "code": "caizheng", "item_id": "1", "decision": "assistance_routing"}
    with live.db.sessions() as s:
        params["model_id"] = str(s.scalar(select(ProcessModel.id).order_by(ProcessModel.id)) or 1)
        user = s.scalar(select(User).where(User.username == username)) if username else None
        if user is not None and user.unit_code:
            params["code"] = user.unit_code
            item = s.scalar(select(ResolutionItem.id).where(ResolutionItem.lead_unit == user.unit_code))
            if item is not None:
                params["item_id"] = str(item)
        any_task = s.scalar(select(HumanTask).order_by(HumanTask.created_at))
    task = None
    if username:
        actor = actor_for(live.db, username)
        task = next(iter(live.service.tasks_for(actor, "open", limit=1) or live.service.tasks_for(actor, "done", 1)),
                    None)
    task = task or any_task
    if task is not None:
        params["task_id"], params["instance_id"] = task.id, task.instance_id
    return params


def _urls(live: LiveApp, params: dict[str, str]) -> list[str]:
    urls = []
    for rule in live.app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith("/api/"):
            continue
        names = [m.split(":")[-1] for m in re.findall(r"<([^>]+)>", rule.rule)]
        if any(n not in params for n in names):
            continue
        url = re.sub(r"<([^>]+)>", lambda m: params[m.group(1).split(":")[-1]], rule.rule)
        if not FILE_ROUTE.search(url):
            urls.append(url)
    extra = [f"/tasks?tab={tab}" for tab in ("mine", "claimable", "due_soon", "overdue", "done")]
    if "task_id" in params:
        extra.append(f"/tasks/{params['task_id']}?history=all")
    extra += ["/notifications?kind=supervision", "/notifications?unread=1", "/tasks/no-such-task"]
    return sorted(set(urls)) + extra


# What axe judges is the page's structure (elements, their classes, roles, states and styles), not its words:
# a page is checked unless both its main content and its menu have the structure of pages already checked at
# that width (by this role, another role, or at another URL).
CHECKED: set[tuple[str, int, int]] = set()
_KEPT = ("class", "role", "type", "disabled", "hidden", "style", "tabindex", "aria-current", "aria-expanded")
_MAIN = re.compile(r"<main\b.*?</main>", re.S)


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.shapes: set[tuple[str, ...]] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kept = tuple(f"{k}={v}" for k, v in sorted(attrs) if k in _KEPT or k.startswith("aria-label"))
        self.shapes.add((tag, *kept))


def _shape(html: str) -> int:
    parser = _Structure()
    parser.feed(html)
    return hash(frozenset(parser.shapes))


def _structure(html: str) -> tuple[int, int]:
    """(main content, the rest of the page: menu and skip link) as structures."""
    main = _MAIN.search(html)
    return (_shape(main.group(0)) if main else _shape(html),
            _shape(_MAIN.sub("", html)) if main else 0)


def _html_pages(live: LiveApp, username: str | None) -> list[tuple[str, tuple[int, int]]]:
    """The URLs that answer this user with an HTML page (200, or the 404 page on purpose), with their structure."""
    http = live.client(username).http if username else requests.Session()
    pages = []
    for url in _urls(live, _params(live, username)) if username else ["/login"]:
        r = http.get(live.url + url, allow_redirects=False, timeout=30)
        if "text/html" in r.headers.get("Content-Type", "") and (r.status_code == 200 or url.endswith("no-such-task")):
            pages.append((url, _structure(r.text)))
    return pages


def _sign_in(page: Any, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", "demo123")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def _settle(page: Any) -> None:
    """Wait until the diagrams and charts of the page have drawn (or reported their error)."""
    page.wait_for_load_state("load")
    page.wait_for_function("""() => [...document.querySelectorAll('[data-bpmn-viewer], [data-echarts]')]
        .every((el) => el.hasAttribute('data-rendered') || el.hasAttribute('data-render-error')
                       || el.offsetParent === null)""", timeout=15_000)


@pytest.mark.parametrize("role", list(ROLES))
def test_no_serious_violation_on_any_page(role: str, sweep: Sweep, browser: Browser) -> None:
    username = ROLES[role]
    if username:
        with sweep.live.db.sessions() as s:
            if s.scalar(select(User.id).where(User.username == username)) is None:
                pytest.skip(f"no user {username} in this directory")
    pages = _html_pages(sweep.live, username)
    assert pages, f"{role} reaches no page"
    problems: list[str] = []
    for viewport in (DESKTOP, PHONE):
        context = browser.new_context(viewport=viewport, locale="zh-CN", bypass_csp=True)
        page = context.new_page()
        try:
            if username:
                _sign_in(page, sweep.live.url, username)
            for url, structure in pages:
                keys = {("main", structure[0], viewport["width"]), ("frame", structure[1], viewport["width"])}
                if keys <= CHECKED:
                    continue
                CHECKED.update(keys)
                page.goto(sweep.live.url + url)
                _settle(page)
                problems += describe(f"{role} {viewport['width']} {url}", violations(page))
        finally:
            context.close()
    assert not problems, "axe found serious or critical violations:\n" + "\n".join(problems)
