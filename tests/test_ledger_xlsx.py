"""The ledger's .xlsx as a spreadsheet program reads it: rows written as sheet XML into openpyxl's layout keep
the cell types, styles and heights the ledger promises, whatever the text holds."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

from openpyxl import load_workbook

from meeting.ledger import COLUMNS, LIGHT_FILLS, CoLink, ItemRecord, LedgerRow, Light, to_xlsx

NOW = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


def record(i: int, content: str, deadline: datetime, status: str = "in_progress") -> ItemRecord:
    return ItemRecord(id=i, number=f"JY-{i:04d}", meeting_id=None, content=content, lead_unit="yibao",
                      deadline=deadline, original_deadline=None, status=status, supervise_count=1, remind_count=2,
                      closed_at=NOW if status == "closed" else None, created_at=NOW - timedelta(days=30),
                      source="assigned", source_ref="汉政办发〔2026〕3号", key_item=i == 1, escalation="none",
                      co_unit_links=(CoLink("renshe", "pending"),))


def rows() -> list[LedgerRow]:
    items = [record(1, "  <核对> & 复核：" + "按分工抓好落实，" * 12, NOW - timedelta(days=2)),
             record(2, "=SUM(A1)", NOW + timedelta(days=1)),
             record(3, "按期完成", NOW + timedelta(days=30)),
             record(4, "已办结事项", NOW - timedelta(days=5), status="closed")]
    return [LedgerRow(item, item.light(NOW), "区医保局", ["区人社局"], "", "", None, seq)
            for seq, item in enumerate(items, start=1)]


def export(columns: tuple[str, ...]) -> tuple[int, Any]:
    out = io.BytesIO()
    count = to_xlsx(rows(), columns, NOW, out)
    return count, load_workbook(io.BytesIO(out.getvalue())).active


def test_body_cells_keep_their_types_styles_and_heights() -> None:
    columns = tuple(COLUMNS)  # every column the ledger can export
    count, sheet = export(columns)
    assert count == 4 and sheet.max_row == 3 + 4
    at = {name: index + 1 for index, name in enumerate(columns)}
    first = {name: sheet.cell(4, col) for name, col in at.items()}
    # Text comes back exactly, markup characters and leading spaces included; formulas stay text.
    assert first["content"].value.startswith("  <核对> & 复核：") and first["content"].data_type == "s"
    assert sheet.cell(5, at["content"]).value == "'=SUM(A1)"
    # Dates are date cells shown as dates; counts are numbers, centred; long text wraps and the row grows.
    assert first["deadline"].value == datetime(2026, 12, 5) and first["deadline"].number_format == "yyyy-mm-dd"
    assert first["remind_count"].value == 2 and first["remind_count"].alignment.horizontal == "center"
    assert first["content"].alignment.wrap_text and sheet.row_dimensions[4].height > 15
    assert sheet.row_dimensions[6].height < sheet.row_dimensions[4].height
    # The light and status cells carry the row's colour; other cells are not filled; every cell has a border.
    fills = [sheet.cell(r, at["light"]).fill.fgColor.rgb[-6:] for r in range(4, 8)]
    assert fills == [LIGHT_FILLS[Light.RED], LIGHT_FILLS[Light.YELLOW], LIGHT_FILLS[Light.GREEN],
                     LIGHT_FILLS[Light.CLOSED]]
    assert sheet.cell(4, at["status"]).fill.fgColor.rgb[-6:] == LIGHT_FILLS[Light.RED]
    assert sheet.cell(4, at["content"]).fill.fill_type is None
    assert all(sheet.cell(r, c).border.left.style == "thin" for r in range(4, 8) for c in at.values())
    # A closed item's 结办日期 is a date; an open one's is an empty, bordered cell.
    assert sheet.cell(7, at["closed_at"]).value == datetime(2026, 12, 7)
    assert sheet.cell(4, at["closed_at"]).value is None


def test_an_empty_ledger_is_a_header_only_sheet() -> None:
    out = io.BytesIO()
    assert to_xlsx([], ("number", "content"), NOW, out) == 0
    sheet = load_workbook(io.BytesIO(out.getvalue())).active
    assert [c.value for c in sheet[3]] == ["编号", "议定事项"] and sheet.max_row == 3
    assert sheet.freeze_panes == "A4" and sheet.print_title_rows == "$3:$3"
    assert date(2026, 12, 7).strftime("%Y年%-m月%-d日") in sheet.cell(2, 2).value
