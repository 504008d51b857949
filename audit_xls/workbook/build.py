"""Build one formatted inspection workbook per site, and the register of what was issued.

Every cell goes where layout.py says, so read.py finds it in the same place. The workbook
is a form: dropdowns and bounds stop mistakes as they are typed, live formulas show the
score, everything but the inputs is locked, and a very hidden manifest tells `grade` what
was issued. Re-running with the same inputs gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from audit_xls import __version__
from audit_xls.atomic import atomic_write_bytes
from audit_xls.grading.register import IssuedEntry, read_issued, register_path, write_issued
from audit_xls.grading.sites import Site
from audit_xls.i18n import Said
from audit_xls.model import period as period_module
from audit_xls.model.period import Period, PeriodError
from audit_xls.model.standard import Standard
from audit_xls.outputs.xlsx import WORKBOOK_OPTIONS, strict_warnings
from audit_xls.textwidth import line_count
from audit_xls.workbook.layout import (
    CHECKLIST_TITLE_ROW,
    COLUMN_WIDTHS,
    COVER_INSTRUCTIONS_ROW,
    COVER_LABEL_COL,
    COVER_ROW,
    COVER_TITLE_ROW,
    COVER_VALUE_COL,
    FIRST_ITEM_ROW,
    HEADER_ROW,
    LISTS_SHEET,
    MANIFEST_SHEET,
    MANIFEST_TOOL,
    MAX_PROBLEM_POINTS,
    RESULT_LIST_NAME,
    SUMMARY_HEADER_ROW,
    Col,
    Layout,
    SumCol,
    cell,
    manifest_checksum,
    manifest_grid,
)
from audit_xls.workbook.protect import lock_structure
from audit_xls.workbook.stencil import Stencil, StencilError
from audit_xls.workbook.template import DEFAULT_TEMPLATE, Template, load_template

MAX_FILENAME = 120
MAX_FILENAME_BYTES = 200  # UTF-8: 255 a name on ext4/NTFS-via-Linux, minus the temporary name's 14
# Reserved on Windows, plus control characters; replaced so the file name survives any disk.
_UNSAFE_FILENAME = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')


class BuildError(Said, ValueError):
    """Raised when build is given a bad period or sites whose file names collide."""


# --- names and ids -------------------------------------------------------------------------


def parse_period(period: Period | str) -> Period:
    """The period (parsed when text), or BuildError with period.parse_period's message (for
    callers of build)."""
    if isinstance(period, Period):
        return period
    try:
        return period_module.parse_period(period)
    except PeriodError as error:
        raise BuildError(error.key, **error.params) from None


def workbook_id(standard: Standard, site: Site, period: Period | str) -> str:
    """A stable id for the workbook of this standard, site and period."""
    key = f"{standard.content_hash}|{site.code}|{period}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _safe_part(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE_FILENAME.sub("_", text)
    return re.sub(r"\s+", " ", text).strip()


def _cut_bytes(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, at a character boundary."""
    return text.encode("utf-8")[: max(limit, 0)].decode("utf-8", errors="ignore")


def workbook_filename(site: Site, period: Period | str) -> str:
    """`2026-11_P001_滨江花园.xlsx`: safe on Windows, at most MAX_FILENAME characters and
    MAX_FILENAME_BYTES UTF-8 bytes (a long Chinese name is cut by bytes: disks allow 255 bytes
    a name, and the atomic write's temporary name adds 14). The cells keep the full name."""
    head = f"{_safe_part(str(period))}_{_safe_part(site.code)}"
    name = _safe_part(site.name)
    room = MAX_FILENAME - len(head) - len("_.xlsx")
    stem = f"{head}_{name[: max(room, 0)]}" if name and room > 0 else head
    stem = stem[: MAX_FILENAME - len(".xlsx")]
    stem = _cut_bytes(stem, MAX_FILENAME_BYTES - len(".xlsx")).rstrip(" .")
    return f"{stem}.xlsx"


# --- text measurement for row heights -------------------------------------------------------


LINE_HEIGHT = 13.5  # points per line of 10 pt text (Excel default row for 10 pt 宋体)
MIN_ROW_HEIGHT = 20.0


