"""Loading DMN 1.3 decision tables is hostile-input handling, as loading BPMN is (engine/loader.py).

size limit → hardened XML parse (no DTD, no entities, no network) → the DMN 1.3 namespace → each decision must be
a decision table with a supported hit policy (UNIQUE, FIRST, ANY, COLLECT without aggregation) → every input
expression, input entry (engine/unary_tests.py) and output entry compiled by the safe evaluator, and literal
outputs checked against their typeRef. Every problem is reported with file, line and element id; nothing is
deployed while any remains. The result is a plain, JSON-ready table that :func:`evaluate_table` runs.
"""

from __future__ import annotations

import ast
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine import expressions
from engine.errors import DeployError, EngineError, Problem
from engine.expressions import ExpressionError
from engine.loader import SourceFile, _Collector, parse_hostile_xml
from engine.unary_tests import compile_unary_tests

DMN = "https://www.omg.org/spec/DMN/20191111/MODEL/"
OLD_DMN = ("http://www.omg.org/spec/DMN/20151101/dmn.xsd", "http://www.omg.org/spec/DMN/20180521/MODEL/")
MAX_DMN_BYTES = 1_000_000
MAX_RULES = 2000
MAX_COLUMNS = 50
HIT_POLICIES = ("UNIQUE", "FIRST", "ANY", "COLLECT")
TYPE_REFS = ("string", "integer", "long", "double", "boolean")
_REFUSED_POLICIES = {"PRIORITY": "优先级（PRIORITY）", "OUTPUT ORDER": "输出顺序（OUTPUT ORDER）",
                     "RULE ORDER": "规则顺序（RULE ORDER）"}
_FEEL = ("", "feel", "juel", "https://www.omg.org/spec/DMN/20191111/FEEL/", "http://www.omg.org/spec/FEEL/20140401")


class DecisionError(EngineError):
    """A decision could not be evaluated with these inputs (the message is Chinese)."""

    status = 422


