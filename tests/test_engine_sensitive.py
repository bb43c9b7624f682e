"""Sensitive form fields (engine/sensitive.py): the actions of the command that submits one read it, the audit
log holds a mask, and no task data of the saved instance (nor the stored state) keeps it — on a start form and
on a user task's form, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.actions import ActionContext, ActionRegistry
from engine.clock import ManualClock
from engine.db import Database
from engine.errors import FormError
from engine.forms import FormSpec, form_from_xml
from engine.loader import SourceFile
from engine.models import AuditEvent, Instance
from engine.sensitive import MASK, masked
from engine.service import Actor, WorkflowService

OFFICE = Actor("office", frozenset({"office"}))
PHONE, ID_CARD = "13912345678", "610902199001011234"
SENSITIVE = '<camunda:properties><camunda:property id="sensitive" value="true" /></camunda:properties>'

XML = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
 id="defs" targetNamespace="http://example.org">
<bpmn:process id="p" name="受理" isExecutable="true" camunda:candidateStarterGroups="office">
<bpmn:startEvent id="s"><bpmn:extensionElements><camunda:formData>
<camunda:formField id="applicant" label="申请人" type="string" />
<camunda:formField id="phone" label="联系电话" type="string">{SENSITIVE}
<camunda:validation><camunda:constraint name="required" /><camunda:constraint name="maxlength" config="11" />
</camunda:validation></camunda:formField>
</camunda:formData></bpmn:extensionElements></bpmn:startEvent>
<bpmn:serviceTask id="keep" name="登记" camunda:type="external" camunda:topic="test.keep" />
<bpmn:userTask id="check" name="核对" camunda:candidateGroups="office"><bpmn:extensionElements>
<camunda:properties><camunda:property name="onComplete" value="test.keep" /></camunda:properties>
<camunda:formData><camunda:formField id="id_card" label="身份证号" type="string">{SENSITIVE}</camunda:formField>
<camunda:formField id="note" label="说明" type="string" /></camunda:formData>
</bpmn:extensionElements></bpmn:userTask>
<bpmn:userTask id="after" name="复核" camunda:candidateGroups="office" />
<bpmn:endEvent id="e" />
<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="keep" /><bpmn:sequenceFlow id="f2" sourceRef="keep" targetRef="check" />
<bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="after" /><bpmn:sequenceFlow id="f4" sourceRef="after" targetRef="e" />
</bpmn:process></bpmn:definitions>
"""


class Kept:
    """What the domain's action saw: the sensitive values, as a record would store them."""

    def __init__(self) -> None:
        self.registry = ActionRegistry()
        self.seen: list[dict[str, Any]] = []

        @self.registry.action("test.keep", title="登记")
        def keep(ctx: ActionContext) -> dict[str, Any]:
            self.seen.append({k: ctx.data.get(k) for k in ("applicant", "phone", "id_card", "note")})
            return {"record_id": len(self.seen)}


@pytest.fixture
def kept() -> Kept:
    return Kept()


@pytest.fixture
def svc(database: Database, kept: Kept, clock: ManualClock) -> WorkflowService:
    service = WorkflowService(database, kept.registry, clock=clock)
    service.deploy([SourceFile("p.bpmn", XML.encode())], OFFICE)
    return service


def _stored(svc: WorkflowService, iid: str) -> tuple[str, str]:
    with svc.db.sessions() as s:
        state = s.scalar(select(Instance.state).where(Instance.id == iid)) or ""
        audit = " ".join(repr(e.data) for e in s.scalars(select(AuditEvent).where(AuditEvent.instance_id == iid)))
    return state, audit


def test_a_sensitive_start_field_reaches_the_action_but_not_the_audit_or_the_state(svc: WorkflowService,
                                                                                   kept: Kept) -> None:
    [entry] = svc.startable(OFFICE)
    assert [f["properties"].get("sensitive") for f in entry["form"]] == [None, "true"]
    iid = svc.start("p", OFFICE, form_values={"applicant": "李四", "phone": PHONE}).instance_id
    assert kept.seen == [{"applicant": "李四", "phone": PHONE, "id_card": None, "note": None}]
    state, audit = _stored(svc, iid)
    assert PHONE not in state and '"phone"' not in state and "李四" in state  # only the sensitive field goes
    assert PHONE not in audit and MASK in audit
    [check] = [t for t in svc.instance_tasks(iid) if t.state == "READY"]
    data = svc.task_data(check.id, OFFICE)
    assert "phone" not in data and data["record_id"] == 1
    assert PHONE not in repr(check.context)


def test_a_sensitive_task_field_reaches_on_complete_but_is_never_stored(svc: WorkflowService, kept: Kept) -> None:
    iid = svc.start("p", OFFICE, form_values={"phone": PHONE}).instance_id
    [check] = [t for t in svc.instance_tasks(iid) if t.state == "READY"]
    svc.complete(check.id, OFFICE, {"id_card": ID_CARD, "note": "已核对"})
    assert kept.seen[-1]["id_card"] == ID_CARD and kept.seen[-1]["note"] == "已核对"
    state, audit = _stored(svc, iid)
    assert ID_CARD not in state and '"id_card"' not in state and "已核对" in state
    assert ID_CARD not in audit and audit.count(MASK) == 2 and "已核对" in audit
    [after] = [t for t in svc.instance_tasks(iid) if t.state == "READY"]
    assert "id_card" not in svc.task_data(after.id, OFFICE)


def test_a_sensitive_field_is_still_validated(svc: WorkflowService, kept: Kept) -> None:
    with pytest.raises(FormError) as info:
        svc.start("p", OFFICE, form_values={"phone": "139123456789"})
    assert "phone" in info.value.errors and kept.seen == []


def test_mask_only_replaces_given_values_and_start_forms_read_the_property() -> None:
    assert masked({"phone": PHONE, "id_card": "", "note": "x"}, frozenset({"phone", "id_card"})) == {
        "phone": MASK, "id_card": "", "note": "x"}
    from lxml import etree
    el = etree.fromstring(
        '<bpmn:startEvent xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="s"><bpmn:extensionElements><camunda:formData>'
        '<camunda:formField id="a" type="string"><camunda:properties><camunda:property name="sensitive" '
        'value="TRUE" /></camunda:properties></camunda:formField><camunda:formField id="b" type="string" />'
        '</camunda:formData></bpmn:extensionElements></bpmn:startEvent>')
    form: FormSpec = form_from_xml(el)
    assert form.sensitive_ids() == frozenset({"a"})
