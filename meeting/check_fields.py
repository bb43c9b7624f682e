"""A typed list form field (``lines``): one row per line (or per “；”), cells separated by “，”, “,” or a tab, the columns
and their kinds named by the field's ``columns`` property — ``address:地址:text,area:面积（平方米）:number``.
Provider departments answer a household check with it (住建: properties with address and area; 公安: vehicles
with plate and value), and a household's members are entered with it (name, 身份证号 checked by GB 11643).

A submitted value is text (the form's textarea) or a list of objects (the API); either way it comes out a list of
dicts keyed by column id, with numbers as numbers and identity numbers normalised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from engine.forms import MAX_LIST, Field, FieldType, FormFieldError
from meeting import idcard

KINDS = ("text", "number", "idcard")
_CELL_SPLIT = re.compile(r"[，,\t|]")
_ROW_SPLIT = re.compile(r"[\n；;]")
MAX_CELL = 200


@dataclass(frozen=True)
class Column:
    id: str
    label: str
    kind: str


def columns_of(f: Field) -> list[Column]:
    cols = []
    for part in str(f.properties.get("columns") or "").split(","):
        bits = [b.strip() for b in part.split(":")]
        if len(bits) == 3 and bits[0] and bits[2] in KINDS:
            cols.append(Column(bits[0], bits[1] or bits[0], bits[2]))
    return cols


def _number(raw: str, label: str) -> int | float:
    try:
        value = float(raw.replace("万", "e4").replace("元", "").replace("平方米", ""))
    except ValueError:
        raise FormFieldError(f"“{label}”应为数字：{raw[:20]}", standalone=True) from None
    if value < 0 or value > 1e12 or value != value:
        raise FormFieldError(f"“{label}”应为不小于0的数字", standalone=True)
    return int(value) if value == int(value) else round(value, 2)


def _row(cols: list[Column], cells: list[str], line_no: int) -> dict[str, Any]:
    if len(cells) > len(cols):
        raise FormFieldError(f"第{line_no}行多于{len(cols)}项（{'，'.join(c.label for c in cols)}）", standalone=True)
    row: dict[str, Any] = {}
    for col, raw in zip(cols, cells + [""] * (len(cols) - len(cells)), strict=True):
        raw = raw.strip()[:MAX_CELL]
        if col.kind == "number":
            row[col.id] = _number(raw, col.label) if raw else None
        elif col.kind == "idcard":
            number = idcard.normalise(raw)
            why = idcard.problem(number) if number else "此项必填"
            if why:
                raise FormFieldError(f"第{line_no}行{col.label}：{why}", standalone=True)
            row[col.id] = number
        else:
            row[col.id] = raw
    if not any(v not in (None, "") for v in row.values()):
        raise FormFieldError(f"第{line_no}行为空", standalone=True)
    return row


def coerce_lines(f: Field, value: Any, lookups: Any) -> list[dict[str, Any]]:
    cols = columns_of(f)
    if not cols:
        raise FormFieldError("表单栏目缺少列定义")
    if isinstance(value, str):
        lines = [ln for ln in _ROW_SPLIT.split(value) if ln.strip()]
        raw_rows = [_CELL_SPLIT.split(ln.strip()) for ln in lines]
    elif isinstance(value, list):
        raw_rows = []
        for item in value:
            if isinstance(item, dict):
                raw_rows.append(["" if item.get(c.id) is None else str(item.get(c.id)) for c in cols])
            elif isinstance(item, list | tuple):
                raw_rows.append([str(x) for x in item])
            else:
                raise FormFieldError("格式不正确")
    elif value is None:
        raw_rows = []
    else:
        raise FormFieldError("格式不正确")
    if len(raw_rows) > MAX_LIST:
        raise FormFieldError(f"最多{MAX_LIST}行")
    return [_row(cols, cells, i) for i, cells in enumerate(raw_rows, start=1)]


def as_text(rows: Any) -> str:
    """A stored list shown back in the textarea: one row per line."""
    if isinstance(rows, str):
        return rows
    if not isinstance(rows, list):
        return ""
    return "\n".join("，".join("" if v is None else str(v) for v in r.values()) for r in rows if isinstance(r, dict))


LINES = FieldType("lines", coerce_lines, empty=list, rows=True)
