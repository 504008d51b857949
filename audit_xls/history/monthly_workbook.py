"""MONTHLY.xlsx: the monthly pivots as HQ's workbook (sheets, colours, charts, notes)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from audit_xls.history.monthly import (
    MONTHLY_BANDS,
    SHEETS,
    SITE_CHANGE_TABLE,
    MonthlyReport,
    _describe_filters,
    _plain,
    column,
)
from audit_xls.history.monthly_exports import _machine
from audit_xls.i18n import t
from audit_xls.outputs.xlsx import (
    BandColours,
    Column,
    Formats,
    add_table_sheet,
    table_header_row,
    write_value,
    write_workbook,
)
from audit_xls.rectify import summary as rectification

# --- workbook -------------------------------------------------------------------------------


# The workbook works on the pivots keyed by their machine keys (monthly.COLUMN_KEYS), so a
# report is written in any language; these two columns are the site sheet's own.
ARROW = "arrow"  # ↑ / ↓ / → with the change: the trend every application shows and prints
TREND = "trend"  # sparklines: drawn by Excel and WPS only (LibreOffice keeps but does not draw)


def _header(key: str, months: list[str], lang: str) -> str:
    """A pivot's column header in `lang` (months keep their YYYY-MM)."""
    if key in months:
        return key
    if key == ARROW:
        return t("monthly.arrow", lang)
    return column(key, lang)


def _keyed(report: MonthlyReport, frame: pd.DataFrame) -> pd.DataFrame:
    return _machine(frame, report.lang)


def _columns(
    frame: pd.DataFrame, months: list[str], kinds: dict[str, tuple[str, float]], lang: str
) -> list[Column]:
    columns = []
    for key in frame.columns:
        kind, width = ("pct", 9.0) if key in months else kinds.get(key, ("text", 12.0))
        columns.append(Column(_header(str(key), months, lang), kind, width))
    return columns


def _rows(frame: pd.DataFrame) -> list[list[Any]]:
    # Column by column: iterating rows of nullable (Int64) columns costs a pandas call a cell.
    columns = [frame.iloc[:, i].tolist() for i in range(frame.shape[1])]
    plain = (str, int)  # already what _plain would give, as is a float that is not NaN
    return [
        [v if type(v) in plain or (type(v) is float and v == v) else _plain(v) for v in row]
        for row in zip(*columns, strict=True)
    ]


LABEL_KINDS = {
    "site_code": ("text", 10.0),
    "site": ("wrap", 14.0),
    "region": ("text", 10.0),
    "change": ("num", 9.0),
    ARROW: ("text", 9.0),
    TREND: ("text", 16.0),
    "standard_id": ("text", 10.0),
    "section_code": ("text", 8.0),
    "section": ("wrap", 10.0),
    "period": ("text", 9.0),
    "rank": ("int", 6.0),
    "percent": ("pct", 9.0),
    "previous_rank": ("int", 8.0),
    "rank_change": ("int", 8.0),
    "criterion_code": ("text", 9.0),
    "criterion": ("wrap", 26.0),
    "consecutive_months": ("int", 8.0),
    "problem_points_by_month": ("text", 12.0),
    "latest_note": ("wrap", 24.0),
    "reported_fixed_before": ("wrap", 9.0),  # rectify/summary.py: months, joined
    "issued": ("int", 8.0),
    "returned": ("int", 8.0),
    "graded": ("int", 8.0),
    "sent_back_not_graded": ("int", 8.0),
    "not_returned": ("int", 8.0),
    "standard_version": ("text", 8.0),
    "score": ("num", 8.0),
    "max_score": ("num", 8.0),
    "grade": ("text", 8.0),
    "inspector": ("text", 10.0),
    "inspection_date": ("date", 11.0),
    "graded_at": ("datetime", 16.0),
    "file": ("text", 30.0),
    "workbook_id": ("text", 24.0),
}


def _scope_note(report: MonthlyReport, lang: str) -> str:
    described = _describe_filters(report.filters, lang)
    head = t("monthly.note.months", lang, first=str(report.months[0]), last=str(report.months[-1]))
    if described:
        head += t("monthly.note.filtered", lang, filters=described)
    return head + t("monthly.note.current", lang)


