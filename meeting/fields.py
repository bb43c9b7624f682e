"""The joint meeting's own form field types: units of the directory, topics of the pool, and the
resolution-item table. Registered with the engine by the composition root (meeting/runtime.py)."""

from __future__ import annotations

import json
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.forms import (
    MAX_LIST,
    Field,
    FieldType,
    FieldTypes,
    FormFieldError,
    as_int,
    as_list,
    generic_field_types,
)
from engine.models import Attachment
from meeting.check_fields import LINES
from meeting.items import clean_item_rows
from meeting.models import Topic, Unit


class MeetingLookups(Protocol):
    def unknown_units(self, codes: list[str]) -> list[str]: ...

    def unknown_topics(self, ids: list[int]) -> list[int]: ...

    def attachment_exists(self, attachment_id: str) -> bool: ...


class DomainLookups:
    """Answers the form questions from the directory, the topic pool and the stored uploads."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def unknown_units(self, codes: list[str]) -> list[str]:
        known = set(self.session.scalars(select(Unit.code).where(Unit.code.in_(codes), Unit.active)))
        return [c for c in codes if c not in known]

    def unknown_topics(self, ids: list[int]) -> list[int]:
        known = set(self.session.scalars(select(Topic.id).where(Topic.id.in_(ids))))
        return [i for i in ids if i not in known]

    def attachment_exists(self, attachment_id: str) -> bool:
        return self.session.get(Attachment, attachment_id) is not None


def _check_units(lookups: MeetingLookups | None, codes: list[str]) -> None:
    if lookups is not None and codes:
        unknown = lookups.unknown_units(codes)
        if unknown:
            raise FormFieldError(f"单位不存在：{'、'.join(unknown)}")


def _check_topics(lookups: MeetingLookups | None, ids: list[int]) -> None:
    if lookups is not None and ids:
        unknown = lookups.unknown_topics(ids)
        if unknown:
            raise FormFieldError(f"议题不存在：{'、'.join(map(str, unknown))}")


def coerce_unit(f: Field, value: Any, lookups: MeetingLookups | None) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 64:
        raise FormFieldError("请选择单位")
    _check_units(lookups, [value.strip()])
    return value.strip()


def coerce_units(f: Field, value: Any, lookups: MeetingLookups | None) -> list[str]:
    try:
        codes = [str(c).strip() for c in as_list(value)]
    except (ValueError, TypeError):
        raise FormFieldError("单位列表格式不正确") from None
    if len(codes) > MAX_LIST or any(not c or len(c) > 64 for c in codes):
        raise FormFieldError("单位列表格式不正确")
    codes = list(dict.fromkeys(codes))
    _check_units(lookups, codes)
    return codes


def coerce_topic(f: Field, value: Any, lookups: MeetingLookups | None) -> int:
    try:
        tid = as_int(value)
    except (ValueError, TypeError):
        raise FormFieldError("请选择议题") from None
    _check_topics(lookups, [tid])
    return tid


def coerce_topics(f: Field, value: Any, lookups: MeetingLookups | None) -> list[int]:
    try:
        ids = [as_int(v) for v in as_list(value)]
    except (ValueError, TypeError, json.JSONDecodeError):
        raise FormFieldError("议题列表格式不正确") from None
    if len(ids) > MAX_LIST:
        raise FormFieldError("议题过多")
    ids = list(dict.fromkeys(ids))
    _check_topics(lookups, ids)
    return ids


def coerce_resolution_items(f: Field, value: Any, lookups: MeetingLookups | None) -> list[dict[str, Any]]:
    return clean_item_rows(value, lambda codes: _check_units(lookups, codes))


SIGN_IN_STATUSES = ("present", "substitute", "absent")  # meeting.statuses.SignIn


def coerce_sign_in(f: Field, value: Any, lookups: MeetingLookups | None) -> list[dict[str, Any]]:
    """签到表: one row per unit {unit, status (present / substitute / absent), name, post}; who came is named."""
    if isinstance(value, str):
        try:
            value = json.loads(value or "[]")
        except (json.JSONDecodeError, RecursionError):
            raise FormFieldError("签到表格式不正确") from None
    if not isinstance(value, list) or len(value) > MAX_LIST:
        raise FormFieldError("签到表格式不正确")
    rows: list[dict[str, Any]] = []
    missing = []
    for row in value:
        if not isinstance(row, dict):
            raise FormFieldError("签到表格式不正确")
        unit, status = str(row.get("unit") or "").strip(), str(row.get("status") or "").strip()
        name, post = str(row.get("name") or "").strip()[:100], str(row.get("post") or "").strip()[:100]
        if not unit or len(unit) > 64 or status not in SIGN_IN_STATUSES:
            raise FormFieldError("签到表中有单位的到会情况不正确")
        if status != "absent" and not name:
            missing.append(unit)
        rows.append({"unit": unit, "status": status, "name": name, "post": post})
    _check_units(lookups, [r["unit"] for r in rows])
    if missing:
        raise FormFieldError("出席或代会的单位请填写到会人员姓名")
    return rows


MEETING_FIELD_TYPES = (
    FieldType("sign_in", coerce_sign_in, empty=list, rows=True),
    FieldType("unit", coerce_unit, choice=True),
    FieldType("units", coerce_units, empty=list),
    FieldType("topic", coerce_topic, choice=True),
    FieldType("topics", coerce_topics, empty=list),
    FieldType("resolution_items", coerce_resolution_items, empty=list, rows=True),
    LINES,
)


def field_types() -> FieldTypes:
    """The engine's generic types and the meeting's own."""
    types = generic_field_types()
    for t in MEETING_FIELD_TYPES:
        types.register(t)
    return types
