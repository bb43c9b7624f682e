"""The runtime API on a live server: start variables validated against the start form (API, /start page, CLI),
messages that release a waiting receive task and a message boundary event, signals, and deploy warnings in the
API's 201 body."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select
from web_support import LiveApp, live_app

from bench.world import T0
from engine.clock import ManualClock
from engine.loader import SourceFile
from meeting.models import User

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="http://example.org">\n')
RELIEF = HEAD + '''<bpmn:message id="m_docs" name="补充材料" /><bpmn:message id="m_cancel" name="撤回申请" />
<bpmn:signal id="s_policy" name="标准调整" />
<bpmn:process id="relief-apply.v1" name="临时救助申请" isExecutable="true" camunda:candidateStarterGroups="office">
<bpmn:startEvent id="start" name="提出申请"><bpmn:extensionElements><camunda:formData>
<camunda:formField id="amount" label="申请金额（元）" type="long"><camunda:validation>
<camunda:constraint name="required" /><camunda:constraint name="min" config="1" /></camunda:validation></camunda:formField>
<camunda:formField id="reason" label="事由" type="string" />
</camunda:formData></bpmn:extensionElements></bpmn:startEvent>
<bpmn:receiveTask id="await_docs" name="等待补充材料" messageRef="m_docs" />
<bpmn:userTask id="review" name="审核&#10;申请" camunda:candidateGroups="office" />
<bpmn:boundaryEvent id="cancelled" attachedToRef="review"><bpmn:messageEventDefinition messageRef="m_cancel" />
</bpmn:boundaryEvent>
<bpmn:intermediateCatchEvent id="policy" name="等待标准调整"><bpmn:signalEventDefinition signalRef="s_policy" />
</bpmn:intermediateCatchEvent>
<bpmn:endEvent id="done" /><bpmn:endEvent id="withdrawn" />
<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="await_docs" />
<bpmn:sequenceFlow id="f2" sourceRef="await_docs" targetRef="review" />
<bpmn:sequenceFlow id="f3" sourceRef="review" targetRef="policy" />
<bpmn:sequenceFlow id="f4" sourceRef="policy" targetRef="done" />
<bpmn:sequenceFlow id="f5" sourceRef="cancelled" targetRef="withdrawn" />
</bpmn:process></bpmn:definitions>
'''
KEY = "relief-apply.v1"


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveApp]:
    with live_app(f"sqlite:///{tmp_path}/web.db", ManualClock(T0)) as app:
        app.service.deploy([SourceFile("relief.bpmn", RELIEF.encode())])
        yield app


def bearer(live: LiveApp, username: str) -> dict[str, str]:
    from meeting.accounts import create_token

    with live.db.transaction() as s:
        user = s.scalar(select(User).where(User.username == username))
        return {"Authorization": f"Bearer {create_token(s, user, 'test', live.service.now())}"}


def open_tasks(live: LiveApp, instance_id: str) -> list[str]:
    return [t.bpmn_id for t in live.service.instance_tasks(instance_id) if t.state == "READY"]


def test_start_variables_messages_and_signals_through_the_api(live: LiveApp) -> None:
    office, admin = bearer(live, "office"), bearer(live, "admin")
    url = f"{live.url}/api/processes/{KEY}/start"  # an NCName with '-' and '.' works in the URL
    r = requests.post(url, headers=office, json={"variables": {"amount": 0, "colour": "红"}}, timeout=10)
    assert r.status_code == 422 and set(r.json()["errors"]) == {"amount", "colour"}, r.text
    started = []
    for business_key in ("A-1", "A-2"):
        r = requests.post(url, headers=office, json={"variables": {"amount": "800", "reason": "火灾"},
                                                     "business_key": business_key}, timeout=10)
        assert r.status_code == 201, r.text
        started.append(r.json()["instance_id"])
    assert all(open_tasks(live, iid) == [] for iid in started)  # the receive task waits

    messages = f"{live.url}/api/messages"
    r = requests.post(messages, headers=office, json={"name": "补充材料"}, timeout=10)
    assert r.status_code == 409, r.text  # two instances wait: say which
    r = requests.post(messages, headers=office, json={"name": "补充材料", "business_key": "A-1",
                                                      "variables": {"docs": ["户口本"]}}, timeout=10)
    assert r.status_code == 200 and r.json()["instance_id"] == started[0], r.text
    assert open_tasks(live, started[0]) == ["review"]
    r = requests.post(messages, headers=office, json={"name": "撤回申请", "instance_id": started[0]}, timeout=10)
    assert r.status_code == 200 and r.json()["status"] == "completed", r.text  # the boundary event fired
    r = requests.post(messages, headers=office, json={"name": "无此消息"}, timeout=10)
    assert r.status_code == 404

    requests.post(messages, headers=office, json={"name": "补充材料", "business_key": "A-2"}, timeout=10)
    [review] = live.service.instance_tasks(started[1])
    requests.post(f"{live.url}/api/tasks/{review.id}/claim", headers=office, timeout=10)
    assert requests.post(f"{live.url}/api/tasks/{review.id}/complete", headers=office, json={},
                         timeout=10).status_code == 200
    signals = f"{live.url}/api/signals"
    assert requests.post(signals, headers=office, json={"name": "标准调整"}, timeout=10).status_code == 403
    r = requests.post(signals, headers=admin, json={"name": "标准调整", "variables": {"standard": 2026}}, timeout=10)
    assert r.status_code == 200 and r.json()["delivered"] == [started[1]], r.text
    assert live.service.instance(started[1]).status == "completed"
    paths = requests.get(f"{live.url}/api/openapi.json", timeout=10).json()["paths"]
    assert {"/api/messages", "/api/signals"} <= set(paths)


def test_the_start_page_renders_the_start_form_and_keeps_what_was_entered(live: LiveApp) -> None:
    b = live.client("office")
    page = b.get("/start").text
    assert 'data-start-form="relief-apply.v1:start"' in page and "申请金额（元）" in page
    r = b.post("/start", {"process_key": KEY, "start_event": "start", "amount": "-5", "reason": "水灾"},
               token_from="/start")
    assert r.status_code == 422 and "申请金额（元）" in r.text and 'value="水灾"' in r.text
    r = b.post("/start", {"process_key": KEY, "start_event": "start", "amount": "300", "reason": "水灾"},
               token_from="/start")
    assert r.status_code == 302, r.text[:300]


def test_the_cli_starts_with_the_start_form_and_prints_one_line_per_record(live: LiveApp) -> None:
    cli = live.app.test_cli_runner()
    bad = cli.invoke(args=["start", KEY, "--as", "office", "--var", "amount=0"])
    assert bad.exit_code == 1 and "amount:" in bad.output
    good = cli.invoke(args=["start", KEY, "--as", "office", "--var", "amount=200", "--var", "reason=火灾"])
    assert good.exit_code == 0, good.output
    assert re.fullmatch(r"started [0-9a-f]{32} running\n", good.output), good.output
    sent = cli.invoke(args=["message", "补充材料", "--as", "office"])
    assert sent.exit_code == 0, sent.output
    delivered, task = sent.output.splitlines()  # the task's name holds a line break: still one line
    assert delivered.startswith("delivered ") and task.endswith(" 审核\\n申请"), sent.output


def test_deploy_warnings_are_in_the_apis_201_body(live: LiveApp) -> None:
    xml = RELIEF.replace(f'id="{KEY}"', 'id="relief_b"').replace(
        'camunda:candidateGroups="office" />', 'camunda:candidateGroups="office,no_such_group" '
                                               'camunda:assignee="nobody_here" />')
    r = requests.post(f"{live.url}/api/models", headers={**bearer(live, "admin"), "Content-Type": "application/xml"},
                      data=xml.encode(), timeout=10)
    assert r.status_code in (200, 201), r.text
    warnings = [w["message"] for w in r.json()["warnings"]]
    assert any("nobody_here" in w for w in warnings) and any("no_such_group" in w for w in warnings), warnings
