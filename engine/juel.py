"""JUEL as Camunda 7 users write it, translated into the syntax tree our safe evaluator runs (never ``eval``).

The body of a ``${…}`` / ``#{…}`` is read with the grammar of the Unified Expression Language: ``!``/``not``,
``&&``/``and``, ``||``/``or``, ``==``/``eq``, ``!=``/``ne``, ``<``/``lt``, ``>``/``gt``, ``<=``/``le``,
``>=``/``ge``, ``+ - * / div % mod``, unary ``-``, ``empty``, ``a ? b : c``, string literals in single or double
quotes, integer and decimal literals, ``true``/``false``/``null``, property access ``a.b`` and ``a['b']``, and
calls of the functions our evaluator offers (``len(x)``). Method calls (``x.size()``), prefixed functions
(``fn:x()``) and Camunda's ``execution`` object are refused with a message that quotes them.

Operators keep JUEL's coercions (``"1" == 1`` is true, ``null + 1`` is 1, ``!"false"`` is true); where JUEL
would fail at run time and Python has a meaning (``"unit:" + code``, ``[1] + [2]``), the evaluator keeps the
meaning (see ``OPERATORS``). The resulting tree is made of ``ast`` nodes only; the helpers it calls have names
that no expression can spell (``#empty``), so designers reach them only through the JUEL syntax.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import simpleeval

KEYWORDS = {"and", "or", "not", "eq", "ne", "lt", "gt", "le", "ge", "div", "mod", "empty", "true", "false",
            "null", "instanceof"}
# Camunda's context objects: they exist in Camunda's evaluation context but not in ours.
REFUSED_NAMES = {"execution": "流程执行对象 execution", "authenticatedUserId": "当前用户 authenticatedUserId",
                 "task": "任务对象 task", "variables": "变量对象 variables",
                 **{n: f"多实例内置变量 {n}" for n in ("nrOfInstances", "nrOfActiveInstances",
                                                       "nrOfCompletedInstances", "loopCounter")}}

_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[^\W\d]\w*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[<>!+\-*/%?:()\[\].,])
""", re.X | re.S)
_BINARY = {"+": ast.Add, "-": ast.Sub, "*": ast.Mult, "/": ast.Div, "div": ast.Div, "%": ast.Mod, "mod": ast.Mod}
_EQUALITY = {"==": ast.Eq, "eq": ast.Eq, "!=": ast.NotEq, "ne": ast.NotEq}
_RELATIONAL = {"<": ast.Lt, "lt": ast.Lt, ">": ast.Gt, "gt": ast.Gt, "<=": ast.LtE, "le": ast.LtE,
               ">=": ast.GtE, "ge": ast.GtE}


class JuelSyntaxError(ValueError):
    """Not JUEL (the message is Chinese and quotes the offending part)."""


class JuelRefused(JuelSyntaxError):
    """JUEL that Camunda runs but this engine refuses (method calls, ``execution``, private names): final, no
    other reading of the text is tried."""


@dataclass(frozen=True)
class Token:
    kind: str  # number | string | name | op | end
    text: str
    at: int


def tokenize(text: str) -> list[Token]:
    tokens, at = [], 0
    while at < len(text):
        m = _TOKEN.match(text, at)
        if m is None:
            raise JuelSyntaxError(f"“{_excerpt(text, at)}”处的字符“{text[at]}”无法识别")
        if m.lastgroup != "space":
            tokens.append(Token(m.lastgroup or "", m.group(), at))
        at = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def _excerpt(text: str, at: int) -> str:
    part = text[at:at + 20]
    return part + ("…" if len(text) > at + 20 else "")


def _string(literal: str) -> str:
    body, out, i = literal[1:-1], [], 0
    while i < len(body):
        if body[i] == "\\":
            if body[i + 1] not in "\\'\"":
                raise JuelRefused(f"字符串 {literal} 中的转义“\\{body[i + 1]}”无效（只能是 \\\\、\\'、\\\"）")
            i += 1
        out.append(body[i])
        i += 1
    return "".join(out)


