"""The loader's lint rules are one table, engine/lint_rules.json, read by the server (engine/loader.py) and by the
modeler's bpmnlint plugin (web/frontend/src/bpmnlint-plugin-jm/). Both implement exactly its rules; the plugin
reports what the server reports with the same messages, and never refuses what the server accepts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import meeting.runtime  # noqa: F401 - the composition root registers workdays(), which the shipped diagrams call
from engine import loader
from engine.forms import KNOWN_CONSTRAINTS
from engine.loader import _parse_assignment_literal, _parse_timer_literal

ROOT = Path(__file__).resolve().parent.parent
FRONTEND = ROOT / "web" / "frontend"
PLUGIN = FRONTEND / "src" / "bpmnlint-plugin-jm"
TABLE = json.loads((ROOT / "engine" / "lint_rules.json").read_text(encoding="utf-8"))
IDS = [r["id"] for r in TABLE["rules"]]
CJK = re.compile(r"[\u4e00-\u9fff]")


# ---------------------------------------------------------------- the table and who implements it

def test_the_table_is_well_formed() -> None:
    assert len(IDS) == len(set(IDS))
    for r in TABLE["rules"]:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", r["id"]), r["id"]
        # The loader refuses a diagram on any problem, so a "warn" rule would only look milder in the modeler.
        assert r["severity"] == "error", r["id"]
        assert r["description"], r["id"]
        for template in r["messages"].values():
            assert CJK.search(template), template
    for template in TABLE["expression_messages"].values():
        assert "{what}" in template


def test_the_loader_implements_exactly_the_rules_of_the_table() -> None:
    implemented = [r.id for r in loader.LINT_RULES]
    assert len(implemented) == len(set(implemented))
    assert sorted(implemented) == sorted(IDS)


def test_the_plugin_has_one_rule_file_per_rule_of_the_table() -> None:
    files = sorted((PLUGIN / "rules").glob("*.js"))
    assert [f.stem for f in files] == sorted(IDS)
    for f in files:
        assert f"rule('{f.stem}'," in f.read_text(encoding="utf-8"), f"{f.name} must register the rule {f.stem}"


def test_the_form_constraints_of_the_table_are_the_ones_forms_know() -> None:
    rule = next(r for r in TABLE["rules"] if r["id"] == "form-fields")
    assert set(rule["data"]["constraints"]) == KNOWN_CONSTRAINTS
    assert set(rule["data"]["numeric_constraints"]) <= KNOWN_CONSTRAINTS


# ---------------------------------------------------------------- the plugin, run in Node

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or not (FRONTEND / "node_modules" / "bpmnlint").is_dir(),
    reason="needs Node.js and the front end's node_modules (make install)")

# Runs in web/frontend/; reads {"do": ..., ...} on stdin and prints JSON.
NODE_SCRIPT = r"""
const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');
const input = JSON.parse(readFileSync(0, 'utf8'));
const pluginDir = resolve('src/bpmnlint-plugin-jm');
const plugin = require(pluginDir);
const known = require(resolve(pluginDir, 'known.js'));
const iso = require(resolve(pluginDir, 'iso.js'));

async function lint(files) {
  const { BpmnModdle } = require('bpmn-moddle');
  const { Linter } = require('bpmnlint');
  const NodeResolver = require('bpmnlint/lib/resolver/node-resolver');
  const camunda = require('camunda-bpmn-moddle/resources/camunda.json');
  const name = 'bpmnlint-plugin-jm';
  const localRequire = (id) => require(id.startsWith(name) ? pluginDir + id.slice(name.length) : id);
  const linter = new Linter({ resolver: new NodeResolver({ require: localRequire }) });
  const out = {};
  for (const [file, xml] of Object.entries(files)) {
    const { rootElement } = await new BpmnModdle({ camunda }).fromXML(xml);
    const results = await linter.lint(rootElement, { extends: 'plugin:jm/recommended' });
    out[file] = Object.values(results).flat().map((r) => r.message);
  }
  return out;
}

async function main() {
  if (input.do === 'rules') {
    const files = Object.fromEntries(Object.keys(plugin.configs.recommended.rules).map(
      (id) => [id, require(resolve(pluginDir, 'rules', id)).ruleId]));
    return { config: plugin.configs.recommended.rules, files };
  }
  if (input.do === 'lint') {
    Object.assign(known, input.known);
    return lint(input.files);
  }
  return input.cases.map(([kind, text]) =>
    kind.startsWith('time') ? iso.timerLiteral(kind, text) : iso.assignmentLiteral(kind, text));
}

