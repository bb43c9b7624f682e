"""Resolution items (议定事项): checking the rows of a resolution-item table and creating the items."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import forms
from engine.errors import FormError
from engine.forms import MAX_TABLE_ROWS, FormFieldError, as_int, as_list, is_empty
from meeting.models import Meeting, ResolutionCoUnit, ResolutionItem, Unit
from meeting.timeutil import as_date, end_of_day

# Units that can be given an item; cc recipients only read the minutes.
ASSIGNABLE_KINDS = ("member", "invited", "town")


@dataclass(frozen=True)
class ItemDraft:
    content: str
    lead_unit: str
    co_units: list[str]
    deadline: datetime
    topic_id: int | None


def clean_item_rows(value: Any, check_units: Callable[[list[str]], None]) -> list[dict[str, Any]]:
    """The rows of a submitted resolution-item table, cleaned: empty rows dropped, co-units without the lead
    unit. ``check_units`` raises FormFieldError for codes that are not in the directory. Raises
    FormFieldError naming the row. Business rules that depend on the meeting (deadline not in the past, the
    meeting's topics) are checked when the items are created (``check_item_rows``)."""
    try:
        rows = as_list(value) if not isinstance(value, str) or value.strip().startswith("[") else None
    except (ValueError, json.JSONDecodeError):
        rows = None
    if rows is None or len(rows) > MAX_TABLE_ROWS or not all(isinstance(r, dict) for r in rows):
        raise FormFieldError("议定事项表格格式不正确")
    result = []
    for n, row in enumerate(rows, start=1):
        if is_empty(row.get("content")) and is_empty(row.get("lead_unit")) and is_empty(row.get("deadline")):
            continue  # the empty row the browser always sends
        try:
            result.append(_clean_row(row, check_units))
        except FormFieldError as exc:
            raise FormFieldError(f"第 {n} 行：{exc.message}", standalone=True) from None
    return result


def _clean_row(row: dict[str, Any], check_units: Callable[[list[str]], None]) -> dict[str, Any]:
    content, lead = row.get("content"), row.get("lead_unit")
    if not isinstance(content, str) or not content.strip():
        raise FormFieldError("请填写事项内容")
    if len(content) > 2000:
        raise FormFieldError("事项内容不能超过 2000 个字")
    if not isinstance(lead, str) or not lead.strip():
        raise FormFieldError("请选择牵头单位")
    lead = lead.strip()
    try:
        co = [str(c).strip() for c in as_list(row.get("co_units") or [])]
    except (ValueError, TypeError):
        raise FormFieldError("配合单位格式不正确") from None
    co = [c for c in dict.fromkeys(co) if c and c != lead]
    try:
        deadline = forms.as_date(row.get("deadline"))
    except (ValueError, TypeError):
        raise FormFieldError("请填写完成时限（YYYY-MM-DD）") from None
    topic_id = row.get("topic_id")
    try:
        topic_id = None if is_empty(topic_id) else as_int(topic_id)
    except (ValueError, TypeError):
        raise FormFieldError("议题编号不正确") from None
    check_units([lead, *co])
    return {"content": content.strip(), "lead_unit": lead, "co_units": co, "deadline": deadline,
            "topic_id": topic_id}


def assignable_units(session: Session) -> set[str]:
    return set(session.scalars(select(Unit.code).where(Unit.kind.in_(ASSIGNABLE_KINDS), Unit.active)))


def _row_problems(
    row: dict[str, Any], today: date, units: set[str], allowed_topics: set[int] | None
) -> tuple[list[str], ItemDraft | None]:
    problems: list[str] = []
    content = str(row.get("content") or "").strip()
    lead = str(row.get("lead_unit") or "").strip()
    co_units = [str(c) for c in (row.get("co_units") or [])]
    topic_id = row.get("topic_id")
    if not content:
        problems.append("请填写事项内容")
    if not lead:
        problems.append("请选择牵头单位")
    elif lead not in units:
        problems.append(f"牵头单位“{lead}”不在可承办单位名录中")
    unknown = [c for c in co_units if c not in units]
    if unknown:
        problems.append(f"配合单位“{'、'.join(unknown)}”不在可承办单位名录中")
    deadline = None
    try:
        deadline = as_date(row.get("deadline"))
    except ValueError:
        problems.append("办理时限不是有效日期")
    else:
        if deadline is None:
            problems.append("请填写办理时限")
        elif deadline < today:
            problems.append(f"办理时限不能早于今天（{today.isoformat()}）")
    if topic_id is not None and allowed_topics is not None and int(topic_id) not in allowed_topics:
        problems.append("关联议题不是本次会议审议的议题")
    if problems or deadline is None:
        return problems, None
    # The lead unit answers for the item; listing it again as co-operating unit adds nothing.
    co_units = [c for c in dict.fromkeys(co_units) if c != lead]
    return [], ItemDraft(content, lead, co_units, end_of_day(deadline), int(topic_id) if topic_id else None)


def check_item_rows(
    session: Session,
    rows: list[dict[str, Any]] | None,
    field: str,
    today: date,
    allowed_topics: set[int] | None = None,
) -> list[ItemDraft]:
    """Validate a resolution-item table; any bad row raises ``FormError({field: ...})`` naming every problem."""
    units = assignable_units(session)
    drafts: list[ItemDraft] = []
    messages: list[str] = []
    for index, row in enumerate(rows or [], start=1):
        problems, draft = _row_problems(row, today, units, allowed_topics)
        if problems:
            messages.append(f"第{index}行：" + "，".join(problems))
        elif draft is not None:
            drafts.append(draft)
    if messages:
        raise FormError({field: "；".join(messages)})
    return drafts


def item_number(meeting: Meeting, sequence: int) -> str:
    """HY2026-1-01: year and number of the meeting, then the item's place among the meeting's items."""
    return f"HY{meeting.year}-{meeting.seq}-{sequence:02d}"


def create_items(
    session: Session,
    drafts: list[ItemDraft],
    meeting: Meeting,
    status: str,
    now: datetime,
    major_issue_id: int | None = None,
) -> list[ResolutionItem]:
    """Create items numbered after the meeting's existing ones (instruction items continue the sequence)."""
    count = session.scalar(select(func.count(ResolutionItem.id)).where(ResolutionItem.meeting_id == meeting.id))
    items = []
    for offset, draft in enumerate(drafts, start=1):
        item = ResolutionItem(
            number=item_number(meeting, (count or 0) + offset),
            meeting_id=meeting.id,
            major_issue_id=major_issue_id,
            topic_id=draft.topic_id,
            content=draft.content,
            lead_unit=draft.lead_unit,
            deadline=draft.deadline,
            status=status,
            supervise_count=0,
            created_at=now,
            co_unit_links=[ResolutionCoUnit(unit_code=c, position=i) for i, c in enumerate(draft.co_units)],
        )
        session.add(item)
        items.append(item)
    session.flush()
    return items