def row_height(texts: Iterable[tuple[str, float]]) -> float:
    lines = max((line_count(text, width) for text, width in texts if text), default=1)
    return max(MIN_ROW_HEIGHT, lines * LINE_HEIGHT + 4)


# --- the workbook ----------------------------------------------------------------------------

FONT = "宋体"
FONT_SIZE = 10
BORDER = "#A6A6A6"
HEADER_FILL = "#1F4E78"
SECTION_FILL = "#D9E1F2"
GROUP_FILL = "#EDF1F9"
LOCKED_FILL = "#F2F2F2"
INPUT_FILL = "#FFFFFF"
FAIL_TINT = "#FCE4D6"
UNANSWERED_FILL = "#FFF2CC"
FLAG_FILL = "#F8CBAD"


class _Formats:
    """The workbook's cell formats, made once per workbook (xlsxwriter formats are per-book)."""

    def __init__(self, book: xlsxwriter.Workbook):
        base = {"font_name": FONT, "font_size": FONT_SIZE, "valign": "vcenter"}
        box = {**base, "border": 1, "border_color": BORDER}

        def make(start: dict[str, object], **props: object) -> xlsxwriter.format.Format:
            return book.add_format({**start, **props})

        self.title = make(base, font_size=14, bold=True, align="center")
        self.subtitle = make(base, font_size=11, bold=True)
        self.header = make(
            box,
            bold=True,
            font_color="#FFFFFF",
            bg_color=HEADER_FILL,
            align="center",
            text_wrap=True,
        )
        self.label = make(box, bold=True, bg_color=LOCKED_FILL)
        self.locked = make(box, bg_color=LOCKED_FILL, text_wrap=True)
        self.locked_center = make(box, bg_color=LOCKED_FILL, align="center", text_wrap=True)
        self.section = make(box, bold=True, bg_color=SECTION_FILL, text_wrap=True)
        self.section_num = make(box, bold=True, bg_color=SECTION_FILL, align="center")
        self.group = make(box, bold=True, bg_color=GROUP_FILL, text_wrap=True)
        self.group_num = make(box, bold=True, bg_color=GROUP_FILL, align="center")
        self.item = make(box, text_wrap=True, valign="top")
        self.item_center = make(box, text_wrap=True, align="center", valign="top")
        self.deduction = make(box, align="center", valign="top")
        self.input = make(box, locked=False, bg_color=INPUT_FILL, align="center", valign="top")
        self.input_text = make(box, locked=False, bg_color=INPUT_FILL, text_wrap=True, valign="top")
        self.input_date = make(
            box, locked=False, bg_color=INPUT_FILL, num_format="yyyy-mm-dd", align="left"
        )
        self.cover_input = make(box, locked=False, bg_color=INPUT_FILL, text_wrap=True)
        self.text = make(base, text_wrap=True, valign="top")
        self.summary_num = make(box, align="center")
        self.summary_score = make(box, align="center", num_format="0.00")
        self.summary_total = make(box, bold=True, align="center", num_format="0.00")
        self.summary_text = make(box, bold=True, align="center")
        self.note = make(base, italic=True, font_color="#595959", text_wrap=True, valign="top")
        self.fail_tint = make({}, bg_color=FAIL_TINT)
        self.unanswered = make({}, bg_color=UNANSWERED_FILL)
        self.flag = make({}, bg_color=FLAG_FILL, font_color="#9C0006", bold=True)


