"""Camunda 7's dialect: what the loader accepts runs as Camunda runs it, what it refuses says why and where.

Flows without ids, link events, receive tasks and message events that wait, task and manual task passing
through, data associations ignored as Camunda ignores them, the legacy activiti namespace, start forms, messages
and signals through the service, and the clean edges (collections, messages without Python text, one line per
problem)."""

from __future__ import annotations

from typing import Any

import pytest

from engine.actions import ActionRegistry
from engine.clock import ManualClock
from engine.db import Database
from engine.errors import DeployError, EngineError, Forbidden, FormError, NotFound, Problem
from engine.loader import SourceFile
from engine.service import Actor, WorkflowService

ADMIN = Actor("admin", frozenset({"admin"}))
OFFICE = Actor("office", frozenset({"office"}))
CLERK = Actor("clerk", frozenset({"unit:caizheng"}), "caizheng")

HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
        'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:activiti="http://activiti.org/bpmn" '
        'id="defs" targetNamespace="http://example.org">\n')


def process(body: str, before: str = "", key: str = "p", starters: str = "office") -> str:
    return (HEAD + before + f'<bpmn:process id="{key}" isExecutable="true" camunda:candidateStarterGroups="{starters}">'
            + body + "</bpmn:process>\n</bpmn:definitions>\n")


def flows(*pairs: str) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f{i}" sourceRef="{a}" targetRef="{b}" />'
                   for i, (a, b) in enumerate((p.split(">") for p in pairs), start=1))


USER = '<bpmn:userTask id="{id}" name="{name}" camunda:candidateGroups="office" />'


@pytest.fixture
def svc(sqlite_db: Database, clock: ManualClock) -> WorkflowService:
    return WorkflowService(sqlite_db, ActionRegistry(), clock=clock)


def deploy(svc: WorkflowService, xml: str, name: str = "p.bpmn") -> Any:
    return svc.deploy([SourceFile(name, xml.encode())])


def refusals(svc: WorkflowService, xml: str) -> list[Problem]:
    with pytest.raises(DeployError) as info:
        deploy(svc, xml)
    return info.value.problems


def open_tasks(svc: WorkflowService, instance_id: str) -> list[str]:
    return [t.bpmn_id for t in svc.instance_tasks(instance_id) if t.state == "READY"]


# ---------------------------------------------------------------- runs as Camunda runs it

def test_flows_without_ids_get_generated_ids_and_are_followed(svc: WorkflowService) -> None:
    deploy(svc, process('<bpmn:startEvent id="s" />' + USER.format(id="t", name="审核") + '<bpmn:endEvent id="e" />'
                        '<bpmn:sequenceFlow sourceRef="s" targetRef="t" /><bpmn:sequenceFlow sourceRef="t" targetRef="e" />'))
    iid = svc.start("p", OFFICE).instance_id
    assert open_tasks(svc, iid) == ["t"]  # not "completed at its start event"


def test_a_link_throw_continues_at_the_catch_of_the_same_name(svc: WorkflowService) -> None:
    deploy(svc, process(
        '<bpmn:startEvent id="s" /><bpmn:intermediateThrowEvent id="go"><bpmn:linkEventDefinition name="到审核" />'
        '</bpmn:intermediateThrowEvent><bpmn:intermediateCatchEvent id="arrive"><bpmn:linkEventDefinition '
        'name="到审核" /></bpmn:intermediateCatchEvent>' + USER.format(id="review", name="审核")
        + '<bpmn:endEvent id="e" />' + flows("s>go", "arrive>review", "review>e")))
    iid = svc.start("p", OFFICE).instance_id
    assert open_tasks(svc, iid) == ["review"]
    task = svc.instance_tasks(iid)[0]
    assert svc.complete(task.id, OFFICE, {}).status == "completed"


