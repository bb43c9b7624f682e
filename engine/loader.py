"""Loading a diagram is hostile-input handling.

size limit → hardened XML parse (no DTD, no entities, no network) → XSD → our lint (scripts refused, actions
registered, expressions compiled, forms well-formed, flows connected, call targets known) → normalization of
Camunda-isms (bare ISO timer literals, ``${...}``) → SpiffWorkflow parse. Every problem is reported with file,
line and element id; nothing is deployed while any remains.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from importlib import resources
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import dialect, expressions
from engine.actions import ActionRegistry
from engine.budgets import DEFAULT as DEFAULT_BUDGETS
from engine.budgets import Budgets
from engine.errors import DeployError, Problem
from engine.forms import FieldTypes, form_from_xml, generic_field_types
from engine.specs import AppParser, make_serializer

MAX_BPMN_BYTES = 2_000_000

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN, "camunda": CAMUNDA}

_HARDENED = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                 huge_tree=False, remove_comments=True, remove_pis=True)


@dataclass
class SourceFile:
    name: str
    data: bytes


@dataclass
class StartEventInfo:
    id: str
    name: str
    kind: str  # none | message | signal | timer
    message: str | None = None  # the message's or the signal's name
    starter_groups: list[str] | None = None
    form: list[dict[str, Any]] = field(default_factory=list)  # the start form (camunda:formData), as FormSpec
    initiator: str | None = None  # camunda:initiator: the variable that receives the starting user's name


@dataclass
class LoadedProcess:
    key: str
    name: str
    file: str
    xml: str
    source_sha: str
    starter_groups: list[str]
    start_events: list[StartEventInfo]
    called: list[str]
    spec: dict[str, Any]
    spec_sha: str
    warnings: list[Problem] = field(default_factory=list)
    # the users and groups user tasks name literally: (element id, line, "user" | "group", name)
    principals: list[tuple[str | None, int | None, str, str]] = field(default_factory=list)


_schema: etree.XMLSchema | None = None


def _xsd() -> etree.XMLSchema:
    global _schema
    if _schema is None:
        with open(XSD_PATH, "rb") as fh:
            _schema = etree.XMLSchema(etree.parse(fh))
    return _schema


def _q(tag: str, ns: str = BPMN) -> str:
    return f"{{{ns}}}{tag}"


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


class _Collector:
    """Problems of one file, each with its line and the id of the nearest element that has one."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []

    def add(self, el: etree._Element | None, message: str, element_id: str | None = None) -> None:
        line = el.sourceline if el is not None else None
        if element_id is None and el is not None:
            owner = el
            while owner is not None and owner.get("id") is None:
                owner = owner.getparent()
            element_id = owner.get("id") if owner is not None else None
        self.problems.append(Problem(self.file, line, element_id, message))


def parse_xml(source: SourceFile, out: _Collector) -> etree._ElementTree | None:
    """The hardened parse. Returns None (with problems recorded) when the file must be refused."""
    tree = parse_hostile_xml(source, out, MAX_BPMN_BYTES)
    if tree is None:
        return None
    root = tree.getroot()
    if root.tag != _q("definitions"):
        out.add(root, "根元素必须是 BPMN 2.0 的 bpmn:definitions")
        return None
    dialect.canonicalize(root)  # what Camunda 7 reads as its own (legacy namespace, flows without ids)
    return tree


def parse_hostile_xml(source: SourceFile, out: _Collector, max_bytes: int) -> etree._ElementTree | None:
    """Size limit, UTF-8, no DOCTYPE or entity, hardened lxml parser (no DTD, no entities, no network): any XML
    a user uploads (BPMN, DMN). Returns None (with problems recorded) when the file must be refused."""
    data = source.data
    if len(data) > max_bytes:
        out.add(None, f"文件过大：{len(data) / 1_000_000:.1f} MB，上限 {max_bytes / 1_000_000:g} MB")
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        out.problems.append(Problem(out.file, line, None, "文件必须使用 UTF-8 编码"))
        return None
    head = data[:4096].lower()
    if b"<!doctype" in data.lower() or b"<!entity" in head:
        low = data.lower()
        at = low.find(b"<!doctype") if b"<!doctype" in low else low.find(b"<!entity")
        line = data[:at].count(b"\n") + 1
        out.problems.append(Problem(out.file, line, None, "不允许 DOCTYPE 或实体声明（可能的 XXE 攻击）"))
        return None
    try:
        root = etree.fromstring(data, etree.XMLParser(**_HARDENED))
    except etree.XMLSyntaxError as exc:
        out.problems.append(Problem(out.file, exc.lineno, None, f"XML 格式错误：{exc.msg}"))
        return None
    tree = root.getroottree()
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        out.add(None, "不允许 DOCTYPE 或实体声明（可能的 XXE 攻击）")
        return None
    return tree