def _runs(rows: Sequence[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


def _ranges(rows: Sequence[int], col: int) -> str:
    """Contiguous runs of `rows` in one column, space separated, as a multi-range sqref."""
    return " ".join(
        cell(a, col) if a == b else f"{cell(a, col)}:{cell(b, col)}" for a, b in _runs(rows)
    )


def _row_ranges(rows: Sequence[int], last_col: int) -> str:
    """Whole-width ranges over contiguous runs of rows, space separated."""
    return " ".join(f"{cell(a, 0)}:{cell(b, last_col)}" for a, b in _runs(rows))


def _footer_text(text: str) -> str:
    return text.replace("&", "&&")


class _Plan:
    """What is the same in every site's workbook of one standard and template, worked out once."""

    def __init__(self, standard: Standard, template: Template):
        self.standard = standard
        self.template = template
        self.layout = Layout(standard, template)
        self.locked_cells = self.layout.locked_cells
        self.checklist_formulas = self.layout.checklist_formulas()
        self.summary_formulas = self.layout.summary_formulas()
        self.fingerprint = self.layout.fingerprint
        self.criterion_rows = [r.index for r in self.layout.criterion_rows]
        self.heights = {
            r.index: row_height(
                (self.locked_cells.get((r.index, col), ""), COLUMN_WIDTHS[col])
                for col in (Col.SECTION, Col.GROUP, Col.TEXT, Col.METHOD, Col.RULE)
            )
            for r in self.layout.rows
        }


_PLANS: dict[tuple[str, str, str], _Plan] = {}


def _plan(standard: Standard, template: str) -> _Plan:
    key = (standard.content_hash, standard.id + "|" + standard.version, template)
    plan = _PLANS.get(key)
    if plan is None or plan.standard != standard:
        plan = _Plan(standard, load_template(template))
        _PLANS[key] = plan
    return plan


def build_workbook(
    standard: Standard,
    site: Site,
    period: Period | str,
    *,
    template: str = DEFAULT_TEMPLATE,
    issued_on: date,
    password: str | None = None,
    recheck: Sequence[Any] = (),
) -> bytes:
    """The .xlsx bytes of one site's inspection workbook for a period (with `recheck`, the
    复查 rows of rectify/recheck.py)."""
    month = parse_period(period)
    return _build_site(_plan(standard, template), site, month, issued_on, password, recheck)


def _build(
    plan: _Plan,
    site: Site,
    period: Period | str,
    issued_on: date,
    password: str | None,
    recheck: Sequence[Any] = (),
) -> bytes:
    """One workbook; `recheck` (rectify/recheck.py RecheckItem) adds the 复查 rows."""
    period = parse_period(period)
    output = io.BytesIO()
    # xlsxwriter only warns when it drops a validation or message: refuse such a file.
    with strict_warnings():
        book = xlsxwriter.Workbook(output, WORKBOOK_OPTIONS)
        book.set_properties(
            {
                "title": plan.template["cover"]["title"].format(standard=plan.standard.name),
                "subject": f"{site.code} {site.name} {period}",
                "author": MANIFEST_TOOL,
                "company": "",
                "comments": f"{plan.standard.id} v{plan.standard.version}",
                "created": datetime.combine(issued_on, time()),
            }
        )
        formats = _Formats(book)
        _write_cover(book, plan, formats, site, period, password)
        _write_checklist(book, plan, formats, site, period, password)
        _write_summary(book, plan, formats, password, _footer(plan, site, period))
        _write_lists(book, plan)
        _write_manifest(book, plan, site, period, issued_on)
        if recheck:  # 复查 of earlier problems (build --history): rectify/recheck.py
            from audit_xls.rectify.recheck import write_section

            values = manifest_values(
                plan.standard, site, period, issued_on, plan.template.name, plan.fingerprint
            )
            manifest_rows = len(manifest_grid(values, plan.layout))
            write_section(book, plan.layout, formats, recheck,
                          workbook_id(plan.standard, site, period), manifest_rows)  # fmt: skip
        book.close()
    return lock_structure(output.getvalue(), password)


def _protect(
    sheet: xlsxwriter.worksheet.Worksheet, password: str | None, *, pictures: bool = False
) -> None:
    # Resizing rows and columns lets a supervisor see a long note without unlocking anything;
    # "objects" (Excel's and WPS's "edit objects") lets them insert photos on the checklist.
    options = {"format_rows": True, "format_columns": True}
    if pictures:
        options["objects"] = True
    sheet.protect(password or "", options)


def _write_cover(book, plan: _Plan, f: _Formats, site: Site, period: Period, password) -> None:
    t = plan.template
    labels = t["cover"]
    sheet = book.add_worksheet(plan.layout.cover_sheet)
    sheet.set_column(COVER_LABEL_COL, COVER_LABEL_COL, 16)
    sheet.set_column(COVER_VALUE_COL, COVER_VALUE_COL, 60)
    sheet.merge_range(
        COVER_TITLE_ROW,
        COVER_LABEL_COL,
        COVER_TITLE_ROW,
        COVER_VALUE_COL,
        labels["title"].format(standard=plan.standard.name),
        f.title,
    )
    sheet.set_row(COVER_TITLE_ROW, 30)
    fixed = {
        "site_code": site.code,
        "site_name": site.name,
        "region": site.region,
        "city_company": site.city_company,
        "project_type": site.project_type,
        "period": str(period),
    }
    for name, row in COVER_ROW.items():
        sheet.write_string(row, COVER_LABEL_COL, labels[name], f.label)
        if name in fixed:
            sheet.write_string(row, COVER_VALUE_COL, fixed[name], f.locked)
        elif name == "inspection_date":
            sheet.write_blank(row, COVER_VALUE_COL, None, f.input_date)
        else:
            sheet.write_blank(row, COVER_VALUE_COL, None, f.cover_input)
        sheet.set_row(row, 22 if name != "remarks" else 60)
    first, last = period.first_day, period.last_day
    v = t["validation"]
    sheet.data_validation(
        COVER_ROW["inspection_date"],
        COVER_VALUE_COL,
        COVER_ROW["inspection_date"],
        COVER_VALUE_COL,
        {
            "validate": "date",
            "criteria": "between",
            "minimum": first,
            "maximum": last,
            "input_title": v["date_title"],
            "input_message": v["date_message"].format(
                start=first.isoformat(), end=last.isoformat()
            ),
            "error_title": v["date_title"],
            "error_message": v["date_error"],
        },
    )
    sheet.data_validation(
        COVER_ROW["inspector"],
        COVER_VALUE_COL,
        COVER_ROW["inspector"],
        COVER_VALUE_COL,
        {
            "validate": "length",
            "criteria": ">=",
            "value": 1,
            "ignore_blank": False,
            "input_title": v["inspector_title"],
            "input_message": v["inspector_message"],
            "error_title": v["inspector_title"],
            "error_message": v["inspector_message"],
        },
    )
    row = COVER_INSTRUCTIONS_ROW
    sheet.write_string(row, COVER_LABEL_COL, labels["instructions_title"], f.subtitle)
    for line in labels["instructions"]:
        row += 1
        sheet.merge_range(row, COVER_LABEL_COL, row, COVER_VALUE_COL, line, f.text)
        sheet.set_row(row, row_height([(line, 16 + 60)]))
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 1)
    sheet.set_footer(_footer(plan, site, period))
    sheet.activate()
    sheet.set_first_sheet()
    sheet.select()
    sheet.set_selection(
        COVER_ROW["inspection_date"], COVER_VALUE_COL, COVER_ROW["inspection_date"], COVER_VALUE_COL
    )
    _protect(sheet, password)


def _footer_with(plan: _Plan, site_text: str, period: Period | str) -> str:
    return plan.template["footer"].format(site=site_text, period=_footer_text(str(period)))


def _utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _footer(plan: _Plan, site: Site, period: Period | str) -> str:
    """The page footer with the site's code and name, the name cut with … when the footer
    would pass Excel's 255 characters (the cells keep the full name)."""
    full = _footer_with(plan, _footer_text(f"{site.code} {site.name}"), period)
    if _utf16_units(full) <= _FOOTER_MAX:
        return full
    room = _FOOTER_MAX - _utf16_units(_footer_with(plan, "…", period))
    kept, used = [], 0
    for char in f"{site.code} {site.name}":
        escaped = _footer_text(char)  # never cut between the two & of an escaped &
        used += _utf16_units(escaped)
        if used > room:
            break
        kept.append(escaped)
    return _footer_with(plan, "".join(kept) + "…", period)


def _write_checklist(book, plan: _Plan, f: _Formats, site: Site, period: Period, password) -> None:
    t = plan.template
    layout = plan.layout
    sheet = book.add_worksheet(layout.checklist_sheet)
    for col, width in COLUMN_WIDTHS.items():
        sheet.set_column(col, col, width)
    last_col = max(Col)
    sheet.merge_range(
        CHECKLIST_TITLE_ROW,
        0,
        CHECKLIST_TITLE_ROW,
        last_col,
        t["checklist"]["title"].format(
            standard=plan.standard.name, site=f"{site.code} {site.name}", period=str(period)
        ),
        f.title,
    )
    sheet.set_row(CHECKLIST_TITLE_ROW, 30)
    sheet.set_row(HEADER_ROW, 24)
    for col in Col:
        sheet.write_string(HEADER_ROW, col, plan.locked_cells[(HEADER_ROW, col)], f.header)
    for row in layout.rows:
        r = row.index
        if row.kind == "criterion":
            text_format, center_format = f.item, f.item_center
        elif row.kind == "section":
            text_format, center_format = f.section, f.section_num
        else:
            text_format, center_format = f.group, f.group_num
        for col in (Col.CODE, Col.SECTION, Col.GROUP, Col.TEXT, Col.METHOD, Col.RULE):
            value = plan.locked_cells[(r, col)]
            fmt = center_format if col == Col.CODE else text_format
            sheet.write_string(r, col, value, fmt)
        deduction_format = f.deduction if row.kind == "criterion" else center_format
        sheet.write_formula(
            r, Col.DEDUCTION, plan.checklist_formulas[(r, Col.DEDUCTION)], deduction_format, ""
        )
        if row.kind == "criterion":
            sheet.write_blank(r, Col.RESULT, None, f.input)
            sheet.write_blank(r, Col.POINTS, None, f.input)
            sheet.write_blank(r, Col.NOTE, None, f.input_text)
            sheet.write_blank(r, Col.PHOTO, None, f.input)
        else:
            for col in (Col.RESULT, Col.POINTS, Col.NOTE, Col.PHOTO):
                sheet.write_blank(r, col, None, text_format)
        sheet.set_row(r, plan.heights[r])

    v = t["validation"]
    rows = plan.criterion_rows
    first = rows[0]
    result_cells = _ranges(rows, Col.RESULT)
    points_cells = _ranges(rows, Col.POINTS)
    sheet.data_validation(
        first,
        Col.RESULT,
        first,
        Col.RESULT,
        {
            "validate": "list",
            "source": f"={RESULT_LIST_NAME}",
            "multi_range": result_cells,
            "input_title": v["result_title"],
            "input_message": v["result_message"],
            "error_title": v["result_title"],
            "error_message": v["result_error"],
        },
    )
    sheet.data_validation(
        first,
        Col.POINTS,
        first,
        Col.POINTS,
        {
            "validate": "integer",
            "criteria": "between",
            "minimum": 0,
            "maximum": MAX_PROBLEM_POINTS,
            "multi_range": points_cells,
            "input_title": v["points_title"],
            "input_message": v["points_message"],
            "error_title": v["points_title"],
            "error_message": v["points_error"],
        },
    )
    fail = layout.result_label("fail")
    passed = layout.result_label("pass")
    result0, points0 = cell(first, Col.RESULT), cell(first, Col.POINTS)
    absolute_result = f"${result0[0]}{result0[1:]}"
    absolute_points = f"${points0[0]}{points0[1:]}"
    sheet.conditional_format(
        first,
        0,
        first,
        last_col,
        {
            "type": "formula",
            "criteria": f'={absolute_result}="{fail}"',
            "format": f.fail_tint,
            "multi_range": _row_ranges(rows, last_col),
        },
    )
    sheet.conditional_format(
        first,
        Col.RESULT,
        first,
        Col.RESULT,
        {
            "type": "formula",
            "criteria": f"=LEN({result0})=0",
            "format": f.unanswered,
            "multi_range": result_cells,
        },
    )
    sheet.conditional_format(
        first,
        Col.POINTS,
        first,
        Col.POINTS,
        {
            "type": "formula",
            "criteria": f'=AND({absolute_result}="{passed}",N({absolute_points})>0)',
            "format": f.flag,
            "multi_range": points_cells,
        },
    )
    sheet.freeze_panes(FIRST_ITEM_ROW, 0)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(HEADER_ROW)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.set_footer(_footer(plan, site, period))
    sheet.print_area(0, 0, layout.last_item_row, last_col)
    _protect(sheet, password, pictures=True)


def _write_summary(book, plan: _Plan, f: _Formats, password, footer: str) -> None:
    t = plan.template["summary"]
    layout = plan.layout
    sheet = book.add_worksheet(layout.summary_sheet)
    widths = {
        SumCol.NAME: 22,
        SumCol.POINTS: 10,
        SumCol.DEDUCTED: 10,
        SumCol.SCORE: 10,
        SumCol.APPLIES: 10,
        SumCol.APPLICABLE_POINTS: 12,
    }
    for col, width in widths.items():
        sheet.set_column(col, col, width)
    last_col = max(SumCol)
    sheet.merge_range(0, 0, 0, last_col, t["title"], f.title)
    sheet.set_row(0, 30)
    for col, label in enumerate(t["headers"]):
        sheet.write_string(SUMMARY_HEADER_ROW, col, label, f.header)
    formulas = plan.summary_formulas
    for section in plan.standard.sections:
        r = layout.summary_rows[section.code]
        sheet.write_string(r, SumCol.NAME, section.name, f.locked)
        sheet.write_number(r, SumCol.POINTS, _number(section.points), f.summary_num)
        for col in (SumCol.DEDUCTED, SumCol.SCORE, SumCol.APPLIES, SumCol.APPLICABLE_POINTS):
            fmt = f.summary_score if col == SumCol.SCORE else f.summary_num
            sheet.write_formula(r, col, formulas[(r, col)], fmt, "")
    for key, r in layout.summary_total_rows.items():
        sheet.write_string(r, 0, t[key], f.label)
        fmt = f.summary_total if key in ("total", "percent") else f.summary_text
        sheet.write_formula(r, 1, formulas[(r, 1)], fmt, "")
    note_row = max(layout.summary_total_rows.values()) + 2
    sheet.merge_range(note_row, 0, note_row, last_col, t["note"], f.note)
    sheet.set_row(note_row, 32)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 1)
    sheet.set_footer(footer)
    _protect(sheet, password)


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _write_lists(book, plan: _Plan) -> None:
    sheet = book.add_worksheet(LISTS_SHEET)
    labels = [plan.layout.result_label(code) for code in ("pass", "fail", "na")]
    for i, label in enumerate(labels):
        sheet.write_string(i, 0, label)
    book.define_name(RESULT_LIST_NAME, f"={LISTS_SHEET}!$A$1:$A${len(labels)}")
    sheet.hide()
    sheet.protect()


