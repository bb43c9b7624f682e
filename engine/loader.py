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
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine import expressions
from engine.actions import ActionRegistry
from engine.errors import DeployError, Problem
from engine.forms import FIELD_TYPES, KNOWN_CONSTRAINTS
from engine.specs import AppParser, make_serializer

MAX_BPMN_BYTES = 2_000_000

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN, "camunda": CAMUNDA}

_HARDENED = dict(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                 huge_tree=False, remove_comments=True, remove_pis=True)
_IDENT = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
_FORBIDDEN_TAGS = {
    "scriptTask": "不允许脚本任务（scriptTask）：请改用服务任务并选择已登记的动作",
    "businessRuleTask": "不支持业务规则任务（businessRuleTask）",
    "sendTask": "不支持发送任务（sendTask）",
    "complexGateway": "不支持复杂网关（complexGateway）",
    "transaction": "不支持事务子流程（transaction）",
}
_FORBIDDEN_CAMUNDA = {
    "script": "不允许脚本（camunda:script）",
    "taskListener": "不支持任务监听器：完成任务时的动作请用 onComplete 属性",
    "executionListener": "不支持执行监听器",
    "inputOutput": "不支持 camunda:inputOutput 输入输出映射",
    "in": "不支持 camunda:in 变量映射",
    "out": "不支持 camunda:out 变量映射",
    "connector": "不支持 camunda:connector",
}
_FORBIDDEN_CAMUNDA_ATTRS = ("class", "expression", "delegateExpression", "resultVariable", "resource")
ASSIGNMENT_ATTRS = ("assignee", "candidateGroups", "candidateUsers", "dueDate", "followUpDate", "priority")


@dataclass
class SourceFile:
    name: str
    data: bytes


@dataclass
class StartEventInfo:
    id: str
    name: str
    kind: str  # none | message | timer
    message: str | None = None
    starter_groups: list[str] | None = None


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
    data = source.data
    if len(data) > MAX_BPMN_BYTES:
        out.add(None, f"文件过大：{len(data) / 1_000_000:.1f} MB，上限 {MAX_BPMN_BYTES // 1_000_000} MB")
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
    if root.tag != _q("definitions"):
        out.add(root, "根元素必须是 BPMN 2.0 的 bpmn:definitions")
        return None
    return tree


def _check_xsd(tree: etree._ElementTree, out: _Collector) -> None:
    schema = _xsd()
    if not schema.validate(tree):
        for err in list(schema.error_log)[:20]:
            msg = re.sub(r"\{[^}]*\}", "", err.message)
            out.problems.append(Problem(out.file, err.line, None, f"不符合 BPMN 2.0 规范：{msg}"))


def _check_expr(out: _Collector, el: etree._Element, text: str | None, what: str, template: bool = True) -> None:
    if text is None or not text.strip():
        out.add(el, f"{what}为空")
        return
    try:
        if template:
            expressions.check_template(text)
        else:
            expressions.compile_expression(text)
    except expressions.ExpressionError as exc:
        out.add(el, f"{what}“{text.strip()[:80]}”无效：{exc}")


def _check_timer(out: _Collector, el: etree._Element) -> None:
    for kind in ("timeDate", "timeDuration", "timeCycle"):
        node = el.find(_q(kind))
        if node is None:
            continue
        text = (node.text or "").strip()
        label = {"timeDate": "定时日期", "timeDuration": "定时时长", "timeCycle": "循环定时"}[kind]
        if not text:
            out.add(node, f"{label}为空")
        elif expressions.is_template(text):
            if expressions.strip_braces(text) is None:
                out.add(node, f"{label}“{text}”必须是一个完整的 ${{...}} 表达式")
            else:
                _check_expr(out, node, text, label)
        else:
            try:
                _parse_timer_literal(kind, text)
            except Exception:  # noqa: BLE001 - any parse failure is the designer's literal
                out.add(node, f"{label}“{text}”不是有效的 ISO 8601 值")
        return
    out.add(el, "定时事件缺少 timeDate、timeDuration 或 timeCycle")


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


def _check_form(out: _Collector, task: etree._Element, registry: ActionRegistry) -> None:
    seen: set[str] = set()
    for f in task.iterfind(".//camunda:formData/camunda:formField", NS):
        fid = f.get("id") or ""
        if not _IDENT.match(fid) or fid in {"typename", "initiator", "initiator_unit"}:
            out.add(f, f"表单字段标识“{fid}”无效：须以字母开头，只含字母、数字、下划线，且不能是保留名")
            continue
        if fid in seen:
            out.add(f, f"表单字段标识“{fid}”重复")
        seen.add(fid)
        ftype = f.get("type") or "string"
        if ftype not in FIELD_TYPES:
            out.add(f, f"表单字段“{fid}”的类型“{ftype}”不受支持（可用：{', '.join(sorted(FIELD_TYPES))}）")
        if ftype == "enum" and not f.findall(_q("value", CAMUNDA)):
            out.add(f, f"枚举字段“{fid}”没有可选值")
        for c in f.iterfind("camunda:validation/camunda:constraint", NS):
            name = c.get("name") or ""
            if name not in KNOWN_CONSTRAINTS:
                out.add(c, f"表单字段“{fid}”的校验规则“{name}”不受支持")
            elif name in {"minlength", "maxlength", "min", "max"}:
                try:
                    float(c.get("config") or "")
                except ValueError:
                    out.add(c, f"表单字段“{fid}”的校验规则 {name} 需要数字参数")
    for p in task.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS):
        if p.get("name") == "onComplete" and (p.get("value") or "") not in registry:
            out.add(p, f"完成动作“{p.get('value')}”未登记")