def trend_arrow(change: float | None) -> str:
    """'↑ 2.50', '↓ 12.50', '→ 0.00', or '' without a previous month."""
    if change is None or change != change:
        return ""
    arrow = "↑" if change > 0 else "↓" if change < 0 else "→"
    return f"{arrow} {abs(change):.2f}"


def _site_sheet(
    book: Workbook, formats: Formats, report: MonthlyReport, bands: BandColours, lang: str
) -> None:
    rates = _keyed(report, report.site_rates)
    frame = rates.assign(**{ARROW: [trend_arrow(v) for v in rates["change"]], TREND: ""})
    months = report.month_columns
    note = _scope_note(report, lang) + t(
        "monthly.note.change",
        lang,
        change=column("change", lang),
        month=str(report.latest_month),
        sparklines=t("monthly.sparkline_note", lang, trend=column(TREND, lang)),
    )
    sheet, month_cols = _month_sheet(book, formats, report, "site_rates", frame, note, bands, lang)
    name = t("monthly.sheets.site_rates", lang)
    first = table_header_row(t("monthly.titles.site_rates", lang), note) + 1
    trend_col = frame.columns.get_loc(TREND)
    if len(frame):
        # One group of sparklines, one per site (as Excel groups sparklines made together):
        # a call per site made xlsxwriter rebuild its style table a thousand times.
        rows = range(first, first + len(frame))
        sheet.add_sparkline(
            first,
            trend_col,
            {
                "location": [xl_rowcol_to_cell(row, trend_col) for row in rows],
                "range": [
                    f"'{name}'!{xl_rowcol_to_cell(row, month_cols[0])}:"
                    f"{xl_rowcol_to_cell(row, month_cols[-1])}"
                    for row in rows
                ],
                "markers": True,
            },
        )
    # The month-over-month changes, as a second table below the rates.
    changes = _keyed(report, report.site_changes)
    top = first + max(len(frame), 1) + 2
    sheet.write_string(top - 1, 0, t("monthly.titles.site_changes", lang), formats.subtitle)
    _write_table(sheet, formats, top, changes, SITE_CHANGE_TABLE, months, "num", lang)
    for offset, text in enumerate(report.notes):
        sheet.write_string(top + max(len(changes), 1) + 2 + offset, 0, text, formats.note)


def _month_sheet(
    book: Workbook,
    formats: Formats,
    report: MonthlyReport,
    key: str,
    frame: pd.DataFrame,
    note: str,
    bands: BandColours,
    lang: str,
) -> tuple[Worksheet, list[int]]:
    """A pivot of rates by month (by site, by region) as its sheet and table in `lang`, each
    month's rates coloured by grade band; returns the sheet and the month columns' indexes."""
    months = report.month_columns
    month_cols = [frame.columns.get_loc(m) for m in months]
    sheet = add_table_sheet(
        book,
        formats,
        t(f"monthly.sheets.{key}", lang),
        SHEETS[key],
        _columns(frame, months, LABEL_KINDS, lang),
        _rows(frame),
        title=t(f"monthly.titles.{key}", lang),
        note=note,
        footer=t("summary.footer", lang),
        bands=bands,
        band_cols=month_cols,
    )
    return sheet, month_cols


def _write_table(
    sheet: Worksheet,
    formats: Formats,
    top: int,
    frame: pd.DataFrame,
    table_name: str,
    months: list[str],
    month_kind: str,
    lang: str,
) -> None:
    columns = _columns(frame, months, LABEL_KINDS, lang)
    for offset, values in enumerate(_rows(frame)):
        for col, value in enumerate(values):
            kind = month_kind if frame.columns[col] in months else columns[col].kind
            write_value(sheet, top + 1 + offset, col, value, formats.for_kind(kind))
    sheet.add_table(
        top,
        0,
        top + max(len(frame), 1),
        len(columns) - 1,
        {
            "name": table_name,
            "style": "Table Style Light 9",
            "columns": [{"header": c.header, "header_format": formats.header} for c in columns],
        },
    )