def test_task_and_manual_task_pass_straight_through(svc: WorkflowService) -> None:
    deploy(svc, process('<bpmn:startEvent id="s" /><bpmn:task id="note" name="记录" /><bpmn:manualTask id="call" '
                        'name="电话通知" />' + USER.format(id="t", name="审核") + '<bpmn:endEvent id="e" />'
                        + flows("s>note", "note>call", "call>t", "t>e")))
    iid = svc.start("p", OFFICE).instance_id
    assert open_tasks(svc, iid) == ["t"]  # no human task for the task or the manual task


def test_data_objects_are_ignored_as_camunda_ignores_them_with_a_warning(svc: WorkflowService) -> None:
    [result] = deploy(svc, process(
        '<bpmn:startEvent id="s" /><bpmn:userTask id="t" name="填写" camunda:candidateGroups="office">'
        '<bpmn:dataOutputAssociation id="out"><bpmn:targetRef>doc_ref</bpmn:targetRef></bpmn:dataOutputAssociation>'
        '</bpmn:userTask><bpmn:dataObjectReference id="doc_ref" dataObjectRef="doc" /><bpmn:dataObject id="doc" />'
        '<bpmn:endEvent id="e" />' + flows("s>t", "t>e")))
    assert result.warnings and all("Camunda 7 不执行数据对象" in w.message for w in result.warnings)
    iid = svc.start("p", OFFICE).instance_id
    task = svc.instance_tasks(iid)[0]
    assert svc.complete(task.id, OFFICE, {}).status == "completed"  # never stuck on the data object


RECEIVE = process('<bpmn:startEvent id="s" /><bpmn:receiveTask id="wait" name="等待回执" messageRef="m" />'
                  + USER.format(id="t", name="处理") + '<bpmn:endEvent id="e" />' + flows("s>wait", "wait>t", "t>e"),
                  before='<bpmn:message id="m" name="回执" />')


def test_a_receive_task_waits_for_its_message(database: Database, clock: ManualClock) -> None:
    svc = WorkflowService(database, ActionRegistry(), clock=clock)
    deploy(svc, RECEIVE)
    iid = svc.start("p", OFFICE, business_key="B-1").instance_id
    assert svc.instance(iid).status == "running" and open_tasks(svc, iid) == []
    result = svc.send_message("回执", OFFICE, {"receipt_no": "R-9"}, business_key="B-1")
    assert result.instance_id == iid and open_tasks(svc, iid) == ["t"]
    task = svc.instance_tasks(iid)[0]
    assert svc.task_data(task.id, OFFICE)["receipt_no"] == "R-9"  # a process variable, as in Camunda
    with pytest.raises(NotFound):
        svc.send_message("回执", OFFICE, {}, business_key="B-1")  # nobody waits any more


def test_a_message_boundary_event_interrupts_the_task(database: Database, clock: ManualClock) -> None:
    svc = WorkflowService(database, ActionRegistry(), clock=clock)
    deploy(svc, process(
        '<bpmn:startEvent id="s" />' + USER.format(id="t", name="审核")
        + '<bpmn:boundaryEvent id="withdrawn" attachedToRef="t"><bpmn:messageEventDefinition messageRef="m" />'
        '</bpmn:boundaryEvent>' + USER.format(id="archive", name="归档") + '<bpmn:endEvent id="e" />'
        '<bpmn:endEvent id="e2" />' + flows("s>t", "t>e", "withdrawn>archive", "archive>e2"),
        before='<bpmn:message id="m" name="撤回" />'))
    first = svc.start("p", OFFICE).instance_id
    second = svc.start("p", OFFICE).instance_id
    with pytest.raises(EngineError) as info:
        svc.send_message("撤回", OFFICE, {})
    assert info.value.status == 409  # two instances wait: say which
    svc.send_message("撤回", OFFICE, {"reason": "重复申报"}, instance_id=second)
    assert open_tasks(svc, second) == ["archive"] and open_tasks(svc, first) == ["t"]


