"""The monthly 动态复核 (re-check) of the households on the rolls, at scale: a batch re-checks every household of a
town (or the district) whose last check was completed, fanned out to the providers as **one list per provider per
batch** — a row per household with the record as last known — which the provider fills in and uploads as .xlsx.
Rows are written and read in chunks (bulk insert, streamed spreadsheet), so a batch of 10,000 households × 6
providers stays within a worker's memory; a changed record is flagged for the town's review.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from engine.errors import FormError
from meeting import check_report, checks
from meeting.ledger import safe_cell
from meeting.models import CheckAnswer, HouseholdBatch, HouseholdBatchRow, HouseholdCheck, Unit
from meeting.statuses import AnswerStatus, BatchStatus, CheckStatus
from meeting.timeutil import local_today

CHUNK = 2000
HEADER = ("序号", "户主姓名", "身份证号", "家庭住址", "上次核对情况", "本次核对情况", "说明")
UNCHANGED = ("", "无变化", "同上")
NO_RECORD = "无记录"


def next_number(session: Session, now: datetime) -> str:
    prefix = f"复核〔{local_today(now).year}〕"
    count = session.scalar(select(func.count()).select_from(HouseholdBatch)
                           .where(HouseholdBatch.number.like(f"{prefix}%")))
    return f"{prefix}{(count or 0) + 1}号"


def providers(session: Session) -> list[str]:
    active = set(session.scalars(select(Unit.code).where(Unit.active)))
    return [p for p in checks.PROVIDERS if p in active]


def roll_ids(session: Session, town_code: str | None) -> Any:
    """The households on the rolls: the latest completed check of each identity number (of the town)."""
    query = select(func.max(HouseholdCheck.id)).where(HouseholdCheck.status == CheckStatus.RETURNED)
    if town_code is not None:
        query = query.where(HouseholdCheck.town_code == town_code)
    return query.group_by(HouseholdCheck.id_number)


def _baselines(session: Session, check_ids: list[int]) -> dict[tuple[int, str], str]:
    out: dict[tuple[int, str], str] = {}
    for a in session.scalars(select(CheckAnswer).where(CheckAnswer.check_id.in_(check_ids))):
        if a.status == AnswerStatus.FOUND:
            out[(a.check_id, a.provider)] = "；".join(f"{label}：{text}" for label, text
                                                     in check_report.finding_lines(a.provider, a.findings))
        elif a.status == AnswerStatus.NO_RECORD:
            out[(a.check_id, a.provider)] = NO_RECORD
    return out


def fan_out(session: Session, batch: HouseholdBatch, codes: list[str]) -> int:
    """A row per household and provider, inserted in chunks; returns the households."""
    ids = list(session.scalars(roll_ids(session, batch.town_code)))
    ids.sort()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        known = _baselines(session, chunk)
        session.execute(insert(HouseholdBatchRow), [
            {"batch_id": batch.id, "check_id": cid, "provider": p, "baseline": known.get((cid, p), ""),
             "status": AnswerStatus.PENDING, "changed": False} for p in codes for cid in chunk])
    batch.households = len(ids)
    return len(ids)


# ---------------------------------------------------------------------------------------------------- the list
def provider_rows(session: Session, batch_id: int, provider: str) -> Iterator[list[Any]]:
    """The provider's list, in row order, streamed: full identity numbers (the provider looks them up)."""
    query = (select(HouseholdBatchRow.id, HouseholdCheck.applicant_name, HouseholdCheck.id_number,
                    HouseholdCheck.address, HouseholdBatchRow.baseline, HouseholdBatchRow.value)
             .join(HouseholdCheck, HouseholdCheck.id == HouseholdBatchRow.check_id)
             .where(HouseholdBatchRow.batch_id == batch_id, HouseholdBatchRow.provider == provider)
             .order_by(HouseholdBatchRow.id).execution_options(yield_per=CHUNK))
    for row_id, name, number, address, baseline, value in session.execute(query):
        yield [row_id, safe_cell(name), number, safe_cell(address), safe_cell(baseline), safe_cell(value or ""), ""]


