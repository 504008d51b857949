"""What every workbook audit-xls writes for HQ shares: atomic files, safe options, formats, tables.

Used by report.py (the grade summary) and the monthly report. Conventions (docs/outputs.md):
free text is always a string cell, percentages are numbers 0-100 shown as 0.00, every list is
a native Excel Table with filters, a frozen header and an A4 landscape print set-up.
"""

from __future__ import annotations

import io
import math
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
from xlsxwriter.utility import xl_col_to_name, xl_range, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import (
    CellBlankTuple,
    CellDatetimeTuple,
    CellNumberTuple,
    CellStringTuple,
    RowInfo,
    Worksheet,
)

# Re-exported: report and monthly write their CSVs through xlsx.atomic_open.
from audit_xls.atomic import atomic_open as atomic_open
from audit_xls.atomic import atomic_write_bytes as atomic_write_bytes
from audit_xls.textwidth import line_count

# Supervisors' text must never become a live formula, link or number in HQ's workbook.
WORKBOOK_OPTIONS: dict[str, Any] = {
    "strings_to_formulas": False,
    "strings_to_urls": False,
    "strings_to_numbers": False,
    "in_memory": True,
}
# HQ's summaries hold tens of thousands of rows: xlsxwriter keeps each part's XML in temporary
# files until it zips them, not in memory (10,000 returns: grade's peak 507 -> 357 MB, same CPU)
LARGE_WORKBOOK_OPTIONS: dict[str, Any] = {**WORKBOOK_OPTIONS, "in_memory": False}
EXCEL_STRING_MAX = 32767
TRUNCATED_MARK = "…"
PAPER_A4 = 9
LINE_HEIGHT = 13.5  # points per line of 10 pt text
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
    book = xlsxwriter.Workbook(buffer, LARGE_WORKBOOK_OPTIONS)
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