main().then((result) => console.log(JSON.stringify(result)));
"""


def node(payload: dict[str, Any]) -> Any:
    run = subprocess.run(["node", "-e", NODE_SCRIPT], cwd=FRONTEND, input=json.dumps(payload),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@needs_node
def test_the_plugin_config_enables_exactly_the_rules_of_the_table() -> None:
    got = node({"do": "rules"})
    assert got["config"] == {r["id"]: r["severity"] for r in TABLE["rules"]}
    assert got["files"] == {rule_id: rule_id for rule_id in IDS}


HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs_rules" '
    'targetNamespace="http://bpmn.io/schema/bpmn">\n'
)


def diagram(*elements: str, executable: str = "true", extra: str = "") -> str:
    """start → each element (by its id) → end in one process, and `extra` after the process."""
    ids = ["start", *(re.search(r'\bid="([^"]+)"', e).group(1) for e in elements), "end"]  # type: ignore[union-attr]
    body = ['<bpmn:startEvent id="start" />', *elements, '<bpmn:endEvent id="end" />']
    body += [f'<bpmn:sequenceFlow id="f{n}" sourceRef="{a}" targetRef="{b}" />'
             for n, (a, b) in enumerate(zip(ids, ids[1:], strict=False), start=1)]
    return (HEADER + f'<bpmn:process id="rules_case" isExecutable="{executable}">\n' + "\n".join(body)
            + "\n</bpmn:process>\n" + extra + "</bpmn:definitions>\n")


def task(inner: str = "", attrs: str = 'camunda:candidateGroups="office"', tid: str = "t1", name: str = "办理") -> str:
    named = f' name="{name}"' if name else ""
    return f'<bpmn:userTask id="{tid}"{named} {attrs}>{inner}</bpmn:userTask>'


def ext(*children: str) -> str:
    return "<bpmn:extensionElements>" + "".join(children) + "</bpmn:extensionElements>"


def form(*fields: str) -> str:
    return ext("<camunda:formData>" + "".join(fields) + "</camunda:formData>")


def timer(definition: str, eid: str = "wait") -> str:
    return (f'<bpmn:intermediateCatchEvent id="{eid}"><bpmn:timerEventDefinition>{definition}'
            "</bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>")


def gateway_with_condition(condition: str) -> str:
    return (HEADER + '<bpmn:process id="rules_case" isExecutable="true">\n'
            '<bpmn:startEvent id="start" /><bpmn:exclusiveGateway id="gw" default="f_no" />'
            '<bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />'
            '<bpmn:sequenceFlow id="f_yes" sourceRef="gw" targetRef="end">'
            f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}</bpmn:conditionExpression>'
            '</bpmn:sequenceFlow><bpmn:sequenceFlow id="f_no" sourceRef="gw" targetRef="end" />'
            "</bpmn:process>\n</bpmn:definitions>\n")


def multi_instance(attrs: str, inner: str) -> str:
    return task(f"<bpmn:multiInstanceLoopCharacteristics {attrs}>{inner}</bpmn:multiInstanceLoopCharacteristics>")


# One diagram per rule (and more for rules with several messages). Not here: duplicate ids, and flows to ids that
# name nothing, because the modeler's XML reader drops such elements and references (with a warning) before any
# rule runs; the server reports them.
CASES = {
    "unsupported-elements": diagram('<bpmn:scriptTask id="s1"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>',
                                    '<bpmn:sendTask id="send" />', '<bpmn:complexGateway id="cg" />',
                                    '<bpmn:businessRuleTask id="br" />',
                                    '<bpmn:transaction id="tx"><bpmn:startEvent id="tx_start" /></bpmn:transaction>'),
    "unsupported-extensions": diagram(
        task(ext('<camunda:taskListener class="a.B" event="create"><camunda:script scriptFormat="js">x'
                 "</camunda:script></camunda:taskListener>",
                 '<camunda:executionListener class="a.B" event="start" />',
                 '<camunda:inputOutput><camunda:inputParameter name="x">1</camunda:inputParameter>'
                 "</camunda:inputOutput>")),
        '<bpmn:callActivity id="call" calledElement="rules_case">'
        + ext('<camunda:in source="a" target="b" />', '<camunda:out source="a" target="b" />')
        + "</bpmn:callActivity>",
        '<bpmn:serviceTask id="svc" camunda:type="external" camunda:topic="test.note">'
        + ext("<camunda:connector><camunda:connectorId>http</camunda:connectorId></camunda:connector>")
        + "</bpmn:serviceTask>"),
    "delegate-attributes": diagram(
        '<bpmn:serviceTask id="s_class" camunda:class="a.B" camunda:resultVariable="r" />',
        '<bpmn:serviceTask id="s_expr" camunda:expression="${x}" camunda:delegateExpression="${y}" />',
        '<bpmn:scriptTask id="s_res" scriptFormat="js" camunda:resource="deployment://x.js" />',
        task('<bpmn:documentation camunda:class="a.B">说明</bpmn:documentation>')),
    "executable-process": diagram(task(), executable="false"),
    "sequence-flow-refs": diagram(task(), extra=(
        '<bpmn:process id="other" isExecutable="false"><bpmn:task id="elsewhere" />'
        '<bpmn:sequenceFlow id="cross" sourceRef="elsewhere" targetRef="t1" /></bpmn:process>\n')),
    "condition-not-whole": gateway_with_condition('x${decision == "yes"}'),
    "condition-empty": gateway_with_condition("  "),
    "condition-compiles-on-the-server": gateway_with_condition("${decision ==}"),
    "user-task-assignment": diagram(task(attrs="", name="无人办理"), task(attrs="", tid="t2", name=""),
                                    task(attrs='camunda:assignee=" "', tid="t3")),
    "assignment-attributes": diagram(
        task(attrs='camunda:candidateGroups="office" camunda:dueDate="下周一" camunda:priority="high"'),
        task(attrs='camunda:candidateGroups="office" camunda:dueDate="P2X" camunda:followUpDate=" "', tid="t2"),
        task(attrs='camunda:candidateGroups="office" camunda:followUpDate="2026-02-30"', tid="t3"),
        task(attrs='camunda:candidateGroups="${lead" camunda:dueDate="2026-W01-1" camunda:priority="+5"', tid="t4"),
        task(attrs='camunda:candidateGroups="office" camunda:dueDate="${deadline}" '
                   'camunda:followUpDate="2026-01-01T09:00+08:00"', tid="t5")),
    "form-fields": diagram(task(form(
        '<camunda:formField id="1x" type="string" />',
        '<camunda:formField id="initiator" type="string" />',
        '<camunda:formField id="title" type="string" /><camunda:formField id="title" type="string" />',
        '<camunda:formField id="colour" type="color" />',
        '<camunda:formField id="decision" type="enum" />',
        '<camunda:formField id="ok" type="enum"><camunda:value id="yes" name="是" /></camunda:formField>',
        '<camunda:formField id="body" type="text"><camunda:validation>'
        '<camunda:constraint name="pattern" config=".*" /><camunda:constraint name="maxlength" config="abc" />'
        '<camunda:constraint name="minlength" /><camunda:constraint name="max" config=" 1e3 " />'
        '<camunda:constraint name="min" config="-inf" /><camunda:constraint name="required" />'
        "</camunda:validation></camunda:formField>"))),
    "on-complete-action": diagram(task(ext(
        '<camunda:properties><camunda:property name="onComplete" value="no.such" />'
        '<camunda:property name="onComplete" value="test.note" /></camunda:properties>'))),
    "service-task-action": diagram('<bpmn:serviceTask id="s1" camunda:type="external" />',
                                   '<bpmn:serviceTask id="s2" camunda:type="external" camunda:topic="no.such" />',
                                   '<bpmn:serviceTask id="s3" camunda:type="external" camunda:topic="test.note" />'),
    "timer-definition": diagram(
        timer("<bpmn:timeDuration> </bpmn:timeDuration>", "w1"),
        timer("<bpmn:timeDuration>P${days}D</bpmn:timeDuration>", "w2"),
        timer("<bpmn:timeDuration>P3X</bpmn:timeDuration>", "w3"),
        timer("<bpmn:timeDate>2026-13-45T09:00:00</bpmn:timeDate>", "w4"),
        timer("<bpmn:timeCycle>R/P1X</bpmn:timeCycle>", "w5"),
        timer("", "w6"),
        timer("<bpmn:timeDate>${days_before(meeting_date, 3)}</bpmn:timeDate>", "w7"),
        timer("<bpmn:timeCycle>R3/2026-01-01T09:00:00/P1D</bpmn:timeCycle>", "w8"),
        timer("<bpmn:timeDate>20260101T0900</bpmn:timeDate>", "w9")),
    "multi-instance-variables": diagram(multi_instance('camunda:collection="${units}" camunda:elementVariable="1x"',
                                                       "")),
    "multi-instance-expressions": diagram(multi_instance(
        'camunda:collection="units" camunda:elementVariable="unit"',
        "<bpmn:loopCardinality>  </bpmn:loopCardinality><bpmn:completionCondition>${}</bpmn:completionCondition>")),
    "call-activity-target": diagram('<bpmn:callActivity id="c1" />',
                                    '<bpmn:callActivity id="c2" calledElement="ghost" />',
                                    '<bpmn:callActivity id="c3" calledElement="rules_case" />',
                                    '<bpmn:callActivity id="c4" calledElement="topic_proposal" />'),
    "timer-floor": diagram(
        timer("<bpmn:timeDuration>PT30S</bpmn:timeDuration>", "tf1"),
        timer("<bpmn:timeDuration>PT0.5M</bpmn:timeDuration>", "tf2"),
        timer("<bpmn:timeCycle>R/PT0.001S</bpmn:timeCycle>", "tf3"),
        timer("<bpmn:timeCycle>R5/2026-01-01T09:00:00/PT59S</bpmn:timeCycle>", "tf4"),
        timer("<bpmn:timeDuration>PT1M</bpmn:timeDuration>", "tf5"),
        timer("<bpmn:timeCycle>R/P1D</bpmn:timeCycle>", "tf6"),
        timer("<bpmn:timeDate>2026-01-01T09:00:00</bpmn:timeDate><bpmn:timeDuration>PT1S</bpmn:timeDuration>", "tf7"),
        timer("<bpmn:timeDuration>${wait}</bpmn:timeDuration>", "tf8")),
    "multi-instance-size": diagram(
        multi_instance("", "<bpmn:loopCardinality>1000000</bpmn:loopCardinality>"),
        task('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>${1001}</bpmn:loopCardinality>'
             "</bpmn:multiInstanceLoopCharacteristics>", tid="t2"),
        task('<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>1000</bpmn:loopCardinality>'
             "</bpmn:multiInstanceLoopCharacteristics>", tid="t3")),
    "call-cycle": diagram('<bpmn:callActivity id="c1" calledElement="helper" />', extra=(
        '<bpmn:process id="helper" isExecutable="true"><bpmn:startEvent id="h_start" />'
        '<bpmn:subProcess id="h_sub"><bpmn:startEvent id="hs_start" />'
        '<bpmn:callActivity id="h_call" calledElement="rules_case" /></bpmn:subProcess>'
        '<bpmn:callActivity id="h_self" calledElement="helper" /></bpmn:process>\n')),
    "starter-groups": HEADER + (
        '<bpmn:process id="rules_case" isExecutable="true"><bpmn:startEvent id="start">'
        + ext('<camunda:properties><camunda:property name="starterGroups" value=" " /></camunda:properties>')
        + '</bpmn:startEvent><bpmn:endEvent id="end" /><bpmn:sequenceFlow id="f1" sourceRef="start" '
        'targetRef="end" /></bpmn:process>\n</bpmn:definitions>\n'),
}


# Camunda 7's dialect: what the engine cannot run as Camunda does is refused, in the modeler as on the server.
MESSAGES = ('<bpmn:message id="m_named" name="补充材料" /><bpmn:message id="m_unnamed" />\n')
CASES.update({
    "element-ids": diagram('<bpmn:task id="ok" />', extra=(
        '<bpmn:process id="rules_other" isExecutable="false"><bpmn:manualTask /></bpmn:process>\n')),
    "link-events": diagram(
        '<bpmn:intermediateThrowEvent id="l1"><bpmn:linkEventDefinition name="到审核" /></bpmn:intermediateThrowEvent>',
        '<bpmn:intermediateThrowEvent id="l2"><bpmn:linkEventDefinition /></bpmn:intermediateThrowEvent>',
        '<bpmn:intermediateCatchEvent id="c1"><bpmn:linkEventDefinition name="甲" /></bpmn:intermediateCatchEvent>',
        '<bpmn:intermediateCatchEvent id="c2"><bpmn:linkEventDefinition name="甲" /></bpmn:intermediateCatchEvent>'),
    "message-events": diagram(
        '<bpmn:receiveTask id="r1" name="等待回执" />', '<bpmn:receiveTask id="r2" messageRef="m_unnamed" />',
        '<bpmn:receiveTask id="r3" messageRef="m_named" />',
        '<bpmn:intermediateCatchEvent id="c1"><bpmn:messageEventDefinition /></bpmn:intermediateCatchEvent>',
        '<bpmn:intermediateThrowEvent id="t1"><bpmn:messageEventDefinition camunda:type="external" '
        'camunda:topic="x" /></bpmn:intermediateThrowEvent>', extra=MESSAGES),
    "unsupported-events": diagram(
        '<bpmn:intermediateThrowEvent id="comp"><bpmn:compensateEventDefinition /></bpmn:intermediateThrowEvent>',
        '<bpmn:intermediateCatchEvent id="cond"><bpmn:conditionalEventDefinition><bpmn:condition '
        'xsi:type="bpmn:tFormalExpression">${x}</bpmn:condition></bpmn:conditionalEventDefinition>'
        "</bpmn:intermediateCatchEvent>",
        '<bpmn:intermediateThrowEvent id="sig"><bpmn:signalEventDefinition /></bpmn:intermediateThrowEvent>',
        '<bpmn:serviceTask id="undo" isForCompensation="true" camunda:type="external" camunda:topic="test.note" />',
        '<bpmn:subProcess id="esp" triggeredByEvent="true"><bpmn:startEvent id="esp_start">'
        '<bpmn:errorEventDefinition /></bpmn:startEvent></bpmn:subProcess>'),
    "form-key": diagram(task(attrs='camunda:candidateGroups="office" camunda:formKey="embedded:app:forms/a.html"'),
                        task(attrs='camunda:candidateGroups="office" camunda:formRef="f"', tid="t2")),
    "timer-cron": diagram(timer("<bpmn:timeCycle>0 0 9 ? * MON-FRI</bpmn:timeCycle>")),
    "condition-bare": gateway_with_condition("decision == 'yes'"),
})


def server_lint(xml: str, registry: Any, known_keys: set[str], field_types: Any) -> list[str]:
    out = loader._Collector("case.bpmn")
    tree = loader.parse_xml(loader.SourceFile("case.bpmn", xml.encode()), out)
    assert tree is not None, out.problems
    executable = {p.get("id") for p in tree.getroot().findall(loader._q("process")) if p.get("isExecutable") == "true"}
    loader._lint(tree, out, registry, known_keys | executable, field_types)
    return [p.message for p in out.problems]


def _rule_data(rule_id: str) -> dict[str, Any]:
    return next(r for r in TABLE["rules"] if r["id"] == rule_id).get("data", {})


EXPRESSION_LABELS = (
    [_rule_data("condition-expression")["label"]]
    + list(_rule_data("timer-definition")["labels"].values())
    + list(_rule_data("multi-instance-expressions")["labels"].values())
    + [f"camunda:{a}" for a in _rule_data("assignment-attributes")["attributes"]])


def compiles_on_the_server(message: str) -> bool:
    """The expression compiler (engine/expressions.py) runs on the server only."""
    return any(message.startswith(f"{label}“") and "”无效：" in message for label in EXPRESSION_LABELS)


@needs_node
def test_the_plugin_reports_what_the_loader_reports() -> None:
    from engine.actions import ActionRegistry
    from meeting.actions import registry as meeting_actions
    from meeting.fields import field_types

    registry = ActionRegistry()

    @registry.action("test.note", title="记录")
    def note(ctx):  # type: ignore[no-untyped-def]
        return {}

    types = field_types()
    shipped = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "processes").glob("*.bpmn"))}
    deployed = {Path(name).stem for name in shipped}
    known = {"processes": sorted(deployed), "fieldTypes": types.names()}
    cases = node({"do": "lint", "files": CASES, "known": {**known, "actions": registry.names()}})
    real = node({"do": "lint", "files": shipped, "known": {**known, "actions": meeting_actions.names()}})

    for name, xml in CASES.items():
        server = server_lint(xml, registry, deployed, types)
        assert server, f"{name}: the case must break a rule"
        expected = Counter(m for m in server if not compiles_on_the_server(m))
        assert Counter(cases[name]) == expected, (name, server, cases[name])
    assert any(compiles_on_the_server(m) for xml in CASES.values()
               for m in server_lint(xml, registry, deployed, types))
    for name, xml in shipped.items():
        assert server_lint(xml, meeting_actions, deployed, types) == [], name
        assert real[name] == [], name  # the shipped diagrams open without a marker


DATES = ["2026-01-01", "20260101", "2026-W01-1", "2026W011", "2026-W01", "2026W01", "2026-W53-1", "2020-W53-7",
         "2026-02-29", "2024-02-29", "2026-02-30", "2026-13-01", "2026-00-10", "2026-1-01", "2026-01-1",
         "+2026-01-01", "٢٠٢٦-01-01", "2026-01-01T09:00", "2026-01-01 09:00", "2026-01-01X09:00", "2026-01-01T09",
         "2026-01-01T9", "2026-01-01T24:00", "2026-01-01T23:59:59.999999", "2026-01-01T23:59:60",
         "2026-01-01T09:00:00.1234567", "2026-01-01T09:00:00,5", "2026-01-01T09:00:00.", "2026-01-01T0900",
         "2026-01-01T09:0000", "2026-01-01T09:00Z", "2026-01-01T09:00+08:00", "2026-01-01T09:00+0800",
         "2026-01-01T09:00+08", "2026-01-01T09:00+8", "2026-01-01T09:00+24:00", "2026-01-01T09:00+05:99",
         "2026-01-01T09:00+", "2026-01-01T09:00:00+08:00:30.5", "2026-01-01T", "2026-01-01Tabc", "下周一", "2026",
         "0000-01-01", "0001-01-01", "9999-12-31", "2026-W01-1T09:00", "2026W011T0900", "2026-W011",
         "2026-01-01T09:003+08:00", "2022-11-01T09,00", "2026-01-01T09:00:+0800", "2026-01-01T0904WZ",
         "2026-01-01T09:00:00Z08:00", "20260101T0900", "2026-01-01T09:00:00 "]
DURATIONS = ["P3D", "P3X", "P", "PT", "PT1H", "PT1.5H", "P1.5D", "P1.5DT1H", "P1W", "P1W2D", "P1Y2M3DT4H5M6S",
             "p1d", "PP1DP", "P1,5D", "P1..5D", "P.5D", "P١D", "P²D", "P1DT", "P-1D", "P 1D", "PT1D", "P2T1H"]
CYCLES = ["R/P1D", "R3/P1D", "R/2026-01-01T09:00:00/P1D", "R/P1D/2026-01-01T09:00:00", "R/P1D/P2D",
          "R/2026-01-01", "RR/P1D", "R/P1D/P2D/x", "R x/P1D", "R/2026-W01-1/P1D", "R/P1X", "R", "R-1/P1D",
          "R/2026-13-01T00:00/P1D", "R/2026W011T0900/P1D", "R/2026W011T99/P1D", "R1_0/P1D", "R/--P1D", "R/P2T1H"]
PRIORITIES = ["80", "high", "+5", "-5", "5_0", "5__0", "_5", "٣", "5.0", "", "0x10", "00"]


def server_accepts(kind: str, text: str) -> bool:
    try:
        if kind.startswith("time"):
            _parse_timer_literal(kind, text)
        else:
            _parse_assignment_literal(kind, text)
    except Exception:  # noqa: BLE001 - the loader refuses on any exception too
        return False
    return True


@needs_node
def test_the_plugin_reads_literals_as_the_server_does() -> None:
    cases = ([("timeDate", t) for t in DATES] + [("dueDate", t) for t in DATES]
             + [("timeDuration", t) for t in DURATIONS] + [("followUpDate", t) for t in DURATIONS]
             + [("timeCycle", t) for t in CYCLES] + [("priority", t) for t in PRIORITIES])
    verdicts = node({"do": "literals", "cases": cases})
    expected = [server_accepts(kind, text) for kind, text in cases]
    assert sum(expected) > len(cases) // 3  # both answers occur
    assert [c for c, got, want in zip(cases, verdicts, expected, strict=True) if got != want] == []
