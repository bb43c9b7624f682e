"""Resolution items (议定事项): checking the rows of a resolution-item table and creating the items."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import forms
from engine.errors import FormError
from engine.forms import MAX_TABLE_ROWS, FormFieldError, as_int, as_list, is_empty
from meeting.models import (
    AssignedMatter,
    CoordinationRequest,
    Meeting,
    PetitionReferral,
    ResolutionCoUnit,
    ResolutionItem,
    Unit,
)
from meeting.statuses import ItemSource, ResolutionStatus
from meeting.timeutil import as_date, end_of_day
from meeting.workdays import WorkCalendar, calendar_for

# Units that can be given an item; cc recipients only read the minutes.
ASSIGNABLE_KINDS = ("member", "invited", "town")


# A deadline may be given in 工作日 instead of a date ("10" in the 工作日 box, or "10个工作日" through the API):
# counted from the day the items are recorded with the holiday calendar (meeting/workdays.py).
MAX_DEADLINE_WORKDAYS = 250
_WORKDAYS_TEXT = re.compile(r"^\s*(\d{1,3})\s*个?工作日\s*$")


@dataclass(frozen=True)
class ItemDraft:
    content: str
    lead_unit: str
    co_units: list[str]
    deadline: datetime
    topic_id: int | None
    key_item: bool = False  # 重点事项: 销号 needs 佐证材料 and the convener's approval
    co_deadline: datetime | None = None  # the co-units' own deadline; None: the office's rule (meeting/rules.py)


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
    workdays = _deadline_workdays(row)
    try:
        deadline = None if workdays is not None else forms.as_date(row.get("deadline"))
        co_deadline = forms.as_date(row.get("co_deadline")) if not is_empty(row.get("co_deadline")) else None
    except (ValueError, TypeError):
        raise FormFieldError("请填写完成时限（YYYY-MM-DD，或填写工作日数）") from None
    topic_id = row.get("topic_id")
    try:
        topic_id = None if is_empty(topic_id) else as_int(topic_id)
    except (ValueError, TypeError):
        raise FormFieldError("议题编号不正确") from None
    check_units([lead, *co])
    return {"content": content.strip(), "lead_unit": lead, "co_units": co, "deadline": deadline,
            "topic_id": topic_id, "deadline_workdays": workdays, "co_deadline": co_deadline,
            "key_item": row.get("key_item") in (True, "true", "on", "1", 1, "是")}


def _deadline_workdays(row: dict[str, Any]) -> int | None:
    """The number of 工作日 a row gives instead of a date, or None; FormFieldError when it is not a number."""
    raw = row.get("deadline_workdays")
    text = "" if raw is None else str(raw).strip()
    if not text and isinstance(row.get("deadline"), str):
        match = _WORKDAYS_TEXT.match(row["deadline"])
        text = match.group(1) if match else ""
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= MAX_DEADLINE_WORKDAYS:
        raise FormFieldError(f"工作日数须为 1 至 {MAX_DEADLINE_WORKDAYS} 的整数")
    return int(text)


def assignable_units(session: Session) -> set[str]:
    return set(session.scalars(select(Unit.code).where(Unit.kind.in_(ASSIGNABLE_KINDS), Unit.active)))


def _row_problems(
    row: dict[str, Any], today: date, units: set[str], allowed_topics: set[int] | None,
    calendar: WorkCalendar | None = None,
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
    deadline = co_deadline = None
    workdays = row.get("deadline_workdays")
    try:
        deadline = (calendar or WorkCalendar()).add(today, int(workdays)) if workdays else as_date(row.get("deadline"))
        co_deadline = as_date(row.get("co_deadline"))
    except ValueError:
        problems.append("办理时限不是有效日期")
    else:
        if deadline is None:
            problems.append("请填写办理时限")
        elif deadline < today:
            problems.append(f"办理时限不能早于今天（{today.isoformat()}）")
        elif co_deadline is not None and not today <= co_deadline <= deadline:
            problems.append(f"配合时限须在今天（{today.isoformat()}）至办理时限（{deadline.isoformat()}）之间")
    if topic_id is not None and allowed_topics is not None and int(topic_id) not in allowed_topics:
        problems.append("关联议题不是本次会议审议的议题")
    if problems or deadline is None:
        return problems, None
    # The lead unit answers for the item; listing it again as co-operating unit adds nothing.
    co_units = [c for c in dict.fromkeys(co_units) if c != lead]
    return [], ItemDraft(content, lead, co_units, end_of_day(deadline), int(topic_id) if topic_id else None,
                         bool(row.get("key_item")), end_of_day(co_deadline) if co_deadline and co_units else None)


def check_item_rows(
    session: Session,
    rows: list[dict[str, Any]] | None,
    field: str,
    today: date,
    allowed_topics: set[int] | None = None,
) -> list[ItemDraft]:
    """Validate a resolution-item table; any bad row raises ``FormError({field: ...})`` naming every problem."""
    units = assignable_units(session)
    calendar = calendar_for(session)
    drafts: list[ItemDraft] = []
    messages: list[str] = []
    for index, row in enumerate(rows or [], start=1):
        problems, draft = _row_problems(row, today, units, allowed_topics, calendar)
        if problems:
            messages.append(f"第{index}行：" + "，".join(problems))
        elif draft is not None:
            drafts.append(draft)
    if messages:
        raise FormError({field: "；".join(messages)})
    return drafts


def item_number(meeting: Meeting, sequence: int) -> str:
    """HY-2026-01-03: the meeting's number (Meeting.key), then the item's place among the meeting's items, so
    an item reads as part of its meeting wherever the two appear side by side."""
    return f"{meeting.key}-{sequence:02d}"


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
            key_item=draft.key_item,
            co_unit_links=[ResolutionCoUnit(unit_code=c, position=i, deadline=draft.co_deadline)
                           for i, c in enumerate(draft.co_units)],
        )
        session.add(item)
        items.append(item)
    sources = topic_sources(session, {d.topic_id for d in drafts if d.topic_id is not None})
    for item in items:
        if item.topic_id in sources:
            item.source, item.source_ref = sources[item.topic_id]
    session.flush()
    return items


def topic_sources(session: Session, topic_ids: set[int]) -> dict[int, tuple[str, str]]:
    """来源 of items a meeting agrees on topics that came from a 交办事项, a 信访件 or a 协调 request (put on the
    agenda instead of being handled directly): topic id -> (source, reference)."""
    if not topic_ids:
        return {}
    out: dict[int, tuple[str, str]] = {}
    for m in session.scalars(select(AssignedMatter).where(AssignedMatter.topic_id.in_(topic_ids))):
        out[m.topic_id or 0] = (ItemSource.ASSIGNED, f"{m.source_org}{m.source_number or m.number}"[:100])
    for p in session.scalars(select(PetitionReferral).where(PetitionReferral.topic_id.in_(topic_ids))):
        out[p.topic_id or 0] = (ItemSource.PETITION, p.number)
    for c in session.scalars(select(CoordinationRequest).where(CoordinationRequest.topic_id.in_(topic_ids))):
        out[c.topic_id or 0] = (ItemSource.COORDINATION, f"协调：{c.title}"[:100])
    return out


def create_sourced_item(
    session: Session,
    *,
    number: str,
    content: str,
    lead_unit: str,
    co_units: list[str],
    deadline: datetime,
    source: str,
    source_ref: str | None,
    now: datetime,
    key_item: bool = False,
    co_deadline: datetime | None = None,
) -> ResolutionItem:
    """An item that comes from outside a meeting (交办 / 协调 / 信访): issued at once, supervised like any other
    (the resolution_item process, the ledger with its 来源, the ladder)."""
    item = ResolutionItem(
        number=number, meeting_id=None, content=content, lead_unit=lead_unit, deadline=deadline,
        status=ResolutionStatus.IN_PROGRESS, supervise_count=0, created_at=now, source=source,
        source_ref=(source_ref or None) and source_ref[:100], key_item=key_item,
        co_unit_links=[ResolutionCoUnit(unit_code=c, position=i, deadline=co_deadline)
                       for i, c in enumerate(co_units) if c != lead_unit],
    )
    session.add(item)
    session.flush()
    return item