def _check_xsd(tree: etree._ElementTree, out: _Collector) -> None:
    schema = _xsd()
    if not schema.validate(tree):
        for err in list(schema.error_log)[:20]:
            msg = re.sub(r"\{[^}]*\}", "", err.message)
            out.problems.append(Problem(out.file, err.line, _element_at(tree, err.line, err.message),
                                        f"不符合 BPMN 2.0 规范：{msg}"))


def _element_at(tree: etree._ElementTree, line: int | None, message: str = "") -> str | None:
    """The id of the element the XSD complains about (the one it names, else the first one starting on its
    line), or of the nearest element with an id around it."""
    if not line:
        return None
    named = re.match(r"Element '(\{[^}]*\})?([^']+)'", message)
    candidates = [el for el in tree.getroot().iter() if isinstance(el.tag, str) and el.sourceline == line]
    if named:
        candidates = [el for el in candidates if _local(el) == named.group(2)] or candidates
    for el in candidates:
        owner: etree._Element | None = el
        while owner is not None and not owner.get("id"):
            owner = owner.getparent()
        return owner.get("id") if owner is not None else None
    return None


def _parse_assignment_literal(attr: str, text: str) -> None:
    """What the service's due/follow-up/priority reading accepts, so a literal can never fail at run time."""
    if attr == "priority":
        int(text)
    elif text.startswith("P"):
        TimerEventDefinition.parse_iso_duration(text)
    elif len(text) == 10:
        date.fromisoformat(text)
    else:
        datetime.fromisoformat(text)


def _parse_timer_literal(kind: str, text: str) -> None:
    if kind == "timeDate":
        TimerEventDefinition.get_datetime(text)
    elif kind == "timeDuration":
        TimerEventDefinition.parse_iso_duration(text)
    else:
        TimerEventDefinition.parse_iso_recurring_interval(text)


# ---------------------------------------------------------------- lint
#
# The rules, their messages and their data live in engine/lint_rules.json, which the modeler's bpmnlint plugin
# (web/frontend/src/bpmnlint-plugin-jm/, one rules/<id>.js per rule) reads too, so the two cannot drift apart;
# tests/test_lint_rules.py holds both to exactly the table's rules. Each rule below is registered under its id.

LINT_TABLE: dict[str, Any] = json.loads(
    resources.files("engine").joinpath("lint_rules.json").read_text(encoding="utf-8"))
_RULE_DEFS: dict[str, dict[str, Any]] = {r["id"]: r for r in LINT_TABLE["rules"]}
_IDENT = re.compile(LINT_TABLE["identifier_pattern"])
_PLACEHOLDER = re.compile(r"\{([A-Za-z_]+)\}")
ASSIGNMENT_ATTRS = tuple(_RULE_DEFS["assignment-attributes"]["data"]["attributes"])


def _fill(template: str, values: dict[str, object]) -> str:
    """The table's templates: ``{name}`` takes a value and nothing else is special, so ``${...}`` stays as is
    (the plugin's util.js fills them the same way)."""
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


@dataclass
class _Lint:
    """One file's lint: where its problems go, what the server knows, and the state rules share."""

    out: _Collector
    registry: ActionRegistry
    known_keys: set[str]
    field_types: FieldTypes
    rule: str = ""
    ids: dict[str, etree._Element] = field(default_factory=dict)
    process_ids: set[str] = field(default_factory=set)
    process: str = ""  # the id of the process being checked
    calls: dict[str, list[str]] = field(default_factory=dict)  # executable process -> the processes it calls
    budgets: Budgets = DEFAULT_BUDGETS

    @property
    def messages(self) -> dict[str, str]:
        return _RULE_DEFS[self.rule]["messages"]

    @property
    def data(self) -> dict[str, Any]:
        return _RULE_DEFS[self.rule].get("data", {})

    def apply(self, rules: list[LintRule], el: etree._Element) -> None:
        for rule in rules:
            self.rule = rule.id
            rule.check(self, el)

    def say(self, el: etree._Element, key: str, **values: object) -> None:
        self.out.add(el, _fill(self.messages[key], values))

    def say_expr(self, el: etree._Element, key: str, **values: object) -> None:
        self.out.add(el, _fill(LINT_TABLE["expression_messages"][key], values))

    def check_expr(self, el: etree._Element, text: str | None, what: str, template: bool = True) -> None:
        if text is None or not text.strip():
            self.say_expr(el, "empty", what=what)
            return
        try:
            if template:
                expressions.check_template(text)
            else:
                expressions.compile_expression(text)
        except expressions.ExpressionError as exc:
            self.say_expr(el, "invalid", what=what, text=text.strip()[:80], error=exc)