def _region_sheet(
    book: Workbook, formats: Formats, report: MonthlyReport, bands: BandColours, lang: str
) -> None:
    name = t("monthly.sheets.region_rates", lang)
    title = t("monthly.titles.region_rates", lang)
    mean_note = t("monthly.note.mean", lang)
    frame = _keyed(report, report.region_rates)
    months = report.month_columns
    sheet, month_cols = _month_sheet(
        book, formats, report, "region_rates", frame, mean_note, bands, lang
    )
    header = table_header_row(title, mean_note)
    chart = book.add_chart({"type": "line"})
    for offset in range(len(frame)):
        row = header + 1 + offset
        # each month's marker in the colour of its grade band, as in the cells
        points = [
            {"fill": {"color": bands.chart_colour(v) or "#FFFFFF"}}
            for v in frame.iloc[offset][months]
        ]
        chart.add_series(
            {
                "name": [name, row, 0],
                "categories": [name, header, month_cols[0], header, month_cols[-1]],
                "values": [name, row, month_cols[0], row, month_cols[-1]],
                "marker": {"type": "circle", "size": 8},
                "points": points,
            }
        )
    chart.set_title({"name": title})
    chart.set_y_axis({"name": t("monthly.chart.rate", lang), "num_format": "0"})
    chart.set_x_axis({"name": t("monthly.chart.month", lang)})
    chart.set_size({"width": 720, "height": 360})
    anchor_row = header + len(frame) + 3
    sheet.insert_chart(f"A{anchor_row + 1}", chart)


def _plain_sheet(
    book: Workbook,
    formats: Formats,
    report: MonthlyReport,
    key: str,
    note: str = "",
    *,
    lang: str,
    bands: BandColours,
    scale: Sequence[str] = (),
    grades: Sequence[str] = (),
    screen_only: Sequence[str] = (),
) -> Worksheet:
    table = SHEETS[key]
    name = t(f"monthly.sheets.{key}", lang)
    title = t(f"monthly.titles.{key}", lang)
    frame = _keyed(report, getattr(report, key))
    columns = _columns(frame, report.month_columns, LABEL_KINDS, lang)
    scale_cols = [frame.columns.get_loc(c) for c in scale if c in frame.columns]
    grade_cols = [frame.columns.get_loc(c) for c in grades if c in frame.columns]
    return add_table_sheet(
        book,
        formats,
        name,
        table,
        columns,
        _rows(frame),
        title=title,
        note=note,
        bands=bands,
        band_cols=scale_cols,
        band_name_cols=grade_cols,
        footer=t("summary.footer", lang),
        # trailing columns left off the page (file names, ids) so the rest prints readable
        print_cols=len(columns) - len([c for c in screen_only if c in frame.columns]),
    )


def _build_workbook(report: MonthlyReport, lang: str) -> Any:
    def build(book: Workbook, formats: Formats) -> None:
        bands = BandColours(book, MONTHLY_BANDS, legend_label=t("summary.legend", lang))
        _site_sheet(book, formats, report, bands, lang)
        _region_sheet(book, formats, report, bands, lang)
        for key, scale in (
            ("section_rates", report.month_columns),
            ("ranking", ["percent"]),
            ("repeats", []),
            ("returns", []),
        ):
            note = t(f"monthly.note.{key}", lang)
            _plain_sheet(book, formats, report, key, note, lang=lang, bands=bands, scale=scale)
        _plain_sheet(
            book,
            formats,
            report,
            "detail",
            " ".join([t("monthly.note.detail", lang), *report.notes]),
            lang=lang,
            bands=bands,
            scale=["percent"],
            grades=["grade"],
            screen_only=["file", "workbook_id"],
        )
        if report.rectification is not None:  # 整改台账, 整改完成率, 逾期未整改
            footer = t("summary.footer", lang)
            rectification.add_sheets(book, formats, report.rectification, footer, lang)

    return build


def write_monthly(report: MonthlyReport, path: str | Path, lang: str | None = None) -> None:
    """Write MONTHLY.xlsx atomically in `lang` (default: the report's; the notes and words in
    cells stay the report's); the same report gives the same bytes."""
    lang = lang or report.lang
    created = report.generated_from or datetime(2000, 1, 1)
    if report.rectification is not None:  # 整改台账's photo links, relative to the workbook
        report.rectification.link_folder = Path(path).resolve().parent
    write_workbook(
        path, _build_workbook(report, lang), created=created, title=t("monthly.title", lang)
    )
