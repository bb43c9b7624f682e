"""Deploying a diagram is hostile-input handling: every refusal names the element and line, speaks Chinese,
and leaves the database exactly as it was."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.actions import ActionRegistry
from engine.db import Database
from engine.errors import DeployError, Problem
from engine.loader import MAX_BPMN_BYTES, SourceFile
from engine.models import AuditEvent, ProcessModel, ProcessSpec
from engine.service import Actor, WorkflowService

DIAGRAMS = Path(__file__).parent / "diagrams"
CJK = re.compile(r"[\u4e00-\u9fff]")
DESIGNER = Actor("designer", frozenset({"designer"}))

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "{prolog}"
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_lint" '
    'targetNamespace="http://bpmn.io/schema/bpmn">\n'
)
OFFICE_TASK = '<bpmn:userTask id="t1" name="办理" camunda:candidateGroups="office" />'


def diagram(body: str, *, key: str = "lint_case", executable: str = "true", prolog: str = "",
            name: str = "检查用流程") -> bytes:
    return (HEADER.format(prolog=prolog)
            + f'  <bpmn:process id="{key}" name="{name}" isExecutable="{executable}" '
              'camunda:candidateStarterGroups="office">\n'
            + body
            + "  </bpmn:process>\n</bpmn:definitions>\n").encode()


def linear(*elements: str, extra: str = "") -> str:
    """start → each element (by its first id attribute) → end, one element per line."""
    ids = ["start", *(re.search(r'\bid="([^"]+)"', e).group(1) for e in elements), "end"]  # type: ignore[union-attr]
    lines = ['    <bpmn:startEvent id="start" name="开始" />']
    lines += [f"    {e}" for e in elements]
    lines.append('    <bpmn:endEvent id="end" name="结束" />')
    lines += [f'    <bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}" />'
              for n, (a, b) in enumerate(zip(ids, ids[1:], strict=False), start=1)]
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


def line_of(data: bytes, marker: str, occurrence: int = 1) -> int:
    pos = -1
    for _ in range(occurrence):
        pos = data.index(marker.encode(), pos + 1)
    return data[:pos].count(b"\n") + 1


def count(db: Database, model: type) -> int:
    with db.sessions() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


@pytest.fixture
def registry() -> ActionRegistry:
    reg = ActionRegistry()

    @reg.action("test.note", title="记录")
    def note(ctx):  # type: ignore[no-untyped-def]
        return {"noted": True}

    return reg


@pytest.fixture
def svc(sqlite_db: Database, registry: ActionRegistry, clock) -> WorkflowService:  # type: ignore[no-untyped-def]
    return WorkflowService(sqlite_db, registry, clock)


def refused(svc: WorkflowService, data: bytes, name: str = "lint.bpmn") -> list[Problem]:
    """Deploy must fail with DeployError, and nothing at all may be stored."""
    models_before = count(svc.db, ProcessModel)
    specs_before = count(svc.db, ProcessSpec)
    audit_before = count(svc.db, AuditEvent)
    with pytest.raises(DeployError) as info:
        svc.deploy([SourceFile(name, data)], DESIGNER)
    err = info.value
    assert err.status == 422
    assert err.message.startswith("流程图未通过检查：")
    assert err.problems, "a refusal must say why"
    for p in err.problems:
        assert p.file == name
        assert CJK.search(p.message), f"message not in Chinese: {p.message!r}"
    assert count(svc.db, ProcessModel) == models_before
    assert count(svc.db, ProcessSpec) == specs_before
    assert count(svc.db, AuditEvent) == audit_before
    return err.problems


def find(problems: list[Problem], fragment: str) -> Problem:
    hits = [p for p in problems if fragment in p.message]
    assert hits, f"no problem mentions {fragment!r}: {[p.compiler_line() for p in problems]}"
    return hits[0]


def assert_problem(problems: list[Problem], fragment: str, *, element: str | None, line: int | None) -> Problem:
    p = find(problems, fragment)
    assert p.element == element, p.compiler_line()
    assert p.line == line, p.compiler_line()
    return p


def accepted(svc: WorkflowService, data: bytes, name: str = "lint.bpmn") -> None:
    results = svc.deploy([SourceFile(name, data)], DESIGNER)
    assert results and results[0].created


# ---------------------------------------------------------------- hostile XML

VALID = diagram(linear(OFFICE_TASK))


def test_the_base_diagram_of_these_tests_is_valid(svc: WorkflowService) -> None:
    accepted(svc, VALID)
    assert count(svc.db, ProcessModel) == 1


XXE = '<!DOCTYPE bpmn:definitions [<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
LAUGHS = ("<!DOCTYPE bpmn:definitions [\n  <!ENTITY lol \"lol\">\n"
          + "".join(f'  <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
                    for i in range(1, 10))
          + "]>\n")
QUADRATIC = f'<!DOCTYPE bpmn:definitions [<!ENTITY a "{"A" * 50_000}">]>\n'


@pytest.mark.parametrize(("prolog", "name"), [
    pytest.param(XXE, "&xxe;", id="xxe-file"),
    pytest.param('<!DOCTYPE bpmn:definitions SYSTEM "http://127.0.0.1:9/evil.dtd">\n', "外部", id="external-dtd"),
    pytest.param(LAUGHS, "&lol9;", id="billion-laughs"),
    pytest.param(QUADRATIC, "&a;" * 5000, id="quadratic-blowup"),
    pytest.param("<!--" + " " * 5000 + "-->\n" + XXE, "&xxe;", id="doctype-after-long-comment"),
])
def test_doctype_and_entities_are_refused(svc: WorkflowService, prolog: str, name: str) -> None:
    data = diagram(linear(OFFICE_TASK), prolog=prolog, name=name)
    problems = refused(svc, data)
    p = assert_problem(problems, "不允许 DOCTYPE 或实体声明", element=None, line=line_of(data, "<!DOCTYPE"))
    assert "XXE" in p.message
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else ""
    if hostname:
        assert all(hostname not in q.message for q in problems)


def test_a_utf16_file_is_refused_not_crashed(svc: WorkflowService) -> None:
    # Found while writing these tests: a UTF-16 diagram used to escape as UnicodeDecodeError (a 500).
    text = diagram(linear(OFFICE_TASK), prolog=XXE, name="&xxe;").decode().replace('"UTF-8"', '"UTF-16"')
    problems = refused(svc, text.encode("utf-16"))
    assert_problem(problems, "UTF-8", element=None, line=1)
    plain = VALID.decode().replace('"UTF-8"', '"UTF-16"').encode("utf-16")
    assert_problem(refused(svc, plain), "UTF-8", element=None, line=1)


def test_a_file_over_the_size_limit_is_refused(svc: WorkflowService) -> None:
    padding = "这是一段很长的说明。" * (MAX_BPMN_BYTES // 30 + 1000)
    body = linear(f'<bpmn:userTask id="t1" name="办理" camunda:candidateGroups="office">'
                  f"<bpmn:documentation>{padding}</bpmn:documentation></bpmn:userTask>")
    data = diagram(body)
    assert len(data) > MAX_BPMN_BYTES
    p = assert_problem(refused(svc, data), "文件过大", element=None, line=None)
    assert "2 MB" in p.message


def test_a_file_just_under_the_size_limit_is_not_refused_for_size(svc: WorkflowService) -> None:
    padding = "说明" * ((MAX_BPMN_BYTES - 4000) // 6)
    body = linear(f'<bpmn:userTask id="t1" name="办理" camunda:candidateGroups="office">'
                  f"<bpmn:documentation>{padding}</bpmn:documentation></bpmn:userTask>")
    data = diagram(body)
    assert len(data) <= MAX_BPMN_BYTES
    accepted(svc, data)


def test_not_well_formed_xml_reports_the_line(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:userTask id="t1" name="办理" camunda:candidateGroups="office">\n'
                          "    </bpmn:usertask>"))
    problems = refused(svc, data)
    assert_problem(problems, "XML 格式错误", element=None, line=line_of(data, "</bpmn:usertask>"))


def test_unescaped_ampersand_reports_its_line(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:userTask id="t1" name="A & B" camunda:candidateGroups="office" />'))
    assert_problem(refused(svc, data), "XML 格式错误", element=None, line=line_of(data, "A & B"))


def test_a_root_that_is_not_bpmn_is_refused(svc: WorkflowService) -> None:
    data = b'<?xml version="1.0" encoding="UTF-8"?>\n<html><body>hi</body></html>\n'
    assert_problem(refused(svc, data), "bpmn:definitions", element=None, line=2)


# ---------------------------------------------------------------- forbidden elements

def test_script_task_is_refused(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:scriptTask id="s1" name="脚本" scriptFormat="python">'
                          '<bpmn:script>import os; os.system("id")</bpmn:script></bpmn:scriptTask>'))
    assert_problem(refused(svc, data), "不允许脚本任务", element="s1", line=line_of(data, 'id="s1"'))


@pytest.mark.parametrize(("attrs", "fragment"), [
    pytest.param('camunda:class="org.evil.Run"', "不允许使用 camunda:class", id="class"),
    pytest.param('camunda:expression="${x}"', "不允许使用 camunda:expression", id="expression"),
    pytest.param('camunda:delegateExpression="${bean}"', "不允许使用 camunda:delegateExpression", id="delegate"),
    pytest.param('camunda:type="external"', "服务任务须设置", id="no-topic"),
    pytest.param('camunda:type="external" camunda:topic="no.such.action"', "动作“no.such.action”未登记",
                 id="unknown-topic"),
])
def test_service_tasks_must_call_a_registered_action(svc: WorkflowService, attrs: str, fragment: str) -> None:
    data = diagram(linear(f'<bpmn:serviceTask id="svc1" name="自动" {attrs} />'))
    assert_problem(refused(svc, data), fragment, element="svc1", line=line_of(data, 'id="svc1"'))


def test_a_service_task_with_a_registered_topic_deploys(svc: WorkflowService) -> None:
    accepted(svc, diagram(linear('<bpmn:serviceTask id="svc1" name="自动" camunda:type="external" '
                                 'camunda:topic="test.note" />')))


def test_task_listener_is_refused(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:userTask id="t1" name="办理" camunda:candidateGroups="office">'
                          "<bpmn:extensionElements>"
                          '<camunda:taskListener class="org.evil.L" event="create" />'
                          "</bpmn:extensionElements></bpmn:userTask>"))
    assert_problem(refused(svc, data), "任务监听器", element="t1", line=line_of(data, 'id="t1"'))


# ---------------------------------------------------------------- hostile expressions, everywhere

HOSTILE = {
    "import": ('__import__("os").system("id")', "不允许调用函数"),
    "subclasses": ("().__class__.__base__.__subclasses__()", "不允许调用函数|下划线开头"),
    "huge-string": ('"x" * 10**9', "结果过长"),
    "comprehension": ("[x for x in y]", "不允许使用 ListComp"),
}


def _attr(expr: str) -> str:
    return html.escape("${" + expr + "}", quote=True)


def _text(expr: str) -> str:
    return html.escape("${" + expr + "}", quote=False)


def loc_condition(expr: str) -> str:
    return (
        '    <bpmn:startEvent id="start" name="开始" />\n'
        '    <bpmn:exclusiveGateway id="gw" name="是否同意" default="f_no" />\n'
        '    <bpmn:userTask id="t_yes" name="办理" camunda:candidateGroups="office" />\n'
        '    <bpmn:endEvent id="end" name="结束" />\n'
        '    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />\n'
        '    <bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="t_yes">\n'
        f'      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{_text(expr)}'
        "</bpmn:conditionExpression>\n"
        "    </bpmn:sequenceFlow>\n"
        '    <bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end" />\n'
        '    <bpmn:sequenceFlow id="f3" sourceRef="t_yes" targetRef="end" />\n'
    )


def loc_time_duration(expr: str) -> str:
    return linear(OFFICE_TASK, extra=(
        '    <bpmn:boundaryEvent id="b1" name="超时" cancelActivity="false" attachedToRef="t1">\n'
        "      <bpmn:timerEventDefinition>\n"
        f'        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">{_text(expr)}</bpmn:timeDuration>\n'
        "      </bpmn:timerEventDefinition>\n"
        "    </bpmn:boundaryEvent>\n"
        '    <bpmn:endEvent id="end_b" name="已提醒" />\n'
        '    <bpmn:sequenceFlow id="fb" sourceRef="b1" targetRef="end_b" />'))


def loc_time_date(expr: str) -> str:
    return linear('<bpmn:intermediateCatchEvent id="wait" name="等到会议日"><bpmn:timerEventDefinition>'
                  f'\n<bpmn:timeDate xsi:type="bpmn:tFormalExpression">{_text(expr)}</bpmn:timeDate>\n'
                  "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")


def loc_attr(attr: str):  # type: ignore[no-untyped-def]
    def make(expr: str) -> str:
        groups = "" if attr == "candidateGroups" else ' camunda:candidateGroups="office"'
        return linear(f'<bpmn:userTask id="t1" name="办理"{groups} camunda:{attr}="{_attr(expr)}" />')
    return make


def loc_loop_cardinality(expr: str) -> str:
    return linear('<bpmn:userTask id="t1" name="办理" camunda:candidateGroups="office">'
                  "<bpmn:multiInstanceLoopCharacteristics>\n"
                  f'<bpmn:loopCardinality xsi:type="bpmn:tFormalExpression">{_text(expr)}</bpmn:loopCardinality>\n'
                  "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>")


def loc_completion_condition(expr: str) -> str:
    return linear('<bpmn:userTask id="t1" name="办理" camunda:candidateGroups="office">'
                  '<bpmn:multiInstanceLoopCharacteristics camunda:collection="units" '
                  'camunda:elementVariable="unit">\n'
                  f'<bpmn:completionCondition xsi:type="bpmn:tFormalExpression">{_text(expr)}'
                  "</bpmn:completionCondition>\n"
                  "</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask>")


# location id: (builder, benign expression, label in the message, reported element, marker of the line)
LOCATIONS = {
    "condition": (loc_condition, 'decision == "yes"', "条件", "f_yes", "<bpmn:conditionExpression"),
    "timeDuration": (loc_time_duration, '"P" + str(days) + "D"', "定时时长", "b1", "<bpmn:timeDuration"),
    "timeDate": (loc_time_date, "days_before(meeting_date, 3)", "定时日期", "wait", "<bpmn:timeDate"),
    "candidateGroups": (loc_attr("candidateGroups"), '"unit:" + lead', "camunda:candidateGroups", "t1", 'id="t1"'),
    "dueDate": (loc_attr("dueDate"), "days_before(deadline, 1)", "camunda:dueDate", "t1", 'id="t1"'),
    "assignee": (loc_attr("assignee"), "initiator", "camunda:assignee", "t1", 'id="t1"'),
    "loopCardinality": (loc_loop_cardinality, "len(units)", "循环次数", "t1", "<bpmn:loopCardinality"),
    "completionCondition": (loc_completion_condition, "done >= 3", "完成条件", "t1", "<bpmn:completionCondition"),
}


@pytest.mark.parametrize("where", list(LOCATIONS))
def test_benign_expressions_deploy_in_every_location(svc: WorkflowService, where: str) -> None:
    build, benign, *_ = LOCATIONS[where]
    accepted(svc, diagram(build(benign)))


@pytest.mark.parametrize("what", list(HOSTILE))
@pytest.mark.parametrize("where", list(LOCATIONS))
def test_hostile_expressions_are_refused_in_every_location(svc: WorkflowService, where: str, what: str) -> None:
    build, _, label, element, marker = LOCATIONS[where]
    expr, reason = HOSTILE[what]
    data = diagram(build(expr))
    problems = refused(svc, data)
    p = assert_problem(problems, label, element=element, line=line_of(data, marker))
    assert "无效" in p.message and re.search(reason, p.message), p.message


@pytest.mark.parametrize(("kind", "literal", "label"), [
    ("timeDuration", "P3X", "定时时长"),
    ("timeDate", "2026-13-45T09:00:00", "定时日期"),
    ("timeCycle", "R/P1X", "循环定时"),
])
def test_bad_bare_timer_literals_are_refused(svc: WorkflowService, kind: str, literal: str, label: str) -> None:
    body = linear('<bpmn:intermediateCatchEvent id="wait" name="等待"><bpmn:timerEventDefinition>\n'
                  f'<bpmn:{kind} xsi:type="bpmn:tFormalExpression">{literal}</bpmn:{kind}>\n'
                  "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")
    data = diagram(body)
    p = assert_problem(refused(svc, data), "不是有效的 ISO 8601", element="wait", line=line_of(data, f"<bpmn:{kind}"))
    assert label in p.message and literal in p.message


def test_a_good_bare_timer_literal_deploys(svc: WorkflowService) -> None:
    accepted(svc, diagram(linear('<bpmn:intermediateCatchEvent id="wait" name="等待"><bpmn:timerEventDefinition>'
                                 '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P3D</bpmn:timeDuration>'
                                 "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")))


def test_a_template_timer_must_be_one_whole_expression(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:intermediateCatchEvent id="wait" name="等待"><bpmn:timerEventDefinition>\n'
                          '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">P${days}D</bpmn:timeDuration>\n'
                          "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"))
    assert_problem(refused(svc, data), "完整的", element="wait", line=line_of(data, "<bpmn:timeDuration"))


# ---------------------------------------------------------------- structure and assignment

def test_a_flow_to_a_missing_element_is_refused(svc: WorkflowService) -> None:
    body = linear(OFFICE_TASK, extra='    <bpmn:sequenceFlow id="f_bad" sourceRef="t1" targetRef="nowhere" />')
    data = diagram(body)
    assert_problem(refused(svc, data), "终点“nowhere”在流程中不存在", element="f_bad",
                   line=line_of(data, 'id="f_bad"'))


def test_a_user_task_without_candidates_or_assignee_is_refused(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:userTask id="t1" name="无人办理" />'))
    p = assert_problem(refused(svc, data), "没有指定办理人或候选组", element="t1", line=line_of(data, 'id="t1"'))
    assert "无人办理" in p.message


@pytest.mark.parametrize(("attr", "value", "kind"), [
    ("dueDate", "下周一", "ISO 8601"),
    ("dueDate", "P2X", "ISO 8601"),
    ("followUpDate", "2026-02-30", "ISO 8601"),
    ("priority", "high", "整数"),
])
def test_bad_assignment_literals_are_refused(svc: WorkflowService, attr: str, value: str, kind: str) -> None:
    # Found while writing these tests: such literals used to deploy, and then the task before could never be
    # completed ("分派设置无法求值").
    data = diagram(linear(f'<bpmn:userTask id="t1" name="办理" camunda:candidateGroups="office" '
                          f'camunda:{attr}="{value}" />'))
    p = assert_problem(refused(svc, data), f"camunda:{attr}“{value}”", element="t1", line=line_of(data, 'id="t1"'))
    assert kind in p.message


@pytest.mark.parametrize(("attr", "value"), [("dueDate", "P2D"), ("dueDate", "2026-12-31"),
                                             ("followUpDate", "2026-12-31T09:00:00+08:00"), ("priority", "80")])
def test_good_assignment_literals_deploy(svc: WorkflowService, attr: str, value: str) -> None:
    accepted(svc, diagram(linear(f'<bpmn:userTask id="t1" name="办理" camunda:candidateGroups="office" '
                                 f'camunda:{attr}="{value}" />')))


def _form_task(fields: str) -> str:
    return linear('<bpmn:userTask id="t1" name="填写" camunda:candidateGroups="office">'
                  f"<bpmn:extensionElements><camunda:formData>\n{fields}</camunda:formData>"
                  "</bpmn:extensionElements></bpmn:userTask>")


def test_a_form_field_of_unknown_type_is_refused(svc: WorkflowService) -> None:
    data = diagram(_form_task('<camunda:formField id="colour" label="颜色" type="color" />\n'))
    p = assert_problem(refused(svc, data), "不受支持", element="colour", line=line_of(data, 'id="colour"'))
    assert "color" in p.message


def test_a_duplicate_form_field_id_is_refused(svc: WorkflowService) -> None:
    data = diagram(_form_task('<camunda:formField id="title" label="标题" type="string" />\n'
                              '<camunda:formField id="title" label="又一个标题" type="string" />\n'))
    assert_problem(refused(svc, data), "“title”重复", element="title", line=line_of(data, 'id="title"', 2))


def test_an_enum_without_values_is_refused(svc: WorkflowService) -> None:
    data = diagram(_form_task('<camunda:formField id="decision" label="结论" type="enum" />\n'))
    assert_problem(refused(svc, data), "没有可选值", element="decision", line=line_of(data, 'id="decision"'))


def test_unknown_constraint_and_reserved_field_ids_are_refused(svc: WorkflowService) -> None:
    data = diagram(_form_task(
        '<camunda:formField id="title" label="标题" type="string"><camunda:validation>\n'
        '<camunda:constraint name="pattern" config=".*" />\n'
        "</camunda:validation></camunda:formField>\n"
        '<camunda:formField id="initiator" label="发起人" type="string" />\n'))
    problems = refused(svc, data)
    assert_problem(problems, "校验规则“pattern”不受支持", element="title", line=line_of(data, 'name="pattern"'))
    assert_problem(problems, "“initiator”无效", element="initiator", line=line_of(data, 'id="initiator"'))


def test_an_unregistered_on_complete_action_is_refused(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:userTask id="t1" name="填写" camunda:candidateGroups="office">'
                          "<bpmn:extensionElements><camunda:properties>\n"
                          '<camunda:property name="onComplete" value="no.such" />\n'
                          "</camunda:properties></bpmn:extensionElements></bpmn:userTask>"))
    assert_problem(refused(svc, data), "完成动作“no.such”未登记", element="t1", line=line_of(data, 'value="no.such"'))


def test_a_call_activity_to_an_unknown_process_is_refused(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:callActivity id="call1" name="落实" calledElement="ghost_process" />'))
    assert_problem(refused(svc, data), "目标流程“ghost_process”不存在", element="call1",
                   line=line_of(data, 'id="call1"'))


def test_a_call_activity_to_a_deployed_process_deploys(svc: WorkflowService) -> None:
    accepted(svc, diagram(linear(OFFICE_TASK), key="callee"), "callee.bpmn")
    accepted(svc, diagram(linear('<bpmn:callActivity id="call1" name="落实" calledElement="callee" />'),
                          key="caller"), "caller.bpmn")


def test_a_non_executable_process_is_refused(svc: WorkflowService) -> None:
    data = diagram(linear(OFFICE_TASK), executable="false")
    assert_problem(refused(svc, data), "没有可执行的流程", element="Defs_lint",
                   line=line_of(data, "<bpmn:definitions"))


def test_every_problem_is_reported_at_once(svc: WorkflowService) -> None:
    body = linear('<bpmn:scriptTask id="s1" name="脚本"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
                  '<bpmn:userTask id="t2" name="无人办理" />',
                  extra='    <bpmn:sequenceFlow id="f_bad" sourceRef="t2" targetRef="nowhere" />')
    problems = refused(svc, diagram(body))
    assert {p.element for p in problems} >= {"s1", "t2", "f_bad"}


def test_problem_compiler_line_format(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:scriptTask id="s1" name="脚本"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>'))
    p = find(refused(svc, data, "meeting.bpmn"), "脚本任务")
    line = line_of(data, 'id="s1"')
    assert p.compiler_line() == f"meeting.bpmn:{line}: s1: {p.message}"
    assert re.fullmatch(r"meeting\.bpmn:\d+: s1: 不允许脚本任务.*", p.compiler_line())
    assert Problem("x.bpmn", None, None, "文件过大").compiler_line() == "x.bpmn:0: -: 文件过大"
    assert p.as_dict() == {"file": "meeting.bpmn", "line": line, "element": "s1", "message": p.message}


# ---------------------------------------------------------------- what does get stored

def test_a_bad_file_in_a_batch_stores_nothing_of_the_good_one(database: Database, registry: ActionRegistry,
                                                              clock) -> None:  # type: ignore[no-untyped-def]
    svc = WorkflowService(database, registry, clock)
    good = SourceFile("good.bpmn", diagram(linear(OFFICE_TASK), key="good"))
    bad = SourceFile("bad.bpmn", diagram(linear('<bpmn:userTask id="t1" name="无人办理" />'), key="bad"))
    with pytest.raises(DeployError) as info:
        svc.deploy([good, bad], DESIGNER)
    assert [p.file for p in info.value.problems] == ["bad.bpmn"]
    assert count(database, ProcessModel) == 0
    assert count(database, ProcessSpec) == 0
    assert count(database, AuditEvent) == 0


def test_versions(database: Database, registry: ActionRegistry, clock) -> None:  # type: ignore[no-untyped-def]
    svc = WorkflowService(database, registry, clock)
    data = (DIAGRAMS / "two_step.bpmn").read_bytes()

    [first] = svc.deploy([SourceFile("two_step.bpmn", data)], DESIGNER)
    assert (first.model.key, first.model.version, first.created) == ("two_step", 1, True)
    assert first.model.starter_groups == ["unit:*"]
    assert first.model.deployed_by == "designer"

    [again] = svc.deploy([SourceFile("two_step.bpmn", data)], DESIGNER)
    assert (again.model.version, again.created) == (1, False)
    assert again.model.id == first.model.id
    assert count(database, ProcessModel) == 1

    # a refused change leaves the deployed version alone
    broken = data.replace(b'camunda:candidateGroups="office"', b"")
    with pytest.raises(DeployError):
        svc.deploy([SourceFile("two_step.bpmn", broken)], DESIGNER)
    assert count(database, ProcessModel) == 1

    changed = data.replace("审核".encode(), "办公室审核".encode())
    [second] = svc.deploy([SourceFile("two_step.bpmn", changed)], DESIGNER)
    assert (second.model.version, second.created) == (2, True)
    assert count(database, ProcessModel) == 2
    assert count(database, ProcessSpec) == 2
    with database.sessions() as s:
        deploys = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "deploy").order_by(AuditEvent.id)))
    assert [(a.actor, a.data["version"]) for a in deploys] == [("designer", 1), ("designer", 2)]


def test_a_candidate_group_template_deploys(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:userTask id="t1" name="牵头单位办理" camunda:candidateGroups="unit:${lead}" '
                          'camunda:dueDate="${deadline}" />'))
    [result] = svc.deploy([SourceFile("tpl.bpmn", data)], DESIGNER)
    assert result.created and result.model.version == 1


def test_an_unclosed_template_is_refused(svc: WorkflowService) -> None:
    data = diagram(linear('<bpmn:userTask id="t1" name="办理" camunda:candidateGroups="unit:${lead" />'))
    assert_problem(refused(svc, data), "右花括号", element="t1", line=line_of(data, 'id="t1"'))