def write_xlsx(rows: Iterator[list[Any]], out: IO[bytes], title: str) -> int:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("动态复核")
    ws.append([title])
    ws.append(list(HEADER))
    count = 0
    for row in rows:
        ws.append(row)
        count += 1
    wb.save(out)
    return count


def import_xlsx(session: Session, batch: HouseholdBatch, provider: str, data: bytes) -> tuple[int, int]:
    """The provider's filled-in list: each row's 本次核对情况 (blank or 无变化: unchanged; 无记录; or the record
    now). Returns (rows answered, rows changed). Rows not in this batch's list for the provider are refused."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - any unreadable upload is the same refusal
        raise FormError({"batch_file": "无法读取上传的文件，请上传下载的复核清单（.xlsx）填写后的文件"}) from None
    known = dict(session.execute(select(HouseholdBatchRow.id, HouseholdBatchRow.baseline).where(
        HouseholdBatchRow.batch_id == batch.id, HouseholdBatchRow.provider == provider)).all())
    updates: list[dict[str, Any]] = []
    changed = 0
    for line_no, row in enumerate(wb.worksheets[0].iter_rows(values_only=True), start=1):
        if not row or not isinstance(row[0], int | float) or isinstance(row[0], bool):
            continue  # the title and the header
        row_id = int(row[0])
        if row_id not in known:
            raise FormError({"batch_file": f"第{line_no}行的序号不在本部门本批次的复核清单中"})
        now_value = str(row[5] if len(row) > 5 and row[5] is not None else "").strip()
        baseline = known[row_id]
        if now_value in UNCHANGED:
            value, status, is_changed = baseline, AnswerStatus.FOUND, False
        elif now_value == NO_RECORD:
            value, status, is_changed = NO_RECORD, AnswerStatus.NO_RECORD, baseline not in ("", NO_RECORD)
        else:
            value, status, is_changed = now_value[:2000], AnswerStatus.FOUND, now_value != baseline
        changed += is_changed
        updates.append({"id": row_id, "value": value, "status": status, "changed": is_changed})
    wb.close()
    if not updates:
        raise FormError({"batch_file": "上传的清单中没有复核结果"})
    for start in range(0, len(updates), CHUNK):
        session.execute(update(HouseholdBatchRow), updates[start:start + CHUNK])
    return len(updates), changed


def lapse(session: Session, batch_id: int, provider: str) -> int:
    result = session.execute(update(HouseholdBatchRow).where(
        HouseholdBatchRow.batch_id == batch_id, HouseholdBatchRow.provider == provider,
        HouseholdBatchRow.status == AnswerStatus.PENDING).values(status=AnswerStatus.SILENT))
    return int(getattr(result, "rowcount", 0) or 0)


def close(session: Session, batch: HouseholdBatch) -> int:
    """Count the households with a changed record; they go to the town's review."""
    batch.changed = int(session.scalar(select(func.count(func.distinct(HouseholdBatchRow.check_id))).where(
        HouseholdBatchRow.batch_id == batch.id, HouseholdBatchRow.changed.is_(True))) or 0)
    batch.status = BatchStatus.REVIEWING if batch.changed else BatchStatus.CLOSED
    return batch.changed


def changed_rows(session: Session, batch_id: int, limit: int = 200) -> list[tuple[HouseholdBatchRow, HouseholdCheck]]:
    return [(r, c) for r, c in session.execute(
        select(HouseholdBatchRow, HouseholdCheck).join(HouseholdCheck, HouseholdCheck.id == HouseholdBatchRow.check_id)
        .where(HouseholdBatchRow.batch_id == batch_id, HouseholdBatchRow.changed.is_(True))
        .order_by(HouseholdBatchRow.id).limit(limit))]


def rechecked_households(session: Session) -> int:
    """Households re-checked in completed batches (for ``demo --json``)."""
    return int(session.scalar(select(func.coalesce(func.sum(HouseholdBatch.households), 0)).where(
        HouseholdBatch.status.in_((BatchStatus.REVIEWING, BatchStatus.CLOSED)))) or 0)