def test_who_may_deliver_a_message_to_a_running_instance(svc: WorkflowService) -> None:
    deploy(svc, RECEIVE)
    svc.start("p", OFFICE)
    with pytest.raises(Forbidden):
        svc.send_message("回执", CLERK, {})
    svc.start("p", OFFICE)
    with pytest.raises(Forbidden):  # refused before being told that two instances wait
        svc.send_message("回执", CLERK, {})
    svc.send_message("回执", ADMIN, {}, instance_id=svc.start("p", OFFICE).instance_id)  # a manager may


def test_message_variables_are_checked(svc: WorkflowService) -> None:
    deploy(svc, RECEIVE)
    svc.start("p", OFFICE)
    for bad in ({"initiator": "x"}, {"1x": 1}, {"a": "\x00"}, ["a"]):
        with pytest.raises(FormError):
            svc.send_message("回执", OFFICE, bad)  # type: ignore[arg-type]


def test_signals_reach_every_waiting_instance_and_start_signal_processes(svc: WorkflowService) -> None:
    signal = '<bpmn:signal id="sig" name="政策调整" />'
    deploy(svc, process('<bpmn:startEvent id="s" /><bpmn:intermediateCatchEvent id="w"><bpmn:signalEventDefinition '
                        'signalRef="sig" /></bpmn:intermediateCatchEvent>' + USER.format(id="t", name="复核")
                        + '<bpmn:endEvent id="e" />' + flows("s>w", "w>t", "t>e"), before=signal))
    deploy(svc, process('<bpmn:startEvent id="s"><bpmn:signalEventDefinition signalRef="sig" /></bpmn:startEvent>'
                        + USER.format(id="t", name="通知") + '<bpmn:endEvent id="e" />' + flows("s>t", "t>e"),
                        before=signal, key="q"), "q.bpmn")
    waiting = [svc.start("p", OFFICE).instance_id for _ in range(2)]
    assert [e["process_key"] for e in svc.startable(ADMIN)] == ["p"]  # a signal start is not started by hand
    with pytest.raises(Forbidden):
        svc.send_signal("政策调整", OFFICE, {})
    result = svc.send_signal("政策调整", ADMIN, {"policy": "2026-1"})
    assert sorted(result.delivered) == sorted(waiting) and len(result.started) == 1
    assert all(open_tasks(svc, iid) == ["t"] for iid in waiting + result.started)
    with pytest.raises(NotFound):
        svc.send_signal("无人等待", ADMIN, {})


# ---------------------------------------------------------------- start forms

START_FORM = process(
    '<bpmn:startEvent id="s" camunda:initiator="applicant"><bpmn:extensionElements><camunda:formData>'
    '<camunda:formField id="amount" label="申请金额" type="long"><camunda:validation>'
    '<camunda:constraint name="required" /><camunda:constraint name="min" config="1" /></camunda:validation>'
    '</camunda:formField><camunda:formField id="kind" label="类别" type="enum"><camunda:value id="medical" '
    'name="医疗" /><camunda:value id="housing" name="住房" /></camunda:formField></camunda:formData>'
    '</bpmn:extensionElements></bpmn:startEvent><bpmn:exclusiveGateway id="g" default="small" />'
    + USER.format(id="big", name="领导审批") + USER.format(id="normal", name="科室审核") + '<bpmn:endEvent id="e" />'
    '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="g" /><bpmn:sequenceFlow id="large" sourceRef="g" '
    'targetRef="big"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${amount &gt;= 1000 &amp;&amp; '
    "kind == 'medical'}</bpmn:conditionExpression></bpmn:sequenceFlow><bpmn:sequenceFlow id=\"small\" "
    'sourceRef="g" targetRef="normal" /><bpmn:sequenceFlow id="f4" sourceRef="big" targetRef="e" />'
    '<bpmn:sequenceFlow id="f5" sourceRef="normal" targetRef="e" />')