def manifest_values(
    standard: Standard,
    site: Site,
    period: Period | str,
    issued_on: date,
    template: str,
    fingerprint: str,
) -> dict[str, str]:
    """The manifest's key/value pairs (layout.MANIFEST_KEYS) for one issued workbook."""
    return {
        "tool": MANIFEST_TOOL,
        "tool_version": __version__,
        "template": template,
        "standard_id": standard.id,
        "standard_version": standard.version,
        "standard_hash": standard.content_hash,
        "workbook_id": workbook_id(standard, site, period),
        "site_code": site.code,
        "site_name": site.name,
        "region": site.region,
        "period": str(period),
        "issued_on": issued_on.isoformat(),
        "fingerprint": fingerprint,
    }


def _write_manifest(book, plan: _Plan, site: Site, period: Period, issued_on: date) -> None:
    sheet = book.add_worksheet(MANIFEST_SHEET)
    values = manifest_values(
        plan.standard, site, period, issued_on, plan.template.name, plan.fingerprint
    )
    for r, row in enumerate(manifest_grid(values, plan.layout)):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    sheet.very_hidden()
    sheet.protect()


# --- many workbooks by patching one --------------------------------------------------------------
# A standard's workbook for one period is written once, by _build, for a site whose texts are
# placeholders; each site's file is then that file with the site's texts put in (stencil.py).
# _site_texts lists every text of a workbook that depends on the site: the site's fields
# (which longer texts such as titles, footers and the document subject contain) and the
# manifest texts computed from them. A stencil is used only after it has given, for a
# probe site with awkward texts, the very bytes _build gives; else every site is built.