LintCheck = Callable[[_Lint, etree._Element], None]


@dataclass(frozen=True)
class LintRule:
    """A rule of the table and the function that checks one element for it."""

    id: str
    scope: str  # "*": every element of the file; "definitions": the root; else a BPMN tag, checked per process
    check: LintCheck


LINT_RULES: list[LintRule] = []


def _rule(rule_id: str, scope: str) -> Callable[[LintCheck], LintCheck]:
    def register(check: LintCheck) -> LintCheck:
        LINT_RULES.append(LintRule(rule_id, scope, check))
        return check
    return register


def _properties(el: etree._Element, name: str) -> list[etree._Element]:
    return [p for p in el.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS)
            if p.get("name") == name]


@_rule("duplicate-id", "*")
def _duplicate_id(lint: _Lint, el: etree._Element) -> None:
    eid = el.get("id")
    if eid is None or not el.tag.startswith(f"{{{BPMN}}}"):
        return
    if eid in lint.ids:
        lint.say(el, "duplicate", id=eid)
    lint.ids[eid] = el


@_rule("unsupported-elements", "*")
def _unsupported_element(lint: _Lint, el: etree._Element) -> None:
    if el.tag.startswith(f"{{{BPMN}}}") and _local(el) in lint.messages:
        lint.say(el, _local(el))


@_rule("unsupported-extensions", "*")
def _unsupported_extension(lint: _Lint, el: etree._Element) -> None:
    if el.tag.startswith(f"{{{CAMUNDA}}}") and _local(el) in lint.messages:
        lint.say(el, _local(el))


@_rule("delegate-attributes", "*")
def _delegate_attributes(lint: _Lint, el: etree._Element) -> None:
    if _local(el) in lint.data["allowed_on"]:
        return
    for attr in lint.data["attributes"]:
        if el.get(_q(attr, CAMUNDA)) is not None:
            lint.say(el, "refused", attribute=attr)


@_rule("executable-process", "definitions")
def _executable_process(lint: _Lint, root: etree._Element) -> None:
    if not any(p.get("isExecutable") == "true" for p in root.findall(_q("process"))):
        lint.say(root, "none")


# The per-process rules run grouped by the tag they check, in the order the tags first appear below.

@_rule("sequence-flow-refs", "sequenceFlow")
def _sequence_flow_refs(lint: _Lint, flow: etree._Element) -> None:
    for ref, end in lint.data["ends"].items():
        target = flow.get(ref)
        if not target or target not in lint.process_ids:
            lint.say(flow, "missing", end=end, ref=target)


@_rule("condition-expression", "sequenceFlow")
def _condition_expression(lint: _Lint, flow: etree._Element) -> None:
    cond = flow.find(_q("conditionExpression"))
    if cond is None:
        return
    text = (cond.text or "").strip()
    label = lint.data["label"]
    if expressions.is_template(text) and expressions.strip_braces(text) is None:
        lint.say_expr(cond, "not_whole", what=label, text=text)
    elif text and not expressions.is_template(text):
        lint.say(cond, "bare", text=text[:80])
    else:
        lint.check_expr(cond, expressions.strip_braces(text) or text, label, template=False)


@_rule("user-task-assignment", "userTask")
def _user_task_assignment(lint: _Lint, task: etree._Element) -> None:
    if not any(task.get(_q(a, CAMUNDA)) for a in lint.data["attributes"]):
        lint.say(task, "missing", name=task.get("name") or task.get("id"))


@_rule("assignment-attributes", "userTask")
def _assignment_attributes(lint: _Lint, task: etree._Element) -> None:
    kinds = lint.data["literal_kinds"]
    for attr in lint.data["attributes"]:
        value = task.get(_q(attr, CAMUNDA))
        if not value:
            continue
        lint.check_expr(task, value, f"camunda:{attr}")
        if attr in kinds and not expressions.is_template(value):
            try:
                _parse_assignment_literal(attr, value.strip())
            except Exception:  # noqa: BLE001 - any parse failure is the designer's literal
                lint.say(task, "bad_literal", attribute=attr, value=value, kind=kinds[attr])


