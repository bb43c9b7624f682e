"""Safe expressions: every condition, timer, assignment and collection goes through simpleeval, never ``eval``.

Designers write Camunda-style ``${...}``; the body is a small Python-like expression over the task data.
"""

from __future__ import annotations

import ast
import math
import re
import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import simpleeval

from engine import juel
from engine.clock import SHANGHAI

MAX_EXPRESSION_LENGTH = 2000
MAX_DEPTH = 30

_OPENING = re.compile(r"[$#]\{")


class ExpressionError(ValueError):
    """An expression that cannot be compiled or evaluated; the message is Chinese."""


def _to_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time(0, 0))
    elif isinstance(value, str):
        dt = datetime.fromisoformat(value)
    else:
        raise ExpressionError(f"不是日期时间：{value!r}")
    return dt.replace(tzinfo=SHANGHAI) if dt.tzinfo is None else dt


def days_before(value: Any, days: int | float) -> str:
    return (_to_datetime(value) - timedelta(days=float(days))).astimezone(SHANGHAI).isoformat()


def days_after(value: Any, days: int | float) -> str:
    return (_to_datetime(value) + timedelta(days=float(days))).astimezone(SHANGHAI).isoformat()


MAX_SIZE = simpleeval.MAX_STRING_LENGTH  # elements (nested) or characters a value built by an expression may hold


def _size(value: Any, cap: int = MAX_SIZE) -> int:
    """How many elements and characters ``value`` holds, nested, counting at most ``cap + 1``: a list that
    repeats one huge list by reference is counted as the copies ``str`` or ``sorted`` would make of it."""
    count, stack = 0, [value]
    while stack and count <= cap:
        item = stack.pop()
        if isinstance(item, str | bytes):
            count += len(item)
        elif isinstance(item, list | tuple | set | frozenset | dict):
            count += len(item)
            stack.extend(item.values() if isinstance(item, dict) else item)
        else:
            count += 1
    return count


def _within_size(fn: Callable[..., Any]) -> Callable[..., Any]:
    def bounded(*args: Any) -> Any:
        if sum(_size(a) for a in args) > MAX_SIZE:
            raise simpleeval.IterableTooLong("value too long")
        return fn(*args)
    return bounded


FUNCTIONS: dict[str, Any] = {
    "len": len, "min": _within_size(min), "max": _within_size(max), "str": _within_size(str), "int": int,
    "bool": bool, "abs": abs, "sorted": _within_size(sorted), "days_before": days_before, "days_after": days_after,
}
_BUILTIN_FUNCTIONS = frozenset(FUNCTIONS)


def register_function(name: str, fn: Callable[..., Any]) -> None:
    """Let the composition root add a function designers may call (a domain's calendar, say), so the engine
    itself stays free of domain vocabulary. Registering the same function again is harmless; another function
    under a taken name is refused. Compiled expressions are forgotten, since one that named the function
    before it existed was refused."""
    if not name.isidentifier() or name.startswith("_"):
        raise ValueError(f"not a usable function name: {name!r}")
    current = FUNCTIONS.get(name)
    if current is fn:
        return
    if current is not None:
        raise ValueError(f"expression function {name!r} is already registered")
    FUNCTIONS[name] = fn
    compile_expression.cache_clear()


def registered_functions() -> list[str]:
    """The names designers may call besides the built-in ones (for lint messages and documentation)."""
    return sorted(set(FUNCTIONS) - _BUILTIN_FUNCTIONS)

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare,
    ast.IfExp, ast.Call, ast.keyword, ast.Subscript, ast.Slice, ast.Attribute, ast.List, ast.Tuple, ast.Dict,
    ast.Set, ast.JoinedStr, ast.FormattedValue,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd, ast.Not,
    ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
)


def _depth(tree: ast.AST) -> int:
    """The deepest node's level, without recursion (a deep text must be refused, never crash the check)."""
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node))
    return deepest


@lru_cache(maxsize=4096)
def compile_expression(expr: str) -> ast.Expression:
    """Parse and vet an expression body (without ``${}``). Raises ExpressionError with a Chinese reason.

    The body is read as JUEL first (engine/juel.py), the way Camunda 7 reads it. A text that is not JUEL is
    read as the Python-like syntax this engine accepted before (``x if c else y``, ``a in xs``, ``[1, 2]``);
    whatever is neither is refused with JUEL's message, which quotes the offending part."""
    if len(expr) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"表达式过长（超过 {MAX_EXPRESSION_LENGTH} 个字符）")
    text = expr.strip()
    if not text:
        raise ExpressionError("表达式为空")
    tree = _parse(text)
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionError("表达式嵌套过深")
    for node in ast.walk(tree):
        _vet(node)
    _fold_constants(tree)
    return tree