def test_start_variables_are_validated_against_the_start_form(svc: WorkflowService) -> None:
    deploy(svc, START_FORM)
    [entry] = svc.startable(OFFICE)
    assert [f["id"] for f in entry["form"]] == ["amount", "kind"]
    with pytest.raises(FormError) as info:
        svc.start("p", OFFICE, form_values={"amount": "0", "kind": "food", "extra": 1})
    assert set(info.value.errors) == {"amount", "kind", "extra"}
    with pytest.raises(FormError) as info:
        svc.start("p", OFFICE, form_values={})
    assert "申请金额" in info.value.errors["amount"]
    iid = svc.start("p", OFFICE, form_values={"amount": "1500", "kind": "medical"}).instance_id
    assert open_tasks(svc, iid) == ["big"]
    task = svc.instance_tasks(iid)[0]
    data = svc.task_data(task.id, OFFICE)
    assert (data["amount"], data["applicant"]) == (1500, "office")  # typed; camunda:initiator honoured
    assert open_tasks(svc, svc.start("p", OFFICE, form_values={"amount": 20}).instance_id) == ["normal"]


def test_a_process_without_a_start_form_refuses_variables(svc: WorkflowService) -> None:
    deploy(svc, RECEIVE)
    with pytest.raises(FormError) as info:
        svc.start("p", OFFICE, form_values={"x": 1})
    assert "没有开始表单" in info.value.errors["x"]


# ---------------------------------------------------------------- the legacy namespace

def test_the_activiti_namespace_is_read_as_camundas(svc: WorkflowService) -> None:
    deploy(svc, process('<bpmn:startEvent id="s" />'
                        '<bpmn:userTask id="t" name="审核" activiti:candidateGroups="office" />'
                        '<bpmn:endEvent id="e" />' + flows("s>t", "t>e")).replace(
        'camunda:candidateStarterGroups', 'activiti:candidateStarterGroups'))
    iid = svc.start("p", OFFICE).instance_id
    assert svc.instance_tasks(iid)[0].candidate_groups == ["office"]


def test_every_rule_checks_the_activiti_namespace(svc: WorkflowService) -> None:
    problems = refusals(svc, process(
        '<bpmn:startEvent id="s" /><bpmn:userTask id="t" name="审核" activiti:candidateGroups="office">'
        '<bpmn:extensionElements><activiti:taskListener event="create" class="a.B" /><activiti:formProperty '
        'id="x" /></bpmn:extensionElements></bpmn:userTask><bpmn:serviceTask id="svc" activiti:class="a.B" />'
        '<bpmn:endEvent id="e" />' + flows("s>t", "t>svc", "svc>e")))
    messages = " ".join(p.message for p in problems)
    assert "任务监听器" in messages and "formProperty" in messages and "camunda:class" in messages


# ---------------------------------------------------------------- refusals that say why

@pytest.mark.parametrize(("body", "before", "expected"), [
    pytest.param('<bpmn:receiveTask id="r" name="等回执" />', "", "没有引用消息", id="receive-without-message"),
    pytest.param('<bpmn:intermediateThrowEvent id="l"><bpmn:linkEventDefinition name="甲" />'
                 "</bpmn:intermediateThrowEvent>", "", "没有同名的链接捕获事件", id="link-without-catch"),
    pytest.param('<bpmn:intermediateCatchEvent id="w"><bpmn:timerEventDefinition><bpmn:timeCycle>0 0 9 ? * MON-FRI'
                 "</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>", "",
                 "不支持 cron", id="cron"),
    pytest.param('<bpmn:userTask id="u" camunda:candidateGroups="office"><bpmn:multiInstanceLoopCharacteristics '
                 'camunda:collection="units" camunda:elementVariable="unit"><bpmn:completionCondition>'
                 "${nrOfCompletedInstances == 2}</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>"
                 "</bpmn:userTask>", "", "nrOfCompletedInstances", id="mi-builtins"),
    pytest.param('<bpmn:userTask id="u" camunda:candidateGroups="office" camunda:formKey="embedded:app:x.html" />',
                 "", "camunda:formKey", id="form-key"),
    pytest.param('<bpmn:intermediateThrowEvent id="sig"><bpmn:signalEventDefinition signalRef="x" />'
                 "</bpmn:intermediateThrowEvent>", '<bpmn:signal id="x" name="x" />', "信号抛出", id="signal-throw"),
    pytest.param('<bpmn:userTask id="u" camunda:candidateGroups="office" /><bpmn:boundaryEvent id="b" '
                 'attachedToRef="u"><bpmn:compensateEventDefinition /></bpmn:boundaryEvent>', "", "补偿",
                 id="compensation"),
])
def test_what_cannot_run_as_in_camunda_is_refused_with_a_located_chinese_message(
        svc: WorkflowService, body: str, before: str, expected: str) -> None:
    xml = process('<bpmn:startEvent id="s" />' + body + '<bpmn:endEvent id="e" />'
                  '<bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="e" />', before=before)
    problems = refusals(svc, xml)
    assert any(expected in p.message and p.element and p.line for p in problems), problems
    assert not any("Error" in p.message or "Exception" in p.message for p in problems)