@_rule("form-fields", "*")
def _form_fields(lint: _Lint, task: etree._Element) -> None:
    """User tasks' forms and start forms (a start event's camunda:formData)."""
    if task.tag not in (_q("userTask"), _q("startEvent")):
        return
    seen: set[str] = set()
    for f in task.iterfind(".//camunda:formData/camunda:formField", NS):
        fid = f.get("id") or ""
        if not _IDENT.match(fid) or fid in lint.data["reserved_ids"]:
            lint.say(f, "bad_id", field=fid)
            continue
        if fid in seen:
            lint.say(f, "duplicate_id", field=fid)
        seen.add(fid)
        _form_field_type(lint, f, fid)
        _form_field_constraints(lint, f, fid)


def _form_field_type(lint: _Lint, f: etree._Element, fid: str) -> None:
    ftype = f.get("type") or lint.data["default_type"]
    if ftype not in lint.field_types:
        lint.say(f, "bad_type", field=fid, type=ftype, available=", ".join(lint.field_types.names()))
    if ftype in ("enum", "enums") and not f.findall(_q("value", CAMUNDA)):
        lint.say(f, "enum_without_values", field=fid)


def _form_field_constraints(lint: _Lint, f: etree._Element, fid: str) -> None:
    for c in f.iterfind("camunda:validation/camunda:constraint", NS):
        name = c.get("name") or ""
        if name not in lint.data["constraints"]:
            lint.say(c, "unknown_constraint", field=fid, constraint=name)
        elif name in lint.data["numeric_constraints"]:
            try:
                float(c.get("config") or "")
            except ValueError:
                lint.say(c, "constraint_not_number", field=fid, constraint=name)


@_rule("on-complete-action", "userTask")
def _on_complete_action(lint: _Lint, task: etree._Element) -> None:
    for p in _properties(task, lint.data["property"]):
        if (p.get("value") or "") not in lint.registry:
            lint.say(p, "unregistered", action=p.get("value"))


@_rule("service-task-action", "serviceTask")
def _service_task_action(lint: _Lint, svc: etree._Element) -> None:
    topic = svc.get(_q("topic", CAMUNDA))
    if svc.get(_q("type", CAMUNDA)) != "external" or not topic:
        lint.say(svc, "not_external")
    elif topic not in lint.registry:
        lint.say(svc, "unregistered", topic=topic)


@_rule("timer-definition", "timerEventDefinition")
def _timer_definition(lint: _Lint, timer: etree._Element) -> None:
    for kind, label in lint.data["labels"].items():
        node = timer.find(_q(kind))
        if node is not None:
            _timer_value(lint, node, kind, label)
            return
    lint.say(timer, "missing")


def _timer_value(lint: _Lint, node: etree._Element, kind: str, label: str) -> None:
    text = (node.text or "").strip()
    if not text:
        lint.say_expr(node, "empty", what=label)
    elif expressions.is_template(text):
        if expressions.strip_braces(text) is None:
            lint.say_expr(node, "not_whole", what=label, text=text)
        else:
            lint.check_expr(node, text, label)
    else:
        try:
            _parse_timer_literal(kind, text)
        except Exception:  # noqa: BLE001 - any parse failure is the designer's literal
            lint.say(node, "cron" if kind == "timeCycle" and is_cron(text) else "not_iso", what=label, text=text)


# Camunda's timeCycle also takes Quartz cron ("0 0 9 ? * MON-FRI"): five to seven fields separated by spaces.
_CRON = re.compile(r"(\S+\s+){4,6}\S+")


def is_cron(text: str) -> bool:
    return bool(_CRON.fullmatch(text.strip()))


@_rule("multi-instance-variables", "multiInstanceLoopCharacteristics")
def _multi_instance_variables(lint: _Lint, mi: etree._Element) -> None:
    for attr in lint.messages:  # collection, elementVariable
        value = mi.get(_q(attr, CAMUNDA))
        if value is not None and not _IDENT.match(value):
            lint.say(mi, attr, value=value)


@_rule("multi-instance-expressions", "multiInstanceLoopCharacteristics")
def _multi_instance_expressions(lint: _Lint, mi: etree._Element) -> None:
    for tag, label in lint.data["labels"].items():
        node = mi.find(_q(tag))
        if node is not None:
            text = (node.text or "").strip()
            lint.check_expr(node, expressions.strip_braces(text) or text, label, template=False)


@_rule("call-activity-target", "callActivity")
def _call_activity_target(lint: _Lint, ca: etree._Element) -> None:
    called = ca.get("calledElement")
    if not called:
        lint.say(ca, "missing")
    elif called not in lint.known_keys:
        lint.say(ca, "unknown", called=called)