def _number(text: str) -> int | float:
    return float(text) if any(c in text for c in ".eE") else int(text)


def helper(name: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=ast.Name(id=f"#{name}", ctx=ast.Load()), args=list(args), keywords=[])


class Parser:
    """Recursive descent over the JUEL grammar, one method per precedence level, lowest first."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.pos]

    def take(self, *texts: str) -> Token | None:
        t = self.tok
        if t.kind in ("op", "name") and t.text in texts:
            self.pos += 1
            return t
        return None

    def expect(self, text: str) -> None:
        if not self.take(text):
            self.fail(f"缺少“{text}”")

    def fail(self, what: str) -> None:
        t = self.tok
        where = "表达式结尾" if t.kind == "end" else f"“{_excerpt(self.text, t.at)}”处"
        raise JuelSyntaxError(f"{where}{what}")

    def parse(self) -> ast.Expression:
        if self.tok.kind == "end":
            raise JuelSyntaxError("表达式为空")
        body = self.ternary()
        if self.tok.kind != "end":
            self.fail("无法理解")
        return ast.fix_missing_locations(ast.Expression(body=body))

    def ternary(self) -> ast.expr:
        test = self.disjunction()
        if self.take("?"):
            then = self.ternary()
            self.expect(":")
            return ast.IfExp(test=helper("bool", test), body=then, orelse=self.ternary())
        return test

    def disjunction(self) -> ast.expr:
        left = self.conjunction()
        while self.take("||", "or"):
            left = ast.BoolOp(op=ast.Or(), values=[helper("bool", left), helper("bool", self.conjunction())])
        return left

    def conjunction(self) -> ast.expr:
        left = self.equality()
        while self.take("&&", "and"):
            left = ast.BoolOp(op=ast.And(), values=[helper("bool", left), helper("bool", self.equality())])
        return left

    def equality(self) -> ast.expr:
        left = self.relational()
        while (t := self.take(*_EQUALITY)) is not None:
            left = ast.Compare(left=left, ops=[_EQUALITY[t.text]()], comparators=[self.relational()])
        return left

    def relational(self) -> ast.expr:
        left, ops, rights = self.additive(), [], []
        while (t := self.take(*_RELATIONAL)) is not None:
            ops.append(_RELATIONAL[t.text]())
            rights.append(self.additive())
        return ast.Compare(left=left, ops=ops, comparators=rights) if ops else left

    def additive(self) -> ast.expr:
        left = self.multiplicative()
        while (t := self.take("+", "-")) is not None:
            left = ast.BinOp(left=left, op=_BINARY[t.text](), right=self.multiplicative())
        return left

    def multiplicative(self) -> ast.expr:
        left = self.unary()
        while (t := self.take("*", "/", "div", "%", "mod")) is not None:
            left = ast.BinOp(left=left, op=_BINARY[t.text](), right=self.unary())
        return left

    def unary(self) -> ast.expr:
        if self.take("-"):
            return ast.UnaryOp(op=ast.USub(), operand=self.unary())
        if self.take("!", "not"):
            return ast.UnaryOp(op=ast.Not(), operand=self.unary())
        if self.take("empty"):
            return helper("empty", self.unary())
        return self.value()

    def value(self) -> ast.expr:
        node = self.primary()
        while True:
            start = self.tok
            if self.take("."):
                name = self.tok
                if name.kind != "name" or name.text in KEYWORDS:
                    self.fail("应为属性名")
                self.pos += 1
                if self.tok.text == "(" and self.tok.kind == "op":
                    self.method_call(start)
                node = helper("prop", node, self.property_name(name))
            elif self.take("["):
                node = helper("index", node, self.ternary())
                self.expect("]")
            else:
                return node

    def property_name(self, name: Token) -> ast.Constant:
        if name.text.startswith("_"):
            raise JuelRefused(f"不允许访问以下划线开头的属性：{name.text}")
        return ast.Constant(value=name.text)

    def method_call(self, start: Token) -> None:
        depth, end = 0, self.pos
        for t in self.tokens[self.pos:]:
            depth += {"(": 1, ")": -1}.get(t.text, 0) if t.kind == "op" else 0
            end = t.at + len(t.text)
            if depth == 0 or t.kind == "end":
                break
        call = self.text[self._owner_start(start):end]
        raise JuelRefused(f"不允许调用函数：方法调用“{call}”不受支持，请改用内置函数（如 len(x)）")

    def _owner_start(self, dot: Token) -> int:
        """Where the value before a ``.`` starts, to quote the whole call (best effort: back to a space)."""
        head = self.text[:dot.at]
        return max(head.rfind(" "), head.rfind("("), head.rfind("!"), head.rfind(",")) + 1

    def primary(self) -> ast.expr:
        t = self.tok
        if self.take("("):
            inner = self.ternary()
            self.expect(")")
            return inner
        if t.kind in ("number", "string"):
            self.pos += 1
            return ast.Constant(value=_number(t.text) if t.kind == "number" else _string(t.text))
        if t.kind == "name":
            return self.name(t)
        self.fail("应为值、变量或函数")
        raise AssertionError  # fail() raised

    def name(self, t: Token) -> ast.expr:
        # True/False/None: the spelling of this engine's earlier Python-like dialect
        literals = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}
        if t.text in literals:
            self.pos += 1
            return ast.Constant(value=literals[t.text])
        if t.text in KEYWORDS:
            self.fail(f"“{t.text}”是保留字，不能用作变量名")
        self.pos += 1
        if self.tok.text == ":" and self.tokens[self.pos + 1].kind == "name" \
                and self.tokens[self.pos + 2].text == "(":
            prefixed = f"{t.text}:{self.tokens[self.pos + 1].text}"
            raise JuelRefused(f"不允许调用函数：带前缀的函数“{prefixed}”不受支持")
        if self.take("("):
            return self.call(t)  # which functions may be called is checked on the tree, as for any call
        if t.text in REFUSED_NAMES:
            raise JuelRefused(f"不支持 Camunda 的{REFUSED_NAMES[t.text]}：请直接使用流程变量")
        if t.text.startswith("_"):
            raise JuelRefused(f"不允许使用以下划线开头的名称：{t.text}")
        return ast.Name(id=t.text, ctx=ast.Load())

    def call(self, fn: Token) -> ast.Call:
        args: list[ast.expr] = []
        if not self.take(")"):
            args.append(self.ternary())
            while self.take(","):
                args.append(self.ternary())
            self.expect(")")
        return ast.Call(func=ast.Name(id=fn.text, ctx=ast.Load()), args=args, keywords=[])


def parse(text: str) -> ast.Expression:
    """A JUEL expression body (without ``${}``) as a Python syntax tree for the safe evaluator."""
    return Parser(text).parse()


# ---------------------------------------------------------------- JUEL's coercions (EL 3.0 §1.7–1.9, §1.23)

class CoercionError(ValueError):
    pass


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | Decimal) and not isinstance(v, bool)


_NUMERIC = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def to_number(v: Any) -> int | float:
    """EL coercion to a number: null and "" are 0, a numeric string is parsed, anything else fails."""
    if v is None or v == "":
        return 0
    if _is_number(v):
        return float(v) if isinstance(v, Decimal) else v
    if isinstance(v, str) and _NUMERIC.fullmatch(v.strip()):
        return _number(v.strip())
    raise CoercionError(f"无法把 {_show(v)} 当作数字")


def _show(v: Any) -> str:
    return "null" if v is None else (f"“{v[:40]}”" if isinstance(v, str) else type(v).__name__)


def to_bool(v: Any) -> bool:
    """EL coercion to a boolean: null and "" are false, a string is true only when it says "true"."""
    if v is None or isinstance(v, bool):
        return bool(v)
    if isinstance(v, str):
        return v.lower() == "true"
    return bool(v)  # a number or a collection: JUEL fails; Python's truth keeps a meaning


def arithmetic(py_op: Any) -> Any:
    def op(a: Any, b: Any) -> Any:
        if a is None and b is None:
            return 0
        if _both_python(a, b):
            return py_op(a, b)
        try:
            x, y = to_number(a), to_number(b)
        except CoercionError:
            if a is None or b is None:
                raise
            return py_op(a, b)  # "unit:" + code, [1] + [2], "ab" * 3: no JUEL meaning, Python's stays
        return py_op(x, y)
    return op


def _both_python(a: Any, b: Any) -> bool:
    return _is_number(a) and _is_number(b)


def juel_div(a: Any, b: Any) -> Any:
    return arithmetic(lambda x, y: x / y)(a, b)


def juel_mod(a: Any, b: Any) -> Any:
    """Java's remainder: the sign follows the dividend (-5 % 2 is -1)."""
    def rem(x: Any, y: Any) -> Any:
        if isinstance(x, int) and isinstance(y, int):
            r = abs(x) % abs(y)
            return r if x >= 0 else -r
        return math.fmod(x, y)
    return arithmetic(rem)(a, b)


