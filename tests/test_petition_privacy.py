"""The petitioner's name and phone are sensitive form fields (processes/README.md): started through the service
layer (the demo's walkthrough) and through the HTTP API, they are kept on the PetitionReferral record only — never
in a wf_audit row, the stored instance state, a notification, the API's task view or the task and instance pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from web_support import LiveApp, live_app

from engine.clock import ManualClock
from engine.models import AuditEvent, HumanTask, Instance
from meeting import demo_matters
from meeting.demo import DEMO_START, Walkthrough
from meeting.models import Notification, PetitionReferral

DEMO_NAME, DEMO_PHONE = "张三丰", "13812345678"  # meeting/demo_matters.py starts this one through the service
HTTP_NAME, HTTP_PHONE = "欧阳锋", "13987654321"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    clock = ManualClock(DEMO_START)
    path = tmp_path_factory.mktemp("privacy")
    with live_app(f"sqlite:///{path}/privacy.db", clock) as app:
        demo_matters.run(Walkthrough(app.db, app.service, clock))
        yield app


def _stored_text(live: LiveApp, instance_id: str) -> str:
    """Every audit row, every notification and the instance's serialized state, as one text."""
    with live.db.sessions() as s:
        audit = [repr((e.data, e.comment, e.task_name)) for e in s.scalars(select(AuditEvent))]
        notes = [f"{n.title} {n.body}" for n in s.scalars(select(Notification))]
        state = s.scalar(select(Instance.state).where(Instance.id == instance_id)) or ""
    return "\n".join([*audit, *notes, state])


def _petition(live: LiveApp, number: str) -> PetitionReferral:
    with live.db.sessions() as s:
        petition = s.scalars(select(PetitionReferral).where(PetitionReferral.number == number)).one()
        s.expunge(petition)
        return petition


def test_started_through_the_service_the_contact_is_only_on_the_record(live: LiveApp) -> None:
    petition = _petition(live, "XF2026-0601")
    assert (petition.petitioner_name, petition.petitioner_phone) == (DEMO_NAME, DEMO_PHONE)
    assert petition.instance_id is not None
    stored = _stored_text(live, petition.instance_id)
    assert DEMO_NAME not in stored and DEMO_PHONE not in stored
    with live.db.sessions() as s:
        start = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == petition.instance_id,
                                                   AuditEvent.action == "start")).one()
    assert start.data["data"]["petitioner_phone"] == "（已脱敏）"
    assert start.data["data"]["petitioner_name"] == "（已脱敏）"
    assert start.data["data"]["petition_number"] == "XF2026-0601"  # the rest is audited as submitted


def test_started_through_http_the_contact_reaches_the_record_and_nothing_else(live: LiveApp) -> None:
    xinfang = live.client("xinfang")
    form = xinfang.get("/start").text  # the start form says where the contact goes, and the browser keeps none
    assert 'id="sensitive-petitioner_phone"' in form and 'id="sensitive-petitioner_name"' in form
    assert 'id="sensitive-petition_number"' not in form and 'autocomplete="off"' in form
    fields = {"petition_number": "XF2026-0777", "petition_title": "临时救助未到位", "petition_content": "反映临时救助未发放。",
              "petitioner_name": HTTP_NAME, "petitioner_phone": HTTP_PHONE, "petition_received_on": "2026-01-05"}
    started = xinfang.http.post(f"{live.url}/api/processes/petition_referral/start", json={"variables": fields},
                                headers={"X-CSRFToken": xinfang.last_token}, timeout=30)
    assert started.status_code == 201, started.text
    assert HTTP_PHONE not in started.text and HTTP_NAME not in started.text
    instance_id = started.json()["instance_id"]
    petition = _petition(live, "XF2026-0777")
    assert (petition.petitioner_name, petition.petitioner_phone) == (HTTP_NAME, HTTP_PHONE)
    stored = _stored_text(live, instance_id)
    assert HTTP_NAME not in stored and HTTP_PHONE not in stored
    with live.db.sessions() as s:
        task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                       HumanTask.bpmn_id == "assign_petition")).one()
    office = live.client("office")
    for path in (f"/api/tasks/{task_id}", f"/tasks/{task_id}", f"/instances/{instance_id}", "/api/tasks?view=open"):
        page = office.get(path)
        assert page.status_code == 200, path
        assert HTTP_PHONE not in page.text and HTTP_NAME not in page.text, path
    page = office.get(f"/tasks/{task_id}").text  # the task shows the contact masked, from the record
    assert "139****4321" in page and "欧**" in page