# Execution budgets (engine/budgets.py) where the diagram shows them: literal loop cardinalities, cycles in the
# call graph, timer periods. What depends on data is checked at run time.

_WHOLE_NUMBER = re.compile(r"[0-9]+")
_SECONDS = {"years": 365 * 86400, "months": 30 * 86400, "weeks": 7 * 86400, "days": 86400, "hours": 3600,
            "minutes": 60, "seconds": 1}


@_rule("multi-instance-size", "multiInstanceLoopCharacteristics")
def _multi_instance_size(lint: _Lint, mi: etree._Element) -> None:
    node = mi.find(_q("loopCardinality"))
    text = (node.text or "").strip() if node is not None else ""
    body = expressions.strip_braces(text) or text
    limit = lint.budgets.max_multi_instance
    if node is not None and _WHOLE_NUMBER.fullmatch(body) and int(body) > limit:
        lint.say(node, "too_many", value=body, limit=limit)


def literal_period_seconds(kind: str, text: str) -> float | None:
    """The length of a literal duration or of a cycle's period (months as 30 days, years as 365), or None
    when the text is no such literal. The modeler's plugin (iso.js periodSeconds) computes the same."""
    try:
        _parse_timer_literal(kind, text)
        if kind == "timeCycle":
            parts = text.upper().replace("--", "/").strip("R").split("/")[1:]
            text = next((p for p in parts if p.startswith("P")), "")
        parsed = TimerEventDefinition.parse_iso_duration(text) if text else None
    except Exception:  # noqa: BLE001 - not a literal the engine reads: timer-definition reports it
        return None
    if not parsed:
        return None
    return sum(float(v) * _SECONDS[k] for k, v in parsed.items() if k in _SECONDS)


@_rule("timer-floor", "timerEventDefinition")
def _timer_floor(lint: _Lint, timer: etree._Element) -> None:
    # the first of timeDate, timeDuration, timeCycle present counts (as in timer-definition)
    node = next((n for k in ("timeDate", "timeDuration", "timeCycle") if (n := timer.find(_q(k))) is not None), None)
    if node is None or _local(node) not in lint.data["labels"]:
        return
    text = (node.text or "").strip()
    if not text or expressions.is_template(text):
        return
    seconds = literal_period_seconds(_local(node), text)
    floor = lint.budgets.min_timer_seconds
    if seconds is not None and seconds < floor:
        lint.say(node, "too_short", what=lint.data["labels"][_local(node)], text=text, floor=floor)


def call_path(calls: dict[str, list[str]], start: str, goal: str) -> list[str] | None:
    """The shortest chain of calls from ``start`` to ``goal`` (breadth first, callees in sorted order, so the
    modeler's plugin finds the same one), or None."""
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        if node == goal:
            path = [node]
            while (before := previous[path[-1]]) is not None:
                path.append(before)
            return path[::-1]
        for callee in sorted(set(calls.get(node, []))):
            if callee not in previous:
                previous[callee] = node
                queue.append(callee)
    return None


def call_graph(trees: list[etree._ElementTree]) -> dict[str, list[str]]:
    """Executable process -> the processes its call activities (at any depth) call."""
    return {p.get("id") or "": sorted({ca.get("calledElement") or "" for ca in p.iter(_q("callActivity"))} - {""})
            for t in trees for p in t.getroot().findall(_q("process")) if p.get("isExecutable") == "true"}


@_rule("call-cycle", "callActivity")
def _call_cycle(lint: _Lint, ca: etree._Element) -> None:
    called = ca.get("calledElement")
    if not called or not lint.process:
        return
    path = call_path(lint.calls, called, lint.process)
    if path is not None:
        lint.say(ca, "cycle", called=called, path=" → ".join([lint.process, *path]))


@_rule("starter-groups", "startEvent")
def _starter_groups(lint: _Lint, ev: etree._Element) -> None:
    for p in _properties(ev, lint.data["property"]):
        if not (p.get("value") or "").strip():
            lint.say(p, "empty")


# Camunda 7's dialect (engine/dialect.py rewrites what it can; these refuse what it cannot, with the reason).

@_rule("element-ids", "*")
def _element_ids(lint: _Lint, el: etree._Element) -> None:
    if not el.tag.startswith(f"{{{BPMN}}}"):
        return
    local = _local(el)
    if local in lint.data["flow_nodes"] and not el.get("id"):
        lint.say(el, "missing", kind=local)
    limit = lint.data["max_process_id"]
    if local == "process" and len(el.get("id") or "") > limit:
        lint.say(el, "too_long", id=el.get("id"), max=limit)