_PLACEHOLDER = Site(
    code="\ue000code\ue001",
    name="\ue000name\ue001",
    region="\ue000region\ue001",
    city_company="\ue000city\ue001",
    project_type="\ue000type\ue001",
)
# Escaped characters, quotes, spaces at the ends, a character outside the BMP, a long name,
# and two fields alike (so the shared strings are merged and renumbered).
_PROBE = Site(
    code="P<7>\"'",
    name=' 滨江"花园"<二期> 𠀋 ' + "长" * 60,
    region="华东>",
    city_company="华东>",
    project_type="'住宅' ",
)
# Texts a stencil does not put in as a direct build would: `&` (doubled in page footers),
# control characters and `_x` (xlsxwriter escapes them across a whole string), and the
# placeholders' own characters. A site with any of them is built directly.
_UNPATCHABLE = re.compile(r"[\x00-\x1f\x7f&\ue000-\uf8ff\ufffe\uffff]|_x")
_FOOTER_MAX = 255  # UTF-16 units; xlsxwriter refuses a longer footer (an error here)


def _site_texts(plan: _Plan, site: Site, period: Period, issued_on: date) -> list[str]:
    values = manifest_values(
        plan.standard, site, period, issued_on, plan.template.name, plan.fingerprint
    )
    return [
        site.code,
        site.name,
        site.region,
        site.city_company,
        site.project_type,
        values["workbook_id"],
        manifest_checksum(values, plan.layout.manifest_rows),
    ]


