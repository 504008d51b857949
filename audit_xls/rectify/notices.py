"""整改通知单: one workbook per site with problems to fix, built like the inspection workbook.

Same look (build's formats), protection (locked sheets and structure), a very hidden manifest
(layout's key/value rows and checksum, one row per problem) and a fingerprint of the locked
content. Its template (`templates/notice/zh.yaml`; `en.yaml` for --lang en) names the sheets,
so read.py reads a returned notice exactly as it reads a returned inspection workbook: the
same safety checks.

The locked cells are rebuilt from what the history recorded for the notice (`notice_items`),
so `collect` compares a reply cell by cell with what was sent.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import IntEnum
from pathlib import Path
from typing import Any

import xlsxwriter

from audit_xls import __version__
from audit_xls.grading.register import IssuedEntry, write_issued
from audit_xls.grading.sites import Site
from audit_xls.i18n import t
from audit_xls.model.codes import EventKind, EventSource, Status
from audit_xls.model.period import Period, parse_period, stored_period
from audit_xls.model.standard import Standard
from audit_xls.outputs.xlsx import WORKBOOK_OPTIONS, strict_warnings
from audit_xls.rectify import ledger
from audit_xls.rectify.ledger import CLAIMED, IN_PROGRESS, OPEN, ProblemState
from audit_xls.rectify.policy import NOTICE_TEMPLATE_PREFIX
from audit_xls.workbook import build as look
from audit_xls.workbook.layout import (
    COVER_INSTRUCTIONS_ROW,
    COVER_LABEL_COL,
    COVER_ROW,
    COVER_TITLE_ROW,
    COVER_VALUE_COL,
    FIRST_ITEM_ROW,
    HEADER_ROW,
    LISTS_SHEET,
    MANIFEST_KEYS,
    MANIFEST_SHEET,
    MANIFEST_TOOL,
    cell,
    manifest_checksum,
)
from audit_xls.workbook.protect import lock_structure
from audit_xls.workbook.template import Template, load_template

NOTICE_TEMPLATE = "notice/zh"
STATUS_LIST_NAME = "StatusList"
# Statuses a site must still act on: listed on a notice.
TO_ACT = (OPEN, IN_PROGRESS)


class NCol(IntEnum):
    """The 整改事项 sheet's columns. The inputs a typed formula must not hide (status, date,
    说明) sit in the same columns (G, H, J) as the inspection workbook's answers, so read.py's
    formula scan covers them."""

    CODE = 0
    TEXT = 1
    NOTE = 2
    DEDUCTION = 3
    DEADLINE = 4
    MEASURE = 5
    STATUS = 6
    DONE = 7
    OWNER = 8
    REMARK = 9
    BEFORE = 10  # 问题照片: the finding's photos, thumbnails we place
    AFTER = 11  # 整改照片: the site's after-photos (pictures it inserts; rectify/collect.py)


LOCKED_COLS = (NCol.CODE, NCol.TEXT, NCol.NOTE, NCol.DEDUCTION, NCol.DEADLINE)
INPUT_COLS = (NCol.MEASURE, NCol.STATUS, NCol.DONE, NCol.OWNER, NCol.REMARK, NCol.AFTER)
# Notices issued before the photo columns have the first ten (collect still reads them).
COLUMNS_BEFORE_PHOTOS = 10
# Narrow columns whose long texts wrap (rows as tall as their text, textwidth.py), so the
# 整改事项 sheet prints one A4 landscape page wide at a readable size (about 70 %, as the
# inspection checklist) with its photo columns: a site prints, fills and signs it.
WIDTHS = {
    NCol.CODE: 7,
    NCol.TEXT: 20,
    NCol.NOTE: 22,
    NCol.DEDUCTION: 10,
    NCol.DEADLINE: 11,
    NCol.MEASURE: 16,
    NCol.STATUS: 9,
    NCol.DONE: 11,
    NCol.OWNER: 8,
    NCol.REMARK: 12,
    NCol.BEFORE: 12,  # about 90 pixels: a thumbnail's width
    NCol.AFTER: 12,
}
# the texts a problem row's height follows
WRAPPED = (NCol.TEXT, NCol.NOTE, NCol.DEDUCTION, NCol.DEADLINE)
MAX_BEFORE_PHOTOS = 2  # thumbnails shown in a problem's 问题照片 cell, one above the other
BEFORE_BOX = (80, 60)  # pixels each thumbnail is shown in
PHOTO_GAP = 4  # pixels around and between thumbnails
# Rows of the cover below the fields layout.COVER_ROW places (which read.py reads).
EXTRA_COVER = ("notice_id", "issued_on", "score", "grade")


def is_notice_template(name: str) -> bool:
    return name.startswith(NOTICE_TEMPLATE_PREFIX)


def notice_template(lang: str = "zh") -> str:
    """The notice template of a language (templates/notice/LANG.yaml), as --lang picks the
    inspection workbook's templates/LANG.yaml."""
    return f"{NOTICE_TEMPLATE_PREFIX}{lang}"