@_rule("link-events", "linkEventDefinition")
def _link_events(lint: _Lint, link: etree._Element) -> None:
    event, name = link.getparent(), (link.get("name") or "").strip()
    if not name:
        lint.say(link, "no_name")
        return
    scope = event.getparent()
    catches = [ev for ev in dialect.link_events(scope, "intermediateCatchEvent") if dialect.link_name(ev) == name]
    if _local(event) == "intermediateThrowEvent" and not catches:
        lint.say(link, "no_catch", name=name)
    elif _local(event) == "intermediateCatchEvent" and catches.index(event) > 0:
        lint.say(link, "duplicate_catch", name=name)


@_rule("message-events", "*")
def _message_events(lint: _Lint, el: etree._Element) -> None:
    local = _local(el) if el.tag.startswith(f"{{{BPMN}}}") else ""
    if local == "receiveTask":
        if el.get("messageRef") is None:
            lint.say(el, "receive_without_message", name=el.get("name") or el.get("id"))
        else:
            _message_ref(lint, el)
    elif local == "messageEventDefinition":
        parent = el.getparent()
        if parent is not None and _local(parent) in lint.data["catching"]:
            _message_ref(lint, el)
        else:
            for attr in lint.data["implementation"]:
                if el.get(_q(attr, CAMUNDA)) is not None:
                    lint.say(el, "throw_implementation", attribute=attr)


def _message_ref(lint: _Lint, el: etree._Element) -> None:
    ref = el.get("messageRef")
    if not ref:
        lint.say(el, "no_message")
        return
    root = el.getroottree().getroot()
    if not any(m.get("id") == ref and (m.get("name") or "").strip() for m in root.findall(_q("message"))):
        lint.say(el, "unknown_message", ref=ref)


@_rule("unsupported-events", "*")
def _unsupported_events(lint: _Lint, el: etree._Element) -> None:
    if not el.tag.startswith(f"{{{BPMN}}}"):
        return
    local, parent = _local(el), el.getparent()
    if local in lint.messages:
        lint.say(el, local)
    if el.get("isForCompensation") == "true":
        lint.say(el, "isForCompensation")
    owner = _local(parent) if parent is not None else ""
    if local == "signalEventDefinition" and owner in ("intermediateThrowEvent", "endEvent"):
        lint.say(el, "signal_throw")
    if local in ("errorEventDefinition", "escalationEventDefinition") and owner == "startEvent":
        scope = parent.getparent()
        if scope is not None and scope.get("triggeredByEvent") == "true":
            lint.say(el, "event_subprocess")


@_rule("form-key", "*")
def _form_key(lint: _Lint, el: etree._Element) -> None:
    for attr in lint.data["attributes"]:
        if el.get(_q(attr, CAMUNDA)) is not None:
            lint.say(el, "refused", attribute=attr)


def _lint(tree: etree._ElementTree, out: _Collector, registry: ActionRegistry, known_keys: set[str],
          field_types: FieldTypes, calls: dict[str, list[str]] | None = None,
          budgets: Budgets = DEFAULT_BUDGETS) -> None:
    """Every rule of LINT_RULES, reporting in a fixed order: each element of the file in document order, then
    the definitions, then per process the elements of each checked tag. ``calls`` is the call graph of the
    batch and the deployed processes (default: this file's)."""
    root = tree.getroot()
    lint = _Lint(out, registry, known_keys, field_types, calls=call_graph([tree]) if calls is None else calls,
                 budgets=budgets)
    by_scope: dict[str, list[LintRule]] = {}
    for rule in LINT_RULES:
        by_scope.setdefault(rule.scope, []).append(rule)
    every, definitions = by_scope.pop("*", []), by_scope.pop("definitions", [])
    for el in root.iter():
        if isinstance(el.tag, str):
            lint.apply(every, el)
    lint.apply(definitions, root)
    for proc in root.findall(_q("process")):
        lint.process_ids = {el.get("id") for el in proc.iter() if isinstance(el.tag, str) and el.get("id")}
        lint.process = proc.get("id") or ""
        for tag, rules in by_scope.items():
            for el in proc.iter(_q(tag)):
                lint.apply(rules, el)


def _normalize(tree: etree._ElementTree) -> list[dialect.Ignored]:
    """Rewrite Camunda-isms into what the engine runs (engine/dialect.py) and the expression bodies it
    evaluates. Returns what was dropped because Camunda 7 does not execute it either."""
    root = tree.getroot()
    ignored = dialect.lower(root)
    for cond in root.iter(_q("conditionExpression"), _q("loopCardinality"), _q("completionCondition")):
        text = (cond.text or "").strip()
        cond.text = expressions.strip_braces(text) or text
    for tag in ("timeDate", "timeDuration", "timeCycle"):
        for node in root.iter(_q(tag)):
            text = (node.text or "").strip()
            body = expressions.strip_braces(text)
            node.text = body if body is not None else json.dumps(text)
    return ignored


