"""Typed task forms from ``camunda:formData``: validated and coerced on the server, with Chinese messages.

Only declared field ids ever reach task data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from engine.errors import FormError

FIELD_TYPES = {
    "string", "long", "boolean", "date", "enum",
    "text", "unit", "units", "topic", "topics", "resolution_items", "attachment",
}
KNOWN_CONSTRAINTS = {"required", "minlength", "maxlength", "min", "max", "readonly"}
DEFAULT_MAX_LENGTH = {"string": 500, "text": 20000}
MAX_LIST = 200
MAX_TABLE_ROWS = 100
MAX_LONG = 2**53
# NUL (PostgreSQL text cannot hold it) and lone UTF-16 halves (JSON "\ud800": no UTF-8 text can hold them)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class FieldLookups(Protocol):
    """What the domain knows that the engine does not: which units, topics and files exist."""

    def unknown_units(self, codes: list[str]) -> list[str]: ...

    def unknown_topics(self, ids: list[int]) -> list[int]: ...

    def attachment_exists(self, attachment_id: str) -> bool: ...


@dataclass
class Field:
    id: str
    label: str
    type: str
    default: str | None = None
    constraints: dict[str, str | None] = field(default_factory=dict)
    options: list[tuple[str, str]] = field(default_factory=list)
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def required(self) -> bool:
        return "required" in self.constraints

    @property
    def readonly(self) -> bool:
        return "readonly" in self.constraints

    def number(self, name: str) -> float | None:
        raw = self.constraints.get(name)
        return float(raw) if raw not in (None, "") else None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "type": self.type, "default": self.default,
                "required": self.required, "readonly": self.readonly, "constraints": self.constraints,
                "options": [{"id": i, "name": n} for i, n in self.options], "properties": self.properties}


@dataclass
class FormSpec:
    fields: list[Field]

    @classmethod
    def from_task_spec(cls, task_spec: Any) -> FormSpec:
        form = getattr(task_spec, "form", None)
        fields = []
        for f in getattr(form, "fields", None) or []:
            fields.append(Field(
                id=_attr(f, "id"),
                label=_attr(f, "label") or _attr(f, "id"),
                type=_attr(f, "type") or "string",
                default=_attr(f, "default_value") or None,
                constraints={_attr(v, "name"): _attr(v, "config") for v in _attr(f, "validation") or []},
                options=[(_attr(o, "id"), _attr(o, "name")) for o in _attr(f, "options") or []],
                properties={_attr(p, "id"): _attr(p, "value") for p in _attr(f, "properties") or []},
            ))
        return cls(fields)

    @staticmethod
    def field_from_dict(d: dict[str, Any]) -> Field:
        return Field(id=d["id"], label=d["label"], type=d["type"], default=d.get("default"),
                     constraints=dict(d.get("constraints") or {}),
                     options=[(o["id"], o["name"]) for o in d.get("options") or []],
                     properties=dict(d.get("properties") or {}))

    def as_list(self) -> list[dict[str, Any]]:
        return [f.as_dict() for f in self.fields]


def _attr(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, list | tuple | dict) and len(value) == 0)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = json.loads(text)
            except RecursionError:  # nested deeper than the parser goes: not a list of ours
                raise ValueError from None
            if not isinstance(parsed, list):
                raise ValueError
            return parsed
        return [v.strip() for v in text.split(",") if v.strip()]
    raise ValueError


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        result = value
    elif isinstance(value, float) and value.is_integer():
        result = int(value)
    elif isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 17:
        result = int(value.strip())
    else:
        raise ValueError
    if abs(result) > MAX_LONG:
        raise ValueError
    return result


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        return date.fromisoformat(value.strip())
    raise ValueError


class _Coercer:
    def __init__(self, lookups: FieldLookups | None) -> None:
        self.lookups = lookups

    def text(self, f: Field, value: Any) -> str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise FormFieldError("应为文字")
        text = str(value).replace("\r\n", "\n").strip()
        if "\x00" in text:
            raise FormFieldError("含有不允许的控制字符")
        if f.type == "string" and "\n" in text:
            raise FormFieldError("不能换行")
        max_len = f.number("maxlength") or DEFAULT_MAX_LENGTH.get(f.type, 500)
        min_len = f.number("minlength")
        if len(text) > max_len:
            raise FormFieldError(f"不能超过 {int(max_len)} 个字")
        if min_len is not None and len(text) < min_len:
            raise FormFieldError(f"至少需要 {int(min_len)} 个字")
        return text

    def long(self, f: Field, value: Any) -> int:
        try:
            number = _as_int(value)
        except (ValueError, TypeError):
            raise FormFieldError("应为整数") from None
        low, high = f.number("min"), f.number("max")
        if low is not None and number < low:
            raise FormFieldError(f"不能小于 {int(low)}")
        if high is not None and number > high:
            raise FormFieldError(f"不能大于 {int(high)}")
        return number

    def boolean(self, f: Field, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in {"true", "on", "1", "yes", "是"}:
            return True
        if isinstance(value, str) and value.strip().lower() in {"false", "off", "0", "no", "否", ""}:
            return False
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise FormFieldError("应为“是”或“否”")

    def date(self, f: Field, value: Any) -> date:
        try:
            return _as_date(value)
        except (ValueError, TypeError):
            raise FormFieldError("日期格式应为 YYYY-MM-DD") from None

    def enum(self, f: Field, value: Any) -> str:
        ids = [i for i, _ in f.options]
        if not isinstance(value, str) or value not in ids:
            names = "、".join(n for _, n in f.options)
            raise FormFieldError(f"请从以下选项中选择：{names}")
        return value

    def unit(self, f: Field, value: Any) -> str:
        if not isinstance(value, str) or not value.strip() or len(value) > 64:
            raise FormFieldError("请选择单位")
        self._check_units([value.strip()])
        return value.strip()

    def units(self, f: Field, value: Any) -> list[str]:
        try:
            codes = [str(c).strip() for c in _as_list(value)]
        except (ValueError, TypeError):
            raise FormFieldError("单位列表格式不正确") from None
        if len(codes) > MAX_LIST or any(not c or len(c) > 64 for c in codes):
            raise FormFieldError("单位列表格式不正确")
        codes = list(dict.fromkeys(codes))
        self._check_units(codes)
        return codes

    def topic(self, f: Field, value: Any) -> int:
        try:
            tid = _as_int(value)
        except (ValueError, TypeError):
            raise FormFieldError("请选择议题") from None
        self._check_topics([tid])
        return tid

    def topics(self, f: Field, value: Any) -> list[int]:
        try:
            ids = [_as_int(v) for v in _as_list(value)]
        except (ValueError, TypeError, json.JSONDecodeError):
            raise FormFieldError("议题列表格式不正确") from None
        if len(ids) > MAX_LIST:
            raise FormFieldError("议题过多")
        ids = list(dict.fromkeys(ids))
        self._check_topics(ids)
        return ids

    def attachment(self, f: Field, value: Any) -> str:
        if not isinstance(value, str) or len(value) > 64:
            raise FormFieldError("附件无效")
        if self.lookups is not None and not self.lookups.attachment_exists(value):
            raise FormFieldError("附件不存在或已失效，请重新上传")
        return value

    def resolution_items(self, f: Field, value: Any) -> list[dict[str, Any]]:
        try:
            rows = _as_list(value) if not isinstance(value, str) or value.strip().startswith("[") else None
        except (ValueError, json.JSONDecodeError):
            rows = None
        if rows is None or len(rows) > MAX_TABLE_ROWS or not all(isinstance(r, dict) for r in rows):
            raise FormFieldError("议定事项表格格式不正确")
        result = []
        for n, row in enumerate(rows, start=1):
            content = row.get("content")
            lead = row.get("lead_unit")
            if _empty(content) and _empty(lead) and _empty(row.get("deadline")):
                continue
            prefix = f"第 {n} 行："
            if not isinstance(content, str) or not content.strip():
                raise FormFieldError(prefix + "请填写事项内容")
            if len(content) > 2000:
                raise FormFieldError(prefix + "事项内容不能超过 2000 个字")
            if not isinstance(lead, str) or not lead.strip():
                raise FormFieldError(prefix + "请选择牵头单位")
            try:
                co = [str(c).strip() for c in _as_list(row.get("co_units") or [])]
            except (ValueError, TypeError):
                raise FormFieldError(prefix + "配合单位格式不正确") from None
            co = [c for c in dict.fromkeys(co) if c and c != lead.strip()]
            try:
                deadline = _as_date(row.get("deadline"))
            except (ValueError, TypeError):
                raise FormFieldError(prefix + "请填写完成时限（YYYY-MM-DD）") from None
            topic_id = row.get("topic_id")
            try:
                topic_id = None if _empty(topic_id) else _as_int(topic_id)
            except (ValueError, TypeError):
                raise FormFieldError(prefix + "议题编号不正确") from None
            try:
                self._check_units([lead.strip(), *co])
            except FormFieldError as exc:
                raise FormFieldError(prefix + exc.message) from None
            result.append({"content": content.strip(), "lead_unit": lead.strip(), "co_units": co,
                           "deadline": deadline, "topic_id": topic_id})
        return result

    def _check_units(self, codes: list[str]) -> None:
        if self.lookups is not None and codes:
            unknown = self.lookups.unknown_units(codes)
            if unknown:
                raise FormFieldError(f"单位不存在：{'、'.join(unknown)}")

    def _check_topics(self, ids: list[int]) -> None:
        if self.lookups is not None and ids:
            unknown = self.lookups.unknown_topics(ids)
            if unknown:
                raise FormFieldError(f"议题不存在：{'、'.join(map(str, unknown))}")


def unstorable(value: Any, depth: int = 0) -> bool:
    """Whether a submitted value holds text no database can store, anywhere in its lists and objects."""
    if isinstance(value, str):
        return bool(_UNSTORABLE.search(value))
    if depth > 20:
        return False  # deeper than any field of ours: the coercer refuses its shape
    if isinstance(value, list | tuple):
        return any(unstorable(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return any(unstorable(k, depth + 1) or unstorable(v, depth + 1) for k, v in value.items())
    return False


def clean_comment(value: Any, limit: int = 2000) -> str | None:
    """A task's free-text 办理说明 (``_comment``): text or nothing, storable, at most ``limit`` characters."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise FormError({"_comment": "办理说明应为文字"})
    if unstorable(value):
        raise FormError({"_comment": "办理说明含有不允许的控制字符或无效字符"})
    return value.strip()[:limit]