@dataclass(frozen=True)
class NoticeItem:
    """One problem row of a notice, as recorded in notice_items."""

    row_index: int
    problem: str
    code: str
    text: str
    note: str
    problem_points: int | None
    deduction: str | None
    found_period: Period  # the month the problem was found in
    inspection_date: str | None
    deadline: str
    reopened: int = 0


@dataclass
class Notice:
    """One notice: its header, its rows, its id."""

    site: Site
    period: Period  # the month the notices are of (--period)
    standard_id: str
    standard_version: str
    standard_hash: str
    standard_name: str
    issued_on: date
    inspection_date: str | None
    inspector: str
    score: str | None
    grade: str | None
    items: list[NoticeItem]
    already: list[ProblemState] = field(default_factory=list)
    template: str = NOTICE_TEMPLATE
    # problem id -> the photo files of its finding (the history's photos table), in
    # checklist order; shown as thumbnails, not part of the notice's id or fingerprint
    photos: dict[str, list[str]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        key = json.dumps(
            [
                self.standard_hash,
                self.site.code,
                str(self.period),
                self.issued_on.isoformat(),
                [[i.problem, i.deadline, i.reopened] for i in self.items],
            ],
            ensure_ascii=False,
        )
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    @property
    def file(self) -> str:
        """Its file name: the template's file_prefix (整改通知单, Notice), then as a workbook's."""
        prefix = load_template(self.template)["file_prefix"]
        return f"{prefix}_{look.workbook_filename(self.site, self.period)}"


# --- the locked content, shared by building and checking a reply --------------------------


def deadline_text(t: Template, deadline: str, issued_on: date) -> str:
    days = (date.fromisoformat(deadline) - issued_on).days
    labels = t["checklist"]
    if days > 0:
        return labels["days_left"].format(deadline=deadline, days=days)
    if days == 0:
        return labels["due_today"].format(deadline=deadline)
    return labels["overdue"].format(deadline=deadline, days=-days)


def locked_cells(
    t: Template,
    items: Sequence[NoticeItem],
    period: Period,
    issued_on: date,
    *,
    photo_columns: bool = True,
) -> dict[tuple[int, int], str]:
    """Every locked text of the 整改事项 sheet's header and problem rows (`photo_columns`
    False: as notices issued before the 问题照片/整改照片 columns had them)."""
    labels = t["checklist"]
    cells: dict[tuple[int, int], str] = {}
    columns = t.columns if photo_columns else t.columns[:COLUMNS_BEFORE_PHOTOS]
    for col, label in enumerate(columns):
        cells[(HEADER_ROW, col)] = label
    for item in items:
        note = item.note
        if item.found_period != period:
            note += labels["found"].format(period=str(item.found_period))
        if item.reopened:
            note += labels["reopened"].format(times=item.reopened)
        if item.problem_points:
            deduction = labels["points"].format(
                points=item.problem_points, deduction=item.deduction or "0"
            )
        else:
            deduction = labels["deduction"].format(deduction=item.deduction or "0")
        values = (
            item.code,
            item.text,
            note,
            deduction,
            deadline_text(t, item.deadline, issued_on),
        )
        for col, value in zip(LOCKED_COLS, values, strict=True):
            cells[(item.row_index, col)] = value
    return cells


def fingerprint(cells: dict[tuple[int, int], str], standard_hash: str) -> str:
    payload = {
        "cells": sorted([r, c, v] for (r, c), v in cells.items()),
        "standard": standard_hash,
        "document": "notice",
    }
    text = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest_values(notice: Notice, fingerprint_: str) -> dict[str, str]:
    return {
        "tool": MANIFEST_TOOL,
        "tool_version": __version__,
        "template": notice.template,
        "standard_id": notice.standard_id,
        "standard_version": notice.standard_version,
        "standard_hash": notice.standard_hash,
        "workbook_id": notice.id,
        "site_code": notice.site.code,
        "site_name": notice.site.name,
        "region": notice.site.region,
        "period": str(notice.period),
        "issued_on": notice.issued_on.isoformat(),
        "fingerprint": fingerprint_,
    }


def problem_rows(items: Sequence[NoticeItem]) -> tuple[tuple[int, str], ...]:
    return tuple((i.row_index, i.problem) for i in items)


# --- building ---------------------------------------------------------------------------


def build_notice(notice: Notice) -> bytes:
    """The .xlsx bytes of one notice (byte-identical for the same notice)."""
    t = load_template(notice.template)
    cells = locked_cells(t, notice.items, notice.period, notice.issued_on)
    output = io.BytesIO()
    with strict_warnings():
        book = xlsxwriter.Workbook(output, WORKBOOK_OPTIONS)
        book.set_properties(
            {
                "title": t["cover"]["title"].format(standard=notice.standard_name),
                "subject": f"{notice.site.code} {notice.site.name} {notice.period}",
                "author": MANIFEST_TOOL,
                "company": "",
                "comments": f"{notice.standard_id} v{notice.standard_version}",
                "created": datetime.combine(notice.issued_on, time()),
            }
        )
        f = look._Formats(book)
        footer = t["footer"].format(
            site=look._footer_text(f"{notice.site.code} {notice.site.name}"),
            period=look._footer_text(str(notice.period)),
        )
        _write_cover(book, t, f, notice, footer)
        _write_items(book, t, f, notice, cells, footer)
        _write_lists(book, t)
        _write_manifest(book, notice, fingerprint(cells, notice.standard_hash))
        book.close()
    return lock_structure(output.getvalue())


def _write_cover(book: Any, t: Template, f: Any, notice: Notice, footer: str) -> None:
    labels = t["cover"]
    sheet = book.add_worksheet(t.sheets["cover"])
    sheet.set_column(COVER_LABEL_COL, COVER_LABEL_COL, 16)
    sheet.set_column(COVER_VALUE_COL, COVER_VALUE_COL, 60)
    title = labels["title"].format(standard=notice.standard_name)
    sheet.merge_range(COVER_TITLE_ROW, 0, COVER_TITLE_ROW, 1, title, f.title)
    sheet.set_row(COVER_TITLE_ROW, 30)
    site = notice.site
    fixed = {
        "site_code": site.code,
        "site_name": site.name,
        "region": site.region,
        "city_company": site.city_company,
        "project_type": site.project_type,
        "period": str(notice.period),
        "inspection_date": notice.inspection_date or labels["not_inspected"],
        "inspector": notice.inspector,
    }
    for name, row in COVER_ROW.items():
        sheet.write_string(row, COVER_LABEL_COL, labels[name], f.label)
        if name in fixed:
            sheet.write_string(row, COVER_VALUE_COL, fixed[name], f.locked)
        else:
            sheet.write_blank(row, COVER_VALUE_COL, None, f.cover_input)
        sheet.set_row(row, 22 if name != "remarks" else 45)
    extra = {
        "notice_id": notice.id,
        "issued_on": notice.issued_on.isoformat(),
        "score": notice.score or "",
        "grade": notice.grade or "",
    }
    row = COVER_INSTRUCTIONS_ROW
    for name in EXTRA_COVER:
        sheet.write_string(row, COVER_LABEL_COL, labels[name], f.label)
        sheet.write_string(row, COVER_VALUE_COL, extra[name], f.locked)
        row += 1
    if notice.already:
        listed = labels["already_separator"].join(
            labels["already_item"].format(code=p.code, period=str(p.period)) for p in notice.already
        )
        text = labels["already"].format(items=listed)
        row += 1
        sheet.merge_range(row, 0, row, 1, text, f.text)
        sheet.set_row(row, look.row_height([(text, 76)]))
    row += 2
    sheet.write_string(row, COVER_LABEL_COL, labels["instructions_title"], f.subtitle)
    for line in labels["instructions"]:
        row += 1
        sheet.merge_range(row, 0, row, 1, line, f.text)
        sheet.set_row(row, look.row_height([(line, 76)]))
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 1)
    sheet.set_footer(footer)
    sheet.activate()
    sheet.set_first_sheet()
    sheet.select()
    look._protect(sheet, None)