def _start_events(proc: etree._Element) -> list[StartEventInfo]:
    root = proc.getroottree().getroot()
    result = []
    for ev in proc.findall(_q("startEvent")):
        kind, message = "none", None
        md = ev.find(_q("messageEventDefinition"))
        if md is not None:
            kind = "message"
            ref = md.get("messageRef")
            names = {m.get("id"): m.get("name") for m in root.findall(_q("message"))}
            message = names.get(ref)
        elif ev.find(_q("timerEventDefinition")) is not None:
            kind = "timer"
        elif (sd := ev.find(_q("signalEventDefinition"))) is not None:
            kind = "signal"
            signals = {sig.get("id"): sig.get("name") for sig in root.findall(_q("signal"))}
            message = signals.get(sd.get("signalRef"))
        groups = None
        for p in _properties(ev, "starterGroups"):
            groups = _split(p.get("value"))
        result.append(StartEventInfo(ev.get("id") or "", ev.get("name") or "", kind, message, groups,
                                     form_from_xml(ev).as_list(), ev.get(_q("initiator", CAMUNDA))))
    return result


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def _line_of(tree: etree._ElementTree, element_id: str | None) -> int | None:
    if not element_id:
        return None
    found = tree.getroot().xpath("//*[@id=$i]", i=element_id)
    return found[0].sourceline if found else None


def load(
    sources: list[SourceFile],
    registry: ActionRegistry,
    deployed_xml: dict[str, tuple[str, str]] | None = None,
    field_types: FieldTypes | None = None,
    budgets: Budgets = DEFAULT_BUDGETS,
) -> list[LoadedProcess]:
    """Check and parse a batch of files. ``deployed_xml`` maps already deployed process keys to
    (file name, XML) so call activities can reach them; ``budgets`` give the limits checked at deploy.
    Raises DeployError listing every problem."""
    deployed_xml = deployed_xml or {}
    field_types = field_types or generic_field_types()
    trees, problems = _check(sources, registry, deployed_xml, field_types, budgets)
    if problems:
        raise DeployError(problems)

    originals = {src.name: src.data.decode("utf-8") for src, _ in trees}
    ignored: dict[str, list[dialect.Ignored]] = {}
    parser = _parser(trees, deployed_xml, ignored)
    serializer = make_serializer()
    loaded: list[LoadedProcess] = []
    for src, tree in trees:
        for proc in tree.getroot().findall(_q("process")):
            if proc.get("isExecutable") != "true":
                continue
            try:
                state = _parse_process(parser, serializer, proc.get("id") or "")
            except ValidationException as exc:
                eid = getattr(exc, "id", None)
                problems.append(Problem(exc.file_name or src.name, _line_of(tree, eid), eid,
                                        f"流程解析失败：{_spiff_message(exc)}"))
                continue
            except Exception:  # noqa: BLE001 - report, never crash on a hostile diagram
                problems.append(Problem(src.name, proc.sourceline, proc.get("id") or "",
                                        "流程解析失败：引擎无法解析此流程（未知原因），请检查其中不常用的元素"))
                continue
            loaded.append(_loaded(src, proc, originals[src.name], state, ignored.get(src.name, [])))
    if problems:
        raise DeployError(problems)
    return loaded


def _executable_keys(trees: list[tuple[SourceFile, etree._ElementTree]]) -> set[str | None]:
    return {p.get("id") for _, t in trees for p in t.getroot().findall(_q("process"))
            if p.get("isExecutable") == "true"}


def _check(
    sources: list[SourceFile],
    registry: ActionRegistry,
    deployed_xml: dict[str, tuple[str, str]],
    field_types: FieldTypes,
    budgets: Budgets = DEFAULT_BUDGETS,
) -> tuple[list[tuple[SourceFile, etree._ElementTree]], list[Problem]]:
    """Parse, validate and lint every file; the trees that parsed, and every problem found."""
    problems: list[Problem] = []
    trees: list[tuple[SourceFile, etree._ElementTree]] = []
    for src in sources:
        out = _Collector(src.name)
        tree = parse_xml(src, out)
        if tree is not None:
            _check_xsd(tree, out)
            trees.append((src, tree))
        problems.extend(out.problems)
    known = _executable_keys(trees) | set(deployed_xml)
    calls = _deployed_calls(deployed_xml, _executable_keys(trees)) | call_graph([t for _, t in trees])
    for src, tree in trees:
        out = _Collector(src.name)
        _lint(tree, out, registry, {k for k in known if k}, field_types, calls, budgets)
        problems.extend(out.problems)
    return trees, problems


