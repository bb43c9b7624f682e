"""督办台账: the resolution ledger's filters, sort orders, columns and exports (.xlsx, CSV).

A filter is a query string (what /resolutions, /api/resolutions, the exports and saved filters share). Every
filter maps to an indexed predicate on ``resolution_items`` (meeting_id, lead_unit, status, deadline and the
composite status+deadline index) or on ``resolution_co_units`` (unit_code); sorting by deadline walks the
deadline index. Only the free-text search ``q`` is a LIKE over the rows the other filters leave.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from engine.clock import SHANGHAI
from meeting.items import ASSIGNABLE_KINDS
from meeting.models import Meeting, ResolutionCoUnit, ResolutionItem, Unit
from meeting.queries import LIGHTS, light_clause
from meeting.statuses import OPEN_ITEMS_LABEL, Light, ResolutionStatus
from meeting.timeutil import at_local, end_of_day, local_today

# The status filter: every open item at once, or one status of an issued item (drafts are not in the ledger).
OPEN_FILTER = "open"
FILTER_STATUSES: dict[str, str] = {OPEN_FILTER: f"{OPEN_ITEMS_LABEL}（全部）"} | {
    s.value: s.label for s in ResolutionStatus.issued()}
LIGHT_FILTERS: dict[str, str] = {light.value: light.label for light in LIGHTS}
COLUMNS: dict[str, str] = {
    "number": "编号", "meeting": "会议", "content": "议定事项", "lead": "牵头单位", "co": "配合单位",
    "deadline": "完成时限", "light": "督办灯", "status": "办理状态", "days_left": "剩余天数",
    "supervise_count": "督办次数", "closed_at": "办结日期", "created_at": "交办日期",
}
DEFAULT_COLUMNS = ("number", "content", "lead", "co", "deadline", "light", "status")
SORTS: dict[str, str] = {
    "deadline": "完成时限（近→远）", "-deadline": "完成时限（远→近）", "number": "编号", "lead": "牵头单位",
    "status": "办理状态", "-closed_at": "办结日期（新→旧）", "-created_at": "交办日期（新→旧）",
}
PAGE_SIZE = 100
# Characters that make a spreadsheet cell a formula (or a DDE payload) when the file is opened.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


@dataclass(frozen=True)
class LedgerFilter:
    meeting_id: int | None = None
    lead: str | None = None
    co: str | None = None
    unit: str | None = None  # lead or co-operating
    status: str | None = None
    light: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    q: str = ""
    sort: str = "deadline"
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    page: int = 1
    errors: dict[str, str] = field(default_factory=dict, compare=False)

    # ------------------------------------------------------------------ parsing
    @classmethod
    def parse(cls, args: Mapping[str, Any], columns: list[str] | None = None) -> LedgerFilter:
        """From a query string (MultiDict or dict). Bad values are dropped and reported in ``errors``."""
        errors: dict[str, str] = {}

        def one(key: str) -> str:
            value = args.get(key)
            return str(value).strip()[:100] if value is not None else ""

        meeting_id = None
        if one("meeting"):
            try:
                meeting_id = int(one("meeting"))
            except ValueError:
                errors["meeting"] = "会议编号无效"
        code = re.compile(r"^[a-z0-9_]{1,32}$")
        units = {}
        for key in ("lead", "co", "unit"):
            value = one(key)
            if value and not code.match(value):
                errors[key] = "单位代码无效"
            units[key] = value if value and code.match(value) else None
        status = one("status") or None
        if status is not None and status not in FILTER_STATUSES:
            errors["status"] = "办理状态无效"
            status = None
        light = one("light") or None
        if light is not None and light not in LIGHTS:
            errors["light"] = "督办灯无效"
            light = None
        dates: dict[str, date | None] = {}
        for key in ("due_from", "due_to"):
            try:
                dates[key] = date.fromisoformat(one(key)) if one(key) else None
            except ValueError:
                errors[key] = "日期格式应为 YYYY-MM-DD"
                dates[key] = None
        sort = one("sort") or "deadline"
        if sort not in SORTS:
            errors["sort"] = "排序方式无效"
            sort = "deadline"
        cols = columns
        if cols is None:
            getlist = getattr(args, "getlist", None)
            raw = getlist("col") if getlist else args.get("col")
            cols = [raw] if isinstance(raw, str) else list(raw or [])
        picked = tuple(dict.fromkeys(c for c in cols if c in COLUMNS)) or DEFAULT_COLUMNS
        try:
            page = max(1, min(int(one("page") or 1), 10_000))
        except ValueError:
            page = 1
        return cls(meeting_id, units["lead"], units["co"], units["unit"], status, light, dates["due_from"],
                   dates["due_to"], one("q"), sort, picked, page, errors)

    def query_string(self, with_columns: bool = True, paged: bool = False, **override: Any) -> str:
        """The canonical query string of this filter (saved filters, export links, paging)."""
        f = replace(self, **override) if override else self
        pairs: list[tuple[str, str]] = []
        for key, value in (("meeting", f.meeting_id), ("lead", f.lead), ("co", f.co), ("unit", f.unit),
                           ("status", f.status), ("light", f.light), ("due_from", f.due_from),
                           ("due_to", f.due_to), ("q", f.q)):
            if value not in (None, ""):
                pairs.append((key, value.isoformat() if isinstance(value, date) else str(value)))
        if f.sort != "deadline":
            pairs.append(("sort", f.sort))
        if with_columns and f.columns != DEFAULT_COLUMNS:
            pairs.extend(("col", c) for c in f.columns)
        if paged and f.page > 1:
            pairs.append(("page", str(f.page)))
        return urlencode(pairs)

    @property
    def is_empty(self) -> bool:
        return self.query_string(with_columns=False) == ""

    # ------------------------------------------------------------------ SQL
    def statement(self, now: datetime) -> Select[ResolutionItem]:
        stmt = select(ResolutionItem)
        if self.meeting_id is not None:
            stmt = stmt.where(ResolutionItem.meeting_id == self.meeting_id)
        if self.lead:
            stmt = stmt.where(ResolutionItem.lead_unit == self.lead)
        if self.co:
            stmt = stmt.where(ResolutionItem.id.in_(
                select(ResolutionCoUnit.resolution_id).where(ResolutionCoUnit.unit_code == self.co)))
        if self.unit:
            as_co = select(ResolutionCoUnit.resolution_id).where(ResolutionCoUnit.unit_code == self.unit)
            stmt = stmt.where(or_(ResolutionItem.lead_unit == self.unit, ResolutionItem.id.in_(as_co)))
        if self.status == OPEN_FILTER:
            stmt = stmt.where(ResolutionItem.status.in_(ResolutionStatus.open()))
        elif self.status:
            stmt = stmt.where(ResolutionItem.status == self.status)
        else:
            stmt = stmt.where(ResolutionItem.status.in_(ResolutionStatus.issued()))
        if self.light:
            stmt = stmt.where(light_clause(self.light, now))
        if self.due_from:
            stmt = stmt.where(ResolutionItem.deadline >= at_local(self.due_from, 0))
        if self.due_to:
            stmt = stmt.where(ResolutionItem.deadline <= end_of_day(self.due_to))
        if self.q:
            like = "%" + self.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            stmt = stmt.where(or_(ResolutionItem.content.like(like, escape="\\"),
                                  ResolutionItem.number.like(like, escape="\\")))
        return stmt.order_by(*self._order())

    def _order(self) -> list[Any]:
        item = ResolutionItem
        orders: dict[str, list[Any]] = {
            "deadline": [item.deadline, item.id],
            "-deadline": [item.deadline.desc(), item.id.desc()],
            "number": [item.meeting_id, item.id],
            "lead": [item.lead_unit, item.deadline, item.id],
            "status": [item.status, item.deadline, item.id],
            "-closed_at": [item.closed_at.desc().nulls_last(), item.id.desc()],
            "-created_at": [item.created_at.desc(), item.id.desc()],
        }
        return orders[self.sort]


@dataclass(frozen=True)
class LedgerRow:
    item: ResolutionItem
    light: str
    lead_name: str
    co_names: list[str]
    meeting_key: str
    meeting_title: str
    days_left: int | None  # whole Beijing calendar days to the deadline; negative when overdue; None when closed

    def value(self, column: str) -> str | int | None:
        """A cell as exported and shown (times as Beijing dates)."""
        item = self.item
        return {
            "number": item.number,
            "meeting": f"{self.meeting_key} {self.meeting_title}".strip(),
            "content": item.content,
            "lead": self.lead_name,
            "co": "、".join(self.co_names),
            "deadline": local_today(item.deadline).isoformat(),
            "light": Light.label_of(self.light),
            "status": ResolutionStatus.label_of(item.status),
            "days_left": self.days_left,
            "supervise_count": item.supervise_count,
            "closed_at": local_today(item.closed_at).isoformat() if item.closed_at else "",
            "created_at": local_today(item.created_at).isoformat(),
        }[column]

    def as_json(self) -> dict[str, Any]:
        item = self.item
        return {
            "id": item.id, "number": item.number, "meeting_id": item.meeting_id, "meeting": self.meeting_key,
            "meeting_title": self.meeting_title, "content": item.content, "lead_unit": item.lead_unit,
            "lead_unit_name": self.lead_name, "co_units": item.co_units, "co_unit_names": self.co_names,
            "deadline": item.deadline.isoformat(), "deadline_date": local_today(item.deadline).isoformat(),
            "status": item.status, "light": self.light, "days_left": self.days_left,
            "supervise_count": item.supervise_count,
            "closed_at": item.closed_at.isoformat() if item.closed_at else None,
            "created_at": item.created_at.isoformat(),
        }


@dataclass(frozen=True)
class LedgerPage:
    rows: list[LedgerRow]
    total: int
    page: int
    pages: int


def _rows(session: Session, items: list[ResolutionItem], now: datetime) -> list[LedgerRow]:
    codes = sorted({c for i in items for c in [i.lead_unit, *i.co_units]})
    names = dict(session.execute(select(Unit.code, Unit.name).where(Unit.code.in_(codes))).all())
    meeting_ids = sorted({i.meeting_id for i in items if i.meeting_id is not None})
    meetings = {m.id: m for m in session.scalars(select(Meeting).where(Meeting.id.in_(meeting_ids)))}
    today = local_today(now)
    out = []
    for item in items:
        meeting = meetings.get(item.meeting_id) if item.meeting_id is not None else None
        days = None if item.status == ResolutionStatus.CLOSED else (local_today(item.deadline) - today).days
        out.append(LedgerRow(item, item.light(now), names.get(item.lead_unit, item.lead_unit),
                             [names.get(c, c) for c in item.co_units], meeting.key if meeting else "",
                             meeting.title if meeting else "", days))
    return out


def ledger_rows(session: Session, flt: LedgerFilter, now: datetime) -> list[LedgerRow]:
    """Every row the filter matches (exports, API)."""
    return _rows(session, list(session.scalars(flt.statement(now))), now)


def ledger_page(session: Session, flt: LedgerFilter, now: datetime, size: int = PAGE_SIZE) -> LedgerPage:
    stmt = flt.statement(now)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(flt.page, pages)
    items = list(session.scalars(stmt.limit(size).offset((page - 1) * size)))
    return LedgerPage(_rows(session, items, now), total, page, pages)


def filter_choices(session: Session) -> dict[str, Any]:
    """Meetings and units for the filter form."""
    meetings = list(session.scalars(select(Meeting).order_by(Meeting.meeting_at.desc())))
    units = list(session.scalars(select(Unit).where(Unit.kind.in_(ASSIGNABLE_KINDS)).order_by(Unit.sort)))
    return {"meetings": [(m.id, f"{m.key} {m.title}") for m in meetings],
            "units": [(u.code, u.name) for u in units]}


# ---------------------------------------------------------------------------------------------- exports
def safe_cell(value: Any) -> Any:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe; control characters go."""
    if not isinstance(value, str):
        return value
    value = _ILLEGAL_XML.sub("", value)
    return "'" + value if value.startswith(FORMULA_START) else value


def export_table(rows: list[LedgerRow], columns: tuple[str, ...]) -> list[list[Any]]:
    """Header and rows exactly as both exports write them."""
    return [[COLUMNS[c] for c in columns]] + [[safe_cell(r.value(c)) for c in columns] for r in rows]


def to_xlsx(rows: list[LedgerRow], columns: tuple[str, ...], now: datetime, title: str = "督办台账") -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = title
    for row in export_table(rows, columns):
        ws.append(row)
    header_fill = PatternFill("solid", fgColor="1D4E89")
    for cell in ws[1]:
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
    widths = {"content": 48, "meeting": 30, "co": 24, "lead": 16, "number": 14}
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = widths.get(column, 12)
        if column in ("content", "co", "meeting"):
            for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    wb.properties.title = title
    wb.properties.creator = "汉滨区社会救助联席会议办公室"
    wb.properties.created = now.astimezone(SHANGHAI).replace(tzinfo=None)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def to_csv(rows: list[LedgerRow], columns: tuple[str, ...]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text right."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in export_table(rows, columns):
        writer.writerow(["" if v is None else v for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