def _write_items(book: Any, t: Template, f: Any, notice: Notice, cells: dict, footer: str) -> None:
    sheet = book.add_worksheet(t.sheets["checklist"])
    for col, width in WIDTHS.items():
        sheet.set_column(col, col, width)
    last = max(NCol)
    title = t["checklist"]["title"].format(
        standard=notice.standard_name,
        site=f"{notice.site.code} {notice.site.name}",
        period=str(notice.period),
    )
    sheet.merge_range(0, 0, 0, last, title, f.title)
    sheet.set_row(0, 30)
    headers = [(cells.get((HEADER_ROW, col), ""), WIDTHS[col]) for col in NCol]
    sheet.set_row(HEADER_ROW, max(24, look.row_height(headers)))
    for col in NCol:
        if (HEADER_ROW, col) in cells:
            sheet.write_string(HEADER_ROW, col, cells[(HEADER_ROW, col)], f.header)
    v = t["validation"]
    for item in notice.items:
        r = item.row_index
        for col in LOCKED_COLS:
            fmt = f.item_center if col in (NCol.CODE, NCol.DEADLINE) else f.item
            sheet.write_string(r, col, cells[(r, col)], fmt)
        for col in INPUT_COLS:
            fmt = {NCol.STATUS: f.input, NCol.DONE: f.input_date}.get(col, f.input_text)
            if col == NCol.AFTER:
                fmt = f.input
            sheet.write_blank(r, col, None, fmt)
        start = date.fromisoformat(item.inspection_date) if item.inspection_date else None
        if start is not None:
            sheet.data_validation(
                r,
                NCol.DONE,
                r,
                NCol.DONE,
                {
                    "validate": "date",
                    "criteria": ">=",
                    "value": start,
                    "input_title": v["date_title"],
                    "input_message": v["date_message"].format(start=start.isoformat()),
                    "error_title": v["date_title"],
                    "error_message": v["date_error"],
                },
            )
        sheet.write_blank(r, NCol.BEFORE, None, f.item)
        height = look.row_height((cells[(r, col)], WIDTHS[col]) for col in WRAPPED)
        placed = _before_photos(sheet, r, notice.photos.get(item.problem, ()))
        if placed:  # pixels to points (0.75): the thumbnails stacked in the row
            height = max(height, 0.75 * (PHOTO_GAP + placed * (BEFORE_BOX[1] + PHOTO_GAP)))
        sheet.set_row(r, height)
    if notice.items:
        first = notice.items[0].row_index
        last_row = notice.items[-1].row_index
        sheet.data_validation(
            first,
            NCol.STATUS,
            last_row,
            NCol.STATUS,
            {
                "validate": "list",
                "source": f"={STATUS_LIST_NAME}",
                "input_title": v["status_title"],
                "input_message": v["status_message"],
                "error_title": v["status_title"],
                "error_message": v["status_error"],
            },
        )
        status0 = cell(first, NCol.STATUS)
        sheet.conditional_format(
            first,
            NCol.STATUS,
            last_row,
            NCol.STATUS,
            {"type": "formula", "criteria": f"=LEN({status0})=0", "format": f.unanswered},
        )
        overdue = t["checklist"]["overdue_mark"]  # the word SEARCH finds in 整改期限
        deadline0 = cell(first, NCol.DEADLINE)
        sheet.conditional_format(
            first,
            NCol.DEADLINE,
            last_row,
            NCol.DEADLINE,
            {
                "type": "formula",
                "criteria": f'=ISNUMBER(SEARCH("{overdue}",{deadline0}))',
                "format": f.flag,
            },
        )
        sheet.print_area(0, 0, last_row, last)
    sheet.freeze_panes(FIRST_ITEM_ROW, 0)
    sheet.set_landscape()
    sheet.set_paper(9)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(HEADER_ROW)
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    sheet.set_footer(footer)
    look._protect(sheet, None, pictures=True)  # the site inserts its after-photos