class DecisionCheckError(DeployError):
    """A .dmn file did not pass the checks; ``problems`` lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(problems)
        self.message = "决策表未通过检查：" + "；".join(p.message for p in problems[:3])
        self.args = (self.message,)


@dataclass
class LoadedDecision:
    key: str
    name: str
    file: str
    xml: str
    table: dict[str, Any]
    table_sha: str


def _q(tag: str) -> str:
    return f"{{{DMN}}}{tag}"


def _text(el: etree._Element | None) -> str:
    """The ``<text>`` of an expression element ("" when absent)."""
    if el is None:
        return ""
    t = el.find(_q("text"))
    return (t.text or "").strip() if t is not None else ""


def coerce(value: Any, type_ref: str | None) -> Any:
    """``value`` as the DMN type ``type_ref`` (None and an unknown or empty type leave it as it is). Raises
    ValueError when it cannot be converted."""
    if value is None or not type_ref:
        return value
    if type_ref == "string":
        return value if isinstance(value, str) else expressions.to_text(value)
    if type_ref in ("integer", "long"):
        if isinstance(value, bool):
            raise ValueError(value)
        if isinstance(value, float):
            if not value.is_integer():
                raise ValueError(value)
            return int(value)
        return int(str(value).strip()) if isinstance(value, str) else int(value)
    if type_ref == "double":
        if isinstance(value, bool):
            raise ValueError(value)
        return float(value)
    if type_ref == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(value)
    return value


def _expression(text: str) -> str:
    """An expression body: ``${x}`` written as in BPMN is accepted too."""
    whole = expressions.strip_braces(text)
    return whole if whole is not None else text


class _Reader:
    def __init__(self, out: _Collector) -> None:
        self.out = out

    def check_language(self, el: etree._Element) -> bool:
        lang = (el.get("expressionLanguage") or "").strip().lower()
        if lang not in _FEEL:
            self.out.add(el, f"不支持表达式语言“{el.get('expressionLanguage')}”：只能使用 FEEL 简单表达式"
                             "（由系统的安全求值器计算）")
            return False
        return True

    def type_ref(self, el: etree._Element, what: str) -> str | None:
        t = (el.get("typeRef") or "").strip() or None
        if t is not None and t not in TYPE_REFS:
            self.out.add(el, f"{what}的类型“{t}”不受支持：只能是 {'、'.join(TYPE_REFS)}")
        return t

    def table(self, decision: etree._Element) -> dict[str, Any] | None:
        did = decision.get("id") or ""
        if decision.find(_q("informationRequirement")) is not None:
            self.out.add(decision.find(_q("informationRequirement")),
                         "暂不支持决策之间的依赖（信息需求 informationRequirement）：请把规则放在一张决策表中")
        table = decision.find(_q("decisionTable"))
        if table is None:
            self.out.add(decision, f"决策“{decision.get('name') or did}”不是决策表：只支持决策表"
                                   "（不支持字面表达式、上下文等）")
            return None
        policy = (table.get("hitPolicy") or "UNIQUE").strip().upper()
        if policy in _REFUSED_POLICIES:
            self.out.add(table, f"不支持命中策略 {_REFUSED_POLICIES[policy]}：只支持 UNIQUE（唯一）、FIRST（首个）、"
                                "ANY（任一）和 COLLECT（收集）")
        elif policy not in HIT_POLICIES:
            self.out.add(table, f"未知的命中策略“{table.get('hitPolicy')}”：只支持 UNIQUE、FIRST、ANY、COLLECT")
        if table.get("aggregation"):
            self.out.add(table, f"不支持 COLLECT 的聚合“{table.get('aggregation')}”：请去掉聚合，收集全部匹配行")
        inputs = [self.input(i, n) for n, i in enumerate(table.findall(_q("input")), 1)]
        outputs = [self.output(o, n) for n, o in enumerate(table.findall(_q("output")), 1)]
        if not outputs:
            self.out.add(table, "决策表至少要有一个输出列")
        if len(inputs) > MAX_COLUMNS or len(outputs) > MAX_COLUMNS:
            self.out.add(table, f"决策表的输入列或输出列过多（上限各 {MAX_COLUMNS} 列）")
        names = [o["name"] for o in outputs]
        for o, el in zip(outputs, table.findall(_q("output")), strict=True):
            if o["name"] and names.count(o["name"]) > 1:
                self.out.add(el, f"输出名称“{o['name']}”重复")
        rules_el = table.findall(_q("rule"))
        if len(rules_el) > MAX_RULES:
            self.out.add(table, f"规则过多：{len(rules_el)} 条，上限 {MAX_RULES} 条")
            rules_el = rules_el[:MAX_RULES]
        rules = [self.rule(r, inputs, outputs) for r in rules_el]
        return {"id": did, "hit_policy": policy, "inputs": inputs, "outputs": outputs, "rules": rules}

    def input(self, el: etree._Element, n: int) -> dict[str, Any]:
        label = el.get("label") or el.get("id") or f"输入 {n}"
        expr = el.find(_q("inputExpression"))
        text = _text(expr)
        type_ref = None
        if expr is None or not text:
            self.out.add(expr if expr is not None else el, f"输入列“{label}”缺少输入表达式")
        else:
            type_ref = self.type_ref(expr, f"输入列“{label}”")
            if self.check_language(expr):
                try:
                    expressions.compile_expression(_expression(text))
                except ExpressionError as exc:
                    self.out.add(expr, f"输入列“{label}”的输入表达式“{text[:60]}”有误：{exc}")
        return {"id": el.get("id") or "", "label": label, "expression": _expression(text), "type": type_ref}

    def output(self, el: etree._Element, n: int) -> dict[str, Any]:
        label = el.get("label") or el.get("name") or f"输出 {n}"
        name = (el.get("name") or "").strip()
        if not name:
            self.out.add(el, f"输出列“{label}”缺少名称（name）：结果按名称取值")
        elif not name.isidentifier() or name.startswith("_"):
            self.out.add(el, f"输出名称“{name}”无效：须以字母开头，只含字母、数字和下划线")
        return {"id": el.get("id") or "", "label": label, "name": name,
                "type": self.type_ref(el, f"输出列“{label}”")}

    def rule(self, el: etree._Element, inputs: list[dict[str, Any]], outputs: list[dict[str, Any]]
             ) -> dict[str, Any]:
        rid = el.get("id") or ""
        entries = el.findall(_q("inputEntry"))
        results = el.findall(_q("outputEntry"))
        if len(entries) != len(inputs) or len(results) != len(outputs):
            self.out.add(el, f"规则的单元格数与列数不符（{len(entries)}/{len(inputs)} 个条件，"
                             f"{len(results)}/{len(outputs)} 个结果）")
        tests = []
        for entry, column in zip(entries, inputs, strict=False):
            text = _text(entry)
            if self.check_language(entry):
                try:
                    compile_unary_tests(text)
                except ExpressionError as exc:
                    self.out.add(entry, f"规则条件“{text[:60]}”（列“{column['label']}”）有误：{exc}")
            tests.append(text)
        values = []
        for result, column in zip(results, outputs, strict=False):
            text = _text(result)
            if text and self.check_language(result):
                self.output_entry(result, _expression(text), column)
            values.append(_expression(text) if text else "")
        description = el.find(_q("description"))
        note = (description.text or "").strip() if description is not None else ""
        return {"id": rid, "tests": tests, "outputs": values, "note": note[:500]}

    def output_entry(self, el: etree._Element, text: str, column: dict[str, Any]) -> None:
        try:
            tree = expressions.compile_expression(text)
        except ExpressionError as exc:
            self.out.add(el, f"规则结果“{text[:60]}”（列“{column['label']}”）有误：{exc}")
            return
        if isinstance(tree.body, ast.Constant) or _is_negative_literal(tree):
            try:
                coerce(expressions.evaluate(text, {}), column["type"])
            except (ValueError, TypeError, ExpressionError):
                self.out.add(el, f"规则结果“{text[:60]}”不是列“{column['label']}”的类型 {column['type']}")


def _is_negative_literal(tree: Any) -> bool:
    body = tree.body
    return isinstance(body, ast.UnaryOp) and isinstance(body.operand, ast.Constant)


def load_decisions(source: SourceFile) -> list[LoadedDecision]:
    """Check one .dmn file; every decision table in it. Raises DeployError listing every problem."""
    out = _Collector(source.name)
    tree = parse_hostile_xml(source, out, MAX_DMN_BYTES)
    if tree is None:
        raise DecisionCheckError(out.problems)
    root = tree.getroot()
    if root.tag != _q("definitions"):
        ns = etree.QName(root).namespace if isinstance(root.tag, str) else None
        if ns in OLD_DMN:
            out.add(root, "只支持 DMN 1.3（Camunda Modeler 5 及以上保存的格式）：请用新版建模器打开并另存")
        else:
            out.add(root, "根元素必须是 DMN 1.3 的 definitions（命名空间 " + DMN + "）")
        raise DecisionCheckError(out.problems)
    reader = _Reader(out)
    decisions = root.findall(_q("decision"))
    if not decisions:
        out.add(root, "文件中没有决策（decision）")
    seen: set[str] = set()
    loaded: list[tuple[str, str, dict[str, Any] | None]] = []
    for d in decisions:
        did = (d.get("id") or "").strip()
        if not did or not did.isidentifier() or len(did) > 100:
            out.add(d, f"决策标识“{did}”无效：须以字母或下划线开头，只含字母、数字和下划线（最多 100 个字符）")
        elif did in seen:
            out.add(d, f"决策标识“{did}”重复")
        seen.add(did)
        loaded.append((did, (d.get("name") or did).strip()[:200], reader.table(d)))
    if out.problems:
        raise DecisionCheckError(out.problems)
    xml = source.data.decode("utf-8")
    result = []
    for did, name, table in loaded:
        assert table is not None  # every decision without a table was reported
        canonical = json.dumps({"name": name, "table": table}, ensure_ascii=False, sort_keys=True)
        result.append(LoadedDecision(did, name, source.name, xml, table,
                                     hashlib.sha256(canonical.encode("utf-8")).hexdigest()))
    return result


def decision_ids(data: bytes) -> list[str]:
    """The decision ids in a .dmn file, without checking it (an unreadable file has none)."""
    try:
        root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    except etree.XMLSyntaxError:
        return []
    return [d.get("id") or "" for d in root.findall(_q("decision"))]


# ---------------------------------------------------------------------- evaluation
@dataclass
class TableResult:
    rows: list[dict[str, Any]]
    matched_rules: list[str]


def evaluate_table(table: Mapping[str, Any], inputs: Mapping[str, Any]) -> TableResult:
    """Run a table made by :func:`load_decisions` against ``inputs``. Raises DecisionError."""
    names = dict(inputs)
    values = []
    for column in table["inputs"]:
        try:
            value = expressions.evaluate(column["expression"], names)
        except ExpressionError as exc:
            raise DecisionError(f"输入列“{column['label']}”无法求值：{exc}") from None
        values.append(_coerce_input(value, column))
    matched = []
    for rule in table["rules"]:
        if _matches(rule, table["inputs"], values, names):
            matched.append(rule)
            if table["hit_policy"] == "FIRST":
                break
    rows = [_outputs(rule, table["outputs"], names) for rule in matched]
    ids = [r["id"] for r in matched]
    policy = table["hit_policy"]
    if policy == "UNIQUE" and len(rows) > 1:
        raise DecisionError(f"命中策略为 UNIQUE（唯一），但有 {len(rows)} 条规则同时匹配：{'、'.join(ids)}")
    if policy == "ANY" and len(rows) > 1:
        if any(row != rows[0] for row in rows[1:]):
            raise DecisionError(f"命中策略为 ANY（任一），但匹配的规则结果不同：{'、'.join(ids)}")
        rows = rows[:1]
    return TableResult(rows, ids)


def _coerce_input(value: Any, column: Mapping[str, Any]) -> Any:
    try:
        if isinstance(value, list | tuple):
            return [coerce(v, column["type"]) for v in value]
        return coerce(value, column["type"])
    except (ValueError, TypeError):
        raise DecisionError(f"输入列“{column['label']}”的值不是类型 {column['type']}") from None


def _matches(rule: Mapping[str, Any], columns: list[Any], values: list[Any], names: dict[str, Any]) -> bool:
    for text, column, value in zip(rule["tests"], columns, values, strict=True):
        try:
            if not compile_unary_tests(text).matches(value, names):
                return False
        except ExpressionError as exc:
            raise DecisionError(f"规则 {rule['id']} 列“{column['label']}”的条件无法求值：{exc}") from None
    return True


def _outputs(rule: Mapping[str, Any], columns: list[Any], names: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for text, column in zip(rule["outputs"], columns, strict=True):
        try:
            value = expressions.evaluate(text, names) if text else None
            row[column["name"]] = coerce(value, column["type"])
        except ExpressionError as exc:
            raise DecisionError(f"规则 {rule['id']} 的结果“{column['label']}”无法求值：{exc}") from None
        except (ValueError, TypeError):
            raise DecisionError(f"规则 {rule['id']} 的结果“{column['label']}”不是类型 {column['type']}") from None
    return row