def _patchable(plan: _Plan, site: Site, period: Period | str, placeholders: Sequence[str]) -> bool:
    fields = (site.code, site.name, site.region, site.city_company, site.project_type)
    if any(_UNPATCHABLE.search(text) or any(p in text for p in placeholders) for text in fields):
        return False
    # a footer that had to be cut is built directly (the stencil puts the whole name in)
    full = _footer_with(plan, _footer_text(f"{site.code} {site.name}"), period)
    return _utf16_units(full) <= _FOOTER_MAX


class _Stenciled:
    """One standard's workbook for a period as a stencil, and the placeholders' order."""

    def __init__(self, plan: _Plan, period: Period, issued_on: date, password: str | None):
        self.placeholders = _site_texts(plan, _PLACEHOLDER, period, issued_on)
        self.stencil: Stencil | None = None
        try:
            template = _build(plan, _PLACEHOLDER, period, issued_on, password)
            stencil = Stencil(template, self.placeholders)
            probe = self.fill(stencil, plan, _PROBE, period, issued_on)
            direct = _build(plan, _PROBE, period, issued_on, password)
        except (StencilError, ValueError, UserWarning):
            return
        if probe == direct:
            self.stencil = stencil

    def fill(self, stencil: Stencil, plan: _Plan, site: Site, period: Period, issued_on: date):
        texts = _site_texts(plan, site, period, issued_on)
        return stencil.fill(dict(zip(self.placeholders, texts, strict=True)))


