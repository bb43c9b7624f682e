"""DMN decision tables: the hostile-input load, every unary-test form, the four hit policies, typed outputs, and
versions reviewed with four eyes (a pending version never runs; a pinned version keeps its rules), on SQLite and
PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest

from engine.actions import ActionRegistry
from engine.clock import ManualClock
from engine.db import Database
from engine.dmn import DecisionError, evaluate_table, load_decisions
from engine.errors import Conflict, DeployError, Forbidden, NotFound, Problem
from engine.expressions import ExpressionError
from engine.loader import SourceFile
from engine.service import Actor, WorkflowService
from engine.unary_tests import compile_unary_tests

ROOT = Path(__file__).resolve().parent.parent
DESIGNER = Actor("designer", frozenset({"designer"}))
APPROVER = Actor("approver", frozenset({"approver"}))


def dmn(rules: list[tuple[list[str], list[str]]], *, policy: str | None = "UNIQUE",
        inputs: tuple[tuple[str, str], ...] = (("x", "integer"),),
        outputs: tuple[tuple[str, str], ...] = (("out", "string"),), key: str = "d", extra: str = "") -> bytes:
    hp = f' hitPolicy="{policy}"' if policy else ""
    cols = "".join(f'<input id="in{i}" label="输入{i}"><inputExpression id="ie{i}" typeRef="{t}"><text>{escape(e)}</text>'
                   f"</inputExpression></input>" for i, (e, t) in enumerate(inputs))
    outs = "".join(f'<output id="out{i}" label="输出{i}" name="{n}" typeRef="{t}" />'
                   for i, (n, t) in enumerate(outputs))
    body = ""
    for r, (tests, values) in enumerate(rules, 1):
        body += f'<rule id="r{r}"><description>规则{r}</description>'
        body += "".join(f'<inputEntry id="r{r}i{i}"><text>{escape(t)}</text></inputEntry>' for i, t in enumerate(tests))
        body += "".join(f'<outputEntry id="r{r}o{i}"><text>{escape(v)}</text></outputEntry>' for i, v in enumerate(values))
        body += "</rule>"
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs" name="d" '
            'namespace="http://camunda.org/schema/1.0/dmn">\n'
            f'<decision id="{key}" name="测试决策">{extra}<decisionTable id="t"{hp}>{cols}{outs}{body}'
            "</decisionTable></decision></definitions>\n").encode()


def table(data: bytes) -> dict[str, Any]:
    [d] = load_decisions(SourceFile("t.dmn", data))
    return d.table


def problems(data: bytes) -> list[Problem]:
    with pytest.raises(DeployError) as info:
        load_decisions(SourceFile("t.dmn", data))
    return info.value.problems


# ---------------------------------------------------------------------- the shipped decision
def test_the_shipped_routing_table_routes_each_aid_type() -> None:
    [d] = load_decisions(SourceFile("assistance_routing.dmn", (ROOT / "processes/assistance_routing.dmn").read_bytes()))
    assert (d.key, d.name, d.table["hit_policy"]) == ("assistance_routing", "协同办理分派规则", "COLLECT")
    assert [c["label"] for c in d.table["outputs"]] == ["办理部门", "办理时限（工作日）"]
    result = evaluate_table(d.table, {"aid_type": "教育救助"})
    assert result.rows == [{"department": "jiaoti", "limit_days": 10}]
    both = evaluate_table(d.table, {"aid_type": ["最低生活保障", "住房救助"]})
    assert both.rows == [{"department": "mzb", "limit_days": 20}, {"department": "zhujian", "limit_days": 15}]
    assert evaluate_table(d.table, {"aid_type": "不存在的类别"}).rows == []
    assert all(r["note"] for r in d.table["rules"])


# ---------------------------------------------------------------------- unary tests
@pytest.mark.parametrize(("entry", "value", "expected"), [
    ("-", 7, True), ("", None, True), ("5", 5, True), ("5", 6, False), ("5", 5.0, True), ('"a"', "a", True),
    ('"a"', "b", False), ("true", True, True), ("true", 1, False), ("false", False, True), ("null", None, True),
    ("< 5", 4, True), ("< 5", 5, False), ("<= 5", 5, True), ("> 5", 6, True), (">= 10", 10, True),
    (">= 10", 9.5, False), ("< 5", None, False), ("< 5", "a", False),
    ("[1..5]", 1, True), ("[1..5]", 5, True), ("[1..5]", 6, False), ("]1..5[", 1, False), ("(1..5)", 5, False),
    ("[1..5)", 4.9, True), ("]1..5]", 5, True), ('"a","b"', "b", True), ('"a","b"', "c", False),
    ("1, [10..20], > 100", 15, True), ("1, [10..20], > 100", 101, True), ("1, [10..20], > 100", 50, False),
    ('not("a")', "b", True), ('not("a")', "a", False), ('not("a","b")', "b", False), ("not(< 5)", 7, True),
    ('"教育救助"', ["医疗救助", "教育救助"], True), ('"教育救助"', ["医疗救助"], False), ("-", [], True),
    ('"a"', [], False), ('not("a")', ["a", "b"], True), ("> 3", [1, 5], True), ('"a,b"', "a,b", True),
    ("-2.5", -2.5, True), ("< limit", 3, True),
])
def test_unary_tests(entry: str, value: Any, expected: bool) -> None:
    assert compile_unary_tests(entry).matches(value, {"limit": 4}) is expected


@pytest.mark.parametrize("entry", ['"a', "< ", "[1..]", "=5", "!= 5", "not()", "__import__('os')", "a,,b",
                                   "().__class__", "x.y()"])
def test_bad_unary_tests_are_refused(entry: str) -> None:
    with pytest.raises(ExpressionError):
        compile_unary_tests(entry)


# ---------------------------------------------------------------------- hit policies and types
RULES = [(["< 10"], ['"small"']), (["[5..20]"], ['"middle"']), ([">= 15"], ['"big"'])]


def test_unique_gives_one_row_and_refuses_overlaps() -> None:
    t = table(dmn(RULES, policy=None))  # no hitPolicy attribute: UNIQUE, as DMN says
    assert t["hit_policy"] == "UNIQUE"
    assert evaluate_table(t, {"x": 2}).rows == [{"out": "small"}]
    assert evaluate_table(t, {"x": 100}).matched_rules == ["r3"]
    with pytest.raises(DecisionError, match="UNIQUE.*r1、r2"):
        evaluate_table(t, {"x": 7})


def test_first_gives_the_first_match() -> None:
    t = table(dmn(RULES, policy="FIRST"))
    result = evaluate_table(t, {"x": 7})
    assert (result.rows, result.matched_rules) == ([{"out": "small"}], ["r1"])
    assert evaluate_table(t, {"x": 17}).matched_rules == ["r2"]


def test_any_needs_equal_outputs() -> None:
    t = table(dmn([(["< 10"], ['"a"']), (["< 20"], ['"a"']), (["> 15"], ['"b"'])], policy="ANY"))
    result = evaluate_table(t, {"x": 5})
    assert (result.rows, result.matched_rules) == ([{"out": "a"}], ["r1", "r2"])
    with pytest.raises(DecisionError, match="ANY"):
        evaluate_table(t, {"x": 17})


def test_collect_gives_every_match_in_table_order() -> None:
    t = table(dmn(RULES, policy="COLLECT"))
    result = evaluate_table(t, {"x": 17})
    assert (result.rows, result.matched_rules) == ([{"out": "middle"}, {"out": "big"}], ["r2", "r3"])
    assert evaluate_table(t, {"x": -1}).rows == [{"out": "small"}]


def test_outputs_are_typed_by_their_type_ref() -> None:
    t = table(dmn([(["-", "-"], ['"a"', "3", "2", "1.5", "true", "x + 1", ""])], policy="FIRST",
                  inputs=(("x", "integer"), ("flag", "boolean")),
                  outputs=(("s", "string"), ("i", "integer"), ("l", "long"), ("d", "double"), ("b", "boolean"),
                           ("n", "integer"), ("empty", "string"))))
    [row] = evaluate_table(t, {"x": "41", "flag": "true"}).rows
    assert row == {"s": "a", "i": 3, "l": 2, "d": 1.5, "b": True, "n": 42, "empty": None}
    assert type(row["d"]) is float and type(row["i"]) is int
    with pytest.raises(DecisionError, match="integer"):
        evaluate_table(t, {"x": "abc", "flag": True})


def test_inputs_are_expressions_over_the_data() -> None:
    t = table(dmn([([">= 3"], ['"many"']), (["< 3"], ['"few"'])], inputs=(("len(members)", "integer"),)))
    assert evaluate_table(t, {"members": [1, 2, 3]}).rows == [{"out": "many"}]
    with pytest.raises(DecisionError, match="members"):
        evaluate_table(t, {})


# ---------------------------------------------------------------------- hostile and bad files
def test_a_doctype_or_entity_is_refused() -> None:
    xxe = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>\n'
           b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/">&x;</definitions>')
    [p] = problems(xxe)
    assert "DOCTYPE" in p.message and p.line == 2


def test_an_oversized_file_is_refused() -> None:
    big = dmn(RULES).replace(b"<description>", b"<description>" + b"x" * 1_100_000, 1)
    [p] = problems(big)
    assert "文件过大" in p.message


def test_bad_cells_are_reported_with_element_and_line() -> None:
    data = dmn([(["< 5"], ['"a"']), (['"x'], ['"b"']), (["-"], ["__import__('os').system('id')"])],
               policy="FIRST").replace(b"<rule", b"\n<rule")
    found = problems(data)
    assert {p.element for p in found} == {"r2i0", "r3o0"}
    assert all(p.line for p in found)
    assert any("引号未闭合" in p.message for p in found)
    assert any("不允许" in p.message for p in found)


def test_refused_hit_policies_and_aggregations() -> None:
    [p] = problems(dmn(RULES, policy="PRIORITY"))
    assert "不支持命中策略" in p.message and p.element == "t"
    [p] = problems(dmn(RULES, policy="WHATEVER"))
    assert "未知的命中策略" in p.message
    [p] = problems(dmn(RULES, policy='COLLECT" aggregation="SUM'))
    assert "聚合" in p.message


def test_other_refusals() -> None:
    assert "类型" in problems(dmn([(["-"], ['"a"'])], outputs=(("o", "date"),)))[0].message
    assert "integer" in problems(dmn([(["-"], ['"abc"'])], outputs=(("o", "integer"),)))[0].message
    assert "输入表达式" in problems(dmn([(["-"], ['"a"'])], inputs=(("", "string"),)))[0].message
    assert "不允许" in problems(dmn([(["-"], ['"a"'])], inputs=(("().__class__", "string"),)))[0].message
    assert "名称" in problems(dmn([(["-"], ['"a"'])], outputs=(("", "string"),)))[0].message
    assert "单元格数" in problems(dmn([(["-", "-"], ['"a"'])]))[0].message
    lang = dmn([(["-"], ['"a"'])]).replace(b'<inputExpression id="ie0"',
                                            b'<inputExpression id="ie0" expressionLanguage="javascript"')
    assert "表达式语言" in problems(lang)[0].message
    old = dmn(RULES).replace(b"https://www.omg.org/spec/DMN/20191111/MODEL/",
                             b"http://www.omg.org/spec/DMN/20180521/MODEL/")
    assert "DMN 1.3" in problems(old)[0].message
    assert "XML" in problems(b"<definitions")[0].message
    literal = dmn(RULES).replace(b'<decisionTable id="t" hitPolicy="UNIQUE">', b"<literalExpression><text>1</text>"
                                 b"</literalExpression><decisionTable_x>").replace(b"</decisionTable>",
                                                                                   b"</decisionTable_x>")
    assert "只支持决策表" in problems(literal)[0].message


# ---------------------------------------------------------------------- versions and four eyes
@pytest.fixture
def service(database: Database, clock: ManualClock) -> WorkflowService:
    """On a SQLite file and on PostgreSQL (the ``database`` fixture)."""
    return WorkflowService(database, ActionRegistry(), clock)


def routing(department: str) -> SourceFile:
    return SourceFile("routing.dmn", dmn([(['"教育救助"'], [f'"{department}"'])], key="routing",
                                         inputs=(("aid_type", "string"),)))


def test_versions_are_pinned_and_none_means_the_newest_published(service: WorkflowService) -> None:
    decisions = service.decisions
    [v1] = decisions.deploy([routing("jiaoti")])
    assert (v1.created, v1.model.version, v1.model.status) == (True, 1, "published")
    assert not decisions.deploy([routing("jiaoti")])[0].created  # unchanged: same version
    [v2] = decisions.deploy([routing("renshe")], DESIGNER, pending=True)
    assert (v2.model.version, v2.model.status) == (2, "pending")
    # pending: nothing evaluates it, not even when asked for it by number
    assert decisions.evaluate("routing", {"aid_type": "教育救助"}).rows == [{"out": "jiaoti"}]
    with pytest.raises(NotFound):
        decisions.evaluate("routing", {"aid_type": "教育救助"}, version=2)
    with pytest.raises(Forbidden, match="四眼"):
        decisions.publish("routing", 2, DESIGNER)
    published = decisions.publish("routing", 2, APPROVER, "同意")
    assert (published.status, published.reviewed_by) == ("published", "approver")
    latest = decisions.evaluate("routing", {"aid_type": "教育救助"})
    assert (latest.key, latest.version, latest.rows, latest.matched_rules) == ("routing", 2, [{"out": "renshe"}],
                                                                               ["r1"])
    assert decisions.evaluate("routing", {"aid_type": "教育救助"}, version=1).rows == [{"out": "jiaoti"}]
    with pytest.raises(Conflict):
        decisions.publish("routing", 2, APPROVER)
    assert [m.version for m in decisions.versions("routing")] == [2, 1]
    assert decisions.designed_keys() == {"routing"}


def test_a_rejected_version_never_runs(service: WorkflowService) -> None:
    decisions = service.decisions
    decisions.deploy([routing("jiaoti")])
    decisions.deploy([routing("renshe")], DESIGNER, pending=True)
    rejected = decisions.reject("routing", 2, APPROVER, "部门写错了")
    assert rejected.status == "rejected" and decisions.pending() == []
    assert decisions.evaluate("routing", {"aid_type": "教育救助"}).version == 1


def test_a_missing_decision_is_not_found_in_chinese(service: WorkflowService) -> None:
    with pytest.raises(NotFound, match="决策“nothing”尚未部署"):
        service.decisions.evaluate("nothing", {})
    with pytest.raises(DeployError):
        service.decisions.deploy([routing("x"), routing("y")])  # the same decision id twice in one batch


def test_flask_init_deploys_the_shipped_tables_and_keeps_a_designers_version(service: WorkflowService) -> None:
    from meeting.runtime import deploy_default_decisions

    def deployed() -> dict[str, tuple[int, str, bool]]:
        return {d.model.key: (d.model.version, d.model.status, d.created) for d in deploy_default_decisions(service)}

    first = deployed()
    assert first["assistance_routing"] == (1, "published", True)
    assert set(first) == {"assistance_routing", "household_check_items"}  # every table shipped under processes/
    assert not any(created for _, _, created in deployed().values())  # unchanged
    shipped = (ROOT / "processes/assistance_routing.dmn").read_text(encoding="utf-8")
    edited = SourceFile("assistance_routing.dmn", shipped.replace('"jiaoti"', '"renshe"').encode())
    service.decisions.deploy([edited], DESIGNER, pending=True)
    assert "assistance_routing" not in deployed()  # the designer's pending version is left as it is
    service.decisions.publish("assistance_routing", 2, APPROVER)
    assert "assistance_routing" not in deployed()  # and so is the published one
    assert service.evaluate_decision("assistance_routing", {"aid_type": "教育救助"}).rows[0]["department"] == "renshe"
