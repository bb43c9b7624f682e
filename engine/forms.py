"""Typed task forms from ``camunda:formData``: validated and coerced on the server, with Chinese messages.

Only declared field ids ever reach task data.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from engine.errors import FormError

KNOWN_CONSTRAINTS = {"required", "minlength", "maxlength", "min", "max", "readonly"}
DEFAULT_MAX_LENGTH = {"string": 500, "text": 20000}
MAX_LIST = 200
MAX_TABLE_ROWS = 100
MAX_LONG = 2**53
# NUL (PostgreSQL text cannot hold it) and lone UTF-16 halves (JSON "\ud800": no UTF-8 text can hold them)
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class AttachmentLookups(Protocol):
    """Whether an uploaded file exists (the attachment type asks; a domain's lookups answer it too)."""

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

    @property
    def sensitive(self) -> bool:
        """The ``sensitive`` property (personal data such as a 身份证号 or phone): see engine/sensitive.py."""
        return str((self.properties or {}).get("sensitive") or "").strip().lower() == "true"

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

    def sensitive_ids(self) -> frozenset[str]:
        """The ids of the fields marked ``sensitive``."""
        return frozenset(f.id for f in self.fields if f.sensitive)


def _attr(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (
        isinstance(value, list | tuple | dict) and len(value) == 0)


def as_list(value: Any) -> list[Any]:
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


def as_int(value: Any) -> int:
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


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and len(value.strip()) == 10:
        return date.fromisoformat(value.strip())
    raise ValueError


def coerce_text(f: Field, value: Any, lookups: Any) -> str:
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


def coerce_long(f: Field, value: Any, lookups: Any) -> int:
    try:
        number = as_int(value)
    except (ValueError, TypeError):
        raise FormFieldError("应为整数") from None
    low, high = f.number("min"), f.number("max")
    if low is not None and number < low:
        raise FormFieldError(f"不能小于 {int(low)}")
    if high is not None and number > high:
        raise FormFieldError(f"不能大于 {int(high)}")
    return number


def coerce_boolean(f: Field, value: Any, lookups: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "on", "1", "yes", "是"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "off", "0", "no", "否", ""}:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise FormFieldError("应为“是”或“否”")


def coerce_date(f: Field, value: Any, lookups: Any) -> date:
    try:
        return as_date(value)
    except (ValueError, TypeError):
        raise FormFieldError("日期格式应为 YYYY-MM-DD") from None


def coerce_enum(f: Field, value: Any, lookups: Any) -> str:
    ids = [i for i, _ in f.options]
    if not isinstance(value, str) or value not in ids:
        names = "、".join(n for _, n in f.options)
        raise FormFieldError(f"请从以下选项中选择：{names}")
    return value


def coerce_enums(f: Field, value: Any, lookups: Any) -> list[str]:
    """Several of the declared choices (check boxes), each once, in the order declared."""
    chosen = value if isinstance(value, list) else [value] if isinstance(value, str) and value else []
    ids = [i for i, _ in f.options]
    if any(not isinstance(v, str) or v not in ids for v in chosen):
        names = "、".join(n for _, n in f.options)
        raise FormFieldError(f"请从以下选项中选择：{names}")
    return [i for i in ids if i in chosen]


def coerce_attachment(f: Field, value: Any, lookups: AttachmentLookups | None) -> str:
    if not isinstance(value, str) or len(value) > 64:
        raise FormFieldError("附件无效")
    if lookups is not None and not lookups.attachment_exists(value):
        raise FormFieldError("附件不存在或已失效，请重新上传")
    return value


def _none() -> None:
    return None


@dataclass(frozen=True)
class FieldType:
    """A form field type: how a submitted value is checked and coerced.

    ``coerce(field, raw, lookups)`` returns the clean value or raises FormFieldError; ``lookups`` is what the
    composition root built for the transaction (it answers questions about the domain's records)."""

    name: str
    coerce: Callable[[Field, Any, Any], Any]
    empty: Callable[[], Any] = _none  # the value of an optional field left empty
    choice: bool = False  # a missing value asks to choose (请选择) rather than to fill in (请填写)
    rows: bool = False  # a table: required means at least one row left after cleaning


class FieldTypes:
    """The registry of field types the loader accepts and the forms coerce."""

    def __init__(self, types: Iterable[FieldType] = ()) -> None:
        self._types: dict[str, FieldType] = {}
        for t in types:
            self.register(t)

    def register(self, field_type: FieldType) -> None:
        if field_type.name in self._types:
            raise ValueError(f"field type {field_type.name!r} registered twice")
        self._types[field_type.name] = field_type

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def get(self, name: str) -> FieldType:
        return self._types[name]

    def names(self) -> list[str]:
        return sorted(self._types)


def generic_field_types() -> FieldTypes:
    """The types the engine itself knows; a domain registers its own on top (see meeting/fields.py)."""
    return FieldTypes([
        FieldType("string", coerce_text), FieldType("text", coerce_text), FieldType("long", coerce_long),
        FieldType("boolean", coerce_boolean), FieldType("date", coerce_date),
        FieldType("enum", coerce_enum, choice=True), FieldType("enums", coerce_enums, empty=list, choice=True),
        FieldType("attachment", coerce_attachment),
    ])


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
    """A field's value is refused. The message follows the field's label unless ``standalone`` (e.g. it
    names a table row itself)."""

    def __init__(self, message: str, standalone: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.standalone = standalone


def show_when(f: Field) -> tuple[str, set[str]] | None:
    """A field's ``showWhen`` property, ``other_field=value`` (or ``=v1|v2``): the field belongs to the form only
    while that field holds one of those values. None when the field is always shown (or the rule is malformed:
    a field is never hidden by a typo)."""
    rule = (f.properties or {}).get("showWhen") or ""
    other, sep, wanted = rule.partition("=")
    if not sep or not other.strip() or not wanted.strip():
        return None
    return other.strip(), {w.strip() for w in wanted.split("|") if w.strip()}


def is_shown(form: FormSpec, f: Field, values: dict[str, Any], depth: int = 0) -> bool:
    """Whether ``f`` is part of this submission: a conditional field whose choice is not made (or whose
    controlling field is itself hidden) is neither required nor stored."""
    rule = show_when(f)
    if rule is None or depth > 10:
        return True
    other_id, wanted = rule
    other = next((o for o in form.fields if o.id == other_id), None)
    if other is None:
        return True
    raw = values.get(other_id)
    if is_empty(raw):
        raw = other.default
    if isinstance(raw, bool):
        raw = "true" if raw else "false"
    chosen = str(raw).strip().lower() if other.type == "boolean" and raw is not None else raw
    return isinstance(chosen, str) and chosen.strip() in wanted and is_shown(form, other, values, depth + 1)


def validate(form: FormSpec, values: dict[str, Any], lookups: Any = None, types: FieldTypes | None = None
             ) -> dict[str, Any]:
    """Coerce submitted values; raise FormError with a Chinese message per field. Undeclared keys are dropped,
    and so are the values of conditional fields that are not shown (``showWhen``)."""
    types = types or generic_field_types()
    errors: dict[str, str] = {}
    result: dict[str, Any] = {}
    for f in form.fields:
        if f.readonly:
            continue  # shown, never submitted: the value the process holds stays as it is
        ftype = types.get(f.type) if f.type in types else None
        if ftype is None:
            errors[f.id] = f"“{f.label}”的类型“{f.type}”不受支持"
            continue
        if not is_shown(form, f, values):
            result[f.id] = ftype.empty()
            continue
        raw = values.get(f.id)
        if is_empty(raw) and f.type != "boolean":
            if f.default not in (None, ""):
                raw = f.default
            elif f.required:
                errors[f.id] = f"请选择“{f.label}”" if ftype.choice else f"请填写“{f.label}”"
                continue
            else:
                result[f.id] = ftype.empty()
                continue
        if f.type == "boolean" and raw is None:
            raw = f.default if f.default not in (None, "") else False
        if unstorable(raw):  # before any coercion or lookup: such text never reaches a query
            errors[f.id] = f"“{f.label}”含有不允许的控制字符或无效字符"
            continue
        try:
            result[f.id] = ftype.coerce(f, raw, lookups)
        except FormFieldError as exc:
            errors[f.id] = exc.message if exc.standalone else f"“{f.label}”{exc.message}"
            continue
        if ftype.rows and f.required and not result[f.id]:
            errors[f.id] = f"请至少填写一项“{f.label}”"
    if errors:
        raise FormError(errors)
    return result


def form_from_xml(element: Any) -> FormSpec:
    """The ``camunda:formData`` of an element as a FormSpec, read from the XML (a start event's form: the
    engine's task specs carry only user tasks' forms)."""
    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL", "camunda": "http://camunda.org/schema/1.0/bpmn"}
    fields = []
    for f in element.iterfind("bpmn:extensionElements/camunda:formData/camunda:formField", ns):
        fields.append(Field(
            id=f.get("id") or "", label=f.get("label") or f.get("id") or "", type=f.get("type") or "string",
            default=f.get("defaultValue") or None,
            constraints={c.get("name") or "": c.get("config")
                         for c in f.iterfind("camunda:validation/camunda:constraint", ns)},
            options=[(v.get("id") or "", v.get("name") or v.get("id") or "") for v in f.iterfind("camunda:value", ns)],
            properties={p.get("id") or p.get("name") or "": p.get("value") or ""
                        for p in f.iterfind("camunda:properties/camunda:property", ns)},
        ))
    return FormSpec(fields)