def _before_photos(sheet: Any, row: int, paths: Sequence[str]) -> int:
    """The finding's first photos as thumbnails in the row's 问题照片 cell (made from the
    files in the photo folder, with grade's checks: a file gone or no longer a picture is left
    out). Returns how many were placed. Nothing from a return is written: no names, no text."""
    from audit_xls.workbook.pictures import MAX_PICTURE_BYTES, check_image_bytes

    placed = 0
    for path in paths:
        if placed == MAX_BEFORE_PHOTOS:
            break
        try:
            file = Path(path)
            if not file.is_file() or file.stat().st_size > MAX_PICTURE_BYTES:
                continue
            checked = check_image_bytes(file.read_bytes())
        except OSError:
            continue
        if checked.problem or not checked.thumbnail:
            continue
        width, height = _size(checked.thumbnail)
        scale = min(BEFORE_BOX[0] / max(width, 1), BEFORE_BOX[1] / max(height, 1), 1.0)
        sheet.insert_image(
            row, NCol.BEFORE, "photo.jpg",
            {"image_data": io.BytesIO(checked.thumbnail), "x_scale": scale, "y_scale": scale,
             "x_offset": PHOTO_GAP, "y_offset": PHOTO_GAP + placed * (BEFORE_BOX[1] + PHOTO_GAP),
             "object_position": 1,
             "description": f"{placed + 1}", "decorative": False},
        )  # fmt: skip
        placed += 1
    return placed