def _quote(node: ast.AST) -> str:
    try:
        return ast.unparse(node)[:40]
    except Exception:  # noqa: BLE001 - a node that cannot be written back is quoted by its kind only
        return type(node).__name__


def _parse(text: str) -> ast.Expression:
    try:
        return juel.parse(text)
    except juel.JuelRefused as exc:
        raise ExpressionError(str(exc)) from None
    except juel.JuelSyntaxError as exc:
        juel_error = str(exc)
    except RecursionError:
        raise ExpressionError("表达式嵌套过深") from None
    try:
        return ast.parse(text, mode="eval")
    except SyntaxError:
        raise ExpressionError(f"表达式语法错误：{juel_error}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError("表达式无法解析") from None


def _vet(node: ast.AST) -> None:
    ops = [node.op] if isinstance(node, ast.BinOp | ast.UnaryOp | ast.BoolOp) else \
        list(node.ops) if isinstance(node, ast.Compare) else []
    for op in ops:
        if not isinstance(op, _ALLOWED_NODES):
            raise ExpressionError(f"表达式中不允许使用 {type(op).__name__}：“{ast.unparse(node)[:40]}”")
    if not isinstance(node, _ALLOWED_NODES + (ast.operator, ast.unaryop, ast.boolop, ast.cmpop)):
        raise ExpressionError(f"表达式中不允许使用 {type(node).__name__}：“{_quote(node)}”")
    if isinstance(node, ast.Name) and node.id.startswith("_"):
        raise ExpressionError(f"不允许使用以下划线开头的名称：{node.id}")
    if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise ExpressionError(f"不允许访问以下划线开头的属性：{node.attr}")
    if isinstance(node, ast.Call):
        # "#empty" and the other helpers: only the JUEL translation writes such names
        if not isinstance(node.func, ast.Name) or (node.func.id not in FUNCTIONS
                                                    and node.func.id not in juel.HELPERS):
            name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
            raise ExpressionError(f"不允许调用函数：{name}")


_FOLDABLE = (ast.Constant, ast.BinOp, ast.UnaryOp, ast.List, ast.Tuple, ast.Load, ast.operator, ast.unaryop)
_FOLD_MAX_BITS = 4096


def _bounded_pow(a: Any, b: Any) -> Any:
    if isinstance(a, int | float) and isinstance(b, int | float) and abs(a) > 1 \
            and abs(b) * math.log2(abs(a)) > _FOLD_MAX_BITS:
        raise simpleeval.NumberTooHigh("constant too large")
    return simpleeval.safe_power(a, b)


def _bounded_mult(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > _FOLD_MAX_BITS:
        raise simpleeval.NumberTooHigh("constant too large")
    for seq, times in ((a, b), (b, a)):
        if isinstance(seq, str | list | tuple) and isinstance(times, int) and _size(seq) * max(times, 0) > MAX_SIZE:
            raise simpleeval.IterableTooLong("value too long")
    return simpleeval.safe_mult(a, b)


_OPERATORS = {**juel.OPERATORS, ast.Pow: _bounded_pow, ast.Mult: juel.arithmetic(_bounded_mult)}


def _fold_constants(tree: ast.Expression) -> None:
    """Evaluate the constant parts (no names, no calls) at compile time, with bounded arithmetic, so a lint
    refuses what can only fail at run time: ``"x" * 10**9``, ``[0] * 10**9``, ``1 / 0``."""
    ev = simpleeval.EvalWithCompoundTypes(functions={}, names={})
    ev.operators = _OPERATORS
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp | ast.UnaryOp) and all(isinstance(n, _FOLDABLE) for n in ast.walk(node)):
            try:
                ev.eval("", previously_parsed=node)
            except (simpleeval.IterableTooLong, MemoryError):
                raise ExpressionError(f"常量运算“{ast.unparse(node)[:40]}”的结果过长") from None
            except (simpleeval.NumberTooHigh, OverflowError):
                raise ExpressionError(f"常量运算“{ast.unparse(node)[:40]}”的数值过大") from None
            except ZeroDivisionError:
                raise ExpressionError(f"常量运算“{ast.unparse(node)[:40]}”除数为零") from None
            except Exception as exc:  # noqa: BLE001 - any other failure of a constant is the designer's
                raise ExpressionError(f"常量运算“{ast.unparse(node)[:40]}”无效：{type(exc).__name__}") from None


_local = threading.local()


class _Functions(dict[str, Any]):
    """The evaluator's function table: FUNCTIONS as registered now, and JUEL's helpers."""

    def __getitem__(self, name: str) -> Any:
        return FUNCTIONS[name] if name in FUNCTIONS else juel.HELPERS[name]


def _evaluator() -> simpleeval.EvalWithCompoundTypes:
    ev = getattr(_local, "ev", None)
    if ev is None:
        ev = simpleeval.EvalWithCompoundTypes(functions=_Functions(), names={})
        ev.operators = _OPERATORS  # the same bounded arithmetic at run time as when constants are folded
        _local.ev = ev
    return ev


def evaluate(expr: str, data: dict[str, Any]) -> Any:
    """Evaluate an expression body against task data (the data is never modified)."""
    tree = compile_expression(expr)
    ev = _evaluator()
    ev.names = data
    try:
        return ev.eval(expr.strip(), previously_parsed=tree.body)
    except simpleeval.NameNotDefined as exc:
        raise ExpressionError(f"表达式“{expr}”引用了未定义的变量 {exc.name}") from None
    except simpleeval.InvalidExpression as exc:
        raise ExpressionError(f"表达式“{expr}”不被允许：{_refusal(exc)}") from None
    except ExpressionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any runtime failure of a designer's expression
        raise ExpressionError(f"表达式“{expr}”求值失败：{_failure(exc)}") from None
    finally:
        ev.names = {}


def _refusal(exc: simpleeval.InvalidExpression) -> str:
    """Why simpleeval refused, in Chinese (its own text is English and names Python internals)."""
    if isinstance(exc, simpleeval.IterableTooLong):
        return "结果过长"
    if isinstance(exc, simpleeval.NumberTooHigh):
        return "数值过大"
    if isinstance(exc, simpleeval.FunctionNotDefined):
        return "调用了未提供的函数"
    if isinstance(exc, simpleeval.AttributeDoesNotExist):
        return "属性不存在"
    return "使用了不允许的写法"


def _failure(exc: Exception) -> str:
    """A run-time failure in Chinese; the value's own text never reaches the user."""
    if isinstance(exc, juel.CoercionError):
        return str(exc)
    if isinstance(exc, ZeroDivisionError):
        return "除数为零"
    if isinstance(exc, KeyError | IndexError):
        return "取值的键或下标不存在"
    if isinstance(exc, TypeError):
        return "值的类型不适合这种运算"
    if isinstance(exc, OverflowError):
        return "数值过大"
    if isinstance(exc, ValueError):
        return "值无效"
    return "无法计算"


def is_template(text: str) -> bool:
    return "${" in text or "#{" in text


def _spans(text: str) -> list[tuple[int, int]] | None:
    """Where each ``${…}`` / ``#{…}`` is (start of the ``$``, end after the ``}``), skipping braces inside
    quoted strings as JUEL does; None when one is not closed."""
    spans, i = [], 0
    while (m := _OPENING.search(text, i)) is not None:
        j, quote = m.end(), None
        while j < len(text) and (quote or text[j] != "}"):
            if quote and text[j] == "\\":
                j += 1
            elif text[j] in "'\"":
                quote = None if quote == text[j] else (quote or text[j])
            j += 1
        if j >= len(text):
            return None
        spans.append((m.start(), j + 1))
        i = j + 1
    return spans


def strip_braces(text: str) -> str | None:
    """``${x}`` (or ``#{x}``) → ``x`` when the whole text is one expression; otherwise None."""
    t = text.strip()
    spans = _spans(t)
    if spans and len(spans) == 1 and spans[0] == (0, len(t)):
        return t[2:-1]
    return None


def template_parts(text: str) -> list[str]:
    return [text[a + 2:b - 1] for a, b in _spans(text) or []]


def to_text(value: Any) -> str:
    """A value inside a mixed template, written as JUEL writes it: null is empty, booleans are lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(to_text(v) for v in value) + "]"
    return str(value)


def render(text: str, data: dict[str, Any]) -> Any:
    """Resolve an attribute value: a whole ``${expr}`` gives the value itself, a mixed template a string."""
    whole = strip_braces(text)
    if whole is not None:
        return evaluate(whole, data)
    if not is_template(text):
        return text
    out, at = [], 0
    for a, b in _spans(text) or []:
        out += [text[at:a], to_text(evaluate(text[a + 2:b - 1], data))]
        at = b
    return "".join(out) + text[at:]


def check_template(text: str) -> None:
    """Compile every ``${}`` part of an attribute value; raises ExpressionError."""
    if _spans(text) is None:
        raise ExpressionError("表达式缺少右花括号 }")
    for part in template_parts(text):
        compile_expression(part)
