"""A Camunda start form in Chromium: a process whose start event carries ``camunda:formData`` shows its fields on
the start page; a wrong value is refused with the field's Chinese message and what was typed kept; a right one
starts the instance with the typed values, which the process then holds (issue: the Camunda dialect)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select
from test_runtime_api import KEY, RELIEF
from web_support import LiveApp, live_app

from bench.world import T0
from engine.clock import ManualClock
from engine.loader import SourceFile
from engine.models import Instance


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    path: Path = tmp_path_factory.mktemp("start-form")
    with live_app(f"sqlite:///{path}/web.db", ManualClock(T0)) as app:
        app.service.deploy([SourceFile("relief.bpmn", RELIEF.encode())])
        yield app


def test_a_start_form_is_filled_refused_and_started_in_the_browser(live: LiveApp, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live.url}/login")
    page.fill("#username", "office")
    page.fill("#password", "demo123")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{live.url}/start")
    card = page.locator(f'form:has([data-start-form="{KEY}:start"])')
    expect(card).to_contain_text("申请金额（元）")
    card.get_by_label("申请金额（元）").fill("-5")
    card.get_by_label("事由").fill("水灾受损")
    card.get_by_role("button", name="发起").click()
    refused = page.locator(f'form:has([data-start-form="{KEY}:start"])')
    expect(refused).to_contain_text("申请金额（元）")
    expect(refused.get_by_label("事由")).to_have_value("水灾受损")  # what was typed is kept
    with live.db.sessions() as s:
        assert s.scalars(select(Instance).where(Instance.process_key == KEY)).first() is None
    refused.get_by_label("申请金额（元）").fill("300")
    refused.get_by_role("button", name="发起").click()
    page.wait_for_url(lambda url: "/start" not in url)
    with live.db.sessions() as s:
        started = list(s.scalars(select(Instance).where(Instance.process_key == KEY)))
    assert len(started) == 1
    waiting = [t for t in live.service.workflow(started[0].id).get_tasks() if t.task_spec.name == "await_docs"]
    assert waiting and waiting[0].data["amount"] == 300 and waiting[0].data["reason"] == "水灾受损"
    context.close()