def test_juel_conditions_as_camunda_users_write_them_deploy_and_decide(svc: WorkflowService) -> None:
    deploy(svc, START_FORM.replace("${amount &gt;= 1000 &amp;&amp; kind == 'medical'}",
                                   "#{amount ge 1000 and !(kind eq 'housing') and not empty kind}"))
    assert open_tasks(svc, svc.start("p", OFFICE, form_values={"amount": 5000, "kind": "medical"}).instance_id) \
        == ["big"]
    assert open_tasks(svc, svc.start("p", OFFICE, form_values={"amount": 5000, "kind": "housing"}).instance_id) \
        == ["normal"]


# ---------------------------------------------------------------- clean edges

def test_a_missing_or_non_list_collection_is_a_400_naming_element_and_variable(svc: WorkflowService) -> None:
    deploy(svc, process('<bpmn:startEvent id="s" /><bpmn:userTask id="u" name="各单位反馈" '
                        'camunda:candidateGroups="office"><bpmn:multiInstanceLoopCharacteristics '
                        'camunda:collection="units" camunda:elementVariable="unit" /></bpmn:userTask>'
                        '<bpmn:endEvent id="e" />' + flows("s>u", "u>e")))
    for data, words in (({}, "不存在"), ({"units": "caizheng"}, "不是列表")):
        with pytest.raises(EngineError) as info:
            svc.start("p", OFFICE, data)
        assert info.value.status == 400
        assert all(w in info.value.message for w in ("各单位反馈", "units", words)), info.value.message


def test_xsd_problems_are_located_on_an_element(svc: WorkflowService) -> None:
    problems = refusals(svc, process('<bpmn:startEvent id="s" /><bpmn:userTask id="u" camunda:candidateGroups='
                                     '"office"><bpmn:bogus /></bpmn:userTask><bpmn:endEvent id="e" />'
                                     + flows("s>u", "u>e")))
    assert any(p.message.startswith("不符合 BPMN 2.0 规范") and p.element == "u" for p in problems), problems


def test_a_problem_is_one_line_whatever_the_names_contain() -> None:
    line = Problem("流程\n图.bpmn", 3, "t", "任务“甲\r\n乙”无效").compiler_line()
    assert "\n" not in line and "\r" not in line and "甲\\r\\n乙" in line


def test_unknown_assignees_and_groups_are_deploy_warnings(sqlite_db: Database, clock: ManualClock) -> None:
    def principals(s: Any, users: set[str], groups: set[str]) -> tuple[set[str], set[str]]:
        return users - {"office_li"}, groups - {"office"}

    svc = WorkflowService(sqlite_db, ActionRegistry(), clock=clock, principals=principals)
    [result] = deploy(svc, process(
        '<bpmn:startEvent id="s" /><bpmn:userTask id="t" camunda:assignee="nobody" camunda:candidateGroups='
        '"office,unit:${lead},ghosts" camunda:candidateUsers="office_li" /><bpmn:endEvent id="e" />'
        + flows("s>t", "t>e")))
    assert sorted(w.message.split("”")[0] for w in result.warnings) == ["候选组“ghosts", "办理人“nobody"]
    assert all(w.element == "t" and w.line for w in result.warnings)
