"""Test helper: fill built workbooks the way a supervisor would, by writing input cells.

openpyxl writes the values into a copy of the issued bytes (a test has no spreadsheet
application); `layout` says where each input cell is.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import date
from typing import Any

import openpyxl

from audit_xls import layout
from audit_xls.layout import Col, Layout
from audit_xls.standard import Standard
from audit_xls.template import load_template

Typed = tuple[Any, Any] | tuple[Any, Any, Any]


def fill(
    data: bytes,
    standard: Standard,
    answers: Mapping[str, Typed],
    *,
    inspector: Any = "张督导",
    inspection_date: Any = date(2026, 11, 12),
    cells: Mapping[tuple[str, str], Any] | None = None,
    template: str = "zh",
    default: Typed | None = None,
) -> bytes:
    """Write (检查结果, 问题点数[, 问题描述]) per criterion code, the cover, and raw `cells`.

    `default` answers every criterion not in `answers`; `cells` maps (sheet, "G12") to a value
    written as is (a formula when it starts with "=").
    """
    plan = Layout(standard, load_template(template))
    book = openpyxl.load_workbook(io.BytesIO(data))
    cover = book[plan.cover_sheet]
    cover.cell(layout.COVER_ROW["inspector"] + 1, 2).value = inspector
    cover.cell(layout.COVER_ROW["inspection_date"] + 1, 2).value = inspection_date
    sheet = book[plan.checklist_sheet]
    for criterion in standard.criteria:
        typed = answers.get(criterion.code, default)
        if typed is None:
            continue
        row = plan.criterion_row[criterion.code] + 1
        sheet.cell(row, Col.RESULT + 1).value = typed[0]
        sheet.cell(row, Col.POINTS + 1).value = typed[1]
        if len(typed) > 2:
            note = sheet.cell(row, Col.NOTE + 1)
            note.value = typed[2]
            note.data_type = "s"  # a description is text even when it starts with "="
    for (name, ref), value in (cells or {}).items():
        book[name][ref].value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
