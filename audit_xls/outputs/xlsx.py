"""What every workbook audit-xls writes for HQ shares: atomic files, safe options, formats, tables.

Used by report.py (the grade summary) and the monthly report. Conventions (docs/outputs.md):
free text is always a string cell, percentages are numbers 0-100 shown as 0.00, every list is
a native Excel Table with filters, a frozen header and an A4 landscape print set-up.
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

# Re-exported: report and monthly write their CSVs through xlsx.atomic_open.
from audit_xls.atomic import atomic_open as atomic_open
from audit_xls.atomic import atomic_write_bytes as atomic_write_bytes

# Supervisors' text must never become a live formula, link or number in HQ's workbook.
WORKBOOK_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "in_memory": True,
}
EXCEL_STRING_MAX = 32767
TRUNCATED_MARK = "…"
PAPER_A4 = 9
TABLE_STYLE = "Table Style Medium 2"
TEXT_KINDS = ("text", "wrap")
NUMBER_KINDS = ("int", "num", "pct")
KINDS = (*TEXT_KINDS, *NUMBER_KINDS, "date", "datetime")


@contextmanager
def strict_warnings() -> Iterator[None]:
    """xlsxwriter reports dropped or invalid content only as warnings: make them errors."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def new_workbook(
    buffer: io.BytesIO, *, created: datetime, title: str = "", subject: str = ""
) -> Workbook:
    """A workbook written into `buffer` with the safe options and fixed properties.

    Fixed `created` (the batch's time, not now) makes the same input give the same bytes.
    """
    book = xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
    book.set_properties(
        {
            "title": title,
            "subject": subject,
            "author": "audit-xls",
            "company": "",
            "created": created.replace(tzinfo=None),
        }
    )
    book.set_size(1600, 1000)
    return book


def write_workbook(path: str | Path, build: Any, *, created: datetime, title: str = "") -> None:
    """Build a workbook with `build(book, formats)` in memory and write it to `path` atomically."""
    buffer = io.BytesIO()
    with strict_warnings():
        book = new_workbook(buffer, created=created, title=title)
        build(book, Formats(book))
        book.close()
    atomic_write_bytes(path, buffer.getvalue())


class Formats:
    """The common cell formats, created once per workbook."""

    def __init__(self, book: Workbook) -> None:
        base = {"font_name": "等线", "font_size": 10, "valign": "vcenter"}
        self.title = book.add_format({**base, "bold": True, "font_size": 14})
        self.subtitle = book.add_format({**base, "bold": True, "font_size": 11})
        self.note = book.add_format({**base, "font_color": "#595959", "italic": True})
        self.header = book.add_format(
            {**base, "bold": True, "text_wrap": True, "align": "center", "border": 1}
        )
        self.label = book.add_format({**base, "bold": True})
        self.text = book.add_format({**base})
        self.wrap = book.add_format({**base, "text_wrap": True, "valign": "top"})
        self.int = book.add_format({**base, "num_format": "0"})
        self.num = book.add_format({**base, "num_format": "0.00"})
        # Percentages are stored as numbers 0-100 (the way HQ writes 得分率), shown with 2 decimals.
        self.pct = book.add_format({**base, "num_format": "0.00"})
        self.date = book.add_format({**base, "num_format": "yyyy-mm-dd"})
        self.datetime = book.add_format({**base, "num_format": "yyyy-mm-dd hh:mm"})

    def for_kind(self, kind: str) -> Format:
        return getattr(self, kind)


def write_text(sheet: Worksheet, row: int, col: int, value: object, fmt: Format | None) -> None:
    """Write free text as a string cell, never a formula, link or number; '' as a blank."""
    text = "" if value is None else str(value)
    if not text:
        sheet.write_blank(row, col, None, fmt)
        return
    if len(text) > EXCEL_STRING_MAX // 2 and len(text.encode("utf-16-le")) // 2 > EXCEL_STRING_MAX:
        # Excel's cell limit; mark the cut instead of letting xlsxwriter cut silently.
        text = text[: EXCEL_STRING_MAX // 2 - 1] + TRUNCATED_MARK
    sheet.write_string(row, col, text, fmt)


def write_value(sheet: Worksheet, row: int, col: int, value: object, fmt: Format | None) -> None:
    """Numbers as numbers, dates as dates, None as blank, everything else as text."""
    if value is None:
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        write_text(sheet, row, col, str(value), fmt)
    elif isinstance(value, (int, float, Decimal)):
        sheet.write_number(row, col, float(value), fmt)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value.replace(tzinfo=None), fmt)
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day), fmt)
    else:
        write_text(sheet, row, col, value, fmt)


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # one of KINDS: decides the number format
    width: float = 12

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown column kind {self.kind!r}, expected one of {KINDS}")


def setup_print(sheet: Worksheet, *, repeat_row: int | None = None, footer: str = "") -> None:
    """A4 landscape, one page wide, header row repeated on every page, page numbers."""
    sheet.set_paper(PAPER_A4)
    sheet.set_landscape()
    sheet.fit_to_pages(1, 0)
    sheet.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    if repeat_row is not None:
        sheet.repeat_rows(repeat_row)
    if footer:
        sheet.set_footer(footer)


def add_table_sheet(
    book: Workbook,
    formats: Formats,
    name: str,
    table_name: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[object]],
    *,
    title: str = "",
    note: str = "",
    color_scale: Sequence[int] = (),
    footer: str = "&C&P / &N",
) -> Worksheet:
    """A sheet holding one native Excel Table: title and note above, header frozen and repeated.

    `color_scale` lists column indexes that get a red-yellow-green scale (low is red).
    Returns the sheet; the table's header row is `table_header_row(title, note)`.
    """
    headers = [c.header for c in columns]
    if len(set(headers)) != len(headers):
        raise ValueError(f"duplicate column headers in table {table_name}: {headers}")
    sheet = book.add_worksheet(name)
    header_row = table_header_row(title, note)
    if title:
        sheet.write_string(0, 0, title, formats.title)
    if note:
        sheet.write_string(1 if title else 0, 0, note, formats.note)
    first = header_row + 1
    column_formats = [formats.for_kind(c.kind) for c in columns]
    for offset, values in enumerate(rows):
        row = first + offset
        for col, value in enumerate(values):
            write_value(sheet, row, col, value, column_formats[col])
    last_row = first + max(len(rows), 1) - 1  # a table needs at least one data row
    last_col = len(columns) - 1
    sheet.add_table(
        header_row,
        0,
        last_row,
        last_col,
        {
            "name": table_name,
            "style": TABLE_STYLE,
            "columns": [{"header": c.header, "header_format": formats.header} for c in columns],
        },
    )
    # xlsxwriter keeps an entry per table cell only to refuse a later overlapping table or
    # merge; this sheet gets neither, and at 10,000 sites those entries are half the memory.
    getattr(sheet, "table_cells", {}).clear()
    for col, column in enumerate(columns):
        sheet.set_column(col, col, column.width, column_formats[col])
    if rows:
        for col in color_scale:
            sheet.conditional_format(first, col, last_row, col, COLOR_SCALE)
    sheet.freeze_panes(first, 0)
    setup_print(sheet, repeat_row=header_row, footer=footer)
    return sheet


def table_header_row(title: str, note: str) -> int:
    """Row of a table's header: title on row 0, note below it, one blank row before the table."""
    lines = (1 if title else 0) + (1 if note else 0)
    return lines + 1 if lines else 0


COLOR_SCALE: dict[str, Any] = {
    "type": "3_color_scale",
    "min_color": "#F8696B",
    "mid_color": "#FFEB84",
    "max_color": "#63BE7B",
}