def _lint(tree: etree._ElementTree, out: _Collector, registry: ActionRegistry, known_keys: set[str]) -> None:
    root = tree.getroot()
    ids: dict[str, etree._Element] = {}
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        eid = el.get("id")
        if eid is not None and el.tag.startswith(f"{{{BPMN}}}"):
            if eid in ids:
                out.add(el, f"元素标识“{eid}”重复")
            ids[eid] = el
        ln = _local(el)
        if el.tag.startswith(f"{{{BPMN}}}") and ln in _FORBIDDEN_TAGS:
            out.add(el, _FORBIDDEN_TAGS[ln])
        if el.tag.startswith(f"{{{CAMUNDA}}}") and ln in _FORBIDDEN_CAMUNDA:
            out.add(el, _FORBIDDEN_CAMUNDA[ln])
        for attr in _FORBIDDEN_CAMUNDA_ATTRS:
            if el.get(_q(attr, CAMUNDA)) is not None and ln != "formField":
                out.add(el, f"不允许使用 camunda:{attr}：自动步骤请用 camunda:type=\"external\" 与已登记的动作")

    processes = root.findall(_q("process"))
    if not any(p.get("isExecutable") == "true" for p in processes):
        out.add(root, "文件中没有可执行的流程（isExecutable=\"true\"）")
    for proc in processes:
        flow_ids = {el.get("id") for el in proc.iter() if isinstance(el.tag, str) and el.get("id")}
        for flow in proc.iter(_q("sequenceFlow")):
            for ref, label in (("sourceRef", "起点"), ("targetRef", "终点")):
                target = flow.get(ref)
                if not target or target not in flow_ids:
                    out.add(flow, f"顺序流的{label}“{target}”在流程中不存在")
            cond = flow.find(_q("conditionExpression"))
            if cond is not None:
                text = (cond.text or "").strip()
                if expressions.is_template(text) and expressions.strip_braces(text) is None:
                    out.add(cond, f"条件“{text}”必须是一个完整的 ${{...}} 表达式")
                else:
                    _check_expr(out, cond, expressions.strip_braces(text) or text, "条件", template=False)
        for task in proc.iter(_q("userTask")):
            attrs = {a: task.get(_q(a, CAMUNDA)) for a in ASSIGNMENT_ATTRS}
            if not (attrs["assignee"] or attrs["candidateGroups"] or attrs["candidateUsers"]):
                out.add(task, f"用户任务“{task.get('name') or task.get('id')}”没有指定办理人或候选组")
            for a, v in attrs.items():
                if v:
                    _check_expr(out, task, v, f"camunda:{a}")
                if v and a in ("dueDate", "followUpDate", "priority") and not expressions.is_template(v):
                    try:
                        _parse_assignment_literal(a, v.strip())
                    except Exception:  # noqa: BLE001 - any parse failure is the designer's literal
                        kind = "整数" if a == "priority" else "ISO 8601 日期、日期时间或时长"
                        out.add(task, f"camunda:{a}“{v}”不是有效的{kind}")
            _check_form(out, task, registry)
        for svc in proc.iter(_q("serviceTask")):
            topic = svc.get(_q("topic", CAMUNDA))
            if svc.get(_q("type", CAMUNDA)) != "external" or not topic:
                out.add(svc, "服务任务须设置 camunda:type=\"external\" 和 camunda:topic（已登记的动作名）")
            elif topic not in registry:
                out.add(svc, f"动作“{topic}”未登记")
        for timer in proc.iter(_q("timerEventDefinition")):
            _check_timer(out, timer)
        for mi in proc.iter(_q("multiInstanceLoopCharacteristics")):
            coll = mi.get(_q("collection", CAMUNDA))
            if coll is not None and not _IDENT.match(coll):
                out.add(mi, f"多实例集合“{coll}”须是变量名（不要写成 ${{...}}）")
            var = mi.get(_q("elementVariable", CAMUNDA))
            if var is not None and not _IDENT.match(var):
                out.add(mi, f"多实例元素变量“{var}”须是变量名")
            for tag, label in (("loopCardinality", "循环次数"), ("completionCondition", "完成条件")):
                node = mi.find(_q(tag))
                if node is not None:
                    text = (node.text or "").strip()
                    _check_expr(out, node, expressions.strip_braces(text) or text, label, template=False)
        for ca in proc.iter(_q("callActivity")):
            called = ca.get("calledElement")
            if not called:
                out.add(ca, "调用活动缺少 calledElement")
            elif called not in known_keys:
                out.add(ca, f"调用活动的目标流程“{called}”不存在")
        for ev in proc.iter(_q("startEvent")):
            for p in ev.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS):
                if p.get("name") == "starterGroups" and not (p.get("value") or "").strip():
                    out.add(p, "starterGroups 不能为空")