class TableSheet(Worksheet):
    """A worksheet whose table rows (write_rows) are kept plain and written a row at a time.

    xlsxwriter stores each cell as an object and builds its XML at close through generic
    attribute handling. Here write_rows keeps each row as the kinds of its cells (one letter
    each: a shared string, a number, a blank), their values and their formats, and close
    writes the row's XML through one format template per kind of row: the very same text.
    Anything else (a title, a header, a cell written later over a row) goes through
    xlsxwriter as usual; a plain row that anything else reads or overwrites is first turned
    into xlsxwriter's cells (`_materialize`).
    """

    def __init__(self) -> None:
        super().__init__()
        self._plain: dict[int, tuple[str, tuple[Any, ...], _RowFormats]] = {}

    def add_table(self, first_row, first_col, last_row, last_col, options=None):  # type: ignore[override]
        """xlsxwriter's add_table, without indexing every cell of the range (a dict entry per
        cell, only to refuse a later overlapping table or merge): a table sheet holds one
        table and no merge. The table is added over its header and first row, then given its
        extent, which is all the rest of add_table uses (range, autofilter range)."""
        options = options or {}
        plain = not (
            self.tables or self.merged_cells or set(options) & {"total_row", "data", "header_row"}
            or any(c.get("formula") or c.get("total_function") or c.get("total_string")
                   for c in options.get("columns", ()))
        )  # fmt: skip
        if not plain or last_row <= first_row + 1:
            return super().add_table(first_row, first_col, last_row, last_col, options)
        if self._check_dimensions(last_row, last_col, True, True):
            return -1
        result = super().add_table(first_row, first_col, first_row + 1, last_col, options)
        if result is None or result == 0:
            table = self.tables[-1]
            table["range"] = table["a_range"] = xl_range(first_row, first_col, last_row, last_col)
            if table.get("autofilter"):
                table["autofilter"] = table["a_range"]
        return result

    def set_row(self, row, height=None, cell_format=None, options=None):  # type: ignore[override]
        """xlsxwriter's set_row; for a plain row's height alone (a wrapped text's rows), what
        set_row_pixels stores, without its checks (the row is stored, so within the sheet)."""
        if height is None or height == 0 or cell_format is not None or options:
            return super().set_row(row, height, cell_format, options)
        if row not in self._plain:
            return super().set_row(row, height, cell_format, options)
        pixels = int(height * 4.0 / 3.0 + 0.5)
        self.row_info[row] = RowInfo(height=pixels)
        self.row_sizes[row] = [pixels, False]  # where pictures and charts are anchored
        return 0

    def _materialize(self, row: int) -> None:
        """A plain row as xlsxwriter's cells, under any cell written over it since."""
        kinds, values, formats = self._plain.pop(row)
        cells = self.table[row]
        at = 0
        for col, kind in enumerate(kinds):
            if kind == "x":  # stored by xlsxwriter already
                continue
            fmt = formats.formats[col]
            if kind == "b":
                cell: Any = CellBlankTuple(fmt)
            else:
                value = values[at]
                at += 1
                if kind == "s":
                    cell = CellStringTuple(value, fmt)
                elif kind == "n":
                    cell = CellNumberTuple(value, fmt)
                else:
                    cell = CellDatetimeTuple(value, fmt)
            cells.setdefault(col, cell)

    def _get_range_data(self, row_start, col_start, row_end, col_end):  # type: ignore[override]
        # what a chart caches of a range: read from xlsxwriter's cells
        for row in range(row_start, row_end + 1):
            if row in self._plain:
                self._materialize(row)
        return super()._get_range_data(row_start, col_start, row_end, col_end)

    def _calculate_spans(self) -> None:
        # xlsxwriter's (3.x): each block of 16 rows spans its first to its last used column;
        # here by min and max of each row's columns, not a min and max call per cell.
        spans: dict[int, str] = {}
        low = high = None
        table, comments, plain = self.table, self.comments, self._plain
        last = self.dim_rowmax
        for row_num in range(self.dim_rowmin, last + 1):
            row = plain.get(row_num)
            if row is not None:  # a plain row's cells are its first columns, every one
                low = 0
                end = len(row[0]) - 1
                high = end if high is None or end > high else high
            for used in (table, comments):
                cols = used.get(row_num)  # .get: no entry made in the defaultdict
                if cols:
                    first, end = min(cols), max(cols)
                    low = first if low is None or first < low else low
                    high = end if high is None or end > high else high
            if ((row_num + 1) % 16 == 0 or row_num == last) and low is not None:
                spans[row_num // 16] = f"{low + 1}:{high + 1}"
                low = high = None
        self.row_spans = spans

    def _write_rows(self) -> None:
        # xlsxwriter's Worksheet._write_rows (3.x), with the plain rows written from their
        # templates (several rows' text joined per write)
        if self.constant_memory:
            super()._write_rows()
            return
        plain, table, row_info = self._plain, self.table, self.row_info
        for row_num in [r for r in plain if table.get(r)]:  # cells written over a plain row
            self._materialize(row_num)
        self._calculate_spans()
        spans = self.row_spans
        out: list[str] = []
        # a row of the default height (xlsxwriter's _write_row writes no height then)
        default_height = self.default_row_height
        plain_height = default_height == self.original_row_height and self.excel_version != 2010
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            row = plain.get(row_num)
            if row is not None and plain_height:
                info = row_info.get(row_num)
                span = spans.get(row_num // 16)
                tag = f'<row r="{row_num + 1}"' + (f' spans="{span}"' if span else "")
                if info is not None:
                    if info.row_format or info.hidden or info.level or info.collapsed:
                        tag = ""  # such a row is written by xlsxwriter
                    elif info.height is not None and info.height != default_height:
                        tag += f' ht="{info.height * 0.75:.16g}" customHeight="1"'
                if tag:
                    kinds, values, formats = row
                    template = formats.templates.get(kinds) or formats.template(kinds)
                    out += (tag, ">", template.format(row_num + 1, *values), "</row>")
                    if len(out) > 4000:
                        self.fh.write("".join(out))
                        out.clear()
                    continue
            if out:
                self.fh.write("".join(out))
                out.clear()
            if row is not None:
                self._materialize(row_num)
            if row_num in row_info or row_num in self.comments or table[row_num]:
                span = spans.get(int(row_num / 16))
                if table[row_num]:
                    if row_num not in row_info:
                        self._write_row(row_num, span)
                    else:
                        self._write_row(row_num, span, row_info[row_num])
                    for col_num in range(self.dim_colmin, self.dim_colmax + 1):
                        if col_num in table[row_num]:
                            self._write_cell(row_num, col_num, table[row_num][col_num])
                    self._xml_end_tag("row")
                elif row_num not in row_info:
                    self._write_empty_row(row_num, span, None)
                else:
                    self._write_empty_row(row_num, span, row_info[row_num])
        self.fh.write("".join(out))


class _RowFormats:
    """The formats of one write_rows call's columns, and the templates of its plain rows'
    XML by the kinds of their cells (made at close, in row order: each format gets its style
    index at its first use in the sheet, as xlsxwriter gives it cell by cell)."""

    def __init__(self, formats: Sequence[Format]) -> None:
        self.formats = tuple(formats)
        self.templates: dict[str, str] = {}

    def template(self, kinds: str) -> str:
        """The XML of a row of these kinds of cells: {0} its number, then its values."""
        parts = []
        at = 0
        for col, kind in enumerate(kinds):
            name = _COLUMN_NAMES.get(col) or _COLUMN_NAMES.setdefault(col, xl_col_to_name(col))
            head = f'<c r="{name}{{0}}" s="{self.formats[col]._get_xf_index()}"'
            if kind == "b":
                parts.append(head + "/>")
                continue
            if kind not in "snd":  # "x": a row with such a cell is written by xlsxwriter
                raise ValueError(f"no template for a cell of kind {kind!r}")
            at += 1
            if kind == "s":
                parts.append(f'{head} t="s"><v>{{{at}}}</v></c>')
            else:  # a number or a date, as xlsxwriter writes them
                parts.append(f"{head}><v>{{{at}:.16G}}</v></c>")
        self.templates[kinds] = template = "".join(parts)
        return template


_COLUMN_NAMES: dict[int, str] = {}


def write_rows(
    sheet: Worksheet, first: int, rows: Sequence[Sequence[object]], formats: Sequence[Format]
) -> None:
    """write_value for every cell of `rows` (row `first` on, column i in formats[i]).

    On a TableSheet the rows are kept plain (see TableSheet) as write_value would store them
    (the same shared strings, in the same order, so the same bytes), without xlsxwriter's
    per-call argument handling: short texts, finite numbers, dates and blanks (None or "");
    anything else through write_value.
    """
    if (
        not isinstance(sheet, TableSheet)
        or sheet.constant_memory
        or any(fmt is None for fmt in formats)
    ):
        for offset, values in enumerate(rows):
            for col, value in enumerate(values):
                write_value(sheet, first + offset, col, value, formats[col])
        return
    strings = sheet.str_table
    string_table = strings.string_table  # SharedStringTable._get_shared_string_index, inlined
    string_count = 0
    check = sheet._check_dimensions
    table, plain = sheet.table, sheet._plain
    row_formats = _RowFormats(formats)
    text_max = EXCEL_STRING_MAX // 2
    for offset, values in enumerate(rows):
        row = first + offset
        if row in plain:  # written twice: the later cells over the earlier, as xlsxwriter
            sheet._materialize(row)
        # Every cell of the row is stored (each has a format), so its first and last cells
        # set the sheet's dimensions as storing them one by one would.
        if not values or table.get(row) or check(row, 0) or check(row, len(values) - 1):
            for col, value in enumerate(values):
                write_value(sheet, row, col, value, formats[col])
            continue
        kinds: list[str] = []
        kept: list[Any] = []
        for col, value in enumerate(values):
            kind = type(value)
            if kind is str and 0 < len(value) <= text_max:
                index = string_table.get(value)
                if index is None:
                    index = string_table[value] = strings.unique_count
                    strings.unique_count += 1
                string_count += 1
                kinds.append("s")
                kept.append(index)
            elif value is None or value == "":  # write_text's blank for an empty text
                kinds.append("b")
            elif (kind is float or kind is int) and math.isfinite(value):
                kinds.append("n")
                kept.append(float(value))
            elif kind is Decimal and math.isfinite(number := float(value)):
                kinds.append("n")  # write_value's float
                kept.append(number)
            elif kind is datetime:
                kinds.append("d")
                kept.append(sheet._convert_date_time(value.replace(tzinfo=None)))
            elif kind is date:
                kinds.append("d")
                day = datetime(value.year, value.month, value.day)
                kept.append(sheet._convert_date_time(day))
            else:
                strings.count += string_count  # in order with write_value's own count
                string_count = 0
                kinds.append("x")  # in xlsxwriter's cells
                write_value(sheet, row, col, value, formats[col])
        plain[row] = ("".join(kinds), tuple(kept), row_formats)
    strings.count += string_count


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
    bands: BandColours | None = None,
    band_cols: Sequence[int] = (),
    band_name_cols: Sequence[int] = (),
    footer: str = "&C&P / &N",
    print_cols: int | None = None,
) -> Worksheet:
    """A sheet holding one native Excel Table: title and note above, header frozen and repeated.

    `band_cols` (rates) and `band_name_cols` (评级) are coloured by the grade `bands`, with the
    legend on the blank row above the table. `print_cols` prints only the first columns. Rows
    of "wrap" columns are as tall as their text. Returns the sheet; the table's header row is
    `table_header_row(title, note)`.
    """
    headers = [c.header for c in columns]
    if len(set(headers)) != len(headers):
        raise ValueError(f"duplicate column headers in table {table_name}: {headers}")
    sheet = book.add_worksheet(name, worksheet_class=TableSheet)
    header_row = table_header_row(title, note)
    if title:
        sheet.write_string(0, 0, title, formats.title)
    if note:
        sheet.write_string(1 if title else 0, 0, note, formats.note)
    first = header_row + 1
    column_formats = [formats.for_kind(c.kind) for c in columns]
    write_rows(sheet, first, rows, column_formats)
    # a text's lines in its column, worked out once per table: the same criterion, section
    # and rule texts recur in every workbook's rows (a pure function of the text and the width)
    wrapped = [(col, c.width, {}) for col, c in enumerate(columns) if c.kind == "wrap"]
    for offset, values in enumerate(rows):
        # as tall as the wrapped text (no writer autofits rows; a cut note is a lost note)
        lines = 1
        for col, width, counted in wrapped:
            text = values[col]
            if text:
                if type(text) is not str:
                    text = str(text)  # by its text: 1.0 and 1.00 are one key, not one text
                found = counted.get(text)
                if found is None:
                    found = counted[text] = line_count(text, width)
                if found > lines:
                    lines = found
        if lines > 1:
            sheet.set_row(first + offset, lines * LINE_HEIGHT + 3)
    header_lines = max(line_count(c.header, c.width) for c in columns)
    if header_lines > 1:  # headers wrap in narrow columns: the header row as tall as they are
        sheet.set_row(header_row, header_lines * LINE_HEIGHT + 3)
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
    if bands is not None and (band_cols or band_name_cols):
        if header_row > 0:
            bands.legend(sheet, header_row - 1, 0)
        if rows:
            for start, end in _runs(sorted(band_cols)):
                bands.rates(sheet, first, start, last_row, end)
            for col in band_name_cols:
                bands.names(sheet, first, col, last_row)
    sheet.freeze_panes(first, 0)
    setup_print(sheet, repeat_row=header_row, footer=footer)
    if print_cols is not None and print_cols < len(columns):
        # the columns a reader needs on paper (file names and ids stay on screen): readable size
        sheet.print_area(0, 0, last_row, print_cols - 1)
    return sheet


def _runs(cols: Sequence[int]) -> list[tuple[int, int]]:
    """Consecutive columns as (first, last) blocks: one set of rules per block."""
    runs: list[tuple[int, int]] = []
    for col in cols:
        if runs and runs[-1][1] == col - 1:
            runs[-1] = (runs[-1][0], col)
        else:
            runs.append((col, col))
    return runs


def table_header_row(title: str, note: str) -> int:
    """Row of a table's header: title on row 0, note below it, one blank row before the table."""
    lines = (1 if title else 0) + (1 if note else 0)
    return lines + 1 if lines else 0


# --- grade-band colours ------------------------------------------------------------------------
# Rates are coloured by the standard's grade bands, fixed thresholds, never relative to the range
# (a colour scale made 92.43 % red when every other site did better): the same colour means the
# same band in every sheet and chart, and red always means the lowest band (不合格).

Bands = Sequence[tuple[str, Decimal]]  # (name, minimum rate 0-100), any order

# (cell fill, cell font, chart colour) of the best, second, third and lowest band
BAND_PALETTE: tuple[tuple[str, str, str], ...] = (
    ("#C6EFCE", "#006100", "#63BE7B"),  # green: 优秀
    ("#DDEBF7", "#1F4E78", "#5B9BD5"),  # blue: 良好
    ("#FFEB9C", "#9C5700", "#FFC000"),  # amber: 合格
    ("#FFC7CE", "#9C0006", "#F8696B"),  # red: 不合格
)


def band_slot(rank: int, count: int) -> int:
    """Palette slot of the `rank`-th best of `count` bands: the lowest band is always red."""
    if rank == count - 1 and count > 1:
        return len(BAND_PALETTE) - 1
    return min(rank, len(BAND_PALETTE) - 2)


def _minimum_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


class BandColours:
    """The cell formats, chart colours and legend of one set of grade bands in one workbook."""

    def __init__(self, book: Workbook, bands: Bands, *, legend_label: str) -> None:
        self.bands = sorted(bands, key=lambda band: band[1], reverse=True)
        self.legend_label = legend_label
        count = len(self.bands)
        self.slots = [band_slot(rank, count) for rank in range(count)]
        self.formats = [
            book.add_format({"bg_color": BAND_PALETTE[s][0], "font_color": BAND_PALETTE[s][1]})
            for s in self.slots
        ]
        self.legend_formats = [
            book.add_format(
                {
                    "font_name": "等线",
                    "font_size": 10,
                    "bold": True,
                    "font_color": BAND_PALETTE[s][2],
                }
            )
            for s in self.slots
        ]
        self.legend_text = book.add_format({"font_name": "等线", "font_size": 10})

    def index(self, rate: Decimal | float | None) -> int | None:
        """The band of a rate (None for no rate)."""
        if rate is None or (isinstance(rate, float) and rate != rate):
            return None
        value = Decimal(str(rate))
        for i, (_name, minimum) in enumerate(self.bands):
            if value >= minimum:
                return i
        return len(self.bands) - 1

    def chart_colour(self, rate: Decimal | float | None) -> str | None:
        i = self.index(rate)
        return None if i is None else BAND_PALETTE[self.slots[i]][2]

    def name_colour(self, name: str) -> str | None:
        for i, (band, _minimum) in enumerate(self.bands):
            if band == name:
                return BAND_PALETTE[self.slots[i]][2]
        return None

    def rates(self, sheet: Worksheet, first_row: int, first_col: int, last_row: int,
              last_col: int) -> None:  # fmt: skip
        """Colour the numbers of a block by band; text (—) and blanks stay uncoloured."""
        if last_row < first_row:
            return
        top = xl_rowcol_to_cell(first_row, first_col)
        for fmt, (_name, minimum) in zip(self.formats, self.bands, strict=True):
            sheet.conditional_format(
                first_row, first_col, last_row, last_col,
                {
                    "type": "formula",
                    "criteria": f"=AND(ISNUMBER({top}),{top}>={_minimum_text(minimum)})",
                    "format": fmt,
                    "stop_if_true": True,
                },
            )  # fmt: skip

    def names(self, sheet: Worksheet, first_row: int, col: int, last_row: int) -> None:
        """Colour a column of band names (评级) like the rates of that band."""
        if last_row < first_row:
            return
        for fmt, (name, _minimum) in zip(self.formats, self.bands, strict=True):
            sheet.conditional_format(
                first_row, col, last_row, col,
                {"type": "cell", "criteria": "==", "value": f'"{name}"', "format": fmt},
            )  # fmt: skip

    def legend_parts(self) -> list[str]:
        """'优秀 ≥90', '良好 80-89.99', ...: each band with its range of rates."""
        parts = []
        upper: Decimal | None = None
        for name, minimum in self.bands:
            if upper is None:
                parts.append(f"{name} ≥{_minimum_text(minimum)}")
            else:
                below = _minimum_text(upper - Decimal("0.01"))
                if minimum == 0:
                    parts.append(f"{name} <{_minimum_text(upper)}")
                else:
                    parts.append(f"{name} {_minimum_text(minimum)}-{below}")
            upper = minimum
        return parts

    def legend(self, sheet: Worksheet, row: int, col: int) -> None:
        """One cell: the label, then a coloured ■ and the range of each band."""
        pieces: list[Any] = [self.legend_text, self.legend_label]  # its colon included
        for fmt, part in zip(self.legend_formats, self.legend_parts(), strict=True):
            pieces += [fmt, "■ ", self.legend_text, part + "   "]
        sheet.write_rich_string(row, col, *pieces)
