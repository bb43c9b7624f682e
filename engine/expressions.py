"""Safe expressions: every condition, timer, assignment and collection goes through simpleeval, never ``eval``.

Designers write Camunda-style ``${...}``; the body is a small Python-like expression over the task data.
"""

from __future__ import annotations

import ast
import math
import re
import threading
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import simpleeval

from engine.clock import SHANGHAI

MAX_EXPRESSION_LENGTH = 2000
MAX_DEPTH = 30

_TEMPLATE = re.compile(r"\$\{(.*?)\}", re.S)


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


FUNCTIONS: dict[str, Any] = {
    "len": len, "min": min, "max": max, "str": str, "int": int, "bool": bool, "abs": abs, "sorted": sorted,
    "days_before": days_before, "days_after": days_after,
}

_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression, ast.Constant, ast.Name, ast.Load, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Compare,
    ast.IfExp, ast.Call, ast.keyword, ast.Subscript, ast.Slice, ast.Attribute, ast.List, ast.Tuple, ast.Dict,
    ast.Set, ast.JoinedStr, ast.FormattedValue,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.USub, ast.UAdd, ast.Not,
    ast.And, ast.Or, ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.In, ast.NotIn, ast.Is, ast.IsNot,
)


def _depth(node: ast.AST, level: int = 0) -> int:
    children = list(ast.iter_child_nodes(node))
    return level if not children else max(_depth(c, level + 1) for c in children)


@lru_cache(maxsize=4096)
def compile_expression(expr: str) -> ast.Expression:
    """Parse and vet an expression body (without ``${}``). Raises ExpressionError with a Chinese reason."""
    if len(expr) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"表达式过长（超过 {MAX_EXPRESSION_LENGTH} 个字符）")
    text = expr.strip()
    if not text:
        raise ExpressionError("表达式为空")
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"表达式语法错误：{exc.msg}") from None
    except (ValueError, RecursionError, MemoryError):
        raise ExpressionError("表达式无法解析") from None
    if _depth(tree) > MAX_DEPTH:
        raise ExpressionError("表达式嵌套过深")
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ExpressionError(f"表达式中不允许使用 {type(node).__name__}")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ExpressionError(f"不允许使用以下划线开头的名称：{node.id}")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ExpressionError(f"不允许访问以下划线开头的属性：{node.attr}")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
                name = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
                raise ExpressionError(f"不允许调用函数：{name}")
    _fold_constants(tree)
    return tree


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
    return simpleeval.safe_mult(a, b)


def _fold_constants(tree: ast.Expression) -> None:
    """Evaluate the constant parts (no names, no calls) at compile time, with bounded arithmetic, so a lint
    refuses what can only fail at run time: ``"x" * 10**9``, ``[0] * 10**9``, ``1 / 0``."""
    ev = simpleeval.EvalWithCompoundTypes(functions={}, names={})
    ev.operators = {**ev.operators, ast.Pow: _bounded_pow, ast.Mult: _bounded_mult}
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


def _evaluator() -> simpleeval.EvalWithCompoundTypes:
    ev = getattr(_local, "ev", None)
    if ev is None:
        ev = simpleeval.EvalWithCompoundTypes(functions=FUNCTIONS, names={})
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
        raise ExpressionError(f"表达式“{expr}”不被允许：{exc}") from None
    except ExpressionError:
        raise
    except Exception as exc:  # noqa: BLE001 - any runtime failure of a designer's expression
        raise ExpressionError(f"表达式“{expr}”求值失败：{type(exc).__name__}: {exc}") from None
    finally:
        ev.names = {}


def is_template(text: str) -> bool:
    return "${" in text


def strip_braces(text: str) -> str | None:
    """``${x}`` → ``x`` when the whole text is one expression; otherwise None."""
    t = text.strip()
    if t.startswith("${") and t.endswith("}") and t.count("${") == 1:
        return t[2:-1]
    return None


def template_parts(text: str) -> list[str]:
    return _TEMPLATE.findall(text)


def render(text: str, data: dict[str, Any]) -> Any:
    """Resolve an attribute value: a whole ``${expr}`` gives the value itself, a mixed template a string."""
    whole = strip_braces(text)
    if whole is not None:
        return evaluate(whole, data)
    if not is_template(text):
        return text
    return _TEMPLATE.sub(lambda m: str(evaluate(m.group(1), data)), text)


def check_template(text: str) -> None:
    """Compile every ``${}`` part of an attribute value; raises ExpressionError."""
    if text.count("${") != len(template_parts(text)):
        raise ExpressionError("表达式缺少右花括号 }")
    for part in template_parts(text):
        compile_expression(part)
