"""The case list as CSV: streamed a chunk at a time in id order, personal data masked like the page shows it (an
export leaves the system, so nobody's 身份证号 or phone goes with it)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from meeting import cases
from meeting.ledger import safe_cell
from meeting.models import AssistanceCase, Unit
from meeting.statuses import CaseKind, CaseSource, CaseStatus, Satisfaction
from meeting.timeutil import format_minute

HEADER = ("案件编号", "类别", "来源", "镇（街办）", "申请人", "身份证号", "联系电话", "申请救助类别", "状态", "重新分派次数",
          "回访", "登记时间", "办结时间")


def iter_rows(session: Session, condition: ColumnElement[bool], chunk: int = 500) -> Iterator[list[Any]]:
    towns = dict(session.execute(select(Unit.code, Unit.name)).all())
    last = 0
    while True:
        batch = list(session.scalars(select(AssistanceCase).where(condition, AssistanceCase.id > last)
                                     .order_by(AssistanceCase.id).limit(chunk)))
        for c in batch:
            hidden = cases.masked(c)
            yield [c.number, CaseKind.label_of(c.kind), CaseSource.label_of(c.source), towns.get(c.town_code, ""),
                   c.applicant_name, hidden["id_number"], hidden["phone"], "、".join(c.aid_types),
                   CaseStatus.label_of(c.status), c.reroute_count, Satisfaction.label_of(c.satisfaction),
                   format_minute(c.created_at), format_minute(c.closed_at) if c.closed_at else ""]
        if len(batch) < chunk:
            return
        last = batch[-1].id
        session.expunge_all()  # constant memory whatever the count


def to_csv(rows: Iterator[list[Any]]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (spreadsheet programs then read the Chinese right), line by line."""
    yield "\ufeff".encode()
    for values in _with_header(rows):
        out = io.StringIO()
        csv.writer(out, lineterminator="\r\n").writerow([safe_cell("" if v is None else v) for v in values])
        yield out.getvalue().encode("utf-8")


def _with_header(rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
    yield list(HEADER)
    yield from rows