def _size(jpeg: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as image:
        return image.size


def _write_lists(book: Any, t: Template) -> None:
    sheet = book.add_worksheet(LISTS_SHEET)
    labels = [t["statuses"][code] for code in (CLAIMED, IN_PROGRESS, ledger.CANNOT_FIX)]
    for i, label in enumerate(labels):
        sheet.write_string(i, 0, label)
    book.define_name(STATUS_LIST_NAME, f"={LISTS_SHEET}!$A$1:$A${len(labels)}")
    sheet.hide()
    sheet.protect()


def _write_manifest(book: Any, notice: Notice, fingerprint_: str) -> None:
    sheet = book.add_worksheet(MANIFEST_SHEET)
    values = manifest_values(notice, fingerprint_)
    rows = problem_rows(notice.items)
    grid = [[key, values[key]] for key in MANIFEST_KEYS]
    grid.append(["checksum", manifest_checksum(values, rows)])
    grid.append(["row", "problem"])
    grid.extend([str(index + 1), pid] for index, pid in rows)
    for r, row in enumerate(grid):
        for c, value in enumerate(row):
            sheet.write_string(r, c, value)
    sheet.very_hidden()
    sheet.protect()


# --- which notices: open problems of the period and before, from the history ---------------


class NoticeError(ValueError):
    """Raised when notices cannot be made (no history, nothing graded for the period)."""


def plan_notices(
    conn: Any,
    period: Period | str,
    standards: Sequence[Standard],
    issued_on: date,
    sites: Sequence[str] | None = None,
    template: str = NOTICE_TEMPLATE,
) -> list[Notice]:
    """One notice per site and standard with problems to act on, found in `period` or before,
    oldest first; the site's result of `period` (when graded) heads it; labelled by `template`."""
    if not isinstance(period, Period):  # text from a library caller: YYYY-MM or PeriodError
        period = parse_period(period)
    states = ledger.replay(conn, where="p.period <= ?", params=(period,))
    by_hash = {s.content_hash: s for s in standards}
    groups: dict[tuple[str, str], list[ProblemState]] = {}
    for state in states.values():
        if sites and state.site_code not in sites:
            continue
        groups.setdefault((state.site_code, state.standard_id), []).append(state)
    notices = []
    for (site_code, standard_id), problems in sorted(groups.items()):
        to_act = [p for p in problems if p.status in TO_ACT]
        if not to_act:
            continue
        to_act.sort(key=lambda p: (p.period, p.code))
        head = conn.execute(
            f"""SELECT site_name, region, standard_version, standard_hash, inspection_date,
                      inspector, score, percent, grade FROM workbooks
               WHERE status = '{Status.GRADED}' AND superseded = 0 AND site_code = ?
                 AND standard_id = ? AND period <= ? ORDER BY period DESC, id DESC""",
            (site_code, standard_id, period),
        ).fetchone()
        name, region, version, content_hash, inspected, inspector, score, percent, grade = head
        latest_period = conn.execute(
            f"""SELECT max(period) FROM workbooks
               WHERE status = '{Status.GRADED}' AND superseded = 0
                 AND site_code = ? AND standard_id = ? AND period <= ?""",
            (site_code, standard_id, period),
        ).fetchone()[0]
        inspected_now = stored_period(latest_period) == period
        standard = by_hash.get(content_hash)
        items = [
            NoticeItem(
                row_index=FIRST_ITEM_ROW + i,
                problem=p.id,
                code=p.code,
                text=p.text,
                note=p.note,
                problem_points=p.problem_points,
                deduction=p.deduction,
                found_period=p.period,
                inspection_date=p.inspection_date,
                deadline=p.deadline or issued_on.isoformat(),
                reopened=p.reopened,
            )
            for i, p in enumerate(to_act)
        ]
        found = _finding_photos(conn, site_code, standard_id, {p.period for p in to_act})
        notices.append(
            Notice(
                site=Site(site_code, name, region),
                period=period,
                standard_id=standard_id,
                standard_version=version,
                standard_hash=content_hash,
                standard_name=standard.name if standard else standard_id,
                issued_on=issued_on,
                inspection_date=inspected if inspected_now else None,
                inspector=inspector if inspected_now else "",
                score=f"{score} / {percent}%" if inspected_now and score else None,
                grade=grade if inspected_now else None,
                items=items,
                already=[p for p in problems if p.status == CLAIMED],
                photos={
                    p.id: found[(p.period, p.code)] for p in to_act if (p.period, p.code) in found
                },
                template=template,
            )
        )
    return notices


def _finding_photos(
    conn: Any, site_code: str, standard_id: str, periods: set[Period]
) -> dict[tuple[Period, str], list[str]]:
    """(period, criterion) -> the photo files grade recorded for the site's current graded
    result of that month (history table photos, schema 6), in checklist order."""
    if not periods:  # (the writer's connection has migrated the history: the table is there)
        return {}
    marks = ", ".join("?" for _ in periods)
    found: dict[tuple[Period, str], list[str]] = {}
    for period, code, path in conn.execute(
        f"""SELECT w.period, p.criterion, p.path FROM photos p
            JOIN workbooks w ON w.id = p.workbook
            WHERE w.status = '{Status.GRADED}' AND w.superseded = 0 AND w.site_code = ?
              AND w.standard_id = ? AND w.period IN ({marks})
            ORDER BY w.id, p.seq""",
        (site_code, standard_id, *sorted(periods)),
    ):
        found.setdefault((stored_period(period), str(code)), []).append(str(path))
    return found


@dataclass(frozen=True)
class NoticesWritten:
    notices: list[Notice]
    register: Path
    recorded: int  # notices new to the history
    already: int  # the same notice issued before (same rows, same day): not recorded twice

    def message(self, lang: str = "zh") -> str:
        return t(
            "rectify.notices.written",
            lang,
            count=len(self.notices),
            problems=sum(len(n.items) for n in self.notices),
            folder=self.register.parent,
            register=self.register,
            recorded=self.recorded,
            already=self.already,
        )


def notices_register(out_dir: str | Path, period: Period | str) -> Path:
    return Path(out_dir) / f"notices-{period}.csv"


def record_notice(conn: Any, notice: Notice, recorded_at: str) -> bool:
    """The notice, its rows and a `notified` event per problem; False when already there."""
    if conn.execute("SELECT 1 FROM notices WHERE notice_id = ?", (notice.id,)).fetchone():
        return False
    conn.execute(
        """INSERT INTO notices (notice_id, site_code, site_name, region, period, standard_id,
               standard_version, standard_hash, template, file, issued_on, inspection_date,
               inspector, score, grade, recorded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (
            notice.id,
            notice.site.code,
            notice.site.name,
            notice.site.region,
            str(notice.period),
            notice.standard_id,
            notice.standard_version,
            notice.standard_hash,
            notice.template,
            notice.file,
            notice.issued_on.isoformat(),
            notice.inspection_date,
            notice.inspector,
            notice.score,
            notice.grade,
            recorded_at,
        ),
    )
    for item in notice.items:
        conn.execute(
            """INSERT INTO notice_items (notice, row_index, problem, code, text, note,
                   problem_points, deduction, found_period, inspection_date, deadline, reopened)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                notice.id,
                item.row_index,
                item.problem,
                item.code,
                item.text,
                item.note,
                item.problem_points,
                item.deduction,
                item.found_period,
                item.inspection_date,
                item.deadline,
                item.reopened,
            ),
        )
    states = ledger.replay(
        conn,
        where="p.id IN (SELECT problem FROM notice_items WHERE notice = ?)",
        params=(notice.id,),
    )
    for item in notice.items:
        ledger.add_event(
            conn,
            recorded_at,
            problem=item.problem,
            kind=EventKind.NOTIFIED,
            status=states[item.problem].status,
            event_date=notice.issued_on.isoformat(),
            deadline=item.deadline,
            source=EventSource.NOTICE,
            file=notice.file,
            document_id=notice.id,
        )
    return True


