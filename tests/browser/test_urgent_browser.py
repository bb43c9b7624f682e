"""The 救急难 diagram opens in the project's modeler: bpmn-js imports it without warnings, draws every flow node and
lane, and the lint panel finds nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
XML = (ROOT / "processes" / "urgent_assistance.bpmn").read_text(encoding="utf-8")
NO_LINT_ERRORS = re.compile(r"没有问题|\b0 个错误")


def test_the_urgent_diagram_opens_in_the_modeler(page: Page, base_url: str, login: Callable[..., None]) -> None:
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if "import warnings" in m.text else None)
    page.on("dialog", lambda d: d.accept() if d.type == "beforeunload" else None)
    login(page, "designer")
    page.goto(f"{base_url}/designer/")
    page.locator('[data-open-latest="urgent_assistance"]').click()
    expect(page.locator("#jm-modeler")).to_have_attribute("data-ready", "true", timeout=20_000)
    expect(page.locator(".bjsl-button")).to_have_text(NO_LINT_ERRORS, timeout=15_000)
    drawn = set(page.evaluate(
        "() => window.JmModeler.current.modeler.get('elementRegistry').getAll().map((e) => e.id)"))
    ids = set(re.findall(r'<bpmn:(?:\w+) id="([^"]+)"', XML.split("<bpmndi:BPMNDiagram")[0]))
    ids -= {i for i in ids if i.startswith(("Definitions_", "LaneSet_", "TimerEventDefinition_", "Collaboration_"))}
    ids.discard("urgent_assistance")  # the process is drawn as its participant
    assert ids - drawn == set()
    assert not warnings, warnings
    if SHOT:
        page.set_viewport_size({"width": 2600, "height": 1400})
        page.evaluate("() => window.JmModeler.current.modeler.get('canvas').zoom('fit-viewport')")
        page.locator("#jm-modeler").screenshot(path=SHOT)


SHOT = ""  # a path here keeps a picture of the diagram while working on it
