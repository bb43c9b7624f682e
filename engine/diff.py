"""A readable difference between two versions of a diagram: which flow elements were added, removed or
changed, matched by id, with a short Chinese description of each change.

Only the semantics count: layout (BPMN DI), the order of elements and whitespace do not. Each "diffable"
element (a process, a flow node, a sequence flow, a lane, a participant, a message flow) is compared by its
attributes and the content that belongs to it (documentation, conditions, timers, forms, properties,
assignment), leaving out nested diffable elements (a sub-process is changed only if its own settings are).
The XML is parsed the same hardened way as on deploy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.loader import BPMN, CAMUNDA, SourceFile, _Collector, parse_xml

_CONTAINERS = {"process", "subProcess", "transaction", "adHocSubProcess", "laneSet", "lane", "collaboration",
               "definitions", "childLaneSet"}
_SKIP_CHILDREN = {"incoming", "outgoing"}
_LANE_SETS = {"laneSet", "childLaneSet"}
_NOT_DIFFABLE = {"laneSet", "childLaneSet", "definitions", "collaboration", "extensionElements", "documentation",
                 "conditionExpression", "multiInstanceLoopCharacteristics", "standardLoopCharacteristics",
                 "message", "signal", "error", "escalation", "category", "categoryValue"}
TYPE_LABELS = {
    "process": "流程", "participant": "参与者（池）", "lane": "泳道", "messageFlow": "消息流",
    "sequenceFlow": "顺序流", "startEvent": "开始事件", "endEvent": "结束事件", "boundaryEvent": "边界事件",
    "intermediateCatchEvent": "中间捕获事件", "intermediateThrowEvent": "中间抛出事件", "userTask": "用户任务",
    "serviceTask": "服务任务", "receiveTask": "接收任务", "manualTask": "人工任务", "task": "任务",
    "scriptTask": "脚本任务", "sendTask": "发送任务", "businessRuleTask": "业务规则任务",
    "exclusiveGateway": "排他网关", "parallelGateway": "并行网关", "inclusiveGateway": "包容网关",
    "eventBasedGateway": "事件网关", "complexGateway": "复杂网关", "subProcess": "子流程",
    "callActivity": "调用活动", "dataObject": "数据对象", "dataObjectReference": "数据对象引用",
    "dataStoreReference": "数据存储引用", "textAnnotation": "注释", "association": "关联",
}
ATTR_LABELS = {
    "name": "名称", "sourceRef": "起点", "targetRef": "终点", "default": "默认分支",
    "calledElement": "调用的流程", "attachedToRef": "附着于", "cancelActivity": "中断",
    "processRef": "流程", "isExecutable": "可执行",
    "camunda:assignee": "办理人", "camunda:candidateGroups": "候选组", "camunda:candidateUsers": "候选人",
    "camunda:dueDate": "办理期限", "camunda:followUpDate": "跟进日期", "camunda:priority": "优先级",
    "camunda:topic": "动作", "camunda:type": "实现方式", "camunda:candidateStarterGroups": "可发起的组",
    "camunda:formKey": "表单", "camunda:modelerTemplate": "动作模板",
}
_EMPTY = "（空）"
# Who does the work and what runs automatically: an approver of a new version (four eyes) sees these first.
SENSITIVE_ATTRS = ("camunda:assignee", "camunda:candidateGroups", "camunda:candidateUsers",
                   "camunda:candidateStarterGroups", "camunda:topic")
SENSITIVE_PROPERTIES = {"onComplete": "完成时动作", "starterGroups": "开始事件可发起的组"}


@dataclass
class ElementChange:
    id: str
    type: str
    name: str
    change: str  # added | removed | changed
    details: list[str] = field(default_factory=list)
    # The changes of who works on it or which action it runs (non-empty: highlight it for the approver).
    assignments: list[str] = field(default_factory=list)

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.type, self.type)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "type_label": self.type_label, "name": self.name,
                "change": self.change, "details": self.details, "assignments": self.assignments}


@dataclass
class VersionDiff:
    changes: list[ElementChange]

    def ids(self, change: str) -> list[str]:
        return [c.id for c in self.changes if c.change == change]

    @property
    def empty(self) -> bool:
        return not self.changes

    def as_dict(self) -> dict[str, Any]:
        return {"added": self.ids("added"), "removed": self.ids("removed"), "changed": self.ids("changed"),
                "changes": [c.as_dict() for c in self.changes]}


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def _is_bpmn(el: etree._Element) -> bool:
    return isinstance(el.tag, str) and el.tag.startswith(f"{{{BPMN}}}")


def diffable(el: etree._Element) -> bool:
    return _is_bpmn(el) and bool(el.get("id")) and _local(el) not in _NOT_DIFFABLE and not _local(el).endswith(
        "EventDefinition")


def _attr_name(qname: str) -> str:
    if qname.startswith(f"{{{CAMUNDA}}}"):
        return "camunda:" + qname[len(CAMUNDA) + 2:]
    if qname.startswith("{"):
        return etree.QName(qname).localname
    return qname


def _elements(xml: str, file_name: str) -> dict[str, etree._Element]:
    out = _Collector(file_name)
    tree = parse_xml(SourceFile(file_name, xml.encode()), out)
    if tree is None:
        raise ValueError("; ".join(p.message for p in out.problems))
    found: dict[str, etree._Element] = {}
    for el in tree.getroot().iter():
        if diffable(el):
            found.setdefault(el.get("id") or "", el)
    return found


def _text(el: etree._Element) -> str:
    return " ".join((el.text or "").split())


def _content(el: etree._Element) -> Any:
    """A comparable form of what belongs to ``el``: attributes, text, and non-diffable children."""
    attrs = tuple(sorted((_attr_name(k), v) for k, v in el.attrib.items()))
    children = []
    for c in el:
        if not isinstance(c.tag, str) or _local(c) in _SKIP_CHILDREN:
            continue
        if _local(el) in _CONTAINERS and (diffable(c) or _local(c) in _LANE_SETS):
            continue
        child_attrs = tuple(sorted((_attr_name(k), v) for k, v in c.attrib.items()
                                   if not (k == "id" and _local(c).endswith("EventDefinition"))))
        children.append((c.tag, child_attrs, _text(c), _content_children(c)))
    return attrs, _text(el), tuple(sorted(children, key=repr))


def _content_children(el: etree._Element) -> Any:
    return tuple(sorted(((c.tag, tuple(sorted((_attr_name(k), v) for k, v in c.attrib.items())), _text(c),
                          _content_children(c)) for c in el if isinstance(c.tag, str)), key=repr))


def _form_fields(el: etree._Element) -> dict[str, etree._Element]:
    path = f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}formData/{{{CAMUNDA}}}formField"
    return {f.get("id") or "": f for f in el.iterfind(path)}


def _properties(el: etree._Element) -> dict[str, str]:
    return {p.get("name") or "": p.get("value") or ""
            for p in el.iterfind(f"{{{BPMN}}}extensionElements/{{{CAMUNDA}}}properties/{{{CAMUNDA}}}property")}


def _child_text(el: etree._Element, local: str) -> str | None:
    node = el.find(f"{{{BPMN}}}{local}")
    return _text(node) if node is not None else None


def _timer(el: etree._Element) -> str | None:
    td = el.find(f"{{{BPMN}}}timerEventDefinition")
    if td is None:
        return None
    for kind in ("timeDate", "timeDuration", "timeCycle"):
        node = td.find(f"{{{BPMN}}}{kind}")
        if node is not None:
            return f"{kind} {_text(node)}"
    return ""


def _short(value: str | None, limit: int = 60) -> str:
    if value is None or value == "":
        return _EMPTY
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _details(old: etree._Element, new: etree._Element) -> list[str]:
    out: list[str] = []
    if old.tag != new.tag:
        out.append(f"类型：{TYPE_LABELS.get(_local(old), _local(old))} → {TYPE_LABELS.get(_local(new), _local(new))}")
    old_attrs = {_attr_name(k): v for k, v in old.attrib.items() if k != "id"}
    new_attrs = {_attr_name(k): v for k, v in new.attrib.items() if k != "id"}
    for name in sorted(set(old_attrs) | set(new_attrs)):
        if old_attrs.get(name) != new_attrs.get(name):
            label = ATTR_LABELS.get(name, name)
            out.append(f"{label}：{_short(old_attrs.get(name))} → {_short(new_attrs.get(name))}")
    if _child_text(old, "documentation") != _child_text(new, "documentation"):
        out.append("说明已修改")
    old_cond, new_cond = _child_text(old, "conditionExpression"), _child_text(new, "conditionExpression")
    if old_cond != new_cond:
        out.append(f"条件：{_short(old_cond)} → {_short(new_cond)}")
    if _timer(old) != _timer(new):
        out.append(f"定时：{_short(_timer(old))} → {_short(_timer(new))}")
    old_fields, new_fields = _form_fields(old), _form_fields(new)
    for fid in new_fields.keys() - old_fields.keys():
        out.append(f"表单字段新增：{fid}（{new_fields[fid].get('label') or fid}）")
    for fid in old_fields.keys() - new_fields.keys():
        out.append(f"表单字段删除：{fid}（{old_fields[fid].get('label') or fid}）")
    for fid in sorted(old_fields.keys() & new_fields.keys()):
        if _content(old_fields[fid]) != _content(new_fields[fid]):
            out.append(f"表单字段修改：{fid}（{new_fields[fid].get('label') or fid}）")
    if list(old_fields) != list(new_fields) and set(old_fields) == set(new_fields):
        out.append("表单字段顺序已调整")
    old_props, new_props = _properties(old), _properties(new)
    for name in sorted(set(old_props) | set(new_props)):
        if old_props.get(name) != new_props.get(name):
            out.append(f"属性 {name}：{_short(old_props.get(name))} → {_short(new_props.get(name))}")
    old_refs = {_text(r) for r in old.iterfind(f"{{{BPMN}}}flowNodeRef")}
    new_refs = {_text(r) for r in new.iterfind(f"{{{BPMN}}}flowNodeRef")}
    if old_refs != new_refs:
        moved = [f"移入 {', '.join(sorted(new_refs - old_refs))}" if new_refs - old_refs else "",
                 f"移出 {', '.join(sorted(old_refs - new_refs))}" if old_refs - new_refs else ""]
        out.append("泳道内的元素：" + "；".join(m for m in moved if m))
    if not out:
        out.append("其他设置已修改")
    return out


def _who(el: etree._Element | None) -> dict[str, str]:
    """The assignment, starter and action settings of an element, by their Chinese label."""
    if el is None:
        return {}
    attrs = {_attr_name(k): v for k, v in el.attrib.items()}
    found = {ATTR_LABELS[a]: attrs[a] for a in SENSITIVE_ATTRS if a in attrs}
    props = _properties(el)
    found.update({label: props[name] for name, label in SENSITIVE_PROPERTIES.items() if name in props})
    return found


def assignment_changes(old: etree._Element | None, new: etree._Element | None) -> list[str]:
    """What changed in who works on an element or which action it runs, e.g. ``候选组：office → designer``."""
    before, after = _who(old), _who(new)
    return [f"{label}：{_short(before.get(label))} → {_short(after.get(label))}"
            for label in sorted(set(before) | set(after)) if before.get(label) != after.get(label)]


def _field_order(el: etree._Element) -> list[str]:
    return list(_form_fields(el))


def diff_versions(old_xml: str, new_xml: str, file_name: str = "diagram.bpmn") -> VersionDiff:
    """Compare two diagrams; elements are listed in the new diagram's document order (removed ones last)."""
    old, new = _elements(old_xml, file_name), _elements(new_xml, file_name)
    changes: list[ElementChange] = []
    for eid, el in new.items():
        name = el.get("name") or ""
        if eid not in old:
            changes.append(ElementChange(eid, _local(el), name, "added", assignments=assignment_changes(None, el)))
        elif _content(old[eid]) != _content(el) or old[eid].tag != el.tag \
                or _field_order(old[eid]) != _field_order(el):
            changes.append(ElementChange(eid, _local(el), name, "changed", _details(old[eid], el),
                                         assignment_changes(old[eid], el)))
    for eid, el in old.items():
        if eid not in new:
            changes.append(ElementChange(eid, _local(el), el.get("name") or "", "removed"))
    return VersionDiff(changes)