def notice_items(conn: Any, notice_id: str) -> list[NoticeItem]:
    """The rows a notice carried, as recorded when it was issued."""
    return [
        NoticeItem(*row[:7], stored_period(row[7]), *row[8:])
        for row in conn.execute(
            """SELECT row_index, problem, code, text, note, problem_points, deduction,
                      found_period, inspection_date, deadline, reopened
               FROM notice_items WHERE notice = ? ORDER BY row_index""",
            (notice_id,),
        )
    ]


def write_notices(
    history: Path | str,
    period: Period | str,
    out_dir: str | Path,
    standards: Sequence[Standard],
    issued_on: date,
    sites: Sequence[str] | None = None,
    lang: str = "zh",
) -> NoticesWritten:
    """Plan, build and write the notices of `period`, record them in the history (one
    transaction) and write the register notices-PERIOD.csv beside them. `lang` chooses the
    notices' template (templates/notice/LANG.yaml) and the messages' language."""
    from audit_xls.atomic import atomic_write_bytes
    from audit_xls.history.store import transaction

    out = Path(out_dir)
    recorded = already = 0
    with transaction(history) as conn:
        template = notice_template(lang)
        load_template(template)  # an unknown language fails before anything is recorded
        notices = plan_notices(conn, period, standards, issued_on, sites, template)
        if not notices:
            listed = t("rectify.notices.sites", lang, sites=list(sites)) if sites else ""
            raise NoticeError(
                t("rectify.notices.none", lang, history=history, period=str(period), sites=listed)
            )
        out.mkdir(parents=True, exist_ok=True)
        now = datetime.now().isoformat(timespec="seconds")
        for notice in notices:
            if record_notice(conn, notice, now):
                recorded += 1
            else:
                already += 1
        for notice in notices:
            atomic_write_bytes(out / notice.file, build_notice(notice))
    register = notices_register(out, period)
    write_issued(
        register,
        [
            IssuedEntry(
                workbook_id=n.id,
                site_code=n.site.code,
                site_name=n.site.name,
                region=n.site.region,
                city_company="",
                project_type="",
                period=n.period,
                standard_id=n.standard_id,
                standard_version=n.standard_version,
                standard_hash=n.standard_hash,
                file=n.file,
            )
            for n in notices
        ],
    )
    return NoticesWritten(notices, register, recorded, already)
