"""DMN input entries ("unary tests"), compiled once and matched against one input value.

Forms accepted (a FEEL subset, as the Camunda Modeler's decision-table editor writes them):

* ``-`` or an empty cell: any value matches;
* a value: ``"text"``, ``5``, ``-2.5``, ``true``, ``false``, ``null``, or an expression over the inputs;
* a comparison: ``< 5``, ``<= 5``, ``> 5``, ``>= 5``;
* a range: ``[1..5]`` (both ends included), ``]1..5[`` or ``(1..5)`` (both excluded), and the mixed forms;
* alternatives separated by commas: ``"a","b",[10..20]``;
* ``not(…)`` around any of the above: matches when none of the alternatives does.

Every value or bound is an expression of the project's safe evaluator (engine/expressions.py), never ``eval``.
When the input value is a list, the entry matches if it matches any element of the list (so ``"教育救助"`` matches
``["教育救助", "医疗救助"]``, and ``not("a")`` matches ``["a", "b"]`` because of ``"b"``); an empty list matches only
``-``. A comparison between values that cannot be compared (a text and a number, or a null) does not match.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from engine import expressions
from engine.expressions import ExpressionError

_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "<=": operator.le, ">=": operator.ge, "<": operator.lt, ">": operator.gt,
}


@dataclass(frozen=True)
class _Test:
    kind: str  # equal | compare | range
    exprs: tuple[str, ...]
    op: str = ""  # compare: one of _COMPARISONS; range: "[]", "[)", "(]", "()"


@dataclass(frozen=True)
class UnaryTest:
    text: str
    tests: tuple[_Test, ...]  # empty: any value
    negated: bool = False

    def matches(self, value: Any, names: Mapping[str, Any]) -> bool:
        if not self.tests:
            return True
        if isinstance(value, list | tuple):
            return any(self._matches_one(v, names) for v in value)
        return self._matches_one(value, names)

    def _matches_one(self, value: Any, names: Mapping[str, Any]) -> bool:
        hit = any(_check(t, value, names) for t in self.tests)
        return hit != self.negated


def _value(expr: str, names: Mapping[str, Any]) -> Any:
    return expressions.evaluate(expr, dict(names))


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) != isinstance(b, bool):
        return False
    return bool(a == b)


def _ordered(op: Callable[[Any, Any], bool], a: Any, b: Any) -> bool:
    if a is None or b is None or isinstance(a, bool) or isinstance(b, bool):
        return False
    try:
        return op(a, b)
    except TypeError:
        return False


def _check(test: _Test, value: Any, names: Mapping[str, Any]) -> bool:
    if test.kind == "equal":
        return _equal(value, _value(test.exprs[0], names))
    if test.kind == "compare":
        return _ordered(_COMPARISONS[test.op], value, _value(test.exprs[0], names))
    low, high = (_value(e, names) for e in test.exprs)
    above = _ordered(operator.ge if test.op[0] == "[" else operator.gt, value, low)
    below = _ordered(operator.le if test.op[1] == "]" else operator.lt, value, high)
    return above and below


def split_top_level(text: str, sep: str = ",") -> list[str]:
    """``text`` split at ``sep`` outside quotes, brackets and parentheses (ranges open with ``]`` or close with
    ``[``, so brackets are not counted: a comma inside a range is not allowed anyway)."""
    parts, depth, quote, start, i = [], 0, "", 0, 0
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if quote:
        raise ExpressionError("引号未闭合")
    parts.append(text[start:])
    return parts


def _compile_expr(expr: str) -> str:
    expr = expr.strip()
    if not expr:
        raise ExpressionError("缺少取值")
    expressions.compile_expression(expr)
    return expr


def _range(part: str) -> _Test | None:
    if len(part) < 5 or part[0] not in "[](" or part[-1] not in "[])":
        return None
    inner = part[1:-1]
    # ".." outside quotes: "1..5" but not a decimal point
    pieces = [p for p in _split_dots(inner)]
    if len(pieces) != 2:
        return None
    opening = "[" if part[0] == "[" else "("
    closing = "]" if part[-1] == "]" else ")"
    return _Test("range", (_compile_expr(pieces[0]), _compile_expr(pieces[1])), opening + closing)


def _split_dots(text: str) -> list[str]:
    quote, i = "", 0
    while i < len(text) - 1:
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif text.startswith("..", i):
            return [text[:i], text[i + 2:]]
        i += 1
    return [text]


def _simple(part: str) -> _Test:
    part = part.strip()
    if not part:
        raise ExpressionError("逗号之间缺少条件")
    found = _range(part)
    if found is not None:
        return found
    for op in _COMPARISONS:  # two-character operators are listed first
        if part.startswith(op):
            return _Test("compare", (_compile_expr(part[len(op):]),), op)
    if part.startswith(("!=", "=")):
        raise ExpressionError("不支持以 = 或 != 开头的条件：相等直接写取值，不等写 not(取值)")
    return _Test("equal", (_compile_expr(part),))


@lru_cache(maxsize=4096)
def compile_unary_tests(text: str | None) -> UnaryTest:
    """Compile an input entry; raises ExpressionError with a Chinese reason."""
    source = (text or "").strip()
    if len(source) > expressions.MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"条件过长（超过 {expressions.MAX_EXPRESSION_LENGTH} 个字符）")
    if source in ("", "-"):
        return UnaryTest(source, ())
    negated = False
    body = source
    if body.startswith("not(") and body.endswith(")") and _closes_at_end(body, 3):
        negated, body = True, body[4:-1].strip()
        if not body:
            raise ExpressionError("not( ) 中缺少条件")
    return UnaryTest(source, tuple(_simple(p) for p in split_top_level(body)), negated)


def _closes_at_end(text: str, open_at: int) -> bool:
    """Whether the parenthesis at ``open_at`` is closed by the text's last character."""
    depth, quote, i = 0, "", open_at
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i == len(text) - 1
        i += 1
    return False
