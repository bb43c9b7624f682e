"""Safe expressions: what designers may write, and everything they may not."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest

from engine import expressions
from engine.expressions import ExpressionError, check_template, compile_expression, evaluate, render

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(("expr", "data", "expected"), [
    ("1 + 2 * 3", {}, 7),
    ("(1 + 2) * 3", {}, 9),
    ("7 // 2", {}, 3),
    ("7 % 4", {}, 3),
    ("2 ** 10", {}, 1024),
    ("-n", {"n": 4}, -4),
    ("count * 2 + 1", {"count": 20}, 41),
    ("10 / 4", {}, 2.5),
    ('"unit:" + lead', {"lead": "caizheng"}, "unit:caizheng"),
])
def test_arithmetic(expr: str, data: dict, expected: object) -> None:
    assert evaluate(expr, data) == expected


@pytest.mark.parametrize(("expr", "data", "expected"), [
    ('screen_decision == "accept"', {"screen_decision": "accept"}, True),
    ('screen_decision == "accept"', {"screen_decision": "reject"}, False),
    ('screen_decision != "accept"', {"screen_decision": "reject"}, True),
    ("len(resolution_ids) > 0", {"resolution_ids": [3, 4]}, True),
    ("len(resolution_ids) > 0", {"resolution_ids": []}, False),
    ("1 <= n < 3", {"n": 2}, True),
    ("1 <= n < 3", {"n": 3}, False),
    ('"caizheng" in units', {"units": ["caizheng", "minzheng"]}, True),
    ('"fagai" not in units', {"units": ["caizheng"]}, True),
    ("a and not b", {"a": True, "b": False}, True),
    ("x is None", {"x": None}, True),
    ('"yes" if ok else "no"', {"ok": False}, "no"),
    ("max(a, b) - min(a, b)", {"a": 3, "b": 10}, 7),
    ("sorted(xs)[0]", {"xs": [3, 1, 2]}, 1),
    ('d["k"] + l[-1]', {"d": {"k": 1}, "l": [5, 6]}, 7),
    ("abs(int(s))", {"s": "-12"}, 12),
    ("bool(str(n))", {"n": 0}, True),
])
def test_comparisons_and_functions(expr: str, data: dict, expected: object) -> None:
    assert evaluate(expr, data) == expected


def test_days_before_and_after_keep_beijing_time() -> None:
    assert evaluate('days_before("2026-12-10T23:59:59+08:00", 3)', {}) == "2026-12-07T23:59:59+08:00"
    assert evaluate("days_after(d, 1)", {"d": "2026-12-10T23:59:59+08:00"}) == "2026-12-11T23:59:59+08:00"
    # a date without an offset is Beijing time; a UTC time is shown in Beijing time
    assert evaluate('days_before("2026-12-10", 1)', {}) == "2026-12-09T00:00:00+08:00"
    assert evaluate('days_before("2026-03-01T00:00:00+00:00", 0)', {}) == "2026-03-01T08:00:00+08:00"
    assert evaluate("days_after(d, 2)", {"d": date(2026, 1, 30)}) == "2026-02-01T00:00:00+08:00"
    assert evaluate("days_after(d, 0.5)", {"d": datetime(2026, 1, 1, 0, 0)}) == "2026-01-01T12:00:00+08:00"
    assert datetime.fromisoformat(evaluate('days_before("2026-12-10T23:59:59+08:00", 3)', {})).utcoffset()


def test_days_before_refuses_what_is_not_a_date() -> None:
    with pytest.raises(ExpressionError):
        evaluate("days_before(n, 3)", {"n": 5})
    with pytest.raises(ExpressionError):
        evaluate('days_before("not a date", 3)', {})


def test_evaluate_never_changes_the_data_or_leaks_names_between_calls() -> None:
    data = {"items": [1, 2], "n": 1}
    assert evaluate("items + [3]", data) == [1, 2, 3]
    assert data == {"items": [1, 2], "n": 1}
    with pytest.raises(ExpressionError, match="未定义的变量 n"):
        evaluate("n + 1", {})


def test_render_templates() -> None:
    assert render("unit:${lead}", {"lead": "caizheng"}) == "unit:caizheng"
    assert render("${a},${b}", {"a": "office", "b": "convener"}) == "office,convener"
    # a whole ${expr} gives the value itself, not a string
    assert render("${n + 1}", {"n": 1}) == 2
    assert render("${units}", {"units": ["a", "b"]}) == ["a", "b"]
    assert render(" ${ok} ", {"ok": True}) is True
    assert render("office", {}) == "office"
    assert render("P${days}D", {"days": 3}) == "P3D"


def test_check_template() -> None:
    check_template("unit:${lead}")
    check_template("${a},${b}")
    check_template("no template at all")
    with pytest.raises(ExpressionError, match="右花括号"):
        check_template("unit:${lead")
    with pytest.raises(ExpressionError, match="不允许调用函数"):
        check_template('unit:${__import__("os")}')
    with pytest.raises(ExpressionError):
        check_template("${a} and ${lambda: 1}")


def test_helpers() -> None:
    assert expressions.strip_braces("${x == 1}") == "x == 1"
    assert expressions.strip_braces(" ${x} ") == "x"
    assert expressions.strip_braces("unit:${x}") is None
    assert expressions.strip_braces("${a}${b}") is None
    assert expressions.is_template("a${b}") and not expressions.is_template("P3D")
    assert expressions.template_parts("${a}-${b + 1}") == ["a", "b + 1"]


REFUSED = [
    pytest.param('__import__("os").system("id")', "不允许调用函数", id="import-call"),
    pytest.param("__import__", "下划线开头的名称", id="dunder-name"),
    pytest.param("().__class__.__base__.__subclasses__()", "不允许调用函数|下划线开头", id="subclasses"),
    pytest.param("x.__class__", "下划线开头的属性", id="dunder-attribute"),
    pytest.param("x._private", "下划线开头的属性", id="private-attribute"),
    pytest.param("import os", "语法错误", id="import-statement"),
    pytest.param("lambda: 1", "Lambda", id="lambda"),
    pytest.param("[x for x in y]", "ListComp", id="list-comprehension"),
    pytest.param("{x for x in y}", "SetComp", id="set-comprehension"),
    pytest.param("{k: 1 for k in y}", "DictComp", id="dict-comprehension"),
    pytest.param("(x for x in y)", "GeneratorExp", id="generator"),
    pytest.param('"x" * 10**9', "结果过长", id="huge-string"),
    pytest.param("[0] * 10**9", "结果过长", id="huge-list"),
    pytest.param("10**10**10", "数值过大", id="huge-power"),
    pytest.param("1 / 0", "除数为零", id="division-by-zero"),
    pytest.param("x" * (expressions.MAX_EXPRESSION_LENGTH + 1), "过长", id="too-long"),
    pytest.param("(" * 40 + "1" + ")" * 40 + " + " + "-" * 40 + "1", "嵌套过深", id="too-deep"),
    pytest.param('open("/etc/passwd")', "不允许调用函数：open", id="open"),
    pytest.param('eval("1")', "不允许调用函数：eval", id="eval"),
    pytest.param("getattr(x, 'y')", "不允许调用函数：getattr", id="getattr"),
    pytest.param("type(x)", "不允许调用函数：type", id="type"),
    pytest.param('"abc".upper()', "不允许调用函数", id="method-call"),
    pytest.param("d.get('a')", "不允许调用函数", id="dict-method"),
    pytest.param("(y := 1)", "NamedExpr", id="walrus"),
    pytest.param("", "为空", id="empty"),
    pytest.param("1 +", "语法错误", id="syntax"),
]


@pytest.mark.parametrize(("expr", "reason"), REFUSED)
def test_refused_at_compile_time(expr: str, reason: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(expr)
    assert re.search(reason, str(info.value)), str(info.value)
    assert CJK.search(str(info.value))
    # and evaluation refuses the same, before anything runs
    with pytest.raises(ExpressionError):
        evaluate(expr, {"x": object(), "y": [1], "d": {"a": 1}})


def test_huge_values_built_from_data_are_refused_at_run_time() -> None:
    compile_expression("s * n")  # fine as such: the data decides
    with pytest.raises(ExpressionError, match="不被允许"):
        evaluate("s * n", {"s": "x", "n": 10**9})
    with pytest.raises(ExpressionError, match="不被允许"):
        evaluate("l * n", {"l": [0], "n": 10**9})


def test_undefined_names_and_runtime_failures_are_expression_errors() -> None:
    with pytest.raises(ExpressionError, match="未定义的变量 missing"):
        evaluate("missing + 1", {})
    with pytest.raises(ExpressionError, match="求值失败"):
        evaluate("a + b", {"a": "x", "b": 1})
    with pytest.raises(ExpressionError, match="求值失败"):
        evaluate("d['nope']", {"d": {}})
    with pytest.raises(ExpressionError, match="求值失败"):
        evaluate("n / m", {"n": 1, "m": 0})


def test_unknown_functions_are_refused_even_when_data_offers_them() -> None:
    with pytest.raises(ExpressionError, match="不允许调用函数：f"):
        evaluate("f()", {"f": lambda: "called"})
    with pytest.raises(ExpressionError, match="不允许调用函数：print"):
        evaluate("print(1)", {})


def test_constant_folding_leaves_reasonable_constants_alone() -> None:
    compile_expression("10**9")
    compile_expression("2 ** 0.5 > 1")
    compile_expression('"ab" * 3 == "ababab"')
    compile_expression("x * 10**9")
    assert evaluate("-(3 - 5)", {}) == 2