_STENCILS: dict[tuple[int, Period, date, str | None], tuple[_Plan, _Stenciled]] = {}
_STENCILS_KEPT = 4


def _stenciled(
    plan: _Plan, period: Period | str, issued_on: date, password: str | None
) -> _Stenciled:
    period = parse_period(period)
    key = (id(plan), period, issued_on, password)
    kept = _STENCILS.get(key)
    if kept is None or kept[0] is not plan:
        while len(_STENCILS) >= _STENCILS_KEPT:
            del _STENCILS[next(iter(_STENCILS))]
        kept = _STENCILS[key] = (plan, _Stenciled(plan, period, issued_on, password))
    return kept[1]


def _build_site(
    plan: _Plan,
    site: Site,
    period: Period,
    issued_on: date,
    password: str | None,
    recheck: Sequence[Any] = (),
) -> bytes:
    """_build's bytes, made from the period's stencil when the site's texts allow it."""
    if recheck:  # a 复查 section is the site's own: built directly
        return _build(plan, site, period, issued_on, password, recheck)
    stenciled = _stenciled(plan, period, issued_on, password)
    if stenciled.stencil is None or not _patchable(plan, site, period, stenciled.placeholders):
        return _build(plan, site, period, issued_on, password)
    return stenciled.fill(stenciled.stencil, plan, site, period, issued_on)