class FormFieldError(ValueError):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


_COERCE = {"string": "text", "text": "text", "long": "long", "boolean": "boolean", "date": "date",
           "enum": "enum", "unit": "unit", "units": "units", "topic": "topic", "topics": "topics",
           "attachment": "attachment", "resolution_items": "resolution_items"}


def validate(form: FormSpec, values: dict[str, Any], lookups: FieldLookups | None = None) -> dict[str, Any]:
    """Coerce submitted values; raise FormError with a Chinese message per field. Undeclared keys are dropped."""
    coercer = _Coercer(lookups)
    errors: dict[str, str] = {}
    result: dict[str, Any] = {}
    for f in form.fields:
        raw = values.get(f.id)
        if f.readonly:
            continue  # shown, never submitted: the value the process holds stays as it is
        if _empty(raw) and f.type != "boolean":
            if f.default not in (None, "") and not f.readonly:
                raw = f.default
            elif f.required:
                errors[f.id] = f"请填写“{f.label}”" if f.type not in {"enum", "unit", "topic"} else f"请选择“{f.label}”"
                continue
            else:
                result[f.id] = [] if f.type in {"units", "topics", "resolution_items"} else None
                continue
        if f.type == "boolean" and raw is None:
            raw = f.default if f.default not in (None, "") else False
        if unstorable(raw):  # before any coercion or lookup: such text never reaches a query
            errors[f.id] = f"“{f.label}”含有不允许的控制字符或无效字符"
            continue
        try:
            result[f.id] = getattr(coercer, _COERCE[f.type])(f, raw)
        except FormFieldError as exc:
            errors[f.id] = f"“{f.label}”{exc.message}" if not exc.message.startswith("第") else exc.message
        if f.type == "resolution_items" and f.required and not errors.get(f.id) and not result.get(f.id):
            errors[f.id] = f"请至少填写一项“{f.label}”"
    if errors:
        raise FormError(errors)
    return result
