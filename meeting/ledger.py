"""督办台账: the resolution ledger's filters, sort orders, columns and exports (.xlsx, CSV).

A filter is a query string (what /resolutions, /my/resolutions, /api/resolutions, the exports and saved filters
share). Every filter maps to an indexed predicate on ``resolution_items`` (meeting_id, lead_unit, status, deadline
and the composite status+deadline index) or on ``resolution_co_units`` (unit_code); sorting by deadline walks the
deadline index. Only the free-text search ``q`` is a LIKE over the rows the other filters leave.

The rows come in chunks (``iter_ledger_rows``): per chunk a few aggregate queries keyed by the chunk's ids give
what each row sums up (延期次数, the co-units' 催办 / 督办, the latest progress, the minutes' 文号), so an export
streams however long the ledger grows and no history is walked in Python; an export reads the rows as plain
records (no ORM objects). The .xlsx is laid out by openpyxl — a title row, 制表单位 and 截至日期, column widths,
styles and a landscape print setup repeating the header row on every page — and its body rows, with real date
cells and light fills, are written into the sheet as XML text and streamed into the zip (meeting/xlsx_rows.py).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property
from typing import IO, Any, NamedTuple
from urllib.parse import urlencode

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from engine.clock import SHANGHAI
from engine.paging import Key, capped_count, page
from meeting.items import ASSIGNABLE_KINDS
from meeting.models import (
    ExtensionRequest,
    Meeting,
    Minutes,
    ProgressReport,
    ResolutionCoUnit,
    ResolutionItem,
    Unit,
    light_at,
    meeting_key,
)
from meeting.queries import LIGHTS, light_clause
from meeting.statuses import (
    OPEN_ITEMS_LABEL,
    CoUnitStatus,
    ExtensionStatus,
    ItemSource,
    Light,
    ResolutionStatus,
    Rung,
)
from meeting.timeutil import at_local, end_of_day, local_today
from meeting.xlsx_rows import cell_xml, letters, row_xml, stream_rows

# The status filter: every open item at once, or one status of an issued item (drafts are not in the ledger).
OPEN_FILTER = "open"
FILTER_STATUSES: dict[str, str] = {OPEN_FILTER: f"{OPEN_ITEMS_LABEL}（全部）"} | {
    s.value: s.label for s in ResolutionStatus.issued()}
LIGHT_FILTERS: dict[str, str] = {light.value: light.label for light in LIGHTS}
# 来源: 会议纪要 / 交办 / 协调 / 信访 (the ledger, dashboard and 通报 take items of every source).
SOURCE_FILTERS: dict[str, str] = ItemSource.labels()
COLUMNS: dict[str, str] = {
    "seq": "序号", "number": "编号", "source": "来源", "meeting": "会议", "content": "议定事项",
    "key": "重点事项", "created_at": "交办日期", "lead": "牵头单位", "co": "配合单位", "co_status": "配合单位反馈",
    "original_deadline": "原时限", "deadline": "现时限", "extensions": "延期次数", "progress": "最新进展",
    "remind_count": "催办次数", "supervise_count": "督办次数", "escalation": "督办升级", "closed_at": "办结日期",
    "overdue_days": "逾期天数", "light": "督办灯", "status": "办理状态", "days_left": "剩余天数",
}
DEFAULT_COLUMNS = ("number", "content", "lead", "co", "deadline", "light", "status")
# What a clerk sends up when no columns were chosen (office practice: the 督办台账's usual columns).
EXPORT_COLUMNS = ("seq", "number", "source", "content", "created_at", "lead", "co", "original_deadline", "deadline",
                  "extensions", "progress", "remind_count", "supervise_count", "escalation", "closed_at",
                  "overdue_days", "status")
DATE_COLUMNS = frozenset({"created_at", "original_deadline", "deadline", "closed_at"})
LEDGER_TITLE = "汉滨区社会救助联席会议议定事项督办台账"
COMPILER = "汉滨区社会救助联席会议办公室"
SORTS: dict[str, str] = {
    "deadline": "时限由近到远", "-deadline": "时限由远到近", "number": "编号", "lead": "牵头单位",
    "status": "办理状态", "-closed_at": "最近办结", "-created_at": "最近交办",
}
PAGE_SIZE = 100
_NOT_OPEN = tuple(s for s in ResolutionStatus if s not in ResolutionStatus.open())
FILTER_DATES = (date(1900, 1, 1), date(2199, 12, 31))  # deadlines people filter by; beyond, a typo
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
    columns_chosen: bool = False  # the request named columns (an export then keeps to them)
    source: str | None = None  # 来源 (ItemSource)

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
            # ASCII digits within PostgreSQL's integer: int("²") raises and a huge number overflows the query
            given = one("meeting")
            if given.isascii() and given.isdigit() and 0 < int(given) < 2**31:
                meeting_id = int(given)
            else:
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
        source = one("source") or None
        if source is not None and source not in SOURCE_FILTERS:
            errors["source"] = "来源无效"
            source = None
        dates: dict[str, date | None] = {}
        for key in ("due_from", "due_to"):
            try:
                dates[key] = date.fromisoformat(one(key)) if one(key) else None
            except ValueError:
                dates[key] = None
                errors[key] = "日期格式应为 YYYY-MM-DD"
            day = dates[key]
            if day is not None and not FILTER_DATES[0] <= day <= FILTER_DATES[1]:
                dates[key] = None  # year 1 or 9999 would overflow the day arithmetic of the query
                errors[key] = "日期须在 1900 至 2199 年之间"
        sort = one("sort") or "deadline"
        if sort not in SORTS:
            errors["sort"] = "排序方式无效"
            sort = "deadline"
        cols = columns
        if cols is None:
            getlist = getattr(args, "getlist", None)
            raw = getlist("col") if getlist else args.get("col")
            cols = [raw] if isinstance(raw, str) else list(raw or [])
        chosen = tuple(dict.fromkeys(c for c in cols if c in COLUMNS))
        picked = chosen or DEFAULT_COLUMNS
        try:
            page = max(1, min(int(one("page") or 1), 10_000))
        except ValueError:
            page = 1
        return cls(meeting_id, units["lead"], units["co"], units["unit"], status, light, dates["due_from"],
                   dates["due_to"], one("q"), sort, picked, page, errors, columns_chosen=bool(chosen), source=source)

    @property
    def export_columns(self) -> tuple[str, ...]:
        """The columns an export writes: those chosen, else the clerk's full set."""
        return self.columns if self.columns_chosen else EXPORT_COLUMNS

    def query_string(self, with_columns: bool = True, paged: bool = False, **override: Any) -> str:
        """The canonical query string of this filter (saved filters, export links, paging)."""
        f = replace(self, **override) if override else self
        pairs: list[tuple[str, str]] = []
        for key, value in (("meeting", f.meeting_id), ("lead", f.lead), ("co", f.co), ("unit", f.unit),
                           ("source", f.source), ("status", f.status), ("light", f.light), ("due_from", f.due_from),
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
        if self.source:
            stmt = stmt.where(ResolutionItem.source == self.source)
        # Written as the statuses left out (the same items): a planner then walks the sort's index and stops at
        # a page, where an IN list of statuses makes SQLite read every such item and sort them first.
        if self.status == OPEN_FILTER:
            stmt = stmt.where(ResolutionItem.status.not_in(_NOT_OPEN))
        elif self.status:
            stmt = stmt.where(ResolutionItem.status == self.status)
        else:
            stmt = stmt.where(ResolutionItem.status != ResolutionStatus.DRAFT)
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
        return [key.order_by() for key in self.keys()]

    def keys(self) -> list[Key]:
        """The sort as keys for keyset paging (engine/paging.py): each ends in the item id; NULLs last."""
        item = ResolutionItem
        orders: dict[str, list[Key]] = {
            "deadline": [Key(item.deadline), Key(item.id)],
            "-deadline": [Key(item.deadline, desc=True), Key(item.id, desc=True)],
            "number": [Key(item.meeting_id), Key(item.id)],
            "lead": [Key(item.lead_unit), Key(item.deadline), Key(item.id)],
            "status": [Key(item.status), Key(item.deadline), Key(item.id)],
            "-closed_at": [Key(item.closed_at, desc=True), Key(item.id, desc=True)],
            "-created_at": [Key(item.created_at, desc=True), Key(item.id, desc=True)],
        }
        return orders[self.sort]


@dataclass(frozen=True)
class Facts:
    """What one row sums up from other tables (one aggregate query per kind, per chunk of rows)."""

    extensions: int = 0
    co_reminds: int = 0
    co_supervisions: int = 0
    progress: str = ""
    progress_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CoLink:
    unit_code: str
    status: str
    remind_count: int = 0
    supervise_count: int = 0


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """A resolution item as the exports read it: its columns as plain values, no ORM object (building 100k ORM
    objects took an export most of its time). Answers what a row asks of a :class:`ResolutionItem`."""

    id: int
    number: str
    meeting_id: int | None
    content: str
    lead_unit: str
    deadline: datetime
    original_deadline: datetime | None
    status: str
    supervise_count: int
    remind_count: int
    closed_at: datetime | None
    created_at: datetime
    source: str
    source_ref: str | None
    key_item: bool
    escalation: str
    co_unit_links: tuple[CoLink, ...] = ()

    @property
    def co_units(self) -> list[str]:
        return [link.unit_code for link in self.co_unit_links]

    def light(self, now: datetime) -> Light:
        return light_at(self.status, self.deadline, now)


RECORD_COLUMNS = tuple(getattr(ResolutionItem, name) for name in ItemRecord.__dataclass_fields__
                       if name != "co_unit_links")


def _records(session: Session, part: Iterable[Any]) -> list[ItemRecord]:
    """A chunk of selected rows as records, with their co-operating units (one query per chunk)."""
    rows = list(part)
    links: dict[int, list[CoLink]] = {}
    co = ResolutionCoUnit
    for rid, code, status, reminds, supervisions in session.execute(
            select(co.resolution_id, co.unit_code, co.status, co.remind_count, co.supervise_count)
            .where(co.resolution_id.in_([r.id for r in rows])).order_by(co.resolution_id, co.position)):
        links.setdefault(rid, []).append(CoLink(code, status, reminds, supervisions))
    record: Callable[..., ItemRecord] = ItemRecord  # positional: the row holds RECORD_COLUMNS in field order
    return [record(*row, tuple(links.get(row.id, ()))) for row in rows]


@dataclass(frozen=True)
class LedgerRow:
    item: ResolutionItem | ItemRecord
    light: str
    lead_name: str
    co_names: list[str]
    meeting_key: str
    meeting_title: str
    days_left: int | None  # whole Beijing calendar days to the deadline; negative when overdue; None when closed
    seq: int = 0
    minutes_number: str | None = None
    facts: Facts = field(default_factory=Facts)
    overdue_days: int = 0  # days past the deadline: up to today while open, up to the closing day when closed

    @property
    def source(self) -> str:
        """来源: the meeting and its 纪要文号, or the kind of source with its reference."""
        item = self.item
        if item.source == ItemSource.MINUTES and self.meeting_key:
            number = f"（{self.minutes_number}）" if self.minutes_number else ""
            return f"{ItemSource.label_of(item.source)}：{self.meeting_title}{number}"
        ref = f"：{item.source_ref}" if item.source_ref else ""
        return f"{ItemSource.label_of(item.source)}{ref}"

    @property
    def co_status(self) -> str:
        statuses = [link.status for link in self.item.co_unit_links]
        return "；".join(f"{name}：{CoUnitStatus.label_of(status)}"
                        for name, status in zip(self.co_names, statuses, strict=False))

    def value(self, column: str) -> str | int | None:
        """A cell as shown on the page and in the CSV (times as Beijing dates)."""
        cell = self.cell(column)
        return cell.isoformat() if isinstance(cell, date) else cell

    def cell(self, column: str) -> str | int | date | None:
        """A cell as the .xlsx writes it: dates stay dates."""
        return self.cells[column]

    @cached_property
    def cells(self) -> dict[str, str | int | date | None]:
        """Every cell of the row, worked out once (an export asks for each of a row's columns)."""
        item, facts = self.item, self.facts
        return {
            "seq": self.seq,
            "number": item.number,
            "source": self.source,
            "meeting": f"{self.meeting_key} {self.meeting_title}".strip(),
            "content": item.content,
            "key": "是" if item.key_item else "",
            "lead": self.lead_name,
            "co": "、".join(self.co_names),
            "co_status": self.co_status,
            "original_deadline": local_today(item.original_deadline or item.deadline),
            "deadline": local_today(item.deadline),
            "extensions": facts.extensions,
            "progress": facts.progress,
            "light": Light.label_of(self.light),
            "status": ResolutionStatus.label_of(item.status),
            "days_left": self.days_left,
            "remind_count": item.remind_count + facts.co_reminds,
            "supervise_count": item.supervise_count + facts.co_supervisions,
            "escalation": Rung.label_of(item.escalation) if item.escalation != Rung.NONE else "",
            "closed_at": local_today(item.closed_at) if item.closed_at else None,
            "created_at": local_today(item.created_at),
            "overdue_days": self.overdue_days,
        }

    def as_json(self) -> dict[str, Any]:
        item = self.item
        return {
            "id": item.id, "number": item.number, "meeting_id": item.meeting_id, "meeting": self.meeting_key,
            "meeting_title": self.meeting_title, "content": item.content, "lead_unit": item.lead_unit,
            "lead_unit_name": self.lead_name, "co_units": item.co_units, "co_unit_names": self.co_names,
            "deadline": item.deadline.isoformat(), "deadline_date": local_today(item.deadline).isoformat(),
            "original_deadline": item.original_deadline.isoformat() if item.original_deadline else None,
            "status": item.status, "light": self.light, "days_left": self.days_left,
            "supervise_count": item.supervise_count, "remind_count": item.remind_count,
            "source": item.source, "source_ref": item.source_ref, "minutes_number": self.minutes_number,
            "key_item": item.key_item, "escalation": item.escalation, "extensions": self.facts.extensions,
            "overdue_days": self.overdue_days,
            "co_unit_status": {link.unit_code: link.status for link in item.co_unit_links},
            "closed_at": item.closed_at.isoformat() if item.closed_at else None,
            "created_at": item.created_at.isoformat(),
        }


@dataclass(frozen=True)
class LedgerPage:
    """One page of the ledger (keyset paging): its rows, the cursors around it, and how many rows the filter
    matches, counted up to engine.paging.COUNT_CAP (``total_over``: more than that)."""

    rows: list[LedgerRow]
    total: int
    total_over: bool
    next_cursor: str | None
    prev_cursor: str | None
    limit: int = PAGE_SIZE


PROGRESS_KINDS = ("progress", "result", "rework")
NO_FACTS = Facts()


def _facts(session: Session, items: Sequence[ResolutionItem | ItemRecord]) -> dict[int, Facts]:
    """Per item: approved extensions and the latest progress (two grouped queries), the co-units' 催办 / 督办
    (from the co-unit rows the item came with)."""
    if not items:
        return {}
    ids = [i.id for i in items]
    extensions = {rid: int(n) for rid, n in session.execute(
        select(ExtensionRequest.resolution_id, func.count())
        .where(ExtensionRequest.resolution_id.in_(ids), ExtensionRequest.status == ExtensionStatus.APPROVED)
        .group_by(ExtensionRequest.resolution_id))}
    latest = (select(func.max(ProgressReport.id))
              .where(ProgressReport.resolution_id.in_(ids), ProgressReport.kind.in_(PROGRESS_KINDS))
              .group_by(ProgressReport.resolution_id))
    progress = {rid: (body, at) for rid, body, at in session.execute(
        select(ProgressReport.resolution_id, ProgressReport.body, ProgressReport.created_at)
        .where(ProgressReport.id.in_(latest)))}
    return {i.id: Facts(extensions.get(i.id, 0), sum(link.remind_count or 0 for link in i.co_unit_links),
                        sum(link.supervise_count or 0 for link in i.co_unit_links),
                        *progress.get(i.id, ("", None))) for i in items}


def overdue_days_of(item: ResolutionItem | ItemRecord, now: datetime) -> int:
    end = item.closed_at if item.closed_at is not None else now
    return max(0, (local_today(end) - local_today(item.deadline)).days)


@dataclass
class Lookups:
    """What rows name by id — unit names, meetings (key, title) and their 纪要文号 — read once per id and kept
    for the next chunks of an export (items sorted by deadline come from every meeting in turn)."""

    names: dict[str, str] = field(default_factory=dict)
    meetings: dict[int, tuple[str, str, str | None]] = field(default_factory=dict)

    def load(self, session: Session, items: Sequence[ResolutionItem | ItemRecord]) -> None:
        codes = ({i.lead_unit for i in items} | {link.unit_code for i in items for link in i.co_unit_links}) \
            - self.names.keys()
        if codes:
            self.names.update({code: name for code, name in session.execute(
                select(Unit.code, Unit.name).where(Unit.code.in_(sorted(codes))))})
        ids = {i.meeting_id for i in items if i.meeting_id is not None} - self.meetings.keys()
        if ids:
            numbers = {mid: number for mid, number in session.execute(
                select(Minutes.meeting_id, Minutes.number).where(Minutes.meeting_id.in_(sorted(ids))))}
            for mid, year, seq, title in session.execute(
                    select(Meeting.id, Meeting.year, Meeting.seq, Meeting.title).where(Meeting.id.in_(sorted(ids)))):
                self.meetings[mid] = (meeting_key(year, seq), title, numbers.get(mid))


NO_MEETING = ("", "", None)


def _rows(session: Session, items: Sequence[ResolutionItem | ItemRecord], now: datetime,
          first_seq: int = 1, lookups: Lookups | None = None) -> list[LedgerRow]:
    known = lookups if lookups is not None else Lookups()
    known.load(session, items)
    names = known.names
    facts = _facts(session, items)
    today = local_today(now)
    out = []
    for seq, item in enumerate(items, start=first_seq):
        key, title, number = known.meetings.get(item.meeting_id, NO_MEETING) if item.meeting_id else NO_MEETING
        days = None if item.status == ResolutionStatus.CLOSED else (local_today(item.deadline) - today).days
        co_names = [names.get(link.unit_code, link.unit_code) for link in item.co_unit_links]
        out.append(LedgerRow(item, item.light(now), names.get(item.lead_unit, item.lead_unit), co_names, key, title,
                             days, seq, number, facts.get(item.id, NO_FACTS), overdue_days_of(item, now)))
    return out


def iter_ledger_rows(session: Session, flt: LedgerFilter, now: datetime, chunk: int = 1000) -> Iterator[LedgerRow]:
    """Every row the filter matches, a chunk at a time (exports stream from here), as records."""
    stmt = flt.statement(now).with_only_columns(*RECORD_COLUMNS)
    result = session.execute(stmt, execution_options={"yield_per": chunk})
    seq, lookups = 1, Lookups()
    for part in result.partitions(chunk):
        rows = _rows(session, _records(session, part), now, seq, lookups)
        seq += len(rows)
        yield from rows


def ledger_rows(session: Session, flt: LedgerFilter, now: datetime) -> list[LedgerRow]:
    """Every row the filter matches (the API, tests)."""
    return list(iter_ledger_rows(session, flt, now))


def ledger_page(session: Session, flt: LedgerFilter, now: datetime, size: int = PAGE_SIZE, after: str | None = None,
                before: str | None = None, first_seq: int = 1) -> LedgerPage:
    """The rows after the cursor ``after`` (or before ``before``) in the filter's sort; ``first_seq`` numbers the
    first row (序号: where the page starts, as the pager passed it on)."""
    stmt = flt.statement(now).order_by(None)
    total, over = capped_count(session, stmt)
    found = page(session, stmt, flt.keys(), size, after, before)
    return LedgerPage(_rows(session, found.rows, now, first_seq), total, over, found.next_cursor, found.prev_cursor,
                      size)


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


def export_table(rows: Iterable[LedgerRow], columns: tuple[str, ...]) -> Iterator[list[Any]]:
    """Header and rows exactly as the CSV writes them."""
    yield [COLUMNS[c] for c in columns]
    for r in rows:
        yield [safe_cell(r.value(c)) for c in columns]


# Light colours as fills: the traffic light of an open item, grey for a closed one; the header a pale blue.
LIGHT_FILLS: dict[str, str] = {Light.RED: "F8CBAD", Light.YELLOW: "FFE699", Light.GREEN: "C6E0B4",
                               Light.CLOSED: "E7E6E6"}
HEADER_FILL = "DDEBF7"
# Column widths (characters) sized so that the 17 export columns print on A4 landscape at about 80 % scale: counts
# take a narrow column with their header wrapped, text columns wrap.
WIDTHS = {"seq": 5, "number": 13, "source": 18, "meeting": 18, "content": 30, "key": 6, "created_at": 10.5,
          "lead": 10, "co": 12, "co_status": 16, "original_deadline": 10.5, "deadline": 10.5, "extensions": 5,
          "progress": 24, "remind_count": 5, "supervise_count": 5, "escalation": 11, "closed_at": 10.5,
          "overdue_days": 5, "light": 7, "status": 7, "days_left": 5}
WRAPPED = frozenset({"source", "meeting", "content", "lead", "co", "co_status", "progress", "escalation"})


Styles = Mapping[tuple[bool, bool, bool, str | None], int]


def to_xlsx(rows: Iterable[LedgerRow], columns: tuple[str, ...], now: datetime, out: IO[bytes],
            compiler: str = COMPILER, title: str = LEDGER_TITLE) -> int:
    """Write the ledger as an .xlsx into ``out``; returns the rows written."""
    count = 0

    def counted() -> Iterator[LedgerRow]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    for chunk in xlsx_chunks(counted(), columns, now, compiler, title):
        out.write(chunk)
    return count


def xlsx_chunks(rows: Iterable[LedgerRow], columns: tuple[str, ...], now: datetime, compiler: str = COMPILER,
                title: str = LEDGER_TITLE) -> Iterator[bytes]:
    """The ledger as an .xlsx, its bytes given as they are made (a response streams them while the rows are
    still being read)."""
    skeleton, styles = _layout(columns, now, compiler, title)
    yield from stream_rows(skeleton, _body_rows(rows, columns, styles))


def _layout(columns: tuple[str, ...], now: datetime, compiler: str, title: str) -> tuple[bytes, Styles]:
    """The workbook without its body rows (title, 制表单位 / 截至日期, header, widths, print setup) and the style
    ids a body cell may take."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("督办台账")
    last = get_column_letter(len(columns))
    for index, column in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = WIDTHS.get(column, 11)
    # Written before the first row: write-only mode puts the sheet's properties and views ahead of its rows.
    ws.print_title_rows = "3:3"
    ws.freeze_panes = "A4"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页，共 &N 页"
    thin = Side(style="thin", color="808080")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)

    def cell(value: Any, **style: Any) -> Any:
        c = WriteOnlyCell(ws, value=value)
        for key, val in style.items():
            setattr(c, key, val)
        return c

    today = local_today(now)
    ws.append([cell(title, font=Font(name="黑体", size=16, bold=True), alignment=Alignment(horizontal="center"))])
    half = max(1, len(columns) // 2)
    ws.append([cell(f"制表单位：{compiler}", font=Font(size=11))] + [None] * (half - 1)
              + [cell(f"截至日期：{today.year}年{today.month}月{today.day}日", font=Font(size=11),
                      alignment=Alignment(horizontal="right"))])
    ws.merged_cells.add(f"A1:{last}1")
    if len(columns) > 1:
        ws.merged_cells.add(f"A2:{get_column_letter(half)}2")
        ws.merged_cells.add(f"{get_column_letter(half + 1)}2:{last}2")
    header_style = {"font": Font(bold=True), "fill": PatternFill("solid", fgColor=HEADER_FILL), "border": border,
                    "alignment": Alignment(horizontal="center", vertical="center", wrap_text=True)}
    ws.row_dimensions[3].height = 28.0  # narrow count columns wrap their header onto two lines
    ws.append([cell(COLUMNS[c], **header_style) for c in columns])
    # Every style a body cell can take, registered before the workbook is laid out: (wrapped, centred, date,
    # fill) -> the style id the rows' XML names.
    styles: dict[tuple[bool, bool, bool, str | None], int] = {}
    for wrap, center, is_date, colour in itertools.product((False, True), (False, True), (False, True),
                                                           (None, *LIGHT_FILLS.values())):
        c = cell(None, border=border, alignment=Alignment(vertical="top", wrap_text=wrap,
                                                          horizontal="center" if center else None),
                 number_format="yyyy-mm-dd" if is_date else "General")
        if colour is not None:
            c.fill = PatternFill("solid", fgColor=colour)
        styles[(wrap, center, is_date, colour)] = c.style_id
    wb.properties.title = title
    wb.properties.creator = compiler
    wb.properties.created = now.astimezone(SHANGHAI).replace(tzinfo=None)
    skeleton = io.BytesIO()
    wb.save(skeleton)
    return skeleton.getvalue(), styles


FIRST_BODY_ROW = 4  # after the title, 制表单位 / 截至日期 and the header


def _body_rows(rows: Iterable[LedgerRow], columns: tuple[str, ...], styles: Styles) -> Iterator[str]:
    """The ledger's rows as sheet XML: wrapped text columns, centred dates and counts, the light and status
    cells filled in the row's colour, each row as high as its longest wrapped cell (``_units``)."""
    plan = [_ColumnPlan.of(ref, column, styles) for ref, column in zip(letters(len(columns)), columns, strict=True)]
    for number, row in enumerate(rows, start=FIRST_BODY_ROW):
        colour = LIGHT_FILLS.get(row.light)
        values = row.cells
        cells = []
        lines = 1
        for ref, name, width, style in plan:
            value = values[name]
            if isinstance(value, str):
                if width and value:
                    lines = max(lines, -(-_units(value) // width))
                value, kind = safe_cell(value), TEXT
            else:
                kind = DATE if isinstance(value, date) else TEXT if value is None or isinstance(value, bool) else NUMBER
            cells.append(cell_xml(f"{ref}{number}", style[(kind, colour)], value))
        yield row_xml(number, "".join(cells), 15.0 * min(lines, 12))


TEXT, NUMBER, DATE = "text", "number", "date"


class _ColumnPlan(NamedTuple):
    """What writing one export column's cells needs, worked out once per export: its letter, the width its
    wrapped text fills (0: not wrapped), and the style id per kind of value and row colour."""

    ref: str
    name: str
    width: int
    style: dict[tuple[str, str | None], int]

    @classmethod
    def of(cls, ref: str, column: str, styles: Styles) -> _ColumnPlan:
        wrap, dated, coloured = column in WRAPPED, column in DATE_COLUMNS, column in ("status", "light")
        style = {(kind, colour): styles[(wrap, dated or kind == NUMBER, kind == DATE, colour if coloured else None)]
                 for kind in (TEXT, NUMBER, DATE) for colour in (None, *LIGHT_FILLS.values())}
        return cls(ref, column, max(1, int(WIDTHS.get(column, 11))) if wrap else 0, style)


_WIDE = re.compile("[\u2e80-\U0010ffff]")


def _units(text: str) -> int:
    """Character widths of ``text`` (CJK takes two): spreadsheet programs do not all fit the height of a row
    written without one (LibreOffice keeps one line), so the export states it."""
    return len(text) if text.isascii() else len(text) + len(_WIDE.findall(text))


def to_csv(rows: Iterable[LedgerRow], columns: tuple[str, ...]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese text right; sent a few hundred
    lines at a time."""
    yield "\ufeff".encode()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for count, values in enumerate(export_table(rows, columns), start=1):
        writer.writerow(["" if v is None else v for v in values])
        if count % CSV_FLUSH_LINES == 0:
            yield out.getvalue().encode("utf-8")
            out.seek(0)
            out.truncate()
    if out.tell():
        yield out.getvalue().encode("utf-8")


CSV_FLUSH_LINES = 500