# --- many sites, and the issued register -------------------------------------------------------


def _entry(standard: Standard, site: Site, period: Period, file: str) -> IssuedEntry:
    return IssuedEntry(
        workbook_id=workbook_id(standard, site, period),
        site_code=site.code,
        site_name=site.name,
        region=site.region,
        city_company=site.city_company,
        project_type=site.project_type,
        period=period,
        standard_id=standard.id,
        standard_version=standard.version,
        standard_hash=standard.content_hash,
        file=file,
    )


_Task = tuple[Standard, Site, Period, str, date, str | None, Sequence[Any]]


def _build_bytes(args: _Task) -> bytes:
    standard, site, period, template, issued_on, password, recheck = args
    return _build_site(_plan(standard, template), site, period, issued_on, password, recheck)


# Files are written (atomically, each fsynced before it replaces anything) by a few threads
# while the next workbooks are made: waiting for the disk overlaps the building and the other
# files' waits. At most _IN_FLIGHT workbooks wait in memory for their turn.
_WRITERS = 4
_IN_FLIGHT = 32


def _write_all(
    paths: Sequence[Path],
    workbooks: Iterable[bytes],
    progress: Callable[[int, int], None] | None,
) -> None:
    total = len(paths)
    done = 0
    with ThreadPoolExecutor(max_workers=_WRITERS) as writers:
        pending: deque[Future[None]] = deque()
        try:
            for path, data in zip(paths, workbooks, strict=True):
                pending.append(writers.submit(atomic_write_bytes, path, data))
                while len(pending) > _IN_FLIGHT or (pending and pending[0].done()):
                    pending.popleft().result()
                    done += 1
                    if progress:
                        progress(done, total)
            while pending:
                pending.popleft().result()
                done += 1
                if progress:
                    progress(done, total)
        except BaseException:
            for future in pending:
                future.cancel()
            raise


def build_all(
    standard: Standard,
    sites: Sequence[Site],
    period: Period | str,
    out_dir: str | Path,
    *,
    template: str = DEFAULT_TEMPLATE,
    issued_on: date,
    password: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    merge: bool = False,
    jobs: int = 1,
    rechecks: Mapping[str, Sequence[Any]] | None = None,
) -> list[IssuedEntry]:
    """Write one workbook per site into out_dir and the register issued-{period}.csv.

    With merge=True (building some sites only) the register keeps the other sites' rows.
    jobs > 1 builds in that many processes. Returns the entries written for these sites.
    """
    period = parse_period(period)
    load_template(template)  # an unknown template fails before anything is written
    out = Path(out_dir)
    names: dict[str, Site] = {}
    for site in sites:
        name = workbook_filename(site, period)
        other = names.get(name.casefold())
        if other is not None:
            raise BuildError("build.same_file_name", first=other.code, second=site.code, name=name)
        names[name.casefold()] = site
    out.mkdir(parents=True, exist_ok=True)
    entries = [_entry(standard, site, period, workbook_filename(site, period)) for site in sites]
    paths = [out / e.file for e in entries]
    rechecks = rechecks or {}  # site code -> 复查 rows (build --history, rectify/recheck.py)
    tasks = [
        (standard, site, period, template, issued_on, password, tuple(rechecks.get(site.code, ())))
        for site in sites
    ]
    if jobs > 1 and len(tasks) > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            chunk = max(1, min(32, len(tasks) // (jobs * 4)))
            _write_all(paths, pool.map(_build_bytes, tasks, chunksize=chunk), progress)
    else:
        _write_all(paths, map(_build_bytes, tasks), progress)
    register = register_path(out, period)
    rows = entries
    if merge and register.exists():
        codes = {e.site_code for e in entries}
        kept = [e for e in read_issued(register) if e.site_code not in codes]
        rows = kept + entries
    write_issued(register, rows)
    return entries