def _coerce_pair(a: Any, b: Any) -> tuple[Any, Any]:
    """Bring two operands of == or < to one type as EL does; what EL cannot coerce stays as it is."""
    if a is None or b is None or type(a) is type(b):
        return a, b
    if _is_number(a) or _is_number(b):
        if isinstance(a, bool) or isinstance(b, bool):
            return a, b
        return to_number(a), to_number(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return to_bool(a), to_bool(b)
    return a, b


def juel_eq(a: Any, b: Any) -> bool:
    x, y = _coerce_pair(a, b)
    return bool(x == y)


def juel_ne(a: Any, b: Any) -> bool:
    return not juel_eq(a, b)


def _relational(py_op: Any) -> Any:
    def op(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        x, y = _coerce_pair(a, b)
        return bool(py_op(x, y))
    return op


def juel_not(a: Any) -> bool:
    return not to_bool(a)


def juel_neg(a: Any) -> Any:
    return -to_number(a) if a is None or isinstance(a, str) else -a


def juel_empty(v: Any) -> bool:
    return v is None or (isinstance(v, str | list | tuple | dict | set) and len(v) == 0)


def juel_property(obj: Any, name: Any) -> Any:
    """``a.b`` and ``a['b']`` on what task data holds: a missing key of an object is null, as for a Java map;
    a list takes an index and is null outside its bounds, as Camunda's list resolver answers."""
    if obj is None:
        raise CoercionError(f"不能在 null 上读取属性 {name}")
    if isinstance(obj, dict):
        return obj.get(name)
    if isinstance(obj, list | tuple):
        index = to_number(name)
        if not isinstance(index, int) or index < 0 or index >= len(obj):
            return None
        return obj[index]
    raise CoercionError(f"{_show(obj)} 没有属性 {name}")


HELPERS: dict[str, Any] = {"#bool": to_bool, "#empty": juel_empty, "#prop": juel_property,
                           "#index": juel_property}

OPERATORS: dict[type, Any] = {
    **simpleeval.DEFAULT_OPERATORS,
    ast.Add: arithmetic(simpleeval.safe_add), ast.Sub: arithmetic(lambda x, y: x - y),
    ast.Mult: arithmetic(simpleeval.safe_mult), ast.Div: juel_div, ast.Mod: juel_mod,
    ast.Eq: juel_eq, ast.NotEq: juel_ne,
    ast.Lt: _relational(lambda x, y: x < y), ast.Gt: _relational(lambda x, y: x > y),
    ast.LtE: _relational(lambda x, y: x <= y), ast.GtE: _relational(lambda x, y: x >= y),
    ast.Not: juel_not, ast.USub: juel_neg,
}