def _deployed_calls(deployed_xml: dict[str, tuple[str, str]], replaced: set[str | None]) -> dict[str, list[str]]:
    """The call graph of the deployed processes the batch does not replace."""
    graph: dict[str, list[str]] = {}
    for key, (fname, xml) in deployed_xml.items():
        tree = parse_xml(SourceFile(fname, xml.encode()), _Collector(fname)) if key not in replaced else None
        if tree is not None:
            graph.update({k: v for k, v in call_graph([tree]).items() if k == key})
    return graph


def _parser(trees: list[tuple[SourceFile, etree._ElementTree]], deployed_xml: dict[str, tuple[str, str]],
            ignored: dict[str, list[dialect.Ignored]] | None = None) -> AppParser:
    """A parser holding the batch (normalized in place) and the deployed processes the batch does not replace;
    ``ignored`` receives, per file of the batch, what normalization dropped."""
    batch_keys = _executable_keys(trees)
    parser = AppParser()
    for src, tree in trees:
        dropped = _normalize(tree)
        if ignored is not None:
            ignored[src.name] = dropped
        parser.add_bpmn_xml(tree, filename=src.name)
    for key, (fname, xml) in deployed_xml.items():
        if key in batch_keys:
            continue
        dep = _Collector(fname)
        dep_tree = parse_xml(SourceFile(fname, xml.encode()), dep)
        if dep_tree is not None:
            _normalize(dep_tree)
            parser.add_bpmn_xml(dep_tree, filename=fname)
    return parser


def _parse_process(parser: AppParser, serializer: Any, key: str) -> dict[str, Any]:
    spec = parser.get_spec(key)
    subs = parser.get_subprocess_specs(key)
    wf = BpmnWorkflow(spec, subs)
    return json.loads(serializer.serialize_json(wf))


def _loaded(src: SourceFile, proc: etree._Element, xml: str, state: dict[str, Any],
            ignored: list[dialect.Ignored]) -> LoadedProcess:
    key = proc.get("id") or ""
    spec_blob = {"spec": state["spec"], "subprocess_specs": state["subprocess_specs"]}
    blob_text = json.dumps(spec_blob, sort_keys=True, ensure_ascii=False)
    return LoadedProcess(
        key=key,
        name=proc.get("name") or key,
        file=src.name,
        xml=xml,
        source_sha=hashlib.sha256(xml.encode()).hexdigest(),
        starter_groups=_split(proc.get(_q("candidateStarterGroups", CAMUNDA))),
        start_events=_start_events(proc),
        called=sorted({ca.get("calledElement") or "" for ca in proc.iter(_q("callActivity"))}),
        spec=spec_blob,
        spec_sha=hashlib.sha256(blob_text.encode()).hexdigest(),
        warnings=[Problem(src.name, i.line, i.element_id, IGNORED_WARNING.format(what=i.what)) for i in ignored],
        principals=literal_principals(proc),
    )


def literal_principals(proc: etree._Element) -> list[tuple[str | None, int | None, str, str]]:
    """Who the process's user tasks name without an expression (templates are resolved only at run time)."""
    found = []
    for task in proc.iter(_q("userTask")):
        for attr, kind in (("assignee", "user"), ("candidateUsers", "user"), ("candidateGroups", "group")):
            for name in _split(task.get(_q(attr, CAMUNDA))):
                if not expressions.is_template(name):
                    found.append((task.get("id"), task.sourceline, kind, name))
    return found


IGNORED_WARNING = "已忽略 bpmn:{what}：Camunda 7 不执行数据对象、数据存储及其关联，本引擎同样不执行"


_SPIFF_MESSAGES = {
    "When looking for a task spec, we found two items": "顺序流指向的元素不存在或标识重复",
    "No start event found": "流程没有开始事件",
    "Non-default exclusive outgoing sequence flow without condition": "排他网关的非默认分支缺少条件",
    "There is no support implemented for this task type": "不支持该类型的元素",
    "is not executable": "流程不可执行",
    "must specify a cardinality or a collection": "多实例活动须设置 camunda:collection 或循环次数（loopCardinality）",
}


def _spiff_message(exc: ValidationException) -> str:
    text = str(exc).split("\n")[0]
    for needle, chinese in _SPIFF_MESSAGES.items():
        if needle in text:
            return chinese
    return text