def _normalize(tree: etree._ElementTree) -> None:
    """Rewrite Camunda-isms into the expression bodies the engine evaluates."""
    root = tree.getroot()
    for cond in root.iter(_q("conditionExpression"), _q("loopCardinality"), _q("completionCondition")):
        text = (cond.text or "").strip()
        cond.text = expressions.strip_braces(text) or text
    for tag in ("timeDate", "timeDuration", "timeCycle"):
        for node in root.iter(_q(tag)):
            text = (node.text or "").strip()
            body = expressions.strip_braces(text)
            node.text = body if body is not None else json.dumps(text)


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
        groups = None
        for p in ev.iterfind("bpmn:extensionElements/camunda:properties/camunda:property", NS):
            if p.get("name") == "starterGroups":
                groups = _split(p.get("value"))
        result.append(StartEventInfo(ev.get("id") or "", ev.get("name") or "", kind, message, groups))
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
) -> list[LoadedProcess]:
    """Check and parse a batch of files. ``deployed_xml`` maps already deployed process keys to
    (file name, XML) so call activities can reach them. Raises DeployError listing every problem."""
    deployed_xml = deployed_xml or {}
    problems: list[Problem] = []
    trees: list[tuple[SourceFile, etree._ElementTree]] = []
    for src in sources:
        out = _Collector(src.name)
        tree = parse_xml(src, out)
        if tree is not None:
            _check_xsd(tree, out)
            trees.append((src, tree))
        problems.extend(out.problems)
    batch_keys = {p.get("id") for _, t in trees for p in t.getroot().findall(_q("process"))
                  if p.get("isExecutable") == "true"}
    known = batch_keys | set(deployed_xml)
    for src, tree in trees:
        out = _Collector(src.name)
        _lint(tree, out, registry, {k for k in known if k})
        problems.extend(out.problems)
    if problems:
        raise DeployError(problems)

    originals = {src.name: src.data.decode("utf-8") for src, _ in trees}
    parser = AppParser()
    for src, tree in trees:
        _normalize(tree)
        parser.add_bpmn_xml(tree, filename=src.name)
    for key, (fname, xml) in deployed_xml.items():
        if key in batch_keys:
            continue
        dep = _Collector(fname)
        dep_tree = parse_xml(SourceFile(fname, xml.encode()), dep)
        if dep_tree is not None:
            _normalize(dep_tree)
            parser.add_bpmn_xml(dep_tree, filename=fname)

    serializer = make_serializer()
    loaded: list[LoadedProcess] = []
    for src, tree in trees:
        for proc in tree.getroot().findall(_q("process")):
            key = proc.get("id") or ""
            if proc.get("isExecutable") != "true":
                continue
            try:
                spec = parser.get_spec(key)
                subs = parser.get_subprocess_specs(key)
                wf = BpmnWorkflow(spec, subs)
                state = json.loads(serializer.serialize_json(wf))
            except ValidationException as exc:
                eid = getattr(exc, "id", None)
                problems.append(Problem(exc.file_name or src.name, _line_of(tree, eid), eid,
                                        f"流程解析失败：{_spiff_message(exc)}"))
                continue
            except Exception as exc:  # noqa: BLE001 - report, never crash on a hostile diagram
                problems.append(Problem(src.name, None, key, f"流程解析失败：{type(exc).__name__}: {exc}"))
                continue
            spec_blob = {"spec": state["spec"], "subprocess_specs": state["subprocess_specs"]}
            blob_text = json.dumps(spec_blob, sort_keys=True, ensure_ascii=False)
            xml = originals[src.name]
            loaded.append(LoadedProcess(
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
            ))
    if problems:
        raise DeployError(problems)
    return loaded


_SPIFF_MESSAGES = {
    "When looking for a task spec, we found two items": "顺序流指向的元素不存在或标识重复",
    "No start event found": "流程没有开始事件",
    "Non-default exclusive outgoing sequence flow without condition": "排他网关的非默认分支缺少条件",
    "There is no support implemented for this task type": "不支持该类型的元素",
    "is not executable": "流程不可执行",
}


def _spiff_message(exc: ValidationException) -> str:
    text = str(exc).split("\n")[0]
    for needle, chinese in _SPIFF_MESSAGES.items():
        if needle in text:
            return chinese
    return text
