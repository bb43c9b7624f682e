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
    ('d["k"] + l[1]', {"d": {"k": 1}, "l": [5, 6]}, 7),
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


@pytest.mark.parametrize("expr, data", [
    ("len(str([[0] * 99999] * 99999))", {}),  # one list repeated by reference: str would copy it 10^10 times
    ("len(str(xs * 99999))", {"xs": [[0] * 99999]}),
    ("x ** 4000000", {"x": 10 ** 50}),
    ("x * y", {"x": 2 ** 5000, "y": 2 ** 5000}),
    ("sorted(xs * 50000)", {"xs": [1, 2, 3]}),
])
def test_work_an_expression_may_do_is_bounded(expr: str, data: dict) -> None:
    with pytest.raises(ExpressionError):
        evaluate(expr, data)


def test_a_deeply_nested_text_is_refused_not_a_crash() -> None:
    with pytest.raises(ExpressionError, match="嵌套|解析|语法"):
        compile_expression("not " * 490 + "x")


def test_undefined_names_and_runtime_failures_are_expression_errors() -> None:
    with pytest.raises(ExpressionError, match="未定义的变量 missing"):
        evaluate("missing + 1", {})
    with pytest.raises(ExpressionError, match="求值失败"):
        evaluate("a + b", {"a": "x", "b": 1})
    with pytest.raises(ExpressionError, match="求值失败"):
        evaluate("d.x", {"d": None})
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


# ---------------------------------------------------------------- JUEL as Camunda 7 users write it

@pytest.mark.parametrize(("expr", "data", "expected"), [
    ("!approved", {"approved": False}, True),
    ("not approved", {"approved": True}, False),
    ("a && b", {"a": True, "b": False}, False),
    ("a and b || c", {"a": False, "b": True, "c": True}, True),
    ("a or b", {"a": False, "b": False}, False),
    ("amount eq 5", {"amount": 5}, True),
    ("amount ne 5", {"amount": 5}, False),
    ("amount lt 10 && amount gt 1", {"amount": 5}, True),
    ("amount le 5 and amount ge 5", {"amount": 5}, True),
    ("amount >= 1000", {"amount": 999}, False),
    ("status == 'approved'", {"status": "approved"}, True),
    ('status != "rejected"', {"status": "approved"}, True),
    ("'it\\'s' == s", {"s": "it's"}, True),
    ("empty list", {"list": []}, True),
    ("empty name", {"name": ""}, True),
    ("empty missing_value", {"missing_value": None}, True),
    ("not empty list", {"list": [1]}, True),
    ("!empty name", {"name": "张三"}, True),
    ("x == null", {"x": None}, True),
    ("x != null", {"x": 1}, True),
    ("ok == true", {"ok": True}, True),
    ("ok == false", {"ok": True}, False),
    ("1.5 + 2", {}, 3.5),
    ("7 div 2", {}, 3.5),
    ("7 mod 4", {}, 3),
    ("-5 % 2", {}, -1),  # Java's remainder: the sign of the dividend
    ("applicant.age >= 18", {"applicant": {"age": 20}}, True),
    ("applicant['name']", {"applicant": {"name": "李四"}}, "李四"),
    ("applicant.phone", {"applicant": {}}, None),  # a missing key of an object is null, as for a Java map
    ("items[5]", {"items": [1]}, None),  # outside a list: null, as Camunda's list resolver answers
    ("items[0] + 1", {"items": [1]}, 2),
    ("amount > 100 ? 'large' : 'small'", {"amount": 150}, "large"),
    ("amount > 100 ? 'large' : amount > 10 ? 'medium' : 'small'", {"amount": 50}, "medium"),
    ("'1' == 1", {}, True),  # JUEL coerces the string to a number
    ("'10' > 9", {}, True),
    ("null + 1", {}, 1),
    ("!'true'", {}, False),
    ("!'yes'", {}, True),  # a string is true only when it says "true"
    ("x < 3", {"x": None}, False),
    ("len(units) > 0 && units[0] == 'caizheng'", {"units": ["caizheng"]}, True),
])
def test_juel(expr: str, data: dict, expected: object) -> None:
    assert evaluate(expr, data) == expected


@pytest.mark.parametrize(("text", "data", "expected"), [
    ("${!approved}", {"approved": False}, True),
    ("#{amount > 10}", {"amount": 11}, True),
    ("unit:#{lead}", {"lead": "caizheng"}, "unit:caizheng"),
    ("${x == '}'}", {"x": "}"}, True),
])
def test_juel_templates(text: str, data: dict, expected: object) -> None:
    assert render(text, data) == expected


@pytest.mark.parametrize(("expr", "quoted"), [
    pytest.param("x === 1", "= 1", id="triple-equals"),
    pytest.param("a & b", "& b", id="single-ampersand"),
    pytest.param("amount >", "表达式结尾", id="dangling-operator"),
    pytest.param("x.size()", "x.size()", id="method-call"),
    pytest.param("execution.getVariable('x')", "execution", id="execution-object"),
    pytest.param("fn:upper(x)", "fn:upper", id="prefixed-function"),
    pytest.param("'a\\n'", "\\n", id="bad-escape"),
    pytest.param("x instanceof y", "instanceof", id="reserved-word"),
])
def test_what_juel_cannot_say_is_refused_with_the_part_quoted(expr: str, quoted: str) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(expr)
    assert quoted in str(info.value), str(info.value)
    assert CJK.search(str(info.value))


def test_method_calls_are_refused_with_a_message_saying_so() -> None:
    with pytest.raises(ExpressionError, match="方法调用“applicant.getName\\(\\)”不受支持"):
        compile_expression("applicant.getName() == 'x'")


def test_runtime_messages_name_no_python_internals() -> None:
    for expr, data in [("a + b", {"a": "x", "b": 1}), ("n / m", {"n": 1, "m": 0}), ("x.y", {"x": None}),
                       ("amount == 'abc'", {"amount": 5})]:
        with pytest.raises(ExpressionError) as info:
            evaluate(expr, data)
        assert not re.search(r"Error|Exception|Traceback", str(info.value)), str(info.value)
