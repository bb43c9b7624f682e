"""Large .xlsx exports: openpyxl lays out the workbook (styles, column widths, title rows, print setup) and the
body rows are written straight into its sheet as XML text, streamed into the zip.

openpyxl builds an element per cell (tens of µs each on our machine, in write-only mode too): a 100k-row ledger
of 17 columns spent most of its export there. The rows written here are the same SpreadsheetML openpyxl writes —
inline strings, dates as serial numbers in a date-formatted style — with the style ids openpyxl registered.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from typing import Any

EPOCH = date(1899, 12, 30)  # serial day 0 of the 1900 date system (the 1900 leap-year quirk lies before any date here)
SHEET_DATA_END = b"</sheetData>"
FLUSH_ROWS = 500


def letters(count: int) -> list[str]:
    """The column letters A, B, … of ``count`` columns."""
    from openpyxl.utils import get_column_letter  # imported when an export runs, not with every page

    return [get_column_letter(i) for i in range(1, count + 1)]


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cell_xml(ref: str, style: int, value: Any) -> str:
    """One cell: text (inline), a number, a date (serial number; its style carries the date format) or empty.
    Text must already be free of the control characters XML cannot hold (``meeting.ledger.safe_cell``)."""
    if value is None or value == "":
        return f'<c r="{ref}" s="{style}"/>'
    if isinstance(value, str):
        return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t xml:space="preserve">{_text(value)}</t></is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, datetime):
        raise TypeError("write a datetime as its local date")
    if isinstance(value, date):
        return f'<c r="{ref}" s="{style}"><v>{(value - EPOCH).days}</v></c>'
    return f'<c r="{ref}" s="{style}"><v>{value}</v></c>'


def row_xml(number: int, cells: str, height: float | None = None) -> str:
    height_attr = f' ht="{height:g}" customHeight="1"' if height is not None else ""
    return f'<row r="{number}"{height_attr}>{cells}</row>'


class _Taken:
    """A write-only stream whose bytes are taken out as they come. It cannot seek, so zipfile writes each
    entry's sizes after its data (a data descriptor), as any reader of .xlsx expects to find."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def stream_rows(skeleton: bytes, rows: Iterable[str], sheet: str = "xl/worksheets/sheet1.xml",
                level: int = 1) -> Iterator[bytes]:
    """The workbook ``skeleton`` with ``rows`` (row XML) appended to the sheet's data, as zip bytes given out
    every few hundred rows: nothing is held whole, neither the rows nor the file."""
    out = _Taken()
    with zipfile.ZipFile(io.BytesIO(skeleton)) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename != sheet:
                dst.writestr(info.filename, data)
                continue
            head, found, tail = data.partition(SHEET_DATA_END)
            if not found:
                raise ValueError(f"{sheet} has no sheet data to append to")
            with dst.open(sheet, "w", force_zip64=True) as part:
                part.write(head)
                batch: list[str] = []
                for row in rows:
                    batch.append(row)
                    if len(batch) >= FLUSH_ROWS:
                        part.write("".join(batch).encode("utf-8"))
                        batch.clear()
                        yield out.take()
                part.write("".join(batch).encode("utf-8"))
                part.write(found + tail)
        yield out.take()
    yield out.take()  # the zip's central directory, written as it closes
